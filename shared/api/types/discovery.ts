// discovery.k8s.io/v1 EndpointSlice (io.k8s.api.discovery.v1.*). Protobuf numbers follow
// k8s.io/api/discovery/v1/generated.proto; checks follow pkg/apis/discovery/validation.
import { bool, field, int32, list, map, ref, str, struct, type FieldError, type StructType } from '../schema/dsl.js';
import { duplicate, invalid, notSupported, required, tooMany } from '../schema/errors.js';
import { dns1123LabelMessages, dns1123SubdomainMessages, qualifiedNameMessages } from '../validation/names.js';
import { asObj, at } from './apps.js';
import { ObjectReference, typeMeta } from './core-reference.js';
import { parseIP, validateNonSpecialIP } from './core-validation.js';
import { ObjectMeta } from './meta.js';

const DISCOVERY = 'io.k8s.api.discovery.v1';

export const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const PORT_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const MAX_ENDPOINTS = 1000;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 20000;
const MAX_ZONE_HINTS = 8;

export const EndpointConditions: StructType = struct(`${DISCOVERY}.EndpointConditions`, 'Readiness of one endpoint.', {
  ready: field(bool(), 1, 'Endpoint may receive traffic; unknown when unset.'),
  serving: field(bool(), 2, 'Like ready, but also reported while the endpoint terminates.'),
  terminating: field(bool(), 3, 'The endpoint is shutting down.'),
});

export const ForZone: StructType = struct(`${DISCOVERY}.ForZone`, 'A zone that should use an endpoint.', {
  name: field(str(), 1, 'Zone name.', { required: true }),
});

export const EndpointHints: StructType = struct(`${DISCOVERY}.EndpointHints`, 'Routing hints for an endpoint.', {
  forZones: field(list(ref(() => ForZone), { listType: 'atomic' }), 1, 'Zones that should route to this endpoint.'),
});

export const Endpoint: StructType = struct(`${DISCOVERY}.Endpoint`, 'One backend of a service.', {
  addresses: field(list(str(), { listType: 'set' }), 1, 'Interchangeable addresses of the endpoint, of the slice\'s address type.', { required: true }),
  conditions: field(ref(() => EndpointConditions), 2, 'Readiness of the endpoint.', { default: {} }),
  hostname: field(str(), 3, 'Host name of the endpoint, a DNS label.'),
  targetRef: field(ref(() => ObjectReference), 4, 'The object (usually a pod) behind the endpoint.'),
  deprecatedTopology: field(map(str()), 5, 'v1beta1 topology labels; ignored when written through v1.'),
  nodeName: field(str(), 6, 'Node hosting the endpoint.'),
  zone: field(str(), 7, 'Zone of the endpoint.'),
  hints: field(ref(() => EndpointHints), 8, 'How consumers should route to the endpoint.'),
});

export const EndpointPort: StructType = struct(
  `${DISCOVERY}.EndpointPort`,
  'A port every endpoint of the slice exposes.',
  {
    name: field(str(), 1, 'Port name, unique in the slice; empty or a DNS label.', { default: '' }),
    protocol: field(str(), 2, 'TCP (the default), UDP or SCTP.', { default: 'TCP' }),
    port: field(int32(), 3, 'Port number; unset means all ports.'),
    appProtocol: field(str(), 4, 'Application protocol, e.g. http or kubernetes.io/h2c.'),
  },
  { mapType: 'atomic' },
);

function validateAddress(address: string, addressType: unknown, path: string): FieldError[] {
  const bytes = parseIP(address);
  switch (addressType) {
    case 'IPv4':
      return bytes?.length === 4 ? validateNonSpecialIP(address, path) : [invalid(path, address, 'must be a valid IPv4 address')];
    case 'IPv6':
      return bytes?.length === 16 ? validateNonSpecialIP(address, path) : [invalid(path, address, 'must be a valid IPv6 address')];
    case 'FQDN': {
      const msgs = [...dns1123SubdomainMessages(address)];
      if (!address.includes('.')) msgs.push('should be a domain with at least two segments separated by dots');
      return msgs.map((m) => invalid(path, address, m));
    }
    default:
      return [];
  }
}

function validateEndpoints(endpoints: unknown[], addressType: unknown): FieldError[] {
  if (endpoints.length > MAX_ENDPOINTS) return [tooMany('endpoints', endpoints.length, MAX_ENDPOINTS)];
  const errs: FieldError[] = [];
  endpoints.forEach((e, i) => {
    const ep = asObj(e) ?? {};
    const path = `endpoints[${i}]`;
    const addresses = Array.isArray(ep.addresses) ? ep.addresses : undefined;
    if (addresses && addresses.length > MAX_ADDRESSES) errs.push(tooMany(at(path, 'addresses'), addresses.length, MAX_ADDRESSES));
    (addresses ?? []).forEach((a, j) => errs.push(...validateAddress(String(a), addressType, `${path}.addresses[${j}]`)));
    if (typeof ep.nodeName === 'string') errs.push(...dns1123SubdomainMessages(ep.nodeName).map((m) => invalid(at(path, 'nodeName'), ep.nodeName, m)));
    if (typeof ep.hostname === 'string') errs.push(...dns1123LabelMessages(ep.hostname).map((m) => invalid(at(path, 'hostname'), ep.hostname, m)));
    const zones = asObj(ep.hints)?.forZones;
    if (Array.isArray(zones) && zones.length > MAX_ZONE_HINTS) errs.push(tooMany(at(path, 'hints.forZones'), zones.length, MAX_ZONE_HINTS));
  });
  return errs;
}

function validatePorts(ports: unknown[]): FieldError[] {
  if (ports.length > MAX_PORTS) return [tooMany('ports', ports.length, MAX_PORTS)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const port = asObj(p) ?? {};
    const path = `ports[${i}]`;
    const name = typeof port.name === 'string' ? port.name : '';
    if (name !== '') errs.push(...dns1123LabelMessages(name).map((m) => invalid(at(path, 'name'), name, m)));
    if (names.has(name)) errs.push(duplicate(at(path, 'name'), name));
    names.add(name);
    if (port.protocol === undefined || port.protocol === null) errs.push(required(at(path, 'protocol'), ''));
    else if (!PORT_PROTOCOLS.includes(port.protocol as string)) errs.push(notSupported(at(path, 'protocol'), port.protocol, PORT_PROTOCOLS));
    if (typeof port.appProtocol === 'string') {
      errs.push(...qualifiedNameMessages(port.appProtocol).map((m) => invalid(at(path, 'appProtocol'), port.appProtocol, m)));
    }
  });
  return errs;
}

/** ValidateEndpointSlice (create and update; addressType immutability lives with the kind). */
export function validateEndpointSlice(slice: Record<string, unknown>): FieldError[] {
  const errs: FieldError[] = [];
  const addressType = slice.addressType;
  if (typeof addressType === 'string' && addressType !== '' && !ADDRESS_TYPES.includes(addressType as string)) errs.push(notSupported('addressType', addressType, ADDRESS_TYPES));
  errs.push(...validateEndpoints(Array.isArray(slice.endpoints) ? slice.endpoints : [], addressType));
  errs.push(...validatePorts(Array.isArray(slice.ports) ? slice.ports : []));
  return errs;
}

export const EndpointSlice: StructType = struct(
  `${DISCOVERY}.EndpointSlice`,
  'A subset of the endpoints behind a service.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    addressType: field(str(), 4, 'IPv4, IPv6 or FQDN; every address in the slice has this type. Cannot change.', { required: true }),
    // Required in Kubernetes' OpenAPI, but an empty list is valid (a Service without ready pods), and the
    // generic required check would refuse it.
    endpoints: field(list(ref(() => Endpoint), { listType: 'atomic' }), 2, 'Up to 1000 endpoints.'),
    ports: field(list(ref(() => EndpointPort), { listType: 'atomic' }), 3, 'Ports every endpoint exposes; none means no ports are defined.'),
  },
  { gvk: [{ group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice' }], validate: validateEndpointSlice },
);
