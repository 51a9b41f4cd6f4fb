// Pod family of core/v1 (io.k8s.api.core.v1.*): Pod, PodSpec, containers, probes, security,
// scheduling and status types, plus PodTemplate(Spec). Protobuf numbers follow
// k8s.io/api/core/v1/generated.proto; fields are declared in Go struct order (the JSON order
// Kubernetes writes). Defaults follow pkg/apis/core/v1/defaults.go; validation lives in
// core-pod-validation.ts. Volume and PersistentVolume(Claim) types are in core-volumes.ts.
import { bool, field, int32, int64, intOrString, list, map, quantity, ref, str, struct, time, type Field, type StructType } from '../schema/dsl.js';
import { LabelSelector, ObjectMeta, typeMetaFields } from './meta.js';
import {
  CORE,
  ConfigMapEnvSource,
  ConfigMapKeySelector,
  LocalObjectReference,
  NodeSelector,
  NodeSelectorTerm,
  ObjectFieldSelector,
  ResourceFieldSelector,
  SecretEnvSource,
  SecretKeySelector,
  defaultIfAbsent,
  defaultIfZero,
  defaultPullPolicy,
  defaultString,
} from './core-pod-common.js';
import { Volume } from './core-volumes.js';
import { validatePodSpec } from './core-pod-validation.js';
import { asList, asObj, isObj } from './core-pod-checks.js';

export * from './core-pod-common.js';
export * from './core-volumes.js';

// ---- environment, ports, resources, mounts ---------------------------------------------------------

export const ContainerPort: StructType = struct(
  `${CORE}.ContainerPort`,
  'A network port a container listens on.',
  {
    name: field(str(), 1, 'IANA service name for the port, unique within the pod.'),
    hostPort: field(int32(), 2, 'Port to expose on the node; most containers leave it unset.'),
    containerPort: field(int32(), 3, 'Port number on the pod\'s IP address (1-65535).', { required: true }),
    protocol: field(str(), 4, 'TCP, UDP or SCTP; defaults to TCP.', { default: 'TCP' }),
    hostIP: field(str(), 5, 'Node address to bind the host port to.'),
  },
  { defaults: (o) => defaultString(o, 'protocol', 'TCP') },
);

export const EnvVarSource: StructType = struct(`${CORE}.EnvVarSource`, 'Where an environment variable\'s value comes from.', {
  fieldRef: field(ref(() => ObjectFieldSelector), 1, 'A pod field, e.g. metadata.name or status.podIP.'),
  resourceFieldRef: field(ref(() => ResourceFieldSelector), 2, 'A container resource request or limit.'),
  configMapKeyRef: field(ref(() => ConfigMapKeySelector), 3, 'A key of a ConfigMap.'),
  secretKeyRef: field(ref(() => SecretKeySelector), 4, 'A key of a Secret.'),
});

export const EnvVar: StructType = struct(`${CORE}.EnvVar`, 'One environment variable of a container.', {
  name: field(str(), 1, 'Variable name.', { required: true }),
  value: field(str(), 2, 'Literal value; $(VAR) references are expanded.'),
  valueFrom: field(ref(() => EnvVarSource), 3, 'Source of the value when not literal.'),
});

export const EnvFromSource: StructType = struct(`${CORE}.EnvFromSource`, 'A ConfigMap or Secret whose keys all become environment variables.', {
  prefix: field(str(), 1, 'Prefix added to every variable name.'),
  configMapRef: field(ref(() => ConfigMapEnvSource), 2, 'ConfigMap to read.'),
  secretRef: field(ref(() => SecretEnvSource), 3, 'Secret to read.'),
});

export const ResourceClaim: StructType = struct(`${CORE}.ResourceClaim`, 'Use of one of the pod\'s resource claims by a container.', {
  name: field(str(), 1, 'Name of an entry in spec.resourceClaims.', { required: true }),
  request: field(str(), 2, 'Request within the claim; the whole claim when empty.'),
});

export const ResourceRequirements: StructType = struct(`${CORE}.ResourceRequirements`, 'Compute resources requested and allowed.', {
  limits: field(map(quantity()), 1, 'Maximum amounts allowed, e.g. cpu: 500m.'),
  requests: field(map(quantity()), 2, 'Amounts reserved for scheduling; default to the limits.'),
  claims: field(list(ref(() => ResourceClaim), { listType: 'map', mapKeys: ['name'] }), 3, 'Resource claims this container uses.'),
});

export const ContainerResizePolicy: StructType = struct(`${CORE}.ContainerResizePolicy`, 'How a container reacts when a resource is resized in place.', {
  resourceName: field(str(), 1, 'cpu or memory.', { required: true }),
  restartPolicy: field(str(), 2, 'NotRequired or RestartContainer.', { required: true }),
});

export const VolumeMount: StructType = struct(`${CORE}.VolumeMount`, 'Mounts a pod volume into a container.', {
  name: field(str(), 1, 'Name of the pod volume.', { required: true }),
  readOnly: field(bool(), 2, 'Mount read-only.'),
  recursiveReadOnly: field(str(), 7, 'Disabled, IfPossible or Enabled: whether read-only applies to sub-mounts.'),
  mountPath: field(str(), 3, 'Path inside the container.', { required: true }),
  subPath: field(str(), 4, 'Sub-path of the volume to mount instead of its root.'),
  mountPropagation: field(str(), 5, 'None, HostToContainer or Bidirectional.'),
  subPathExpr: field(str(), 6, 'Like subPath, with $(VAR) expansion.'),
});

export const VolumeDevice: StructType = struct(`${CORE}.VolumeDevice`, 'Maps a block volume to a device path in a container.', {
  name: field(str(), 1, 'Name of a claim-backed pod volume.', { required: true }),
  devicePath: field(str(), 2, 'Device path inside the container.', { required: true }),
});

// ---- probes and lifecycle hooks ---------------------------------------------------------------------

export const ExecAction: StructType = struct(`${CORE}.ExecAction`, 'Runs a command in the container.', {
  command: field(list(str(), { listType: 'atomic' }), 1, 'Command line; exit code 0 means success.'),
});

export const HTTPHeader: StructType = struct(`${CORE}.HTTPHeader`, 'A header sent with an HTTP probe.', {
  name: field(str(), 1, 'Header name.', { required: true }),
  value: field(str(), 2, 'Header value.', { required: true }),
});

export const HTTPGetAction: StructType = struct(
  `${CORE}.HTTPGetAction`,
  'Performs an HTTP GET against the container.',
  {
    path: field(str(), 1, 'Request path; defaults to /.'),
    port: field(intOrString(), 2, 'Port number or named container port.', { required: true }),
    host: field(str(), 3, 'Host to connect to; the pod IP by default.'),
    scheme: field(str(), 4, 'HTTP or HTTPS; defaults to HTTP.'),
    httpHeaders: field(list(ref(() => HTTPHeader), { listType: 'atomic' }), 5, 'Extra request headers.'),
  },
  {
    defaults: (o) => {
      defaultString(o, 'path', '/');
      defaultString(o, 'scheme', 'HTTP');
    },
  },
);

export const TCPSocketAction: StructType = struct(`${CORE}.TCPSocketAction`, 'Opens a TCP connection to the container.', {
  port: field(intOrString(), 1, 'Port number or named container port.', { required: true }),
  host: field(str(), 2, 'Host to connect to; the pod IP by default.'),
});

export const GRPCAction: StructType = struct(`${CORE}.GRPCAction`, 'Calls the gRPC health service of the container.', {
  port: field(int32(), 1, 'Port of the gRPC service.', { required: true }),
  service: field(str(), 2, 'Service name placed in the health check request.', { default: '' }),
});

export const SleepAction: StructType = struct(`${CORE}.SleepAction`, 'Waits for a number of seconds.', {
  seconds: field(int64(), 1, 'Seconds to sleep.', { required: true }),
});

/** ProbeHandler's fields, inlined into Probe (no protobuf numbers: they nest in message field 1). */
const probeHandlerFields: Record<string, Field> = {
  exec: field(ref(() => ExecAction), undefined, 'Run a command in the container.'),
  httpGet: field(ref(() => HTTPGetAction), undefined, 'Perform an HTTP GET.'),
  tcpSocket: field(ref(() => TCPSocketAction), undefined, 'Open a TCP connection.'),
  grpc: field(ref(() => GRPCAction), undefined, 'Call the gRPC health service.'),
};

export const Probe: StructType = struct(
  `${CORE}.Probe`,
  'A periodic health check of a container; exactly one handler is set.',
  {
    ...probeHandlerFields,
    initialDelaySeconds: field(int32(), 2, 'Seconds after start before the first probe.'),
    timeoutSeconds: field(int32(), 3, 'Seconds before a probe times out; defaults to 1.'),
    periodSeconds: field(int32(), 4, 'Seconds between probes; defaults to 10.'),
    successThreshold: field(int32(), 5, 'Consecutive successes needed after a failure; defaults to 1.'),
    failureThreshold: field(int32(), 6, 'Consecutive failures that count as failed; defaults to 3.'),
    terminationGracePeriodSeconds: field(int64(), 7, 'Grace period used when this probe fails.'),
  },
  {
    defaults: (o) => {
      defaultIfZero(o, 'timeoutSeconds', 1);
      defaultIfZero(o, 'periodSeconds', 10);
      defaultIfZero(o, 'successThreshold', 1);
      defaultIfZero(o, 'failureThreshold', 3);
    },
  },
);

export const LifecycleHandler: StructType = struct(`${CORE}.LifecycleHandler`, 'Action run by a lifecycle hook; exactly one is set.', {
  exec: field(ref(() => ExecAction), 1, 'Run a command in the container.'),
  httpGet: field(ref(() => HTTPGetAction), 2, 'Perform an HTTP GET.'),
  tcpSocket: field(ref(() => TCPSocketAction), 3, 'Deprecated; accepted but never run.'),
  sleep: field(ref(() => SleepAction), 4, 'Sleep for a while.'),
});

export const Lifecycle: StructType = struct(`${CORE}.Lifecycle`, 'Hooks run when a container starts and before it stops.', {
  postStart: field(ref(() => LifecycleHandler), 1, 'Runs right after the container is created.'),
  preStop: field(ref(() => LifecycleHandler), 2, 'Runs before the container is terminated.'),
  stopSignal: field(str(), 3, 'Signal sent to stop the container.'),
});

// ---- security ---------------------------------------------------------------------------------------

export const Capabilities: StructType = struct(`${CORE}.Capabilities`, 'POSIX capabilities to add to or drop from a container.', {
  add: field(list(str(), { listType: 'atomic' }), 1, 'Capabilities to add.'),
  drop: field(list(str(), { listType: 'atomic' }), 2, 'Capabilities to drop.'),
});

export const SELinuxOptions: StructType = struct(`${CORE}.SELinuxOptions`, 'SELinux labels applied to a container.', {
  user: field(str(), 1, 'SELinux user label.'),
  role: field(str(), 2, 'SELinux role label.'),
  type: field(str(), 3, 'SELinux type label.'),
  level: field(str(), 4, 'SELinux level label.'),
});

export const WindowsSecurityContextOptions: StructType = struct(`${CORE}.WindowsSecurityContextOptions`, 'Windows-specific security settings.', {
  gmsaCredentialSpecName: field(str(), 1, 'Name of the GMSA credential spec.'),
  gmsaCredentialSpec: field(str(), 2, 'Contents of the GMSA credential spec.'),
  runAsUserName: field(str(), 3, 'Windows user to run the entrypoint as.'),
  hostProcess: field(bool(), 4, 'Run as a Windows host process.'),
});

export const SeccompProfile: StructType = struct(`${CORE}.SeccompProfile`, 'The seccomp profile applied to a container.', {
  type: field(str(), 1, 'RuntimeDefault, Unconfined or Localhost.', { required: true }),
  localhostProfile: field(str(), 2, 'Profile file on the node, for type Localhost.'),
});

export const AppArmorProfile: StructType = struct(`${CORE}.AppArmorProfile`, 'The AppArmor profile applied to a container.', {
  type: field(str(), 1, 'RuntimeDefault, Unconfined or Localhost.', { required: true }),
  localhostProfile: field(str(), 2, 'Profile loaded on the node, for type Localhost.'),
});

export const SecurityContext: StructType = struct(`${CORE}.SecurityContext`, 'Security settings of one container; they override the pod\'s.', {
  capabilities: field(ref(() => Capabilities), 1, 'Capabilities to add or drop.'),
  privileged: field(bool(), 2, 'Run the container privileged.'),
  seLinuxOptions: field(ref(() => SELinuxOptions), 3, 'SELinux labels.'),
  windowsOptions: field(ref(() => WindowsSecurityContextOptions), 10, 'Windows-specific settings.'),
  runAsUser: field(int64(), 4, 'UID to run the entrypoint as.'),
  runAsGroup: field(int64(), 8, 'GID to run the entrypoint as.'),
  runAsNonRoot: field(bool(), 5, 'Refuse to start if the image would run as root.'),
  readOnlyRootFilesystem: field(bool(), 6, 'Mount the root filesystem read-only.'),
  allowPrivilegeEscalation: field(bool(), 7, 'Whether a process may gain more privileges than its parent.'),
  procMount: field(str(), 9, 'Default or Unmasked /proc mount.'),
  seccompProfile: field(ref(() => SeccompProfile), 11, 'Seccomp profile.'),
  appArmorProfile: field(ref(() => AppArmorProfile), 12, 'AppArmor profile.'),
});

export const Sysctl: StructType = struct(`${CORE}.Sysctl`, 'A namespaced kernel parameter set for the pod.', {
  name: field(str(), 1, 'Parameter name.', { required: true }),
  value: field(str(), 2, 'Parameter value.', { required: true }),
});

export const PodSecurityContext: StructType = struct(`${CORE}.PodSecurityContext`, 'Security settings shared by all containers of a pod.', {
  seLinuxOptions: field(ref(() => SELinuxOptions), 1, 'SELinux labels for all containers.'),
  windowsOptions: field(ref(() => WindowsSecurityContextOptions), 8, 'Windows-specific settings for all containers.'),
  runAsUser: field(int64(), 2, 'UID to run entrypoints as.'),
  runAsGroup: field(int64(), 6, 'GID to run entrypoints as.'),
  runAsNonRoot: field(bool(), 3, 'Refuse to start containers whose image runs as root.'),
  supplementalGroups: field(list(int64(), { listType: 'atomic' }), 4, 'Extra groups for the first process of each container.'),
  supplementalGroupsPolicy: field(str(), 12, 'Merge or Strict: how supplemental groups are computed.'),
  fsGroup: field(int64(), 5, 'Group that owns supported volumes.'),
  sysctls: field(list(ref(() => Sysctl), { listType: 'atomic' }), 7, 'Namespaced sysctls for the pod.'),
  fsGroupChangePolicy: field(str(), 9, 'OnRootMismatch or Always: when volume ownership is changed.'),
  seccompProfile: field(ref(() => SeccompProfile), 10, 'Seccomp profile for all containers.'),
  appArmorProfile: field(ref(() => AppArmorProfile), 11, 'AppArmor profile for all containers.'),
  seLinuxChangePolicy: field(str(), 13, 'MountOption or Recursive: how SELinux labels reach volumes.'),
});

// ---- containers -------------------------------------------------------------------------------------

/** Container fields in Go order; shared by Container and EphemeralContainer. */
function containerFields(withProto: boolean): Record<string, Field> {
  const n = (num: number) => (withProto ? num : undefined);
  return {
    name: field(str(), n(1), 'Container name, a DNS label unique within the pod.', { required: true }),
    image: field(str(), n(2), 'Container image reference.'),
    command: field(list(str(), { listType: 'atomic' }), n(3), 'Entrypoint; the image\'s ENTRYPOINT when empty.'),
    args: field(list(str(), { listType: 'atomic' }), n(4), 'Arguments to the entrypoint; the image\'s CMD when empty.'),
    workingDir: field(str(), n(5), 'Working directory; the image default when empty.'),
    ports: field(
      list(ref(() => ContainerPort), { listType: 'map', mapKeys: ['containerPort', 'protocol'], patchStrategy: 'merge', patchMergeKey: 'containerPort' }),
      n(6),
      'Ports the container exposes.',
    ),
    envFrom: field(list(ref(() => EnvFromSource), { listType: 'atomic' }), n(19), 'Sources of whole sets of environment variables.'),
    env: field(list(ref(() => EnvVar), { listType: 'map', mapKeys: ['name'], patchStrategy: 'merge', patchMergeKey: 'name' }), n(7), 'Environment variables.'),
    resources: field(ref(() => ResourceRequirements), n(8), 'Compute resources requested and allowed.', { default: {} }),
    resizePolicy: field(list(ref(() => ContainerResizePolicy), { listType: 'atomic' }), n(23), 'Restart behaviour when resources are resized in place.'),
    restartPolicy: field(str(), n(24), 'Always, for init containers that keep running as sidecars.'),
    volumeMounts: field(
      list(ref(() => VolumeMount), { listType: 'map', mapKeys: ['mountPath'], patchStrategy: 'merge', patchMergeKey: 'mountPath' }),
      n(9),
      'Pod volumes mounted into the container.',
    ),
    volumeDevices: field(
      list(ref(() => VolumeDevice), { listType: 'map', mapKeys: ['devicePath'], patchStrategy: 'merge', patchMergeKey: 'devicePath' }),
      n(21),
      'Block devices mapped into the container.',
    ),
    livenessProbe: field(ref(() => Probe), n(10), 'Restarts the container when it fails.'),
    readinessProbe: field(ref(() => Probe), n(11), 'Removes the pod from service endpoints when it fails.'),
    startupProbe: field(ref(() => Probe), n(22), 'Holds other probes until the container has started.'),
    lifecycle: field(ref(() => Lifecycle), n(12), 'Hooks run after start and before stop.'),
    terminationMessagePath: field(str(), n(13), 'File the termination message is read from; defaults to /dev/termination-log.'),
    terminationMessagePolicy: field(str(), n(20), 'File or FallbackToLogsOnError; defaults to File.'),
    imagePullPolicy: field(str(), n(14), 'Always, Never or IfNotPresent; Always for :latest or untagged images, else IfNotPresent.'),
    securityContext: field(ref(() => SecurityContext), n(15), 'Security settings of this container.'),
    stdin: field(bool(), n(16), 'Allocate a stdin buffer.'),
    stdinOnce: field(bool(), n(17), 'Close stdin after the first attach disconnects.'),
    tty: field(bool(), n(18), 'Allocate a TTY (needs stdin).'),
  };
}

function defaultContainer(o: Record<string, unknown>): void {
  defaultString(o, 'terminationMessagePath', '/dev/termination-log');
  defaultString(o, 'terminationMessagePolicy', 'File');
  defaultString(o, 'imagePullPolicy', defaultPullPolicy(o.image));
}

export const Container: StructType = struct(`${CORE}.Container`, 'One application container of a pod.', containerFields(true), { defaults: defaultContainer });

export const EphemeralContainer: StructType = struct(
  `${CORE}.EphemeralContainer`,
  'A temporary container added to a running pod, e.g. for debugging.',
  {
    // Container fields are nested in protobuf message field 1 (EphemeralContainerCommon), so they carry no numbers here.
    ...containerFields(false),
    targetContainerName: field(str(), 2, 'Container whose namespaces the ephemeral container joins.'),
  },
  { defaults: defaultContainer },
);

// ---- scheduling ---------------------------------------------------------------------------------------

export const PreferredSchedulingTerm: StructType = struct(`${CORE}.PreferredSchedulingTerm`, 'A weighted node preference.', {
  weight: field(int32(), 1, 'Weight of the preference, 1-100.', { required: true }),
  preference: field(ref(() => NodeSelectorTerm), 2, 'Node requirements that earn the weight.', { required: true }),
});

export const NodeAffinity: StructType = struct(`${CORE}.NodeAffinity`, 'Rules about which nodes the pod may or prefers to run on.', {
  requiredDuringSchedulingIgnoredDuringExecution: field(ref(() => NodeSelector), 1, 'Nodes the pod must run on.'),
  preferredDuringSchedulingIgnoredDuringExecution: field(list(ref(() => PreferredSchedulingTerm), { listType: 'atomic' }), 2, 'Nodes the pod prefers.'),
});

export const PodAffinityTerm: StructType = struct(`${CORE}.PodAffinityTerm`, 'A set of pods, and the topology in which to co-locate with or avoid them.', {
  labelSelector: field(ref(() => LabelSelector), 1, 'Pods the term is about.'),
  namespaces: field(list(str(), { listType: 'atomic' }), 2, 'Namespaces to look in; the pod\'s own when empty.'),
  topologyKey: field(str(), 3, 'Node label whose equal values define co-location.', { required: true }),
  namespaceSelector: field(ref(() => LabelSelector), 4, 'Namespaces to look in, by label.'),
  matchLabelKeys: field(list(str(), { listType: 'atomic' }), 5, 'Incoming pod label keys added to the selector as key in (value).'),
  mismatchLabelKeys: field(list(str(), { listType: 'atomic' }), 6, 'Incoming pod label keys added to the selector as key notin (value).'),
});

export const WeightedPodAffinityTerm: StructType = struct(`${CORE}.WeightedPodAffinityTerm`, 'A weighted pod (anti-)affinity preference.', {
  weight: field(int32(), 1, 'Weight of the preference, 1-100.', { required: true }),
  podAffinityTerm: field(ref(() => PodAffinityTerm), 2, 'The pod affinity term.', { required: true }),
});

export const PodAffinity: StructType = struct(`${CORE}.PodAffinity`, 'Rules for running near other pods.', {
  requiredDuringSchedulingIgnoredDuringExecution: field(list(ref(() => PodAffinityTerm), { listType: 'atomic' }), 1, 'Terms that must all hold.'),
  preferredDuringSchedulingIgnoredDuringExecution: field(list(ref(() => WeightedPodAffinityTerm), { listType: 'atomic' }), 2, 'Weighted preferences.'),
});

export const PodAntiAffinity: StructType = struct(`${CORE}.PodAntiAffinity`, 'Rules for staying away from other pods.', {
  requiredDuringSchedulingIgnoredDuringExecution: field(list(ref(() => PodAffinityTerm), { listType: 'atomic' }), 1, 'Terms that must all hold.'),
  preferredDuringSchedulingIgnoredDuringExecution: field(list(ref(() => WeightedPodAffinityTerm), { listType: 'atomic' }), 2, 'Weighted preferences.'),
});

export const Affinity: StructType = struct(`${CORE}.Affinity`, 'Node and pod affinity scheduling rules.', {
  nodeAffinity: field(ref(() => NodeAffinity), 1, 'Node affinity rules.'),
  podAffinity: field(ref(() => PodAffinity), 2, 'Pod affinity rules.'),
  podAntiAffinity: field(ref(() => PodAntiAffinity), 3, 'Pod anti-affinity rules.'),
});

export const Toleration: StructType = struct(`${CORE}.Toleration`, 'Lets the pod be scheduled onto (or stay on) nodes with a matching taint.', {
  key: field(str(), 1, 'Taint key to match; empty with Exists matches every taint.'),
  operator: field(str(), 2, 'Equal or Exists; defaults to Equal.'),
  value: field(str(), 3, 'Taint value to match with Equal.'),
  effect: field(str(), 4, 'NoSchedule, PreferNoSchedule or NoExecute; empty matches all.'),
  tolerationSeconds: field(int64(), 5, 'How long a NoExecute taint is tolerated before eviction.'),
});

export const TopologySpreadConstraint: StructType = struct(`${CORE}.TopologySpreadConstraint`, 'How matching pods are spread across a topology.', {
  maxSkew: field(int32(), 1, 'Largest allowed difference in matching pods between domains.', { required: true }),
  topologyKey: field(str(), 2, 'Node label that defines the domains.', { required: true }),
  whenUnsatisfiable: field(str(), 3, 'DoNotSchedule or ScheduleAnyway.', { required: true }),
  labelSelector: field(ref(() => LabelSelector), 4, 'Pods counted in each domain.'),
  minDomains: field(int32(), 5, 'Minimum number of eligible domains.'),
  nodeAffinityPolicy: field(str(), 6, 'Honor or Ignore the pod\'s node affinity when counting.'),
  nodeTaintsPolicy: field(str(), 7, 'Honor or Ignore node taints when counting.'),
  matchLabelKeys: field(list(str(), { listType: 'atomic' }), 8, 'Incoming pod label keys added to the selector.'),
});

export const HostAlias: StructType = struct(`${CORE}.HostAlias`, 'An extra entry for the pod\'s hosts file.', {
  ip: field(str(), 1, 'IP address of the entry.', { required: true }),
  hostnames: field(list(str(), { listType: 'atomic' }), 2, 'Host names for the address.'),
});

export const PodDNSConfigOption: StructType = struct(`${CORE}.PodDNSConfigOption`, 'One resolver option.', {
  name: field(str(), 1, 'Option name.'),
  value: field(str(), 2, 'Option value.'),
});

export const PodDNSConfig: StructType = struct(`${CORE}.PodDNSConfig`, 'DNS settings added to those the DNS policy generates.', {
  nameservers: field(list(str(), { listType: 'atomic' }), 1, 'Extra name server IPs.'),
  searches: field(list(str(), { listType: 'atomic' }), 2, 'Extra search domains.'),
  options: field(list(ref(() => PodDNSConfigOption), { listType: 'atomic' }), 3, 'Resolver options.'),
});

export const PodReadinessGate: StructType = struct(`${CORE}.PodReadinessGate`, 'An extra condition the pod needs to be ready.', {
  conditionType: field(str(), 1, 'Pod condition type that must be True.', { required: true }),
});

export const PodSchedulingGate: StructType = struct(`${CORE}.PodSchedulingGate`, 'Holds the pod back from scheduling while present.', {
  name: field(str(), 1, 'Gate name, unique within the pod.', { required: true }),
});

export const PodResourceClaim: StructType = struct(`${CORE}.PodResourceClaim`, 'A ResourceClaim the pod needs, named for its containers.', {
  name: field(str(), 1, 'Name containers use to refer to the claim.', { required: true }),
  resourceClaimName: field(str(), 3, 'Existing ResourceClaim to use.'),
  resourceClaimTemplateName: field(str(), 4, 'ResourceClaimTemplate to create a claim from.'),
});

export const PodOS: StructType = struct(`${CORE}.PodOS`, 'Operating system the pod\'s containers need.', {
  name: field(str(), 1, 'linux or windows.', { required: true }),
});

// ---- PodSpec and Pod ------------------------------------------------------------------------------

function defaultPodSpec(o: Record<string, unknown>): void {
  defaultString(o, 'dnsPolicy', 'ClusterFirst');
  defaultString(o, 'restartPolicy', 'Always');
  defaultIfAbsent(o, 'terminationGracePeriodSeconds', 30);
  defaultIfAbsent(o, 'securityContext', {});
  defaultString(o, 'schedulerName', 'default-scheduler');
  if (o.hostNetwork === true) {
    // With host networking the host port is the container port.
    for (const list of ['containers', 'initContainers']) {
      for (const c of asList(o[list])) {
        for (const p of asList(asObj(c).ports)) {
          const port = asObj(p);
          if (!port.hostPort) port.hostPort = port.containerPort;
        }
      }
    }
  }
}

export const PodSpec: StructType = struct(
  `${CORE}.PodSpec`,
  'Desired state of a pod.',
  {
    volumes: field(
      list(ref(() => Volume), { listType: 'map', mapKeys: ['name'], patchStrategy: 'merge,retainKeys', patchMergeKey: 'name' }),
      1,
      'Volumes the containers can mount.',
    ),
    initContainers: field(
      list(ref(() => Container), { listType: 'map', mapKeys: ['name'], patchStrategy: 'merge', patchMergeKey: 'name' }),
      20,
      'Containers run to completion, in order, before the app containers start.',
    ),
    containers: field(
      list(ref(() => Container), { listType: 'map', mapKeys: ['name'], patchStrategy: 'merge', patchMergeKey: 'name' }),
      2,
      'The pod\'s containers; at least one.',
      { required: true },
    ),
    ephemeralContainers: field(
      list(ref(() => EphemeralContainer), { listType: 'map', mapKeys: ['name'], patchStrategy: 'merge', patchMergeKey: 'name' }),
      34,
      'Debug containers added through the ephemeralcontainers subresource.',
    ),
    restartPolicy: field(str(), 3, 'Always, OnFailure or Never; defaults to Always.'),
    terminationGracePeriodSeconds: field(int64(), 4, 'Seconds between the stop signal and the kill; defaults to 30.'),
    activeDeadlineSeconds: field(int64(), 5, 'Seconds the pod may run before it is failed.'),
    dnsPolicy: field(str(), 6, 'ClusterFirst, ClusterFirstWithHostNet, Default or None; defaults to ClusterFirst.'),
    nodeSelector: field(map(str()), 7, 'Labels a node must have to run the pod.'),
    serviceAccountName: field(str(), 8, 'ServiceAccount the pod runs as.'),
    serviceAccount: field(str(), 9, 'Deprecated alias of serviceAccountName.'),
    automountServiceAccountToken: field(bool(), 21, 'Whether a service account token is mounted automatically.'),
    nodeName: field(str(), 10, 'Node the pod is bound to; set by the scheduler.'),
    hostNetwork: field(bool(), 11, 'Use the node\'s network namespace.'),
    hostPID: field(bool(), 12, 'Use the node\'s PID namespace.'),
    hostIPC: field(bool(), 13, 'Use the node\'s IPC namespace.'),
    shareProcessNamespace: field(bool(), 27, 'Share one PID namespace between the pod\'s containers.'),
    securityContext: field(ref(() => PodSecurityContext), 14, 'Pod-level security settings.'),
    imagePullSecrets: field(
      list(ref(() => LocalObjectReference), { listType: 'map', mapKeys: ['name'], patchStrategy: 'merge', patchMergeKey: 'name' }),
      15,
      'Secrets used to pull the images.',
    ),
    hostname: field(str(), 16, 'Host name of the pod; the pod name by default.'),
    subdomain: field(str(), 17, 'Subdomain giving the pod a fully qualified DNS name.'),
    affinity: field(ref(() => Affinity), 18, 'Scheduling affinity rules.'),
    schedulerName: field(str(), 19, 'Scheduler that places the pod; defaults to default-scheduler.'),
    tolerations: field(list(ref(() => Toleration), { listType: 'atomic' }), 22, 'Taints the pod tolerates.'),
    hostAliases: field(
      list(ref(() => HostAlias), { listType: 'map', mapKeys: ['ip'], patchStrategy: 'merge', patchMergeKey: 'ip' }),
      23,
      'Extra hosts file entries.',
    ),
    priorityClassName: field(str(), 24, 'PriorityClass of the pod.'),
    priority: field(int32(), 25, 'Priority value, filled in from the PriorityClass.'),
    dnsConfig: field(ref(() => PodDNSConfig), 26, 'Extra DNS settings.'),
    readinessGates: field(list(ref(() => PodReadinessGate), { listType: 'atomic' }), 28, 'Extra conditions required for readiness.'),
    runtimeClassName: field(str(), 29, 'RuntimeClass used to run the pod.'),
    enableServiceLinks: field(bool(), 30, 'Inject service environment variables; defaults to true.'),
    preemptionPolicy: field(str(), 31, 'PreemptLowerPriority or Never.'),
    overhead: field(map(quantity()), 32, 'Resources the runtime itself consumes for the pod.'),
    topologySpreadConstraints: field(
      list(ref(() => TopologySpreadConstraint), {
        listType: 'map',
        mapKeys: ['topologyKey', 'whenUnsatisfiable'],
        patchStrategy: 'merge',
        patchMergeKey: 'topologyKey',
      }),
      33,
      'How the pod is spread across topology domains.',
    ),
    setHostnameAsFQDN: field(bool(), 35, 'Use the fully qualified domain name as host name.'),
    os: field(ref(() => PodOS), 36, 'Operating system the pod needs.'),
    hostUsers: field(bool(), 37, 'Use the node\'s user namespace; defaults to true.'),
    schedulingGates: field(
      list(ref(() => PodSchedulingGate), { listType: 'map', mapKeys: ['name'], patchStrategy: 'merge', patchMergeKey: 'name' }),
      38,
      'Gates that hold the pod back from scheduling.',
    ),
    resourceClaims: field(
      list(ref(() => PodResourceClaim), { listType: 'map', mapKeys: ['name'], patchStrategy: 'merge,retainKeys', patchMergeKey: 'name' }),
      39,
      'ResourceClaims the pod needs.',
    ),
    resources: field(ref(() => ResourceRequirements), 40, 'Pod-level resource requests and limits.'),
  },
  { defaults: defaultPodSpec, validate: (o, path) => validatePodSpec(o, path) },
);

// ---- status -------------------------------------------------------------------------------------------

export const PodCondition: StructType = struct(`${CORE}.PodCondition`, 'One observed aspect of a pod, e.g. Ready.', {
  type: field(str(), 1, 'Condition type: PodScheduled, Initialized, ContainersReady, Ready, ...', { required: true }),
  observedGeneration: field(int64(), 7, 'metadata.generation the condition was computed from.'),
  status: field(str(), 2, 'True, False or Unknown.', { required: true }),
  lastProbeTime: field(time(), 3, 'When the condition was last probed.'),
  lastTransitionTime: field(time(), 4, 'When the status last changed.'),
  reason: field(str(), 5, 'Short CamelCase reason for the last transition.'),
  message: field(str(), 6, 'Human-readable detail about the last transition.'),
});

export const PodIP: StructType = struct(`${CORE}.PodIP`, 'An IP address of the pod.', {
  ip: field(str(), 1, 'The address.', { required: true }),
});

export const HostIP: StructType = struct(`${CORE}.HostIP`, 'An IP address of the pod\'s node.', {
  ip: field(str(), 1, 'The address.', { required: true }),
});

export const ContainerStateWaiting: StructType = struct(`${CORE}.ContainerStateWaiting`, 'A container that is not running yet.', {
  reason: field(str(), 1, 'Why it is waiting, e.g. ContainerCreating or CrashLoopBackOff.'),
  message: field(str(), 2, 'Human-readable detail.'),
});

export const ContainerStateRunning: StructType = struct(`${CORE}.ContainerStateRunning`, 'A running container.', {
  startedAt: field(time(), 1, 'When the container last (re)started.'),
});

export const ContainerStateTerminated: StructType = struct(`${CORE}.ContainerStateTerminated`, 'A container that has exited.', {
  exitCode: field(int32(), 1, 'Exit code of the process.', { required: true }),
  signal: field(int32(), 2, 'Signal that ended the process.'),
  reason: field(str(), 3, 'Short reason, e.g. Completed or Error.'),
  message: field(str(), 4, 'Human-readable detail.'),
  startedAt: field(time(), 5, 'When the run started.'),
  finishedAt: field(time(), 6, 'When the run ended.'),
  containerID: field(str(), 7, 'Runtime container ID, <type>://<id>.'),
});

export const ContainerState: StructType = struct(`${CORE}.ContainerState`, 'State of a container; at most one member is set.', {
  waiting: field(ref(() => ContainerStateWaiting), 1, 'Details of a waiting container.'),
  running: field(ref(() => ContainerStateRunning), 2, 'Details of a running container.'),
  terminated: field(ref(() => ContainerStateTerminated), 3, 'Details of a terminated container.'),
});

export const VolumeMountStatus: StructType = struct(`${CORE}.VolumeMountStatus`, 'Status of one volume mount.', {
  name: field(str(), 1, 'Name of the volume mount.', { required: true }),
  mountPath: field(str(), 2, 'Mount path of the volume mount.', { required: true }),
  readOnly: field(bool(), 3, 'Whether the mount is read-only.'),
  recursiveReadOnly: field(str(), 4, 'Disabled or Enabled, as actually applied.'),
});

export const LinuxContainerUser: StructType = struct(`${CORE}.LinuxContainerUser`, 'Linux identity of a container\'s first process.', {
  uid: field(int64(), 1, 'Primary UID.', { required: true }),
  gid: field(int64(), 2, 'Primary GID.', { required: true }),
  supplementalGroups: field(list(int64(), { listType: 'atomic' }), 3, 'Supplemental groups.'),
});

export const ContainerUser: StructType = struct(`${CORE}.ContainerUser`, 'Identity of a container\'s first process.', {
  linux: field(ref(() => LinuxContainerUser), 1, 'Linux identity.'),
});

export const ResourceHealth: StructType = struct(`${CORE}.ResourceHealth`, 'Health of one allocated device.', {
  resourceID: field(str(), 1, 'Identifier of the device.', { required: true }),
  health: field(str(), 2, 'Healthy, Unhealthy or Unknown.'),
});

export const ResourceStatus: StructType = struct(`${CORE}.ResourceStatus`, 'Health of the devices behind one resource.', {
  name: field(str(), 1, 'Resource name.', { required: true }),
  resources: field(list(ref(() => ResourceHealth), { listType: 'map', mapKeys: ['resourceID'] }), 2, 'Per-device health.'),
});

export const ContainerStatus: StructType = struct(`${CORE}.ContainerStatus`, 'Observed state of one container.', {
  name: field(str(), 1, 'Container name.', { required: true }),
  state: field(ref(() => ContainerState), 2, 'Current state.'),
  lastState: field(ref(() => ContainerState), 3, 'Previous termination, kept for debugging restarts.'),
  ready: field(bool(), 4, 'Whether the container passes its readiness check.', { required: true }),
  restartCount: field(int32(), 5, 'Number of restarts.', { required: true }),
  image: field(str(), 6, 'Image the container runs.', { required: true }),
  // Required in Kubernetes' OpenAPI, but empty while a container waits for its image; a required
  // mark would make the schema check refuse ordinary kubelet status updates.
  imageID: field(str(), 7, 'Resolved ID of that image.'),
  containerID: field(str(), 8, 'Runtime container ID, <type>://<id>.'),
  started: field(bool(), 9, 'Whether the container finished starting (startup probe and postStart hook).'),
  allocatedResources: field(map(quantity()), 10, 'Resources the node allocated to the container.'),
  resources: field(ref(() => ResourceRequirements), 11, 'Resources actually applied to the running container.'),
  volumeMounts: field(
    list(ref(() => VolumeMountStatus), { listType: 'map', mapKeys: ['mountPath'], patchStrategy: 'merge', patchMergeKey: 'mountPath' }),
    12,
    'Status of the volume mounts.',
  ),
  user: field(ref(() => ContainerUser), 13, 'Identity of the first process.'),
  allocatedResourcesStatus: field(
    list(ref(() => ResourceStatus), { listType: 'map', mapKeys: ['name'], patchStrategy: 'merge', patchMergeKey: 'name' }),
    14,
    'Health of allocated devices.',
  ),
  stopSignal: field(str(), 15, 'Signal used to stop the container.'),
});

export const PodResourceClaimStatus: StructType = struct(`${CORE}.PodResourceClaimStatus`, 'The ResourceClaim generated for one of the pod\'s claims.', {
  name: field(str(), 1, 'Name of the entry in spec.resourceClaims.', { required: true }),
  resourceClaimName: field(str(), 2, 'Name of the generated ResourceClaim.'),
});

export const PodStatus: StructType = struct(`${CORE}.PodStatus`, 'Observed state of a pod.', {
  observedGeneration: field(int64(), 17, 'metadata.generation the status was computed from.'),
  phase: field(str(), 1, 'Pending, Running, Succeeded, Failed or Unknown.'),
  conditions: field(
    list(ref(() => PodCondition), { listType: 'map', mapKeys: ['type'], patchStrategy: 'merge', patchMergeKey: 'type' }),
    2,
    'Current conditions of the pod.',
  ),
  message: field(str(), 3, 'Human-readable detail about the pod\'s state.'),
  reason: field(str(), 4, 'Short CamelCase reason, e.g. Evicted.'),
  nominatedNodeName: field(str(), 11, 'Node the pod is expected to run on after preemption.'),
  hostIP: field(str(), 5, 'Primary IP of the node.'),
  hostIPs: field(list(ref(() => HostIP), { listType: 'atomic', patchStrategy: 'merge', patchMergeKey: 'ip' }), 16, 'IPs of the node.'),
  podIP: field(str(), 6, 'Primary IP of the pod.'),
  podIPs: field(
    list(ref(() => PodIP), { listType: 'map', mapKeys: ['ip'], patchStrategy: 'merge', patchMergeKey: 'ip' }),
    12,
    'IPs of the pod, at most one per address family.',
  ),
  startTime: field(time(), 7, 'When the kubelet accepted the pod.'),
  initContainerStatuses: field(list(ref(() => ContainerStatus), { listType: 'atomic' }), 10, 'Status of the init containers.'),
  containerStatuses: field(list(ref(() => ContainerStatus), { listType: 'atomic' }), 8, 'Status of the app containers.'),
  qosClass: field(str(), 9, 'Guaranteed, Burstable or BestEffort.'),
  ephemeralContainerStatuses: field(list(ref(() => ContainerStatus), { listType: 'atomic' }), 13, 'Status of the ephemeral containers.'),
  resize: field(str(), 14, 'Deprecated progress of an in-place resize.'),
  resourceClaimStatuses: field(
    list(ref(() => PodResourceClaimStatus), { listType: 'map', mapKeys: ['name'], patchStrategy: 'merge,retainKeys', patchMergeKey: 'name' }),
    15,
    'Generated ResourceClaims.',
  ),
});

/** SetDefaults_Pod: pod-only defaults that pod templates do not get. */
function defaultPod(o: Record<string, unknown>): void {
  const spec = o.spec;
  if (!isObj(spec)) return;
  defaultIfAbsent(spec, 'enableServiceLinks', true);
  for (const list of ['containers', 'initContainers']) {
    for (const c of asList(spec[list])) {
      const resources = asObj(asObj(c).resources);
      if (!isObj(resources.limits)) continue;
      const requests = isObj(resources.requests) ? resources.requests : {};
      for (const [name, limit] of Object.entries(resources.limits)) if (!(name in requests)) requests[name] = limit;
      if (Object.keys(requests).length > 0) resources.requests = requests;
    }
  }
}

export const Pod: StructType = struct(
  `${CORE}.Pod`,
  'A group of containers scheduled together onto a node.',
  {
    ...typeMetaFields,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    spec: field(ref(() => PodSpec), 2, 'Desired state of the pod.'),
    status: field(ref(() => PodStatus), 3, 'Observed state of the pod.'),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'Pod' }], defaults: defaultPod },
);

export const PodTemplateSpec: StructType = struct(`${CORE}.PodTemplateSpec`, 'Metadata and spec of pods created from a template.', {
  metadata: field(ref(() => ObjectMeta), 1, 'Metadata given to created pods.'),
  spec: field(ref(() => PodSpec), 2, 'Spec of created pods.'),
});

export const PodTemplate: StructType = struct(
  `${CORE}.PodTemplate`,
  'A stored template for pods.',
  {
    ...typeMetaFields,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    template: field(ref(() => PodTemplateSpec), 2, 'The pod template.'),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'PodTemplate' }] },
);
