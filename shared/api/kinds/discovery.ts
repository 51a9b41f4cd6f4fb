// discovery.k8s.io/v1 EndpointSlices as a KindDef.
import { kindDef, type KindDef, type KubeObject, type Printer } from '../kind.js';
import { age, ageColumn, col, nameColumn } from '../printers/common.js';
import { invalid } from '../schema/errors.js';
import { FIELD_IMMUTABLE, asObj } from '../types/apps.js';
import { EndpointSlice } from '../types/discovery.js';

const MAX_SHOWN = 3;

/** listWithMoreString: up to three items, then "+ N more...", or <unset> when empty. */
function listWithMore(items: string[]): string {
  const shown = items.slice(0, MAX_SHOWN).join(',');
  if (items.length > MAX_SHOWN) return `${shown} + ${items.length - MAX_SHOWN} more...`;
  return shown === '' ? '<unset>' : shown;
}

function portsCell(o: KubeObject): string {
  const ports = Array.isArray(o.ports) ? o.ports : [];
  return listWithMore(
    ports.map((p) => {
      const port = asObj(p) ?? {};
      if (typeof port.port === 'number') return String(port.port);
      return typeof port.name === 'string' ? port.name : '*';
    }),
  );
}

function endpointsCell(o: KubeObject): string {
  const endpoints = Array.isArray(o.endpoints) ? o.endpoints : [];
  return listWithMore(endpoints.flatMap((e) => {
    const addresses = asObj(e)?.addresses;
    return Array.isArray(addresses) ? addresses.map(String) : [];
  }));
}

const endpointSlicePrinter: Printer = {
  columns: [
    nameColumn,
    col('AddressType', 'string', 'Type of the addresses in the slice.'),
    col('Ports', 'string', 'Ports the endpoints expose.'),
    col('Endpoints', 'string', 'Addresses of the endpoints.'),
    ageColumn,
  ],
  cells: (o, now) => [
    o.metadata.name,
    typeof o.addressType === 'string' ? o.addressType : '',
    portsCell(o),
    endpointsCell(o),
    age(o.metadata.creationTimestamp, now),
  ],
};

/** deprecatedTopology cannot be written through v1; Kubernetes silently drops it. */
function dropDeprecatedTopology(o: KubeObject): void {
  for (const e of Array.isArray(o.endpoints) ? o.endpoints : []) delete (asObj(e) ?? {}).deprecatedTopology;
}

export const kinds: KindDef[] = [
  kindDef({
    group: 'discovery.k8s.io',
    version: 'v1',
    kind: 'EndpointSlice',
    plural: 'endpointslices',
    namespaced: true,
    schema: EndpointSlice,
    // The whole object is "spec": any change outside metadata bumps the generation.
    tracksGeneration: true,
    printer: endpointSlicePrinter,
    validate: (o, old) => (old && o.addressType !== old.addressType ? [invalid('addressType', o.addressType ?? '', FIELD_IMMUTABLE)] : []),
    prepareForCreate: dropDeprecatedTopology,
    prepareForUpdate: dropDeprecatedTopology,
  }),
];
