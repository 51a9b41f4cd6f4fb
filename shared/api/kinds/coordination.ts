// coordination.k8s.io/v1 Leases as a KindDef.
import { kindDef, type KindDef, type Printer } from '../kind.js';
import { age, ageColumn, col, get, nameColumn } from '../printers/common.js';
import { Lease } from '../types/coordination.js';

const leasePrinter: Printer = {
  columns: [nameColumn, col('Holder', 'string', 'Identity of the current holder.'), ageColumn],
  cells: (o, now) => {
    const holder = get(o, 'spec', 'holderIdentity');
    return [o.metadata.name, typeof holder === 'string' ? holder : '', age(o.metadata.creationTimestamp, now)];
  },
};

export const kinds: KindDef[] = [
  kindDef({
    group: 'coordination.k8s.io',
    version: 'v1',
    kind: 'Lease',
    plural: 'leases',
    namespaced: true,
    schema: Lease,
    // Leases change on every heartbeat; Kubernetes keeps no generation for them.
    tracksGeneration: false,
    printer: leasePrinter,
  }),
];
