// policy/v1 PodDisruptionBudgets as a KindDef.
import { kindDef, type KindDef, type Printer } from '../kind.js';
import { age, ageColumn, col, get, nameColumn } from '../printers/common.js';
import { PodDisruptionBudget } from '../types/policy.js';

/** IntOrString.String(); "N/A" when the bound is not set. */
const bound = (v: unknown): string => (typeof v === 'number' || typeof v === 'string' ? String(v) : 'N/A');

const pdbPrinter: Printer = {
  columns: [
    nameColumn,
    col('Min Available', 'string', 'Pods that must stay available.'),
    col('Max Unavailable', 'string', 'Pods that may be unavailable.'),
    col('Allowed Disruptions', 'integer', 'Evictions allowed right now.'),
    ageColumn,
  ],
  cells: (o, now) => {
    const allowed = get(o, 'status', 'disruptionsAllowed');
    return [
      o.metadata.name,
      bound(get(o, 'spec', 'minAvailable')),
      bound(get(o, 'spec', 'maxUnavailable')),
      typeof allowed === 'number' ? allowed : 0,
      age(o.metadata.creationTimestamp, now),
    ];
  },
};

export const kinds: KindDef[] = [
  kindDef({
    group: 'policy',
    version: 'v1',
    kind: 'PodDisruptionBudget',
    plural: 'poddisruptionbudgets',
    namespaced: true,
    shortNames: ['pdb'],
    schema: PodDisruptionBudget,
    printer: pdbPrinter,
    prepareForCreate: (o) => {
      o.status = {};
    },
  }),
];
