// io.k8s.api.core.v1.Endpoints: the legacy address list behind a Service, with ValidateEndpoints.
import { field, int32, list, ref, str, struct, type FieldError, type StructType } from '../schema/dsl.js';
import { invalid, required } from '../schema/errors.js';
import { validateDNS1123Label, validateDNS1123Subdomain } from '../validation/names.js';
import { ListMeta, ObjectMeta } from './meta.js';
import { CORE, ObjectReference, typeMeta } from './core-reference.js';
import {
  asList, asNum, asObj, asStr, index, join, portNumberMessages, validateIP, validateNonSpecialIP, validateProtocol,
  validateQualifiedNameAt, type Obj,
} from './core-validation.js';

export const EndpointAddress: StructType = struct(
  `${CORE}.EndpointAddress`,
  'One IP address behind a Service.',
  {
    ip: field(str(), 1, 'The IP address; not loopback, link-local or link-local multicast.', { required: true }),
    hostname: field(str(), 3, 'Hostname of the endpoint.'),
    nodeName: field(str(), 4, 'Node hosting the endpoint.'),
    targetRef: field(ref(() => ObjectReference), 2, 'Object providing the endpoint, usually a pod.'),
  },
  { mapType: 'atomic' },
);

export const EndpointPort: StructType = struct(
  `${CORE}.EndpointPort`,
  'One port offered by a set of endpoint addresses.',
  {
    name: field(str(), 1, 'Name matching the Service port; optional when there is only one port.'),
    port: field(int32(), 2, 'Port number.', { required: true }),
    protocol: field(str(), 3, 'TCP, UDP or SCTP.', { default: 'TCP' }),
    appProtocol: field(str(), 4, 'Application protocol hint for this port.'),
  },
  {
    mapType: 'atomic',
    defaults: (port) => {
      if (!port.protocol) port.protocol = 'TCP';
    },
  },
);

export const EndpointSubset: StructType = struct(`${CORE}.EndpointSubset`, 'Addresses sharing a set of ports; every address serves every port.', {
  addresses: field(list(ref(() => EndpointAddress), { listType: 'atomic' }), 1, 'Addresses that are ready to receive traffic.'),
  notReadyAddresses: field(list(ref(() => EndpointAddress), { listType: 'atomic' }), 2, 'Addresses that are not ready yet.'),
  ports: field(list(ref(() => EndpointPort), { listType: 'atomic' }), 3, 'Ports served at these addresses.'),
});

export const Endpoints: StructType = struct(
  `${CORE}.Endpoints`,
  'The addresses and ports behind a Service (legacy; EndpointSlice supersedes it).',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    subsets: field(list(ref(() => EndpointSubset), { listType: 'atomic' }), 2, 'Groups of addresses with their ports.'),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'Endpoints' }] },
);

export const EndpointsList: StructType = struct(
  `${CORE}.EndpointsList`,
  'A list of Endpoints.',
  {
    ...typeMeta,
    metadata: field(ref(() => ListMeta), 1, 'Standard list metadata.'),
    items: field(list(ref(() => Endpoints)), 2, 'The Endpoints.', { required: true }),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'EndpointsList' }] },
);

/** ValidateEndpoints minus ObjectMeta. */
export function validateEndpoints(ep: Obj): FieldError[] {
  const errs: FieldError[] = [];
  asList(ep.subsets).forEach((raw, i) => {
    const ss = asObj(raw) ?? {};
    const path = index('subsets', i);
    const addresses = asList(ss.addresses);
    const notReady = asList(ss.notReadyAddresses);
    if (addresses.length === 0 && notReady.length === 0) errs.push(required(path, 'must specify `addresses` or `notReadyAddresses`'));
    addresses.forEach((a, j) => errs.push(...validateAddress(asObj(a) ?? {}, index(join(path, 'addresses'), j))));
    notReady.forEach((a, j) => errs.push(...validateAddress(asObj(a) ?? {}, index(join(path, 'notReadyAddresses'), j))));
    const ports = asList(ss.ports);
    ports.forEach((p, j) => errs.push(...validatePort(asObj(p) ?? {}, ports.length > 1, index(join(path, 'ports'), j))));
  });
  return errs;
}

function validateAddress(address: Obj, path: string): FieldError[] {
  const ip = asStr(address.ip);
  // An empty ip is reported by the schema's required check.
  const errs = ip ? validateIP(ip, join(path, 'ip')) : [];
  if (asStr(address.hostname)) errs.push(...validateDNS1123Label(asStr(address.hostname), join(path, 'hostname')));
  if (address.nodeName != null) errs.push(...validateDNS1123Subdomain(asStr(address.nodeName), join(path, 'nodeName')));
  if (ip) errs.push(...validateNonSpecialIP(ip, join(path, 'ip')));
  return errs;
}

function validatePort(port: Obj, requireName: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = asStr(port.name);
  if (requireName && !name) errs.push(required(join(path, 'name')));
  else if (name) errs.push(...validateDNS1123Label(name, join(path, 'name')));
  if (port.port !== undefined) for (const m of portNumberMessages(asNum(port.port))) errs.push(invalid(join(path, 'port'), port.port, m));
  errs.push(...validateProtocol(port.protocol, join(path, 'protocol')));
  if (port.appProtocol != null) errs.push(...validateQualifiedNameAt(asStr(port.appProtocol), join(path, 'appProtocol')));
  return errs;
}
