// The core/v1 kinds outside the Pod family, as KindDefs: scope, names, subresources, field
// selectors, validation hooks and the server-side table columns kubectl prints.
import { kindDef, type KindDef, type KubeObject, type Printer } from '../kind.js';
import { age, ageColumn, col, formatLabels, get, nameColumn } from '../printers/common.js';
import {
  ConfigMap, Endpoints, Event, LimitRange, Namespace, Node, ResourceQuota, Secret, Service, ServiceAccount,
  mergeStringData, prepareNamespaceForCreate, prepareNamespaceForUpdate, prepareServiceForCreate, prepareServiceForUpdate,
  validateConfigMap, validateConfigMapUpdate, validateEndpoints, validateEvent, validateLimitRange, validateNamespace,
  validateNamespaceUpdate, validateNode, validateNodeUpdate, validateResourceQuota, validateResourceQuotaUpdate, validateSecret,
  validateSecretUpdate, validateService, validateServiceUpdate,
} from '../types/core.js';

type Obj = Record<string, unknown>;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const count = (v: unknown): number => Object.keys(obj(v)).length;

// Namespaces are the one core kind without deletecollection.
const NAMESPACE_VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

// ---- printers ----------------------------------------------------------------------------------------

const namespacePrinter: Printer = {
  columns: [nameColumn, col('Status', 'string', 'Lifecycle phase of the namespace.'), ageColumn],
  cells: (o, now) => [o.metadata.name, str(get(o, 'status', 'phase')), age(o.metadata.creationTimestamp, now)],
};

/** LoadBalancer ingress points, deduplicated and sorted, as kubectl shows them. */
function loadBalancerAddresses(o: KubeObject): string[] {
  const out = new Set<string>();
  for (const i of list(get(o, 'status', 'loadBalancer', 'ingress'))) {
    const ingress = obj(i);
    if (str(ingress.ip)) out.add(str(ingress.ip));
    else if (str(ingress.hostname)) out.add(str(ingress.hostname));
  }
  return [...out].sort();
}

export function serviceExternalIP(o: KubeObject): string {
  const spec = obj(o.spec);
  const externalIPs = list(spec.externalIPs).map(str);
  switch (spec.type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const all = [...loadBalancerAddresses(o), ...externalIPs];
      return all.length ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return str(spec.externalName);
    default:
      return '<unknown>';
  }
}

export function servicePorts(o: KubeObject): string {
  const pieces = list(get(o, 'spec', 'ports')).map((raw) => {
    const p = obj(raw);
    const nodePort = typeof p.nodePort === 'number' ? p.nodePort : 0;
    return nodePort > 0 ? `${p.port}:${nodePort}/${str(p.protocol)}` : `${p.port}/${str(p.protocol)}`;
  });
  return pieces.length ? pieces.join(',') : '<none>';
}

const servicePrinter: Printer = {
  columns: [
    nameColumn,
    col('Type', 'string', 'How the Service is exposed.'),
    col('Cluster-IP', 'string', 'Virtual IP of the Service inside the cluster.'),
    col('External-IP', 'string', 'Addresses reachable from outside the cluster.'),
    col('Port(s)', 'string', 'Ports the Service exposes, with node ports.'),
    ageColumn,
    col('Selector', 'string', 'Labels of the pods that receive the traffic.', 1),
  ],
  cells: (o, now) => {
    const spec = obj(o.spec);
    const clusterIP = str(list(spec.clusterIPs)[0] ?? spec.clusterIP) || '<none>';
    return [o.metadata.name, str(spec.type), clusterIP, serviceExternalIP(o), servicePorts(o), age(o.metadata.creationTimestamp, now), formatLabels(spec.selector)];
  },
};

/** host:port pairs of the ready addresses, at most three, then "+ N more...". */
export function formatEndpoints(o: KubeObject): string {
  const subsets = list(o.subsets);
  if (!subsets.length) return '<none>';
  const max = 3;
  const shown: string[] = [];
  let total = 0;
  const hostPort = (ip: string, port: unknown) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
  for (const raw of subsets) {
    const ss = obj(raw);
    const ips = list(ss.addresses).map((a) => str(obj(a).ip));
    const ports = list(ss.ports);
    // Headless Services may have endpoints without ports.
    const targets = ports.length ? ports.flatMap((p) => ips.map((ip) => hostPort(ip, obj(p).port))) : ips;
    total += targets.length;
    for (const t of targets) if (shown.length < max) shown.push(t);
  }
  const joined = shown.join(',');
  return total > max ? `${joined} + ${total - max} more...` : joined;
}

const endpointsPrinter: Printer = {
  columns: [nameColumn, col('Endpoints', 'string', 'Ready addresses and ports behind the Service.'), ageColumn],
  cells: (o, now) => [o.metadata.name, formatEndpoints(o), age(o.metadata.creationTimestamp, now)],
};

const configMapPrinter: Printer = {
  columns: [nameColumn, col('Data', 'string', 'Number of keys in data and binaryData.'), ageColumn],
  cells: (o, now) => [o.metadata.name, count(o.data) + count(o.binaryData), age(o.metadata.creationTimestamp, now)],
};

const secretPrinter: Printer = {
  columns: [nameColumn, col('Type', 'string', 'Kind of secret.'), col('Data', 'string', 'Number of keys in data.'), ageColumn],
  cells: (o, now) => [o.metadata.name, str(o.type), count(o.data), age(o.metadata.creationTimestamp, now)],
};

const serviceAccountPrinter: Printer = {
  columns: [nameColumn, col('Secrets', 'string', 'Number of secrets listed for the account.'), ageColumn],
  cells: (o, now) => [o.metadata.name, list(o.secrets).length, age(o.metadata.creationTimestamp, now)],
};

/** Ready/NotReady/Unknown from the Ready condition, plus SchedulingDisabled when cordoned. */
export function nodeStatus(o: KubeObject): string {
  const ready = list(get(o, 'status', 'conditions')).map(obj).filter((c) => c.type === 'Ready').pop();
  const status = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (get(o, 'spec', 'unschedulable') === true) status.push('SchedulingDisabled');
  return status.join(',');
}

/** Roles from node-role.kubernetes.io/<role> label keys and the kubernetes.io/role label value. */
export function nodeRoles(o: KubeObject): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(o.metadata.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

function nodeAddress(o: KubeObject, type: string): string {
  const found = list(get(o, 'status', 'addresses')).map(obj).find((a) => a.type === type);
  return found ? str(found.address) : '<none>';
}

const nodePrinter: Printer = {
  columns: [
    nameColumn,
    col('Status', 'string', 'Readiness of the node and whether it accepts new pods.'),
    col('Roles', 'string', 'Roles taken from the node-role labels.'),
    ageColumn,
    col('Version', 'string', 'Version of the node agent.'),
    col('Internal-IP', 'string', 'First internal address of the node.', 1),
    col('External-IP', 'string', 'First external address of the node.', 1),
    col('OS-Image', 'string', 'Operating system the node runs.', 1),
    col('Kernel-Version', 'string', 'Kernel version of the node.', 1),
    col('Container-Runtime', 'string', 'Container runtime and version of the node.', 1),
  ],
  cells: (o, now) => {
    const info = obj(get(o, 'status', 'nodeInfo'));
    const orUnknown = (v: unknown) => str(v) || '<unknown>';
    return [
      o.metadata.name, nodeStatus(o), nodeRoles(o), age(o.metadata.creationTimestamp, now), str(info.kubeletVersion),
      nodeAddress(o, 'InternalIP'), nodeAddress(o, 'ExternalIP'), orUnknown(info.osImage), orUnknown(info.kernelVersion),
      orUnknown(info.containerRuntimeVersion),
    ];
  },
};

/** "component, host", falling back to the reporting controller and instance of newer events. */
export function eventSource(o: KubeObject): string {
  const component = str(get(o, 'source', 'component')) || str(o.reportingComponent);
  const host = str(get(o, 'source', 'host')) || str(o.reportingInstance);
  return host ? `${component}, ${host}` : component;
}

/** The event table's columns, shared by core/v1 and events.k8s.io/v1 Events. */
export const eventColumns = [
  col('Last Seen', 'string', 'Time since the event was last recorded.'),
  col('Type', 'string', 'Normal or Warning.'),
  col('Reason', 'string', 'Short machine-readable reason.'),
  col('Object', 'string', 'The object the event is about, as kind/name.'),
  col('Subobject', 'string', 'Part of the object the event is about.', 1),
  col('Source', 'string', 'Component that reported the event.', 1),
  col('Message', 'string', 'Human-readable description.'),
  col('First Seen', 'string', 'Time since the event was first recorded.', 1),
  col('Count', 'string', 'How many times the event occurred.', 1),
  { ...nameColumn, priority: 1 },
];

const eventPrinter: Printer = {
  columns: eventColumns,
  cells: (o, now) => {
    const firstSeen = o.firstTimestamp ? age(o.firstTimestamp, now) : age(o.eventTime, now);
    const series = obj(o.series);
    const hasSeries = o.series !== undefined && o.series !== null;
    const lastSeen = hasSeries ? age(series.lastObservedTime, now) : o.lastTimestamp ? age(o.lastTimestamp, now) : firstSeen;
    const times = hasSeries ? series.count : o.count;
    const occurrences = typeof times === 'number' && times !== 0 ? times : hasSeries ? 0 : 1;
    const involved = obj(o.involvedObject);
    const kind = str(involved.kind).toLowerCase();
    const target = str(involved.name) ? `${kind}/${str(involved.name)}` : kind;
    return [
      lastSeen, str(o.type), str(o.reason), target, str(involved.fieldPath), eventSource(o), str(o.message).trim(), firstSeen,
      occurrences, o.metadata.name,
    ];
  },
};

/** Kind without its own printer: kube-apiserver's default Name / Created At table. */
const limitRangePrinter: Printer = {
  columns: [nameColumn, col('Created At', 'date', 'When the object was created.')],
  cells: (o) => {
    const t = Date.parse(str(o.metadata.creationTimestamp));
    return [o.metadata.name, Number.isNaN(t) ? '0001-01-01T00:00:00Z' : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z')];
  },
};

/** "resource: used/hard" pairs, requests and plain resources in one column, limits.* in the other. */
export function quotaColumns(o: KubeObject): { request: string; limit: string } {
  const hard = obj(get(o, 'status', 'hard'));
  const used = obj(get(o, 'status', 'used'));
  const request: string[] = [];
  const limit: string[] = [];
  for (const name of Object.keys(hard).sort()) {
    const entry = `${name}: ${String(used[name] ?? '0')}/${String(hard[name])}`;
    (name.startsWith('limits.') ? limit : request).push(entry);
  }
  return { request: request.join(', '), limit: limit.join(', ') };
}

const resourceQuotaPrinter: Printer = {
  columns: [
    nameColumn,
    ageColumn,
    col('Request', 'string', 'Used and hard amounts of the requested resources and object counts.'),
    col('Limit', 'string', 'Used and hard amounts of the resource limits.'),
  ],
  cells: (o, now) => {
    const { request, limit } = quotaColumns(o);
    return [o.metadata.name, age(o.metadata.creationTimestamp, now), request, limit];
  },
};

// ---- field selectors -----------------------------------------------------------------------------------

const at = (...path: string[]) => (o: KubeObject): string => str(get(o, ...path));

const eventFieldSelectors: KindDef['fieldSelectors'] = {
  'involvedObject.kind': at('involvedObject', 'kind'),
  'involvedObject.namespace': at('involvedObject', 'namespace'),
  'involvedObject.name': at('involvedObject', 'name'),
  'involvedObject.uid': at('involvedObject', 'uid'),
  'involvedObject.apiVersion': at('involvedObject', 'apiVersion'),
  'involvedObject.resourceVersion': at('involvedObject', 'resourceVersion'),
  'involvedObject.fieldPath': at('involvedObject', 'fieldPath'),
  reason: at('reason'),
  reportingComponent: at('reportingComponent'),
  source: (o) => str(get(o, 'source', 'component')) || str(o.reportingComponent),
  type: at('type'),
};

// ---- kinds ----------------------------------------------------------------------------------------------

const core = { group: '', version: 'v1', tracksGeneration: false } as const;

export const kinds: KindDef[] = [
  kindDef({
    ...core, kind: 'ConfigMap', plural: 'configmaps', namespaced: true, shortNames: ['cm'], schema: ConfigMap,
    printer: configMapPrinter,
    validate: (o, old) => (old ? validateConfigMapUpdate(o, old) : validateConfigMap(o)),
  }),
  kindDef({
    ...core, kind: 'Endpoints', listKind: 'EndpointsList', plural: 'endpoints', singular: 'endpoints', namespaced: true,
    shortNames: ['ep'], schema: Endpoints, printer: endpointsPrinter,
    validate: (o) => validateEndpoints(o),
  }),
  kindDef({
    ...core, kind: 'Event', plural: 'events', namespaced: true, shortNames: ['ev'], schema: Event, nameRule: 'pathSegment',
    fieldSelectors: eventFieldSelectors, printer: eventPrinter,
    validate: (o) => validateEvent(o),
  }),
  kindDef({
    ...core, kind: 'LimitRange', plural: 'limitranges', namespaced: true, shortNames: ['limits'], schema: LimitRange,
    printer: limitRangePrinter,
    validate: (o) => validateLimitRange(o),
  }),
  kindDef({
    ...core, kind: 'Namespace', plural: 'namespaces', namespaced: false, shortNames: ['ns'], schema: Namespace,
    verbs: NAMESPACE_VERBS, nameRule: 'dns1123Label',
    fieldSelectors: { 'status.phase': at('status', 'phase') }, printer: namespacePrinter,
    validate: (o, old) => [...validateNamespace(o), ...(old ? validateNamespaceUpdate(o, old) : [])],
    prepareForCreate: (o) => prepareNamespaceForCreate(o),
    prepareForUpdate: (o, old) => prepareNamespaceForUpdate(o, old),
  }),
  kindDef({
    ...core, kind: 'Node', plural: 'nodes', namespaced: false, shortNames: ['no'], schema: Node,
    fieldSelectors: { 'spec.unschedulable': (o) => String(get(o, 'spec', 'unschedulable') === true) }, printer: nodePrinter,
    validate: (o, old) => (old ? validateNodeUpdate(o, old) : validateNode(o)),
  }),
  kindDef({
    ...core, kind: 'ResourceQuota', plural: 'resourcequotas', namespaced: true, shortNames: ['quota'], schema: ResourceQuota,
    printer: resourceQuotaPrinter,
    validate: (o, old) => (old ? validateResourceQuotaUpdate(o, old) : validateResourceQuota(o)),
    prepareForCreate: (o) => {
      o.status = {};
    },
  }),
  kindDef({
    ...core, kind: 'Secret', plural: 'secrets', namespaced: true, schema: Secret,
    fieldSelectors: { type: at('type') }, printer: secretPrinter,
    validate: (o, old) => (old ? validateSecretUpdate(o, old) : validateSecret(o)),
    prepareForCreate: (o) => mergeStringData(o),
    prepareForUpdate: (o) => mergeStringData(o),
  }),
  kindDef({
    ...core, kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true, shortNames: ['sa'], schema: ServiceAccount,
    printer: serviceAccountPrinter,
  }),
  kindDef({
    ...core, kind: 'Service', plural: 'services', namespaced: true, shortNames: ['svc'], categories: ['all'], schema: Service,
    nameRule: 'dns1035Label', // Kubernetes names Services by DNS-1035 labels
    fieldSelectors: { 'spec.clusterIP': at('spec', 'clusterIP'), 'spec.type': at('spec', 'type') }, printer: servicePrinter,
    validate: (o, old) => (old ? validateServiceUpdate(o, old) : validateService(o)),
    prepareForCreate: (o) => prepareServiceForCreate(o),
    prepareForUpdate: (o, old) => prepareServiceForUpdate(o, old),
  }),
];
