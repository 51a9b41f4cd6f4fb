// io.k8s.api.core.v1.Service and its parts: schema, defaulting (SetDefaults_Service plus what the
// service allocator fills in on a single-stack IPv4 cluster), create/update preparation and
// validation worded like pkg/apis/core/validation.
import { bool, field, int32, intOrString, list, map, ref, str, struct, type FieldError, type StructType } from '../schema/dsl.js';
import { forbidden, invalid, notSupported, required } from '../schema/errors.js';
import { validateDNS1123Label, validateDNS1123Subdomain, validateLabels } from '../validation/names.js';
import { Condition, ListMeta, ObjectMeta } from './meta.js';
import { CORE, typeMeta } from './core-reference.js';
import {
  asList, asNum, asObj, asStr, duplicateRendered, FIELD_IMMUTABLE, goSlice, index, invalidRendered, isIPv6, join, key, parseIP,
  portNumberMessages, validateCIDR, validateIP, validateNonSpecialIP, validatePortNumOrName, validateProtocol,
  validateQualifiedNameAt, type Obj,
} from './core-validation.js';

// ---- schema ------------------------------------------------------------------------------------------

export const ServicePort: StructType = struct(
  `${CORE}.ServicePort`,
  'One port a Service exposes and where its traffic goes.',
  {
    name: field(str(), 1, 'DNS label naming the port; required when the Service has several ports.'),
    protocol: field(str(), 2, 'IP protocol: TCP, UDP or SCTP.', { default: 'TCP' }),
    appProtocol: field(str(), 6, 'Application protocol hint, e.g. kubernetes.io/h2c or a prefixed custom name.'),
    port: field(int32(), 3, 'Port number the Service listens on.', { required: true }),
    targetPort: field(intOrString(), 4, 'Number or named container port the traffic is sent to; defaults to port.'),
    nodePort: field(int32(), 5, 'Port opened on every node for NodePort and LoadBalancer Services; usually allocated.'),
  },
  { defaults: defaultServicePort },
);

export const ClientIPConfig: StructType = struct(`${CORE}.ClientIPConfig`, 'Settings of client-IP session affinity.', {
  timeoutSeconds: field(int32(), 1, 'How long a client sticks to one endpoint, 1 to 86400 seconds (default 10800).'),
});

export const SessionAffinityConfig: StructType = struct(`${CORE}.SessionAffinityConfig`, 'Settings of session affinity.', {
  clientIP: field(ref(() => ClientIPConfig), 1, 'Settings used when sessionAffinity is ClientIP.'),
});

export const ServiceSpec: StructType = struct(
  `${CORE}.ServiceSpec`,
  'What a Service exposes and how traffic reaches its endpoints.',
  {
    ports: field(
      list(ref(() => ServicePort), { listType: 'map', mapKeys: ['port', 'protocol'], patchStrategy: 'merge', patchMergeKey: 'port' }),
      1,
      'Ports the Service exposes.',
    ),
    // Kubernetes marks this map x-kubernetes-map-type: atomic; the DSL's MapType cannot say so yet.
    selector: field(map(str()), 2, 'Pods whose labels match this map receive the traffic; empty means endpoints are managed elsewhere.'),
    clusterIP: field(str(), 3, 'Virtual IP of the Service, "None" for a headless Service; usually allocated.'),
    clusterIPs: field(list(str(), { listType: 'atomic' }), 18, 'Virtual IPs of the Service, at most one per IP family; the first equals clusterIP.'),
    type: field(str(), 4, 'How the Service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName.', { default: 'ClusterIP' }),
    externalIPs: field(list(str(), { listType: 'atomic' }), 5, 'Extra IPs, not managed by Kubernetes, on which nodes also accept this traffic.'),
    sessionAffinity: field(str(), 7, 'ClientIP to keep a client on one endpoint, or None.', { default: 'None' }),
    loadBalancerIP: field(str(), 8, 'Deprecated request for a specific load-balancer IP.'),
    loadBalancerSourceRanges: field(list(str(), { listType: 'atomic' }), 9, 'Client CIDRs a cloud load balancer lets through.'),
    externalName: field(str(), 10, 'DNS name an ExternalName Service aliases (returned as a CNAME).'),
    externalTrafficPolicy: field(str(), 11, 'Cluster to spread external traffic over all endpoints, Local to keep it on the receiving node.'),
    healthCheckNodePort: field(int32(), 12, 'Node port serving health checks for LoadBalancer Services with externalTrafficPolicy Local.'),
    publishNotReadyAddresses: field(bool(), 13, 'Publish endpoints even when their pods are not ready.'),
    sessionAffinityConfig: field(ref(() => SessionAffinityConfig), 14, 'Settings of the chosen session affinity.'),
    ipFamilies: field(list(str(), { listType: 'atomic' }), 19, 'IP families (IPv4, IPv6) of the cluster IPs, in order.'),
    ipFamilyPolicy: field(str(), 17, 'SingleStack, PreferDualStack or RequireDualStack.'),
    allocateLoadBalancerNodePorts: field(bool(), 20, 'Whether a LoadBalancer Service gets node ports allocated (default true).'),
    loadBalancerClass: field(str(), 21, 'Load balancer implementation meant to handle this LoadBalancer Service.'),
    internalTrafficPolicy: field(str(), 22, 'Cluster to spread in-cluster traffic over all endpoints, Local to keep it on the same node.'),
    trafficDistribution: field(str(), 23, 'Preference for how traffic is spread over endpoints, e.g. PreferClose.'),
  },
  { defaults: defaultServiceSpec },
);

export const PortStatus: StructType = struct(`${CORE}.PortStatus`, 'Error state of one Service port on a load balancer.', {
  port: field(int32(), 1, 'Port number of the Service port.', { required: true }),
  protocol: field(str(), 2, 'Protocol of the Service port.', { required: true }),
  error: field(str(), 3, 'Problem with this port, as a CamelCase or domain-prefixed reason.'),
});

export const LoadBalancerIngress: StructType = struct(`${CORE}.LoadBalancerIngress`, 'One address at which a load balancer accepts traffic.', {
  ip: field(str(), 1, 'IP address of the ingress point.'),
  hostname: field(str(), 2, 'DNS name of the ingress point.'),
  ipMode: field(str(), 3, 'VIP or Proxy: how traffic addressed to ip is delivered to nodes.'),
  ports: field(list(ref(() => PortStatus), { listType: 'atomic' }), 4, 'Per-port status of the ingress point.'),
});

export const LoadBalancerStatus: StructType = struct(`${CORE}.LoadBalancerStatus`, 'State of a load balancer.', {
  ingress: field(list(ref(() => LoadBalancerIngress), { listType: 'atomic' }), 1, 'Ingress points of the load balancer.'),
});

export const ServiceStatus: StructType = struct(`${CORE}.ServiceStatus`, 'Observed state of a Service.', {
  // Go serialises this non-pointer struct even when empty, so a Service always shows loadBalancer: {}.
  loadBalancer: field(ref(() => LoadBalancerStatus), 1, 'State of the load balancer, if there is one.', { default: {} }),
  conditions: field(
    list(ref(() => Condition), { listType: 'map', mapKeys: ['type'], patchStrategy: 'merge', patchMergeKey: 'type' }),
    2,
    'Current conditions of the Service.',
  ),
});

export const Service: StructType = struct(
  `${CORE}.Service`,
  'A stable name and virtual address in front of a set of pods, or an alias for an external name.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    spec: field(ref(() => ServiceSpec), 2, 'Desired behaviour of the Service.', { default: {} }),
    status: field(ref(() => ServiceStatus), 3, 'Observed state of the Service; written by the system.', { default: {} }),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'Service' }], defaults: defaultLoadBalancerIPMode },
);

export const ServiceList: StructType = struct(
  `${CORE}.ServiceList`,
  'A list of Services.',
  {
    ...typeMeta,
    metadata: field(ref(() => ListMeta), 1, 'Standard list metadata.'),
    items: field(list(ref(() => Service)), 2, 'The Services.', { required: true }),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'ServiceList' }] },
);

// ---- predicates -------------------------------------------------------------------------------------

const specOf = (svc: Obj): Obj => asObj(svc.spec) ?? {};
const typeOf = (spec: Obj): string => asStr(spec.type);

export function isHeadless(spec: Obj): boolean {
  const ips = asList(spec.clusterIPs);
  return ips.length === 1 && ips[0] === 'None';
}

/** Reachable from outside the cluster: NodePort, LoadBalancer, or ClusterIP with external IPs. */
export function externallyAccessible(spec: Obj): boolean {
  const t = typeOf(spec);
  return t === 'LoadBalancer' || t === 'NodePort' || (t === 'ClusterIP' && asList(spec.externalIPs).length > 0);
}

const needsClusterIP = (spec: Obj): boolean => typeOf(spec) !== 'ExternalName';
const needsNodePort = (spec: Obj): boolean => typeOf(spec) === 'NodePort' || typeOf(spec) === 'LoadBalancer';
const needsHealthCheck = (spec: Obj): boolean => typeOf(spec) === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';

// ---- defaulting -------------------------------------------------------------------------------------

export const DEFAULT_CLIENT_IP_TIMEOUT_SECONDS = 10800;
const MAX_CLIENT_IP_TIMEOUT_SECONDS = 86400;

function defaultServicePort(port: Obj): void {
  if (!port.protocol) port.protocol = 'TCP';
  const target = port.targetPort;
  if (target === undefined || target === null || target === 0 || target === '') port.targetPort = port.port;
}

function defaultServiceSpec(spec: Obj): void {
  if (!spec.type) spec.type = 'ClusterIP';
  if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP') {
    const clientIP = asObj(asObj(spec.sessionAffinityConfig)?.clientIP);
    if (clientIP?.timeoutSeconds === undefined || clientIP.timeoutSeconds === null) {
      spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: DEFAULT_CLIENT_IP_TIMEOUT_SECONDS } };
    }
  }
  const type = typeOf(spec);
  if (externallyAccessible(spec) && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if (spec.internalTrafficPolicy == null && (type === 'ClusterIP' || type === 'NodePort' || type === 'LoadBalancer')) {
    spec.internalTrafficPolicy = 'Cluster';
  }
  if (type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts == null) spec.allocateLoadBalancerNodePorts = true;
  defaultIPFamilies(spec);
}

/** What the service IP allocator of a single-stack IPv4 cluster fills in. */
function defaultIPFamilies(spec: Obj): void {
  if (!needsClusterIP(spec)) return;
  const firstIP = asStr(asList(spec.clusterIPs)[0] ?? spec.clusterIP);
  const headless = firstIP === 'None';
  if (spec.ipFamilyPolicy == null) {
    // Headless Services without a selector get every family the cluster has.
    const selectorless = Object.keys(asObj(spec.selector) ?? {}).length === 0;
    spec.ipFamilyPolicy = headless && selectorless ? 'RequireDualStack' : 'SingleStack';
  }
  if (asList(spec.ipFamilies).length === 0) spec.ipFamilies = [!headless && isIPv6(firstIP) ? 'IPv6' : 'IPv4'];
}

/** Load-balancer ingress IPs of a LoadBalancer Service are VIPs unless said otherwise. */
function defaultLoadBalancerIPMode(svc: Obj): void {
  if (typeOf(specOf(svc)) !== 'LoadBalancer') return;
  for (const i of asList(asObj(asObj(svc.status)?.loadBalancer)?.ingress)) {
    const ingress = asObj(i);
    if (ingress && asStr(ingress.ip) && ingress.ipMode == null) ingress.ipMode = 'VIP';
  }
}

// ---- create / update preparation ------------------------------------------------------------------------

const sameList = (a: unknown, b: unknown): boolean => JSON.stringify(asList(a)) === JSON.stringify(asList(b));

/** A new Service starts without status (the load balancer part is always present, as in Go). */
export function prepareServiceForCreate(svc: Obj): void {
  svc.status = { loadBalancer: {} };
  const spec = specOf(svc);
  // Clients that only know the singular field get the plural one filled in.
  if (asStr(spec.clusterIP) && asList(spec.clusterIPs).length === 0) spec.clusterIPs = [spec.clusterIP];
}

/** Keeps allocated values a client left out, syncs clusterIP/clusterIPs and drops fields a type change makes moot. */
export function prepareServiceForUpdate(svc: Obj, old: Obj): void {
  const spec = (svc.spec = specOf(svc));
  const oldSpec = specOf(old);
  // This runs before decode-time defaulting; the type decides what is kept or dropped.
  if (!spec.type) spec.type = 'ClusterIP';
  patchAllocatedValues(spec, oldSpec);
  normalizeClusterIPsOnUpdate(spec, oldSpec);
  dropTypeDependentFields(spec, oldSpec);
  // Only LoadBalancer Services have a load balancer to report on.
  const status = asObj(svc.status);
  if (status && spec.type !== 'LoadBalancer') status.loadBalancer = {};
}

function patchAllocatedValues(spec: Obj, oldSpec: Obj): void {
  if (needsClusterIP(oldSpec) && needsClusterIP(spec)) {
    if (!asStr(spec.clusterIP) && oldSpec.clusterIP !== undefined) spec.clusterIP = oldSpec.clusterIP;
    if (asList(spec.clusterIPs).length === 0 && asList(oldSpec.clusterIPs).length > 0) spec.clusterIPs = [...asList(oldSpec.clusterIPs)];
  }
  if (needsNodePort(oldSpec) && needsNodePort(spec)) {
    const usedBy = (s: Obj) => new Set(asList(s.ports).map((p) => asNum(asObj(p)?.nodePort)).filter((n) => n !== 0));
    const newUsed = usedBy(spec);
    const used = new Set([...usedBy(oldSpec)].filter((n) => newUsed.has(n)));
    const byName = new Map(asList(oldSpec.ports).map((p) => [asStr(asObj(p)?.name), asNum(asObj(p)?.nodePort)]));
    for (const p of asList(spec.ports)) {
      const port = asObj(p);
      if (!port || asNum(port.nodePort) !== 0) continue;
      const previous = byName.get(asStr(port.name)) ?? 0;
      if (previous !== 0 && !used.has(previous)) port.nodePort = previous;
    }
  }
  if (needsHealthCheck(oldSpec) && needsHealthCheck(spec) && !asNum(spec.healthCheckNodePort) && oldSpec.healthCheckNodePort !== undefined) {
    spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
  }
}

function normalizeClusterIPsOnUpdate(spec: Obj, oldSpec: Obj): void {
  const oldIPs = asList(oldSpec.clusterIPs);
  if (oldIPs.length > 0 && asList(spec.clusterIPs).length === 0 && asStr(oldSpec.clusterIP) === asStr(spec.clusterIP)) {
    spec.clusterIPs = [...oldIPs];
  }
  if (asStr(oldSpec.clusterIP) !== asStr(spec.clusterIP) && sameList(oldSpec.clusterIPs, spec.clusterIPs)) {
    if (asStr(oldSpec.clusterIP) && !asStr(spec.clusterIP)) delete spec.clusterIPs;
    else spec.clusterIPs = [spec.clusterIP];
  }
}

function dropTypeDependentFields(spec: Obj, oldSpec: Obj): void {
  if (needsClusterIP(oldSpec) && !needsClusterIP(spec)) {
    if (asStr(spec.clusterIP) === asStr(oldSpec.clusterIP) && sameList(spec.clusterIPs, oldSpec.clusterIPs)) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (sameList(spec.ipFamilies, oldSpec.ipFamilies)) delete spec.ipFamilies;
    if (spec.ipFamilyPolicy === oldSpec.ipFamilyPolicy) delete spec.ipFamilyPolicy;
  }
  const nodePorts = (s: Obj) => asList(s.ports).map((p) => asNum(asObj(p)?.nodePort));
  if (needsNodePort(oldSpec) && !needsNodePort(spec) && sameList(nodePorts(spec), nodePorts(oldSpec))) {
    for (const p of asList(spec.ports)) {
      const port = asObj(p);
      if (port) delete port.nodePort;
    }
  }
  if (needsHealthCheck(oldSpec) && !needsHealthCheck(spec) && asNum(spec.healthCheckNodePort) === asNum(oldSpec.healthCheckNodePort)) {
    delete spec.healthCheckNodePort;
  }
  if (typeOf(oldSpec) === 'LoadBalancer' && typeOf(spec) !== 'LoadBalancer') {
    if (spec.allocateLoadBalancerNodePorts != null && spec.allocateLoadBalancerNodePorts === oldSpec.allocateLoadBalancerNodePorts) {
      delete spec.allocateLoadBalancerNodePorts;
    }
    if (spec.loadBalancerClass === oldSpec.loadBalancerClass) delete spec.loadBalancerClass;
  }
  if (externallyAccessible(oldSpec) && !externallyAccessible(spec) && spec.externalTrafficPolicy === oldSpec.externalTrafficPolicy) {
    delete spec.externalTrafficPolicy;
  }
}

// ---- validation -------------------------------------------------------------------------------------------

const SUPPORTED_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const SUPPORTED_AFFINITY = ['ClientIP', 'None'];
const SUPPORTED_FAMILIES = ['IPv4', 'IPv6'];
const SUPPORTED_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const SUPPORTED_TRAFFIC_POLICIES = ['Cluster', 'Local'];
const SUPPORTED_TRAFFIC_DISTRIBUTIONS = ['PreferClose', 'PreferSameNode', 'PreferSameZone'];
const TOPOLOGY_MODE = 'service.kubernetes.io/topology-mode';
const TOPOLOGY_HINTS = 'service.kubernetes.io/topology-aware-hints';
const LB_SOURCE_RANGES = 'service.beta.kubernetes.io/load-balancer-source-ranges';

/** Go's %#v of the (protocol, port) key Kubernetes uses to report duplicate Service ports. */
function servicePortKey(protocol: string, port: number): string {
  return `core.ServicePort{Name:"", Protocol:${JSON.stringify(protocol)}, AppProtocol:(*string)(nil), Port:${port}, ` +
    'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}';
}

/** ValidateService minus ObjectMeta (the name rule is DNS-1035, checked generically). */
export function validateService(svc: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const spec = specOf(svc);
  const annotations = asObj(asObj(svc.metadata)?.annotations) ?? {};
  const type = typeOf(spec);
  const headless = isHeadless(spec);
  const ports = asList(spec.ports).map((p) => asObj(p) ?? {});

  if (TOPOLOGY_MODE in annotations && TOPOLOGY_HINTS in annotations && annotations[TOPOLOGY_MODE] !== annotations[TOPOLOGY_HINTS]) {
    errs.push(invalid(key('metadata.annotations', TOPOLOGY_MODE), annotations[TOPOLOGY_MODE], `must match annotations[${TOPOLOGY_HINTS}] when both are specified`));
  }
  if (ports.length === 0 && !headless && type !== 'ExternalName') errs.push(required('spec.ports'));

  if ((type === 'LoadBalancer' || type === 'NodePort') && headless) {
    errs.push(invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${type} services`));
  } else if (type === 'ExternalName') {
    if (asList(spec.clusterIPs).length > 0) errs.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
    if (asList(spec.ipFamilies).length > 0) errs.push(forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
    if (spec.ipFamilyPolicy != null) errs.push(forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
    const cname = asStr(spec.externalName).replace(/\.$/, '');
    if (cname) errs.push(...validateDNS1123Subdomain(cname, 'spec.externalName'));
    else errs.push(required('spec.externalName'));
  }

  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, names, index('spec.ports', i))));

  const selector = asObj(spec.selector);
  if (selector) errs.push(...validateLabels(selector as Record<string, string>, 'spec.selector'));

  const affinity = asStr(spec.sessionAffinity);
  if (!affinity) errs.push(required('spec.sessionAffinity'));
  else if (!SUPPORTED_AFFINITY.includes(affinity)) errs.push(notSupported('spec.sessionAffinity', affinity, SUPPORTED_AFFINITY));
  if (affinity === 'ClientIP') errs.push(...validateClientIPAffinity(spec.sessionAffinityConfig, 'spec.sessionAffinityConfig'));
  else if (affinity === 'None' && spec.sessionAffinityConfig != null) {
    errs.push(forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }

  errs.push(...validateClusterIPFields(spec));

  asList(spec.externalIPs).forEach((ip, i) => {
    const path = index('spec.externalIPs', i);
    const ipErrs = validateIP(asStr(ip), path);
    errs.push(...(ipErrs.length ? ipErrs : validateNonSpecialIP(asStr(ip), path)));
  });

  if (!type) errs.push(required('spec.type'));
  else if (!SUPPORTED_TYPES.includes(type)) errs.push(notSupported('spec.type', type, SUPPORTED_TYPES));

  if (type === 'ClusterIP') {
    ports.forEach((p, i) => {
      if (asNum(p.nodePort) !== 0) errs.push(forbidden(join(index('spec.ports', i), 'nodePort'), "may not be used when `type` is 'ClusterIP'"));
    });
  }
  const seenNodePorts = new Set<string>();
  ports.forEach((p, i) => {
    const nodePort = asNum(p.nodePort);
    if (nodePort === 0) return;
    const k = `${asStr(p.protocol)}/${nodePort}`;
    if (seenNodePorts.has(k)) errs.push(duplicateRendered(join(index('spec.ports', i), 'nodePort'), String(nodePort)));
    seenNodePorts.add(k);
  });
  const seenPorts = new Set<string>();
  ports.forEach((p, i) => {
    const k = `${asStr(p.protocol)}/${asNum(p.port)}`;
    if (seenPorts.has(k)) errs.push(duplicateRendered(index('spec.ports', i), servicePortKey(asStr(p.protocol), asNum(p.port))));
    seenPorts.add(k);
  });

  const ranges = asList(spec.loadBalancerSourceRanges);
  if (ranges.length > 0) {
    // Kubernetes prints this path with a capital L.
    if (type !== 'LoadBalancer') errs.push(forbidden('spec.LoadBalancerSourceRanges', "may only be used when `type` is 'LoadBalancer'"));
    ranges.forEach((r, i) => errs.push(...validateCIDR(asStr(r).trim(), index('spec.LoadBalancerSourceRanges', i))));
  } else if (LB_SOURCE_RANGES in annotations) {
    const path = key('metadata.annotations', LB_SOURCE_RANGES);
    if (type !== 'LoadBalancer') errs.push(forbidden(path, "may only be used when `type` is 'LoadBalancer'"));
    const value = asStr(annotations[LB_SOURCE_RANGES]).trim();
    if (value) for (const cidr of value.split(',')) errs.push(...validateCIDR(cidr.trim(), path));
  }

  if (spec.allocateLoadBalancerNodePorts != null && type !== 'LoadBalancer') {
    errs.push(forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  }
  // Kubernetes reports this one without the spec. prefix.
  if (type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts == null) errs.push(required('allocateLoadBalancerNodePorts'));

  if (type === 'LoadBalancer') {
    if (spec.loadBalancerClass != null) errs.push(...validateQualifiedNameAt(asStr(spec.loadBalancerClass), 'spec.loadBalancerClass'));
  } else if (spec.loadBalancerClass != null) {
    errs.push(forbidden('spec.loadBalancerClass', "may only be used when `type` is 'LoadBalancer'"));
  }

  errs.push(...validateTrafficPolicies(spec));
  return errs;
}

function validateServicePort(port: Obj, requireName: boolean, names: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = asStr(port.name);
  if (requireName && !name) errs.push(required(join(path, 'name')));
  else if (name) {
    errs.push(...validateDNS1123Label(name, join(path, 'name')));
    if (names.has(name)) errs.push(duplicateRendered(join(path, 'name'), JSON.stringify(name)));
    else names.add(name);
  }
  // A missing port is reported by the schema's generic required check.
  if (port.port !== undefined) {
    for (const m of portNumberMessages(asNum(port.port))) errs.push(invalid(join(path, 'port'), port.port, m));
  }
  errs.push(...validateProtocol(port.protocol, join(path, 'protocol')));
  errs.push(...validatePortNumOrName(port.targetPort, join(path, 'targetPort')));
  if (port.appProtocol != null) errs.push(...validateQualifiedNameAt(asStr(port.appProtocol), join(path, 'appProtocol')));
  return errs;
}

function validateClientIPAffinity(config: unknown, path: string): FieldError[] {
  const detail = 'when session affinity type is ClientIP';
  const cfg = asObj(config);
  if (!cfg) return [required(path, detail)];
  const clientIP = asObj(cfg.clientIP);
  if (!clientIP) return [required(join(path, 'clientIP'), detail)];
  const timeoutPath = join(join(path, 'clientIP'), 'timeoutSeconds');
  if (clientIP.timeoutSeconds == null) return [required(timeoutPath, detail)];
  const timeout = asNum(clientIP.timeoutSeconds);
  return timeout <= 0 || timeout > MAX_CLIENT_IP_TIMEOUT_SECONDS
    ? [invalid(timeoutPath, timeout, `must be greater than 0 and less than ${MAX_CLIENT_IP_TIMEOUT_SECONDS}`)]
    : [];
}

/** ValidateServiceClusterIPsRelatedFields. */
function validateClusterIPFields(spec: Obj): FieldError[] {
  if (typeOf(spec) === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const clusterIP = asStr(spec.clusterIP);
  const clusterIPs = asList(spec.clusterIPs).map(asStr);
  const rendered = goSlice('[]string', spec.clusterIPs);
  if (clusterIP) {
    if (clusterIPs.length === 0) errs.push(required('spec.clusterIPs'));
    else if (clusterIPs[0] !== clusterIP) errs.push(invalidRendered('spec.clusterIPs', rendered, 'first value must match `clusterIP`'));
  } else if (clusterIPs.length > 0) {
    errs.push(invalidRendered('spec.clusterIPs', rendered, 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<string>();
  asList(spec.ipFamilies).forEach((f, i) => {
    const family = asStr(f);
    if (!SUPPORTED_FAMILIES.includes(family)) errs.push(notSupported(index('spec.ipFamilies', i), family, SUPPORTED_FAMILIES));
    if (seen.has(family)) errs.push(duplicateRendered(index('spec.ipFamilies', i), JSON.stringify(family)));
    seen.add(family);
  });
  if (spec.ipFamilyPolicy != null && !SUPPORTED_FAMILY_POLICIES.includes(asStr(spec.ipFamilyPolicy))) {
    errs.push(notSupported('spec.ipFamilyPolicy', spec.ipFamilyPolicy, SUPPORTED_FAMILY_POLICIES));
  }
  let badIPs = false;
  clusterIPs.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (clusterIPs.length > 1) {
        badIPs = true;
        errs.push(invalidRendered('spec.clusterIPs', rendered, "'None' must be the first and only value"));
      }
      return;
    }
    const ipErrs = validateIP(ip, index('spec.clusterIPs', i));
    if (ipErrs.length) badIPs = true;
    errs.push(...ipErrs);
  });
  if (clusterIPs.length > 2) errs.push(invalidRendered('spec.clusterIPs', rendered, 'may only hold up to 2 values'));
  if (badIPs) return errs;
  if (clusterIPs.length > 1 && isIPv6(clusterIPs[0]) === isIPv6(clusterIPs[1])) {
    errs.push(invalidRendered('spec.clusterIPs', rendered, 'may specify no more than one IP for each IP family'));
  }
  const families = asList(spec.ipFamilies).map(asStr);
  if (!isHeadless(spec)) {
    clusterIPs.slice(0, families.length).forEach((ip, i) => {
      if (families[i] === 'IPv4' && isIPv6(ip)) errs.push(invalid(index('spec.clusterIPs', i), ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (families[i] === 'IPv6' && !isIPv6(ip)) errs.push(invalid(index('spec.clusterIPs', i), ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  return errs;
}

function validateTrafficPolicies(spec: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const etp = asStr(spec.externalTrafficPolicy);
  if (!externallyAccessible(spec)) {
    if (etp) errs.push(invalid('spec.externalTrafficPolicy', etp, 'may only be set for externally-accessible services'));
  } else if (!etp) errs.push(required('spec.externalTrafficPolicy'));
  else if (!SUPPORTED_TRAFFIC_POLICIES.includes(etp)) errs.push(notSupported('spec.externalTrafficPolicy', etp, SUPPORTED_TRAFFIC_POLICIES));

  const hc = asNum(spec.healthCheckNodePort);
  if (!needsHealthCheck(spec)) {
    if (hc !== 0) errs.push(invalid('spec.healthCheckNodePort', hc, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
  } else if (hc === 0) errs.push(required('spec.healthCheckNodePort'));
  else for (const m of portNumberMessages(hc)) errs.push(invalid('spec.healthCheckNodePort', hc, m));

  const type = typeOf(spec);
  if (spec.internalTrafficPolicy == null) {
    if (type === 'NodePort' || type === 'LoadBalancer' || type === 'ClusterIP') errs.push(required('spec.internalTrafficPolicy'));
  } else if (!SUPPORTED_TRAFFIC_POLICIES.includes(asStr(spec.internalTrafficPolicy))) {
    errs.push(notSupported('spec.internalTrafficPolicy', spec.internalTrafficPolicy, SUPPORTED_TRAFFIC_POLICIES));
  }
  if (spec.trafficDistribution != null && !SUPPORTED_TRAFFIC_DISTRIBUTIONS.includes(asStr(spec.trafficDistribution))) {
    errs.push(notSupported('spec.trafficDistribution', spec.trafficDistribution, SUPPORTED_TRAFFIC_DISTRIBUTIONS));
  }
  return errs;
}

/** ValidateLoadBalancerStatus: what a load-balancer controller may report. */
function validateLoadBalancerStatus(svc: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const path = 'status.loadBalancer.ingress';
  const ingresses = asList(asObj(asObj(svc.status)?.loadBalancer)?.ingress);
  if (ingresses.length && typeOf(specOf(svc)) !== 'LoadBalancer') {
    return [forbidden(path, "may only be used when `spec.type` is 'LoadBalancer'")];
  }
  ingresses.forEach((raw, i) => {
    const ingress = asObj(raw) ?? {};
    const p = index(path, i);
    const ip = asStr(ingress.ip);
    if (ip) errs.push(...validateIP(ip, join(p, 'ip')));
    // A missing ipMode is defaulted to VIP on decode, so only a misplaced or unknown one is reported.
    if (ingress.ipMode != null) {
      if (!ip) errs.push(forbidden(join(p, 'ipMode'), 'may not be specified when `ip` is not set'));
      else if (!['Proxy', 'VIP'].includes(asStr(ingress.ipMode))) errs.push(notSupported(join(p, 'ipMode'), ingress.ipMode, ['Proxy', 'VIP']));
    }
    const hostname = asStr(ingress.hostname);
    if (hostname) {
      errs.push(...validateDNS1123Subdomain(hostname, join(p, 'hostname')));
      if (parseIP(hostname)) errs.push(invalid(join(p, 'hostname'), hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}

/** ValidateServiceUpdate: primary cluster IP and family are fixed once set; so is the health check port. */
export function validateServiceUpdate(svc: Obj, old: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const spec = specOf(svc);
  const oldSpec = specOf(old);
  const bothClusterIP = needsClusterIP(spec) && needsClusterIP(oldSpec);
  if (bothClusterIP && !(isHeadless(spec) && isHeadless(oldSpec))) {
    const ips = asList(spec.clusterIPs);
    const oldIPs = asList(oldSpec.clusterIPs);
    const rendered = goSlice('[]string', spec.clusterIPs);
    if (ips.length === oldIPs.length) {
      oldIPs.forEach((ip, i) => {
        if (ip !== ips[i]) errs.push(invalidRendered(index('spec.clusterIPs', i), rendered, 'may not change once set'));
      });
    } else if (oldIPs.length > ips.length) {
      if (ips.length === 0) errs.push(invalidRendered('spec.clusterIPs[0]', rendered, 'primary clusterIP can not be unset'));
      if (oldIPs.length > 0 && ips.length > 0 && ips[0] !== oldIPs[0]) errs.push(invalidRendered('spec.clusterIPs[0]', rendered, 'may not change once set'));
      if (ips.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') {
        errs.push(invalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy, "must be set to 'SingleStack' when releasing the secondary clusterIP"));
      }
    } else if (oldIPs.length > 0 && ips[0] !== oldIPs[0]) {
      errs.push(invalidRendered('spec.clusterIPs[0]', rendered, 'may not change once set'));
    }
  }
  if (bothClusterIP && isHeadless(spec) === isHeadless(oldSpec) && !isHeadless(spec)) {
    const fams = asList(spec.ipFamilies);
    const oldFams = asList(oldSpec.ipFamilies);
    if (fams.length === oldFams.length && oldFams.some((f, i) => f !== fams[i])) {
      errs.push(invalidRendered('spec.ipFamilies[0]', goSlice('[]core.IPFamily', spec.ipFamilies), 'may not change once set'));
    }
  }
  if (typeOf(spec) === 'LoadBalancer' && typeOf(oldSpec) === 'LoadBalancer' && spec.loadBalancerClass !== oldSpec.loadBalancerClass) {
    errs.push(invalid('spec.loadBalancerClass', spec.loadBalancerClass, 'may not change once set'));
  }
  if (needsHealthCheck(oldSpec) && needsHealthCheck(spec) && asNum(spec.healthCheckNodePort) !== asNum(oldSpec.healthCheckNodePort)) {
    errs.push(forbidden('spec.healthCheckNodePort', FIELD_IMMUTABLE));
  }
  return [...errs, ...validateService(svc), ...validateLoadBalancerStatus(svc)];
}
