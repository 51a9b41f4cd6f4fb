// autoscaling/v2 HorizontalPodAutoscalers as a KindDef, with kubectl's REFERENCE / TARGETS columns.
import { kindDef, type KindDef, type KubeObject, type Printer } from '../kind.js';
import { age, ageColumn, col, get, nameColumn } from '../printers/common.js';
import { canonicalQuantity } from '../validation/quantity.js';
import { asObj, type Obj } from '../types/apps.js';
import { HorizontalPodAutoscaler } from '../types/autoscaling-v2.js';

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

/** Quantity.String(), "<nil>" for an absent quantity as Go prints a nil *Quantity. */
function quantityText(q: unknown): string {
  if (q === undefined || q === null) return '<nil>';
  return typeof q === 'string' || typeof q === 'number' ? canonicalQuantity(q) : String(q);
}

const percent = (v: unknown): string | undefined => (typeof v === 'number' ? `${v}%` : undefined);

/** One "current/target" entry of the TARGETS column for metric spec `spec` and its status. */
function metricEntry(spec: Obj, status: Obj | undefined): string {
  const source = (s: Obj | undefined, key: string): Obj | undefined => asObj(s?.[key]);
  switch (spec.type) {
    case 'External':
    case 'Object': {
      const key = spec.type === 'External' ? 'external' : 'object';
      const target = asObj(source(spec, key)?.target) ?? {};
      const current = asObj(source(status, key)?.current);
      if (target.averageValue != null) {
        const cur = current?.averageValue != null ? quantityText(current.averageValue) : '<unknown>';
        return `${cur}/${quantityText(target.averageValue)} (avg)`;
      }
      const cur = source(status, key) ? quantityText(current?.value) : '<unknown>';
      return `${cur}/${quantityText(target.value)}`;
    }
    case 'Pods': {
      const target = asObj(source(spec, 'pods')?.target) ?? {};
      const cur = source(status, 'pods') ? quantityText(asObj(source(status, 'pods')?.current)?.averageValue) : '<unknown>';
      return `${cur}/${quantityText(target.averageValue)}`;
    }
    case 'Resource':
    case 'ContainerResource': {
      const key = spec.type === 'Resource' ? 'resource' : 'containerResource';
      const src = source(spec, key) ?? {};
      const target = asObj(src.target) ?? {};
      const current = asObj(source(status, key)?.current);
      const name = String(src.name ?? '');
      if (target.averageValue != null) {
        const cur = source(status, key) ? quantityText(current?.averageValue) : '<unknown>';
        return `${name}: ${cur}/${quantityText(target.averageValue)}`;
      }
      const cur = percent(current?.averageUtilization) ?? '<unknown>';
      return `${name}: ${cur}/${percent(target.averageUtilization) ?? '<auto>'}`;
    }
    default:
      return '<unknown type>';
  }
}

/** The TARGETS column: at most two metrics, then "+ N more...". */
export function formatHPAMetrics(o: KubeObject): string {
  const specs = get(o, 'spec', 'metrics');
  const statuses = get(o, 'status', 'currentMetrics');
  if (!Array.isArray(specs) || specs.length === 0) return '<none>';
  const statusList = Array.isArray(statuses) ? statuses : [];
  const entries = specs.map((s, i) => metricEntry(asObj(s) ?? {}, asObj(statusList[i])));
  const shown = entries.slice(0, 2).join(', ');
  return entries.length > 2 ? `${shown} + ${entries.length - 2} more...` : shown;
}

const hpaPrinter: Printer = {
  columns: [
    nameColumn,
    col('Reference', 'string', 'The workload being scaled, as kind/name.'),
    col('Targets', 'string', 'Current and target values of the metrics.'),
    col('MinPods', 'string', 'Lowest replica count allowed.'),
    col('MaxPods', 'string', 'Highest replica count allowed.'),
    col('Replicas', 'string', 'Replicas last seen by the autoscaler.'),
    ageColumn,
  ],
  cells: (o, now) => {
    const min = get(o, 'spec', 'minReplicas');
    return [
      o.metadata.name,
      `${String(get(o, 'spec', 'scaleTargetRef', 'kind') ?? '')}/${String(get(o, 'spec', 'scaleTargetRef', 'name') ?? '')}`,
      formatHPAMetrics(o),
      typeof min === 'number' ? String(min) : '<unset>',
      num(get(o, 'spec', 'maxReplicas')),
      num(get(o, 'status', 'currentReplicas')),
      age(o.metadata.creationTimestamp, now),
    ];
  },
};

export const kinds: KindDef[] = [
  kindDef({
    group: 'autoscaling',
    version: 'v2',
    kind: 'HorizontalPodAutoscaler',
    plural: 'horizontalpodautoscalers',
    namespaced: true,
    shortNames: ['hpa'],
    categories: ['all'],
    schema: HorizontalPodAutoscaler,
    // The autoscaler strategy never bumps metadata.generation.
    tracksGeneration: false,
    printer: hpaPrinter,
    prepareForCreate: (o) => {
      o.status = {};
    },
  }),
];
