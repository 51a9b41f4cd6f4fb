// Semantic validation of pod specs (Kubernetes' ValidatePodSpec and the pod-only parts of
// ValidatePodCreate/ValidatePodUpdate): same checks, order, field paths and wording for the
// commonly used fields. Runs after defaulting, as in Kubernetes.
//
// Contract with the schema walker: fields the OpenAPI marks `required` get "Required value" from
// the walker when absent; these checks report them only when present but empty ("" or 0).
import type { FieldError } from '../schema/dsl.js';
import { duplicate, forbidden, invalid, notSupported, required } from '../schema/errors.js';
import {
  dns1123SubdomainMessages,
  labelValueMessages,
  validateDNS1123Label,
  validateDNS1123Subdomain,
  validateLabels,
  validateQualifiedName,
} from '../validation/names.js';
import {
  NOT_POSITIVE,
  asList,
  asNum,
  asObj,
  asStr,
  child,
  inclusiveRange,
  index,
  isObj,
  key,
  notFound,
  portNameMessages,
  portNumMessages,
  quantityString,
  quantityValue,
  validateIP,
  validateLocalDescendingPath,
  validateNonNegative,
  validatePathNoBacksteps,
  validatePortNumOrName,
  type Obj,
} from './core-pod-checks.js';
import { validateObjectFieldSelector, validateResourceFieldSelector, validateVolumes } from './core-pod-volume-validation.js';

const MAX_INT32 = 2147483647;
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const TERMINATION_MESSAGE_POLICIES = ['File', 'FallbackToLogsOnError'];
const PREEMPTION_POLICIES = ['PreemptLowerPriority', 'Never'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const TOLERATION_OPERATORS = ['Equal', 'Exists'];
const SCHEDULE_ACTIONS = ['DoNotSchedule', 'ScheduleAnyway'];
const MOUNT_PROPAGATIONS = ['Bidirectional', 'HostToContainer', 'None'];
const RECURSIVE_READ_ONLY = ['Disabled', 'Enabled', 'IfPossible'];
const HTTP_SCHEMES = ['HTTP', 'HTTPS'];
const RESIZE_RESOURCES = ['cpu', 'memory'];
const RESIZE_POLICIES = ['NotRequired', 'RestartContainer'];
const OPERATING_SYSTEMS = ['linux', 'windows'];
const ENV_DOWNWARD_FIELDS = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
];
/** Unprefixed resource names Kubernetes accepts anywhere (IsStandardResourceName). */
const STANDARD_RESOURCES = new Set([
  'cpu', 'memory', 'storage', 'ephemeral-storage', 'pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets',
  'configmaps', 'persistentvolumeclaims', 'services.nodeports', 'services.loadbalancers', 'requests.cpu', 'requests.memory',
  'requests.storage', 'requests.ephemeral-storage', 'limits.cpu', 'limits.memory', 'limits.ephemeral-storage',
]);
const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);

const ENV_NAME_MESSAGE = "a valid environment variable name must consist only of printable ASCII characters other than '='";

const isHugePages = (name: string): boolean => name.startsWith('hugepages-');
const isNativeResource = (name: string): boolean => !name.includes('/') || name.includes('kubernetes.io/');
const isOvercommitAllowed = (name: string): boolean => isNativeResource(name) && !isHugePages(name);

// ---- pod spec --------------------------------------------------------------------------------------

/**
 * ValidatePodSpec. `path` is the spec's printed path ("spec", "spec.template.spec");
 * `podName` enables the ephemeral-volume PVC name check for real pods.
 */
export function validatePodSpec(spec: Obj, path: string, podName?: string): FieldError[] {
  const errs: FieldError[] = [];
  if (spec.terminationGracePeriodSeconds === undefined || spec.terminationGracePeriodSeconds === null) {
    errs.push(required(child(path, 'terminationGracePeriodSeconds')));
  }
  const grace = typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : undefined;
  const vols = validateVolumes(spec.volumes, child(path, 'volumes'), podName);
  errs.push(...vols.errors);
  const claimNames = new Set<string>();
  errs.push(...validatePodResourceClaims(spec.resourceClaims, child(path, 'resourceClaims'), claimNames));
  const ctx: ContainerContext = { volumes: vols.byName, claimNames, grace, restartPolicy: asStr(spec.restartPolicy) };
  errs.push(...validateContainers(spec.containers, ctx, child(path, 'containers')));
  errs.push(...validateInitContainers(spec.initContainers, spec.containers, ctx, child(path, 'initContainers')));
  errs.push(...validateEphemeralContainers(spec.ephemeralContainers, spec, ctx, child(path, 'ephemeralContainers')));
  if (spec.hostNetwork === true) errs.push(...validateHostNetworkPorts(spec, path));
  errs.push(...validateRestartPolicy(spec.restartPolicy, child(path, 'restartPolicy')));
  errs.push(...validateDNSPolicy(spec.dnsPolicy, child(path, 'dnsPolicy')));
  if (isObj(spec.nodeSelector)) errs.push(...validateLabels(spec.nodeSelector as Record<string, string>, child(path, 'nodeSelector')));
  if (isObj(spec.affinity)) errs.push(...validateAffinity(spec.affinity, child(path, 'affinity')));
  errs.push(...validateDNSConfig(spec.dnsConfig, spec.dnsPolicy, child(path, 'dnsConfig')));
  asList(spec.readinessGates).forEach((g, i) => {
    const type = asStr(asObj(g).conditionType);
    if (type !== '') errs.push(...validateQualifiedName(type, child(index(child(path, 'readinessGates'), i), 'conditionType')));
  });
  errs.push(...validateSchedulingGates(spec.schedulingGates, child(path, 'schedulingGates')));
  errs.push(...validateTopologySpreadConstraints(spec.topologySpreadConstraints, child(path, 'topologySpreadConstraints')));
  for (const [name, value] of [['serviceAccountName', spec.serviceAccountName], ['nodeName', spec.nodeName]] as const) {
    if (typeof value === 'string' && value.length > 0) errs.push(...validateDNS1123Subdomain(value, child(path, name)));
  }
  if (typeof spec.activeDeadlineSeconds === 'number') {
    const v = spec.activeDeadlineSeconds;
    if (v < 1 || v > MAX_INT32) errs.push(invalid(child(path, 'activeDeadlineSeconds'), v, inclusiveRange(1, MAX_INT32)));
  }
  for (const name of ['hostname', 'subdomain'] as const) {
    const value = asStr(spec[name]);
    if (value.length > 0) errs.push(...validateDNS1123Label(value, child(path, name)));
  }
  errs.push(...validateTolerations(spec.tolerations, child(path, 'tolerations')));
  asList(spec.hostAliases).forEach((a, i) => {
    const alias = asObj(a);
    const aliasPath = index(child(path, 'hostAliases'), i);
    if (asStr(alias.ip) !== '') errs.push(...validateIP(asStr(alias.ip), child(aliasPath, 'ip')));
    asList(alias.hostnames).forEach((h, j) => errs.push(...validateDNS1123Subdomain(asStr(h), index(child(aliasPath, 'hostnames'), j))));
  });
  const priorityClassName = asStr(spec.priorityClassName);
  if (priorityClassName.length > 0) errs.push(...validateDNS1123Subdomain(priorityClassName, child(path, 'priorityClassName')));
  if (typeof spec.runtimeClassName === 'string') errs.push(...validateDNS1123Subdomain(spec.runtimeClassName, child(path, 'runtimeClassName')));
  if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== null) {
    const p = asStr(spec.preemptionPolicy);
    if (p === '') errs.push(required(child(path, 'preemptionPolicy')));
    else if (!PREEMPTION_POLICIES.includes(p)) errs.push(notSupported(child(path, 'preemptionPolicy'), p, PREEMPTION_POLICIES));
  }
  if (isObj(spec.overhead)) errs.push(...validateResources({ limits: spec.overhead }, new Set(), child(path, 'overhead')));
  if (isObj(spec.os)) {
    const os = asStr(spec.os.name);
    if (os.length > 0 && !OPERATING_SYSTEMS.includes(os)) errs.push(notSupported(child(path, 'os'), os, OPERATING_SYSTEMS));
  }
  return errs;
}

function validateRestartPolicy(value: unknown, path: string): FieldError[] {
  const v = asStr(value);
  if (RESTART_POLICIES.includes(v)) return [];
  return v === '' ? [required(path)] : [notSupported(path, v, RESTART_POLICIES)];
}

function validateDNSPolicy(value: unknown, path: string): FieldError[] {
  const v = asStr(value);
  if (DNS_POLICIES.includes(v)) return [];
  return v === '' ? [required(path)] : [notSupported(path, v, DNS_POLICIES)];
}

function validatePodResourceClaims(claims: unknown, path: string, names: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  asList(claims).forEach((c, i) => {
    const claim = asObj(c);
    const claimPath = index(path, i);
    const name = asStr(claim.name);
    if (name === '') {
      // reported by the schema's required check
    } else if (names.has(name)) errs.push(duplicate(child(claimPath, 'name'), name));
    else {
      errs.push(...validateDNS1123Label(name, child(claimPath, 'name')));
      names.add(name);
    }
    const byName = claim.resourceClaimName !== undefined && claim.resourceClaimName !== null;
    const byTemplate = claim.resourceClaimTemplateName !== undefined && claim.resourceClaimTemplateName !== null;
    if (byName && byTemplate) errs.push(invalid(claimPath, claim, 'at most one of `resourceClaimName` or `resourceClaimTemplateName` may be specified'));
    if (!byName && !byTemplate) errs.push(invalid(claimPath, claim, 'must specify one of: `resourceClaimName`, `resourceClaimTemplateName`'));
  });
  return errs;
}

// ---- containers --------------------------------------------------------------------------------

interface ContainerContext {
  volumes: Map<string, Obj>;
  claimNames: Set<string>;
  grace: number | undefined;
  restartPolicy: string;
}

function validateContainers(list: unknown, ctx: ContainerContext, path: string): FieldError[] {
  const containers = asList(list);
  if (containers.length === 0) return []; // "Required value" comes from the schema's required check
  const errs: FieldError[] = [];
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const ctr = asObj(c);
    const ctrPath = index(path, i);
    errs.push(...validateContainerCommon(ctr, ctx, ctrPath));
    const name = asStr(ctr.name);
    if (names.has(name)) errs.push(duplicate(child(ctrPath, 'name'), name));
    else names.add(name);
    errs.push(...validateLifecycleAndProbes(ctr, ctx.grace, ctrPath));
    if (ctr.restartPolicy !== undefined && ctr.restartPolicy !== null) {
      errs.push(forbidden(child(ctrPath, 'restartPolicy'), 'may not be set for non-init containers'));
    }
  });
  errs.push(...checkHostPortConflicts(containers, path));
  return errs;
}

function validateInitContainers(list: unknown, regular: unknown, ctx: ContainerContext, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set(asList(regular).map((c) => asStr(asObj(c).name)));
  asList(list).forEach((c, i) => {
    const ctr = asObj(c);
    const ctrPath = index(path, i);
    errs.push(...validateContainerCommon(ctr, ctx, ctrPath));
    let restartAlways = false;
    if (ctr.restartPolicy !== undefined && ctr.restartPolicy !== null) {
      restartAlways = ctr.restartPolicy === 'Always';
      if (!restartAlways) errs.push(notSupported(child(ctrPath, 'restartPolicy'), ctr.restartPolicy, ['Always']));
    }
    const name = asStr(ctr.name);
    if (names.has(name)) errs.push(duplicate(child(ctrPath, 'name'), name));
    else if (name.length > 0) names.add(name);
    errs.push(...checkHostPortConflicts([ctr], path));
    if (restartAlways) {
      errs.push(...validateLifecycleAndProbes(ctr, ctx.grace, ctrPath));
    } else {
      for (const field of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
        if (ctr[field] !== undefined && ctr[field] !== null) {
          errs.push(forbidden(child(ctrPath, field), 'may not be set for init containers without restartPolicy=Always'));
        }
      }
    }
    if (asList(ctr.resizePolicy).length > 0) errs.push(invalid(child(ctrPath, 'resizePolicy'), ctr.resizePolicy, 'must not be set for init containers'));
  });
  return errs;
}

/** Fields an ephemeral container may set; everything else is refused. */
const EPHEMERAL_ALLOWED = new Set([
  'name', 'image', 'command', 'args', 'workingDir', 'envFrom', 'env', 'volumeMounts', 'volumeDevices', 'terminationMessagePath',
  'terminationMessagePolicy', 'imagePullPolicy', 'securityContext', 'stdin', 'stdinOnce', 'tty', 'targetContainerName',
]);

function validateEphemeralContainers(list: unknown, spec: Obj, ctx: ContainerContext, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const others = new Set([...asList(spec.containers), ...asList(spec.initContainers)].map((c) => asStr(asObj(c).name)));
  const all = new Set(others);
  asList(list).forEach((c, i) => {
    const ctr = asObj(c);
    const ctrPath = index(path, i);
    errs.push(...validateContainerCommon(ctr, ctx, ctrPath));
    errs.push(...validateImageWhitespace(ctr, ctrPath));
    const name = asStr(ctr.name);
    if (all.has(name)) errs.push(duplicate(child(ctrPath, 'name'), name));
    else all.add(name);
    const target = asStr(ctr.targetContainerName);
    if (target !== '' && !others.has(target)) errs.push(notFound(child(ctrPath, 'targetContainerName'), target));
    for (const [field, value] of Object.entries(ctr)) {
      if (EPHEMERAL_ALLOWED.has(field) || value === undefined || value === null) continue;
      if (field === 'resources' && isObj(value) && Object.keys(value).length === 0) continue;
      errs.push(forbidden(child(ctrPath, field), 'cannot be set for an Ephemeral Container'));
    }
    asList(ctr.volumeMounts).forEach((m, j) => {
      const mount = asObj(m);
      const mountPath = index(child(ctrPath, 'volumeMounts'), j);
      if (asStr(mount.subPath) !== '') errs.push(forbidden(child(mountPath, 'subPath'), 'cannot be set for an Ephemeral Container'));
      if (asStr(mount.subPathExpr) !== '') errs.push(forbidden(child(mountPath, 'subPathExpr'), 'cannot be set for an Ephemeral Container'));
    });
  });
  return errs;
}

function validateContainerCommon(ctr: Obj, ctx: ContainerContext, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const namePath = child(path, 'name');
  const name = asStr(ctr.name);
  if (name.length > 0) errs.push(...validateDNS1123Label(name, namePath));
  if (asStr(ctr.image).length === 0) errs.push(required(child(path, 'image')));
  const tmp = asStr(ctr.terminationMessagePolicy);
  if (tmp === '') errs.push(required(child(path, 'terminationMessagePolicy')));
  else if (!TERMINATION_MESSAGE_POLICIES.includes(tmp)) errs.push(notSupported(child(path, 'terminationMessagePolicy'), tmp, TERMINATION_MESSAGE_POLICIES));
  const mounts = new Map(asList(ctr.volumeMounts).map((m) => [asStr(asObj(m).name), asStr(asObj(m).mountPath)] as const));
  const devices = new Map(asList(ctr.volumeDevices).map((d) => [asStr(asObj(d).name), asStr(asObj(d).devicePath)] as const));
  errs.push(...validateContainerPorts(ctr.ports, child(path, 'ports')));
  errs.push(...validateEnv(ctr.env, child(path, 'env')));
  errs.push(...validateEnvFrom(ctr.envFrom, child(path, 'envFrom')));
  errs.push(...validateVolumeMounts(ctr.volumeMounts, devices, ctx.volumes, ctr, child(path, 'volumeMounts')));
  errs.push(...validateVolumeDevices(ctr.volumeDevices, mounts, ctx.volumes, child(path, 'volumeDevices')));
  const pull = asStr(ctr.imagePullPolicy);
  if (pull === '') errs.push(required(child(path, 'imagePullPolicy')));
  else if (!PULL_POLICIES.includes(pull)) errs.push(notSupported(child(path, 'imagePullPolicy'), pull, PULL_POLICIES));
  errs.push(...validateResources(asObj(ctr.resources), ctx.claimNames, child(path, 'resources')));
  errs.push(...validateResizePolicy(ctr.resizePolicy, ctx.restartPolicy, child(path, 'resizePolicy')));
  return errs;
}

function validateContainerPorts(list: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  asList(list).forEach((p, i) => {
    const port = asObj(p);
    const portPath = index(path, i);
    const name = asStr(port.name);
    if (name.length > 0) {
      const msgs = portNameMessages(name);
      if (msgs.length) for (const m of msgs) errs.push(invalid(child(portPath, 'name'), name, m));
      else if (names.has(name)) errs.push(duplicate(child(portPath, 'name'), name));
      else names.add(name);
    }
    if (port.containerPort === 0) errs.push(required(child(portPath, 'containerPort')));
    else if (typeof port.containerPort === 'number') {
      for (const m of portNumMessages(port.containerPort)) errs.push(invalid(child(portPath, 'containerPort'), port.containerPort, m));
    }
    const hostPort = asNum(port.hostPort);
    if (hostPort !== 0) for (const m of portNumMessages(hostPort)) errs.push(invalid(child(portPath, 'hostPort'), hostPort, m));
    const protocol = asStr(port.protocol);
    if (protocol === '') errs.push(required(child(portPath, 'protocol')));
    else if (!PROTOCOLS.includes(protocol)) errs.push(notSupported(child(portPath, 'protocol'), protocol, PROTOCOLS));
  });
  return errs;
}

function checkHostPortConflicts(containers: unknown[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  containers.forEach((c, ci) => {
    asList(asObj(c).ports).forEach((p, pi) => {
      const port = asObj(p);
      const hostPort = asNum(port.hostPort);
      if (hostPort === 0) return;
      const id = `${asStr(port.protocol)}/${asStr(port.hostIP)}/${hostPort}`;
      if (seen.has(id)) errs.push(duplicate(child(index(child(index(path, ci), 'ports'), pi), 'hostPort'), id));
      else seen.add(id);
    });
  });
  return errs;
}

function validateHostNetworkPorts(spec: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  asList(spec.containers).forEach((c, ci) => {
    asList(asObj(c).ports).forEach((p, pi) => {
      const port = asObj(p);
      const hp = asNum(port.hostPort);
      const cp = asNum(port.containerPort);
      if (hp !== 0 && hp !== cp) {
        const portPath = index(child(index(child(path, 'containers'), ci), 'ports'), pi);
        errs.push(invalid(child(portPath, 'hostPort'), hp, 'must match `containerPort` when `hostNetwork` is true'));
      }
    });
  });
  return errs;
}

function validateEnv(list: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  asList(list).forEach((e, i) => {
    const ev = asObj(e);
    const evPath = index(path, i);
    const name = asStr(ev.name);
    if (name.length > 0 && !isRelaxedEnvVarName(name)) {
      errs.push(invalid(child(evPath, 'name'), name, ENV_NAME_MESSAGE));
    }
    errs.push(...validateEnvValueFrom(ev, child(evPath, 'valueFrom')));
  });
  return errs;
}

function isRelaxedEnvVarName(name: string): boolean {
  for (const ch of name) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || code > 0x7e || ch === '=') return false;
  }
  return true;
}

function validateEnvValueFrom(ev: Obj, path: string): FieldError[] {
  if (!isObj(ev.valueFrom)) return [];
  const from = ev.valueFrom;
  const errs: FieldError[] = [];
  let sources = 0;
  if (isObj(from.fieldRef)) {
    sources++;
    errs.push(...validateObjectFieldSelector(from.fieldRef, ENV_DOWNWARD_FIELDS, child(path, 'fieldRef')));
  }
  if (isObj(from.resourceFieldRef)) {
    sources++;
    errs.push(...validateResourceFieldSelector(from.resourceFieldRef, child(path, 'resourceFieldRef'), false));
  }
  for (const kind of ['configMapKeyRef', 'secretKeyRef'] as const) {
    if (!isObj(from[kind])) continue;
    sources++;
    const sel = from[kind] as Obj;
    const selPath = child(path, kind);
    errs.push(...validateDNS1123Subdomain(asStr(sel.name), child(selPath, 'name')));
    const k = asStr(sel.key);
    if (k.length > 0 && (!/^[-._a-zA-Z0-9]+$/.test(k) || k.length > 253)) {
      errs.push(invalid(child(selPath, 'key'), k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
    }
  }
  if (sources === 0) errs.push(invalid(path, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
  else if (asStr(ev.value).length !== 0) errs.push(invalid(path, '', 'may not be specified when `value` is not empty'));
  else if (sources > 1) errs.push(invalid(path, '', 'may not have more than one field specified at a time'));
  return errs;
}

function validateEnvFrom(list: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  asList(list).forEach((e, i) => {
    const ev = asObj(e);
    const evPath = index(path, i);
    const prefix = asStr(ev.prefix);
    if (prefix.length > 0 && !isRelaxedEnvVarName(prefix)) errs.push(invalid(child(evPath, 'prefix'), prefix, ENV_NAME_MESSAGE));
    let sources = 0;
    for (const kind of ['configMapRef', 'secretRef'] as const) {
      if (!isObj(ev[kind])) continue;
      sources++;
      const ref = ev[kind] as Obj;
      const name = asStr(ref.name);
      const namePath = child(child(evPath, kind), 'name');
      if (name.length === 0) errs.push(required(namePath));
      // Kubernetes checks these names as generateName-style prefixes: a trailing '-' is allowed.
      else for (const m of dns1123SubdomainMessages(name.length > 1 && name.endsWith('-') ? `${name.slice(0, -1)}a` : name)) errs.push(invalid(namePath, name, m));
    }
    if (sources === 0) errs.push(invalid(path, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (sources > 1) errs.push(invalid(path, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function validateVolumeMounts(list: unknown, devices: Map<string, string>, volumes: Map<string, Obj>, ctr: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const mountPoints = new Set<string>();
  const devicePaths = new Set(devices.values());
  asList(list).forEach((m, i) => {
    const mnt = asObj(m);
    const mntPath = index(path, i);
    const name = asStr(mnt.name);
    const mountPath = asStr(mnt.mountPath);
    if (!volumes.has(name)) errs.push(notFound(child(mntPath, 'name'), name));
    if (mountPoints.has(mountPath)) errs.push(invalid(child(mntPath, 'mountPath'), mountPath, 'must be unique'));
    mountPoints.add(mountPath);
    if (devices.has(name)) errs.push(invalid(child(mntPath, 'name'), name, 'must not already exist in volumeDevices'));
    if (devicePaths.has(mountPath)) errs.push(invalid(child(mntPath, 'mountPath'), mountPath, 'must not already exist as a path in volumeDevices'));
    const subPath = asStr(mnt.subPath);
    const subPathExpr = asStr(mnt.subPathExpr);
    if (subPath.length > 0) errs.push(...validateLocalDescendingPath(subPath, child(path, 'subPath')));
    if (subPathExpr.length > 0) {
      if (subPath.length > 0) errs.push(invalid(child(mntPath, 'subPathExpr'), subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...validateLocalDescendingPath(subPathExpr, child(path, 'subPathExpr')));
    }
    if (typeof mnt.mountPropagation === 'string') {
      const prop = mnt.mountPropagation;
      const propPath = child(path, 'mountPropagation');
      if (!MOUNT_PROPAGATIONS.includes(prop)) errs.push(notSupported(propPath, prop, MOUNT_PROPAGATIONS));
      const privileged = asObj(ctr.securityContext).privileged === true;
      if (prop === 'Bidirectional' && !privileged) errs.push(forbidden(propPath, 'Bidirectional mount propagation is available only to privileged containers'));
    }
    if (typeof mnt.recursiveReadOnly === 'string') {
      const rro = mnt.recursiveReadOnly;
      const rroPath = child(path, 'recursiveReadOnly');
      if (rro === 'Enabled' || rro === 'IfPossible') {
        if (mnt.readOnly !== true) errs.push(forbidden(rroPath, 'may only be specified when readOnly is true'));
        if (typeof mnt.mountPropagation === 'string' && mnt.mountPropagation !== 'None') {
          errs.push(forbidden(rroPath, 'may only be specified when mountPropagation is None or not specified'));
        }
      } else if (rro !== 'Disabled') errs.push(notSupported(rroPath, rro, RECURSIVE_READ_ONLY));
    }
  });
  return errs;
}

function validateVolumeDevices(list: unknown, mounts: Map<string, string>, volumes: Map<string, Obj>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const devicePaths = new Set<string>();
  const deviceNames = new Set<string>();
  const mountPaths = new Set(mounts.values());
  asList(list).forEach((d, i) => {
    const dev = asObj(d);
    const devPath = index(path, i);
    const name = asStr(dev.name);
    const devicePath = asStr(dev.devicePath);
    const vol = volumes.get(name);
    if (deviceNames.has(name)) errs.push(invalid(child(devPath, 'name'), name, 'must be unique'));
    if (vol && !isObj(vol.persistentVolumeClaim) && !isObj(vol.ephemeral)) {
      errs.push(invalid(child(devPath, 'name'), name, 'can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode'));
    }
    if (!vol) errs.push(notFound(child(devPath, 'name'), name));
    if (devicePaths.has(devicePath)) errs.push(invalid(child(devPath, 'devicePath'), devicePath, 'must be unique'));
    if (devicePath.length > 0 && validatePathNoBacksteps(devicePath, path).length > 0) {
      errs.push(invalid(child(devPath, 'devicePath'), devicePath, "can not contain backsteps ('..')"));
    } else devicePaths.add(devicePath);
    if (mounts.has(name)) errs.push(invalid(child(devPath, 'name'), name, 'must not already exist in volumeMounts'));
    if (mountPaths.has(devicePath)) errs.push(invalid(child(devPath, 'devicePath'), devicePath, 'must not already exist as a path in volumeMounts'));
    if (name.length > 0) deviceNames.add(name);
  });
  return errs;
}

/** ValidateResourceRequirements: names, non-negative quantities, requests within limits. */
export function validateResources(resources: Obj, claimNames: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const limPath = child(path, 'limits');
  const reqPath = child(path, 'requests');
  const limits = asObj(resources.limits);
  const requests = asObj(resources.requests);
  let limCpuMem = false;
  let reqCpuMem = false;
  let hugePages = false;
  for (const [name, q] of Object.entries(limits)) {
    const p = key(limPath, name);
    errs.push(...validateContainerResourceName(name, p));
    errs.push(...validateNonNegativeQuantity(q, p));
    if (isHugePages(name)) hugePages = true;
    if (name === 'cpu' || name === 'memory') limCpuMem = true;
  }
  for (const [name, q] of Object.entries(requests)) {
    const p = key(reqPath, name);
    errs.push(...validateContainerResourceName(name, p));
    errs.push(...validateNonNegativeQuantity(q, p));
    if (name in limits) {
      const req = quantityValue(q);
      const lim = quantityValue(limits[name]);
      if (req !== undefined && lim !== undefined) {
        const detail = `${name} limit of ${quantityString(limits[name])}`;
        if (req !== lim && !isOvercommitAllowed(name)) errs.push(invalid(reqPath, quantityString(q), `must be equal to ${detail}`));
        else if (req > lim) errs.push(invalid(reqPath, quantityString(q), `must be less than or equal to ${detail}`));
      }
    } else if (!isOvercommitAllowed(name)) {
      errs.push(required(limPath, 'Limit must be set for non overcommitable resources'));
    }
    if (isHugePages(name)) hugePages = true;
    if (name === 'cpu' || name === 'memory') reqCpuMem = true;
  }
  if (!limCpuMem && !reqCpuMem && hugePages) errs.push(forbidden(path, 'HugePages require cpu or memory'));
  const seen = new Set<string>();
  asList(resources.claims).forEach((c, i) => {
    const name = asStr(asObj(c).name);
    const claimPath = index(child(path, 'claims'), i);
    if (name === '') return; // reported by the schema's required check
    if (seen.has(name)) errs.push(duplicate(claimPath, name));
    else seen.add(name);
    if (!claimNames.has(name)) {
      const detail = claimNames.size === 0
        ? 'must be one of the names in pod.spec.resourceClaims which is empty'
        : `must be one of the names in pod.spec.resourceClaims: ${[...claimNames].sort().join(', ')}`;
      errs.push(notFound(claimPath, name, detail));
    }
  });
  return errs;
}

function validateNonNegativeQuantity(q: unknown, path: string): FieldError[] {
  const v = quantityValue(q);
  return v !== undefined && v < 0 ? [invalid(path, quantityString(q), 'must be greater than or equal to 0')] : [];
}

function validateContainerResourceName(name: string, path: string): FieldError[] {
  const errs = validateQualifiedName(name, path);
  if (errs.length === 0 && !name.includes('/') && !STANDARD_RESOURCES.has(name) && !isHugePages(name)) {
    errs.push(invalid(path, name, 'must be a standard resource type or fully qualified'));
  }
  if (!name.includes('/')) {
    if (!STANDARD_CONTAINER_RESOURCES.has(name) && !isHugePages(name)) errs.push(invalid(path, name, 'must be a standard resource for containers'));
  } else if (!isNativeResource(name) && name.startsWith('requests.')) {
    errs.push(invalid(path, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

function validateResizePolicy(list: unknown, podRestartPolicy: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  asList(list).forEach((p, i) => {
    const policy = asObj(p);
    const name = asStr(policy.resourceName);
    const restart = asStr(policy.restartPolicy);
    if (seen.has(name)) errs.push(duplicate(index(path, i), name));
    seen.add(name);
    if (name !== '' && !RESIZE_RESOURCES.includes(name)) errs.push(notSupported(path, name, RESIZE_RESOURCES));
    if (restart !== '' && !RESIZE_POLICIES.includes(restart)) errs.push(notSupported(path, restart, RESIZE_POLICIES));
    if (podRestartPolicy === 'Never' && restart !== 'NotRequired') errs.push(invalid(path, restart, "must be 'NotRequired' when `restartPolicy` is 'Never'"));
  });
  return errs;
}

function validateLifecycleAndProbes(ctr: Obj, grace: number | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (isObj(ctr.lifecycle)) {
    for (const hook of ['postStart', 'preStop'] as const) {
      if (isObj(ctr.lifecycle[hook])) errs.push(...validateHandler(ctr.lifecycle[hook] as Obj, ['exec', 'httpGet', 'tcpSocket', 'sleep'], grace, child(child(path, 'lifecycle'), hook)));
    }
  }
  for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
    if (!isObj(ctr[kind])) continue;
    const probe = ctr[kind] as Obj;
    const probePath = child(path, kind);
    errs.push(...validateHandler(probe, ['exec', 'httpGet', 'tcpSocket', 'grpc'], grace, probePath));
    for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
      errs.push(...validateNonNegative(probe[f], child(probePath, f)));
    }
    if (typeof probe.terminationGracePeriodSeconds === 'number' && probe.terminationGracePeriodSeconds <= 0) {
      errs.push(invalid(child(probePath, 'terminationGracePeriodSeconds'), probe.terminationGracePeriodSeconds, 'must be greater than 0'));
    }
    if (kind !== 'readinessProbe' && probe.successThreshold !== undefined && probe.successThreshold !== 1) {
      errs.push(invalid(child(probePath, 'successThreshold'), probe.successThreshold, 'must be 1'));
    }
    if (kind === 'readinessProbe' && probe.terminationGracePeriodSeconds !== undefined && probe.terminationGracePeriodSeconds !== null) {
      errs.push(invalid(child(probePath, 'terminationGracePeriodSeconds'), probe.terminationGracePeriodSeconds, 'must not be set for readinessProbes'));
    }
  }
  return errs;
}

function validateHandler(handler: Obj, kinds: readonly string[], grace: number | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let count = 0;
  for (const kind of kinds) {
    if (!isObj(handler[kind])) continue;
    const kindPath = child(path, kind);
    if (count > 0) {
      errs.push(forbidden(kindPath, 'may not specify more than 1 handler type'));
      continue;
    }
    count++;
    const h = handler[kind] as Obj;
    switch (kind) {
      case 'exec':
        if (asList(h.command).length === 0) errs.push(required(child(kindPath, 'command')));
        break;
      case 'httpGet': {
        if (asStr(h.path).length === 0) errs.push(required(child(kindPath, 'path')));
        if (h.port !== '') errs.push(...validatePortNumOrName(h.port, child(kindPath, 'port')));
        const scheme = asStr(h.scheme);
        if (!HTTP_SCHEMES.includes(scheme)) errs.push(notSupported(child(kindPath, 'scheme'), scheme, HTTP_SCHEMES));
        break;
      }
      case 'tcpSocket':
        if (h.port !== '') errs.push(...validatePortNumOrName(h.port, child(kindPath, 'port')));
        break;
      case 'grpc':
        if (typeof h.port === 'number') errs.push(...validatePortNumOrName(h.port, child(kindPath, 'port')));
        break;
      case 'sleep': {
        const seconds = asNum(h.seconds);
        if (grace !== undefined && (seconds <= 0 || seconds > grace)) {
          errs.push(invalid(kindPath, seconds, `must be greater than 0 and less than terminationGracePeriodSeconds (${grace})`));
        }
        break;
      }
    }
  }
  if (count === 0) errs.push(required(path, 'must specify a handler type'));
  return errs;
}

// ---- scheduling: affinity, tolerations, spread, gates, DNS -------------------------------------------

function validateNodeSelectorTerm(term: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  asList(term.matchExpressions).forEach((r, i) => {
    const req = asObj(r);
    const reqPath = index(child(path, 'matchExpressions'), i);
    const values = asList(req.values);
    if (asStr(req.operator) === '') return; // reported by the schema's required check
    switch (req.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(required(child(reqPath, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(forbidden(child(reqPath, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      case 'Gt':
      case 'Lt':
        if (values.length !== 1) errs.push(required(child(reqPath, 'values'), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
        break;
      default:
        errs.push(invalid(child(reqPath, 'operator'), req.operator ?? '', 'not a valid selector operator'));
    }
    if (asStr(req.key) !== '') errs.push(...validateQualifiedName(asStr(req.key), child(reqPath, 'key')));
  });
  asList(term.matchFields).forEach((r, i) => {
    const req = asObj(r);
    const reqPath = index(child(path, 'matchFields'), i);
    if (req.operator === 'In' || req.operator === 'NotIn') {
      if (asList(req.values).length !== 1) errs.push(required(child(reqPath, 'values'), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
    } else errs.push(invalid(child(reqPath, 'operator'), req.operator ?? '', 'not a valid selector operator'));
    if (req.key !== 'metadata.name') errs.push(invalid(child(reqPath, 'key'), req.key ?? '', 'not a valid field selector key'));
    else asList(req.values).forEach((v, j) => errs.push(...validateDNS1123Subdomain(asStr(v), index(child(reqPath, 'values'), j))));
  });
  return errs;
}

/** ValidateNodeSelector (pod node affinity, PV node affinity). */
export function validateNodeSelector(selector: Obj, path: string): FieldError[] {
  const termsPath = child(path, 'nodeSelectorTerms');
  const terms = asList(selector.nodeSelectorTerms);
  if (terms.length === 0) return []; // reported by the schema's required check
  return terms.flatMap((t, i) => validateNodeSelectorTerm(asObj(t), index(termsPath, i)));
}

function validatePodAffinityTerm(term: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  asList(term.namespaces).forEach((ns) => errs.push(...validateDNS1123Label(asStr(ns), child(path, 'namespace'))));
  const topologyKey = asStr(term.topologyKey);
  if (topologyKey.length > 0) errs.push(...validateQualifiedName(topologyKey, child(path, 'topologyKey')));
  return errs;
}

function validateAffinity(affinity: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (isObj(affinity.nodeAffinity)) {
    const na = affinity.nodeAffinity;
    const naPath = child(path, 'nodeAffinity');
    if (isObj(na.requiredDuringSchedulingIgnoredDuringExecution)) {
      errs.push(...validateNodeSelector(na.requiredDuringSchedulingIgnoredDuringExecution, child(naPath, 'requiredDuringSchedulingIgnoredDuringExecution')));
    }
    asList(na.preferredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => {
      const term = asObj(t);
      const termPath = index(child(naPath, 'preferredDuringSchedulingIgnoredDuringExecution'), i);
      const weight = asNum(term.weight);
      if (weight <= 0 || weight > 100) errs.push(invalid(child(termPath, 'weight'), weight, 'must be in the range 1-100'));
      errs.push(...validateNodeSelectorTerm(asObj(term.preference), child(termPath, 'preference')));
    });
  }
  for (const kind of ['podAffinity', 'podAntiAffinity'] as const) {
    if (!isObj(affinity[kind])) continue;
    const pa = affinity[kind] as Obj;
    const paPath = child(path, kind);
    asList(pa.requiredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => {
      errs.push(...validatePodAffinityTerm(asObj(t), index(child(paPath, 'requiredDuringSchedulingIgnoredDuringExecution'), i)));
    });
    asList(pa.preferredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => {
      const term = asObj(t);
      const termPath = index(child(paPath, 'preferredDuringSchedulingIgnoredDuringExecution'), i);
      const weight = asNum(term.weight);
      if (weight <= 0 || weight > 100) errs.push(invalid(child(termPath, 'weight'), weight, 'must be in the range 1-100'));
      errs.push(...validatePodAffinityTerm(asObj(term.podAffinityTerm), child(termPath, 'podAffinityTerm')));
    });
  }
  return errs;
}

/** ValidateTolerations. */
export function validateTolerations(list: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  asList(list).forEach((t, i) => {
    const tol = asObj(t);
    const tolPath = index(path, i);
    const k = asStr(tol.key);
    const operator = asStr(tol.operator);
    const effect = asStr(tol.effect);
    const value = asStr(tol.value);
    if (k.length > 0) errs.push(...validateQualifiedName(k, child(tolPath, 'key')));
    if (k.length === 0 && operator !== 'Exists') {
      errs.push(invalid(child(tolPath, 'operator'), operator, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (tol.tolerationSeconds !== undefined && tol.tolerationSeconds !== null && effect !== 'NoExecute') {
      errs.push(invalid(child(tolPath, 'effect'), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (operator === 'Equal' || operator === '') {
      const msgs = labelValueMessages(value);
      if (msgs.length) errs.push(invalid(child(tolPath, 'operator'), value, msgs.join(';')));
    } else if (operator === 'Exists') {
      if (value.length > 0) errs.push(invalid(child(tolPath, 'operator'), tol, "value must be empty when `operator` is 'Exists'"));
    } else {
      errs.push(notSupported(child(tolPath, 'operator'), operator, TOLERATION_OPERATORS));
    }
    if (effect.length > 0 && !TAINT_EFFECTS.includes(effect)) errs.push(notSupported(child(tolPath, 'effect'), effect, TAINT_EFFECTS));
  });
  return errs;
}

function validateTopologySpreadConstraints(list: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const constraints = asList(list).map(asObj);
  constraints.forEach((c, i) => {
    const cPath = index(path, i);
    const maxSkew = asNum(c.maxSkew);
    if (maxSkew <= 0) errs.push(invalid(child(cPath, 'maxSkew'), maxSkew, NOT_POSITIVE));
    const action = asStr(c.whenUnsatisfiable);
    if (action !== '' && !SCHEDULE_ACTIONS.includes(action)) errs.push(notSupported(child(cPath, 'whenUnsatisfiable'), action, SCHEDULE_ACTIONS));
    const repeated = constraints.slice(i + 1).some((o) => o.topologyKey === c.topologyKey && o.whenUnsatisfiable === c.whenUnsatisfiable);
    if (repeated) errs.push(duplicate(child(cPath, '{topologyKey, whenUnsatisfiable}'), `{${asStr(c.topologyKey)}, ${action}}`));
    if (c.minDomains !== undefined && c.minDomains !== null) {
      const minDomains = asNum(c.minDomains);
      if (minDomains <= 0) errs.push(invalid(child(cPath, 'minDomains'), minDomains, NOT_POSITIVE));
      if (action !== 'DoNotSchedule') errs.push(invalid(child(cPath, 'minDomains'), minDomains, 'can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway'));
    }
  });
  return errs;
}

function validateSchedulingGates(list: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  asList(list).forEach((g, i) => {
    const name = asStr(asObj(g).name);
    if (name !== '') errs.push(...validateQualifiedName(name, index(path, i)));
    if (seen.has(name)) errs.push(duplicate(index(path, i), name));
    seen.add(name);
  });
  return errs;
}

function validateDNSConfig(config: unknown, dnsPolicy: unknown, path: string): FieldError[] {
  if (dnsPolicy === 'None') {
    if (!isObj(config)) return [required(path, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if (asList(config.nameservers).length === 0) return [required(child(path, 'nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
  }
  if (!isObj(config)) return [];
  const errs: FieldError[] = [];
  const nameservers = asList(config.nameservers);
  if (nameservers.length > 3) errs.push(invalid(child(path, 'nameservers'), nameservers, 'must not have more than 3 nameservers'));
  nameservers.forEach((ns, i) => errs.push(...validateIP(asStr(ns), index(child(path, 'nameservers'), i))));
  const searches = asList(config.searches).map(asStr);
  if (searches.length > 32) errs.push(invalid(child(path, 'searches'), searches, 'must not have more than 32 search paths'));
  if (searches.join(' ').length > 2048) errs.push(invalid(child(path, 'searches'), searches, 'must not have more than 2048 characters (including spaces) in the search list'));
  searches.forEach((s, i) => errs.push(...validateDNS1123Subdomain(s.replace(/\.$/, ''), index(child(path, 'searches'), i))));
  asList(config.options).forEach((o, i) => {
    if (asStr(asObj(o).name).length === 0) errs.push(required(index(child(path, 'options'), i), 'must not be empty'));
  });
  return errs;
}

// ---- pod-only rules ------------------------------------------------------------------------------

function validateImageWhitespace(ctr: Obj, path: string): FieldError[] {
  const image = asStr(ctr.image);
  return image.length !== image.trim().length ? [invalid(child(path, 'image'), image, 'must not have leading or trailing whitespace')] : [];
}

/** Checks Kubernetes applies to Pods but not to pod templates (validatePodMetadataAndSpec's extras). */
export function validatePodOnly(pod: Obj): FieldError[] {
  const spec = asObj(pod.spec);
  const errs: FieldError[] = [];
  for (const list of ['containers', 'initContainers'] as const) {
    asList(spec[list]).forEach((c, i) => errs.push(...validateImageWhitespace(asObj(c), index(child('spec', list), i))));
  }
  if (spec.hostNetwork === true) {
    asList(spec.containers).forEach((c, ci) => {
      asList(asObj(c).ports).forEach((p, pi) => {
        const port = asObj(p);
        const hp = asNum(port.hostPort);
        if (hp === 0 && hp !== asNum(port.containerPort)) {
          errs.push(invalid(`spec.containers[${ci}].ports[${pi}].hostPort`, hp, 'must match `containerPort` when `hostNetwork` is true'));
        }
      });
    });
  }
  return errs;
}

/** ValidatePodCreate's extra rule: ephemeral containers only arrive through their subresource. */
export function validatePodCreate(pod: Obj): FieldError[] {
  const errs = validatePodOnly(pod);
  if (asList(asObj(pod.spec).ephemeralContainers).length > 0) errs.push(forbidden('spec.ephemeralContainers', 'cannot be set on create'));
  return errs;
}
