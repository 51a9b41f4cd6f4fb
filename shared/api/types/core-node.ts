// io.k8s.api.core.v1.Node and its parts: schema, defaulting and ValidateNode/ValidateNodeUpdate.
import { bool, field, int32, int64, list, map, quantity, ref, str, struct, time, type FieldError, type StructType } from '../schema/dsl.js';
import { forbidden, invalid, notSupported } from '../schema/errors.js';
import { labelValueMessages } from '../validation/names.js';
import { ListMeta, ObjectMeta } from './meta.js';
import { CORE, typeMeta } from './core-reference.js';
import {
  asList, asObj, asStr, duplicateRendered, goSlice, index, invalidRendered, isIPv6, join, validateCIDR, validateQualifiedNameAt,
  validateResourceQuantity, type Obj,
} from './core-validation.js';

// ---- schema ------------------------------------------------------------------------------------------

export const Taint: StructType = struct(`${CORE}.Taint`, 'Repels pods that do not tolerate it from the node carrying it.', {
  key: field(str(), 1, 'Taint key.', { required: true }),
  value: field(str(), 2, 'Taint value.'),
  effect: field(str(), 3, 'NoSchedule, PreferNoSchedule or NoExecute.', { required: true }),
  timeAdded: field(time(), 4, 'When the taint was added (NoExecute taints only).'),
});

export const ConfigMapNodeConfigSource: StructType = struct(
  `${CORE}.ConfigMapNodeConfigSource`,
  'Deprecated: a ConfigMap holding kubelet configuration.',
  {
    namespace: field(str(), 1, 'Namespace of the ConfigMap.', { required: true }),
    name: field(str(), 2, 'Name of the ConfigMap.', { required: true }),
    uid: field(str(), 3, 'UID of the ConfigMap; set in status only.'),
    resourceVersion: field(str(), 4, 'resourceVersion of the ConfigMap; set in status only.'),
    kubeletConfigKey: field(str(), 5, 'Key of the ConfigMap holding the KubeletConfiguration.', { required: true }),
  },
);

export const NodeConfigSource: StructType = struct(`${CORE}.NodeConfigSource`, 'Deprecated: where a node took its kubelet configuration from.', {
  configMap: field(ref(() => ConfigMapNodeConfigSource), 2, 'ConfigMap holding the configuration.'),
});

export const NodeConfigStatus: StructType = struct(`${CORE}.NodeConfigStatus`, 'Deprecated: state of dynamic kubelet configuration.', {
  assigned: field(ref(() => NodeConfigSource), 1, 'Configuration the node will try to use.'),
  active: field(ref(() => NodeConfigSource), 2, 'Configuration the node is using.'),
  lastKnownGood: field(ref(() => NodeConfigSource), 3, 'Configuration the node falls back to.'),
  error: field(str(), 4, 'Problem applying the assigned configuration.'),
});

export const NodeSpec: StructType = struct(`${CORE}.NodeSpec`, 'Settings a node is created with.', {
  podCIDR: field(str(), 1, 'Pod IP range assigned to the node.'),
  podCIDRs: field(list(str(), { listType: 'set', patchStrategy: 'merge' }), 7, 'Pod IP ranges of the node, at most one per IP family; the first equals podCIDR.'),
  providerID: field(str(), 3, 'Cloud provider identity of the node, <provider>://<id>.'),
  unschedulable: field(bool(), 4, 'When true, no new pods are scheduled to the node.'),
  taints: field(list(ref(() => Taint), { listType: 'atomic' }), 5, 'Taints of the node.'),
  configSource: field(ref(() => NodeConfigSource), 6, 'Deprecated and ignored.'),
  externalID: field(str(), 2, 'Deprecated and ignored.'),
});

export const NodeAddress: StructType = struct(`${CORE}.NodeAddress`, 'One address of a node.', {
  type: field(str(), 1, 'Hostname, InternalIP, ExternalIP, InternalDNS or ExternalDNS.', { required: true }),
  address: field(str(), 2, 'The address.', { required: true }),
});

export const NodeCondition: StructType = struct(`${CORE}.NodeCondition`, 'One observed aspect of a node\'s state, such as Ready.', {
  type: field(str(), 1, 'Condition type, e.g. Ready or MemoryPressure.', { required: true }),
  status: field(str(), 2, 'True, False or Unknown.', { required: true }),
  lastHeartbeatTime: field(time(), 3, 'When the node last reported this condition.'),
  lastTransitionTime: field(time(), 4, 'When the status last changed.'),
  reason: field(str(), 5, 'Short machine-readable reason for the last transition.'),
  message: field(str(), 6, 'Human-readable details about the last transition.'),
});

export const DaemonEndpoint: StructType = struct(`${CORE}.DaemonEndpoint`, 'Where a node daemon listens.', {
  Port: field(int32(), 1, 'Port number.', { required: true, default: 0 }),
});

export const NodeDaemonEndpoints: StructType = struct(`${CORE}.NodeDaemonEndpoints`, 'Ports of the daemons running on a node.', {
  kubeletEndpoint: field(ref(() => DaemonEndpoint), 1, 'Where the kubelet listens.', { default: {} }),
});

export const NodeSwapStatus: StructType = struct(`${CORE}.NodeSwapStatus`, 'Swap memory of a node.', {
  capacity: field(int64(), 1, 'Total swap in bytes.'),
});

// Go always serialises these strings, so a node without reported info shows them empty. Kubernetes'
// OpenAPI lists them as required but accepts empty values, so they are not marked required here.
const infoString = (proto: number, description: string) => field(str(), proto, description, { default: '' });

export const NodeSystemInfo: StructType = struct(`${CORE}.NodeSystemInfo`, 'Identity and software versions a node reports.', {
  machineID: infoString(1, 'Machine ID from /etc/machine-id.'),
  systemUUID: infoString(2, 'System UUID reported by the firmware.'),
  bootID: infoString(3, 'Identifier of the current boot.'),
  kernelVersion: infoString(4, 'Kernel version, as uname -r prints it.'),
  osImage: infoString(5, 'Operating system name from /etc/os-release.'),
  containerRuntimeVersion: infoString(6, 'Container runtime and version, e.g. containerd://1.7.0.'),
  kubeletVersion: infoString(7, 'Version of the node agent.'),
  kubeProxyVersion: infoString(8, 'Deprecated: version of the service proxy.'),
  operatingSystem: infoString(9, 'Operating system, e.g. linux.'),
  architecture: infoString(10, 'CPU architecture, e.g. amd64.'),
  swap: field(ref(() => NodeSwapStatus), 11, 'Swap memory of the node.'),
});

export const ContainerImage: StructType = struct(`${CORE}.ContainerImage`, 'An image present on a node.', {
  names: field(list(str(), { listType: 'atomic' }), 1, 'References the image is known by.'),
  sizeBytes: field(int64(), 2, 'Image size in bytes.'),
});

export const AttachedVolume: StructType = struct(`${CORE}.AttachedVolume`, 'A volume attached to a node.', {
  name: field(str(), 1, 'Name of the volume.', { required: true }),
  devicePath: field(str(), 2, 'Device path where the volume is available.', { required: true }),
});

export const NodeRuntimeHandlerFeatures: StructType = struct(`${CORE}.NodeRuntimeHandlerFeatures`, 'Features one runtime handler supports.', {
  recursiveReadOnlyMounts: field(bool(), 1, 'Recursive read-only mounts are supported.'),
  userNamespaces: field(bool(), 2, 'User namespaces are supported, volumes included.'),
});

export const NodeRuntimeHandler: StructType = struct(`${CORE}.NodeRuntimeHandler`, 'A runtime handler available on a node.', {
  name: field(str(), 1, 'Handler name; empty for the default handler.'),
  features: field(ref(() => NodeRuntimeHandlerFeatures), 2, 'Features of the handler.'),
});

export const NodeFeatures: StructType = struct(`${CORE}.NodeFeatures`, 'Features the container runtime of a node implements.', {
  supplementalGroupsPolicy: field(bool(), 1, 'SupplementalGroupsPolicy and container user reporting are supported.'),
  containerUlimits: field(bool(), 2, 'Per-container ulimits are supported.'),
});

export const NodeStatus: StructType = struct(
  `${CORE}.NodeStatus`,
  'Observed state of a node.',
  {
    capacity: field(map(quantity()), 1, 'Total resources of the node.'),
    allocatable: field(map(quantity()), 2, 'Resources available to pods; defaults to capacity.'),
    phase: field(str(), 3, 'Deprecated and never set.'),
    conditions: field(
      list(ref(() => NodeCondition), { listType: 'map', mapKeys: ['type'], patchStrategy: 'merge', patchMergeKey: 'type' }),
      4,
      'Current conditions of the node.',
    ),
    addresses: field(
      list(ref(() => NodeAddress), { listType: 'map', mapKeys: ['type'], patchStrategy: 'merge', patchMergeKey: 'type' }),
      5,
      'Addresses of the node; replace the whole list when patching.',
    ),
    daemonEndpoints: field(ref(() => NodeDaemonEndpoints), 6, 'Ports of the daemons on the node.', { default: {} }),
    nodeInfo: field(ref(() => NodeSystemInfo), 7, 'Identity and versions of the node.', { default: {} }),
    images: field(list(ref(() => ContainerImage), { listType: 'atomic' }), 8, 'Images present on the node.'),
    volumesInUse: field(list(str(), { listType: 'atomic' }), 9, 'Attachable volumes mounted on the node.'),
    volumesAttached: field(list(ref(() => AttachedVolume), { listType: 'atomic' }), 10, 'Volumes attached to the node.'),
    config: field(ref(() => NodeConfigStatus), 11, 'Deprecated: state of dynamic kubelet configuration.'),
    runtimeHandlers: field(list(ref(() => NodeRuntimeHandler), { listType: 'atomic' }), 12, 'Runtime handlers available on the node.'),
    features: field(ref(() => NodeFeatures), 13, 'Features of the container runtime.'),
    declaredFeatures: field(list(str(), { listType: 'atomic' }), 14, 'Feature-gate related features the node declares.'),
  },
  { defaults: defaultNodeStatus },
);

export const Node: StructType = struct(
  `${CORE}.Node`,
  'A machine that runs pods.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    spec: field(ref(() => NodeSpec), 2, 'Settings of the node.', { default: {} }),
    status: field(ref(() => NodeStatus), 3, 'Observed state of the node, reported by its agent.', { default: {} }),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'Node' }] },
);

export const NodeList: StructType = struct(
  `${CORE}.NodeList`,
  'A list of Nodes.',
  {
    ...typeMeta,
    metadata: field(ref(() => ListMeta), 1, 'Standard list metadata.'),
    items: field(list(ref(() => Node)), 2, 'The Nodes.', { required: true }),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'NodeList' }] },
);

function defaultNodeStatus(status: Obj): void {
  const capacity = asObj(status.capacity);
  if (capacity && status.allocatable === undefined) status.allocatable = { ...capacity };
}

// ---- validation -----------------------------------------------------------------------------------------

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** Go's %#v of a core.Taint, as Kubernetes prints it in duplicate errors. */
function renderTaint(t: Obj): string {
  const added = t.timeAdded ? '(*v1.Time)(0xc000000000)' : '(*v1.Time)(nil)';
  return `core.Taint{Key:${JSON.stringify(asStr(t.key))}, Value:${JSON.stringify(asStr(t.value))}, Effect:${JSON.stringify(asStr(t.effect))}, TimeAdded:${added}}`;
}

export function validateTaints(taints: unknown[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  taints.forEach((raw, i) => {
    const t = asObj(raw) ?? {};
    const p = index(path, i);
    // Empty keys and effects are reported by the schema's required check.
    if (asStr(t.key)) errs.push(...validateQualifiedNameAt(asStr(t.key), join(p, 'key')));
    const valueMsgs = labelValueMessages(asStr(t.value));
    if (valueMsgs.length) errs.push(invalid(join(p, 'value'), asStr(t.value), valueMsgs.join(';')));
    const effect = asStr(t.effect);
    if (effect && !TAINT_EFFECTS.includes(effect)) errs.push(notSupported(join(p, 'effect'), effect, TAINT_EFFECTS));
    const k = `${effect}\u0000${asStr(t.key)}`;
    if (seen.has(k)) errs.push(duplicateRendered(p, renderTaint(t), 'taints must be unique by key and effect pair'));
    else seen.add(k);
  });
  return errs;
}

function validateNodeResources(node: Obj): FieldError[] {
  const status = asObj(node.status) ?? {};
  const errs: FieldError[] = [];
  for (const part of ['capacity', 'allocatable']) {
    for (const [name, q] of Object.entries(asObj(status[part]) ?? {})) {
      errs.push(...validateResourceQuantity(name, q, `status.${part}.${name}`));
    }
  }
  return errs;
}

export function validateNode(node: Obj): FieldError[] {
  const spec = asObj(node.spec) ?? {};
  const errs: FieldError[] = [];
  // Kubernetes builds the taints path from metadata, hence metadata.taints[i].
  const taints = asList(spec.taints);
  if (taints.length) errs.push(...validateTaints(taints, 'metadata.taints'));
  errs.push(...validateNodeResources(node));
  const cidrs = asList(spec.podCIDRs).map(asStr);
  cidrs.forEach((c, i) => errs.push(...validateCIDR(c, index('spec.podCIDRs', i))));
  if (cidrs.length > 1) {
    const dualStack = cidrs.length === 2 && isIPv6(cidrs[0].split('/')[0]) !== isIPv6(cidrs[1].split('/')[0]);
    if (!dualStack) errs.push(invalidRendered('spec.podCIDRs', goSlice('[]string', cidrs), 'may specify no more than one CIDR for each IP family'));
    const seen = new Set<string>();
    cidrs.forEach((c, i) => {
      if (seen.has(c)) errs.push(duplicateRendered(index('spec.podCIDRs', i), JSON.stringify(c)));
      seen.add(c);
    });
  }
  return errs;
}

export function validateNodeUpdate(node: Obj, old: Obj): FieldError[] {
  const errs: FieldError[] = [...validateNodeResources(node)];
  const spec = asObj(node.spec) ?? {};
  const oldSpec = asObj(old.spec) ?? {};
  const seen = new Set<string>();
  asList(asObj(node.status)?.addresses).forEach((raw, i) => {
    const a = asObj(raw) ?? {};
    const k = `${asStr(a.type)}\u0000${asStr(a.address)}`;
    if (seen.has(k)) {
      errs.push(duplicateRendered(index('status.addresses', i), `core.NodeAddress{Type:${JSON.stringify(asStr(a.type))}, Address:${JSON.stringify(asStr(a.address))}}`));
    }
    seen.add(k);
  });
  const oldCIDRs = asList(oldSpec.podCIDRs);
  const cidrs = asList(spec.podCIDRs);
  const cidrMessage = 'node updates may not change podCIDR except from "" to valid';
  if (oldCIDRs.length > 0) {
    if (oldCIDRs.length !== cidrs.length) errs.push(forbidden('spec.podCIDRs', cidrMessage));
    else oldCIDRs.forEach((c, i) => c !== cidrs[i] && errs.push(forbidden('spec.podCIDRs', cidrMessage)));
  }
  if (asStr(oldSpec.providerID) && oldSpec.providerID !== spec.providerID) {
    errs.push(forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  }
  const taints = asList(spec.taints);
  if (taints.length) errs.push(...validateTaints(taints, 'metadata.taints'));
  if (asStr(spec.externalID) !== asStr(oldSpec.externalID)) errs.push(forbidden('spec.externalID', 'may not be updated'));
  return errs;
}
