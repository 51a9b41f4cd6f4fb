// Small schemas for the patch and apply tests, shaped like the real k8s.io/api types they mirror
// (merge keys, list types and map types as Kubernetes declares them).
import { any, bool, bytes, field, int32, int64, intOrString, list, map, quantity, ref, str, struct, time, type StructType } from '../../../shared/api/schema/dsl.js';

const typeMeta = {
  apiVersion: field(str(), undefined, 'API version.'),
  kind: field(str(), undefined, 'Kind.'),
};

export const OwnerReference: StructType = struct(
  'test.OwnerReference',
  'Owner.',
  {
    apiVersion: field(str(), 5, 'Owner API version.', { required: true }),
    kind: field(str(), 1, 'Owner kind.', { required: true }),
    name: field(str(), 3, 'Owner name.', { required: true }),
    uid: field(str(), 4, 'Owner UID.', { required: true }),
    controller: field(bool(), 6, 'Managing controller.'),
  },
  { mapType: 'atomic' },
);

export const ObjectMeta: StructType = struct('test.ObjectMeta', 'Metadata.', {
  name: field(str(), 1, 'Name.'),
  generateName: field(str(), 2, 'Name prefix.'),
  namespace: field(str(), 3, 'Namespace.'),
  uid: field(str(), 5, 'UID.'),
  resourceVersion: field(str(), 6, 'Version.'),
  generation: field(int64(), 7, 'Generation.'),
  creationTimestamp: field(time(), 8, 'Created.'),
  labels: field(map(str()), 11, 'Labels.'),
  annotations: field(map(str()), 12, 'Annotations.'),
  ownerReferences: field(list(ref(() => OwnerReference), { listType: 'map', mapKeys: ['uid'], patchStrategy: 'merge', patchMergeKey: 'uid' }), 13, 'Owners.'),
  finalizers: field(list(str(), { listType: 'set', patchStrategy: 'merge' }), 14, 'Finalizers.'),
  managedFields: field(list(any(), { listType: 'atomic' }), 17, 'Managed fields.'),
});

export const ConfigMap: StructType = struct('test.ConfigMap', 'ConfigMap.', {
  ...typeMeta,
  metadata: field(ref(() => ObjectMeta), 1, 'Metadata.'),
  data: field(map(str()), 2, 'Data.'),
  binaryData: field(map(bytes()), 3, 'Binary data.'),
  immutable: field(bool(), 4, 'Immutable.'),
});

const ContainerPort: StructType = struct('test.ContainerPort', 'Port.', {
  name: field(str(), 1, 'Port name.'),
  containerPort: field(int32(), 3, 'Port number.', { required: true }),
  protocol: field(str(), 4, 'Protocol.', { default: 'TCP' }),
});

const EnvVar: StructType = struct('test.EnvVar', 'Env var.', {
  name: field(str(), 1, 'Name.', { required: true }),
  value: field(str(), 2, 'Value.'),
});

const VolumeMount: StructType = struct('test.VolumeMount', 'Mount.', {
  name: field(str(), 1, 'Volume name.', { required: true }),
  mountPath: field(str(), 3, 'Mount path.', { required: true }),
  readOnly: field(bool(), 2, 'Read-only.'),
});

const ResourceRequirements: StructType = struct('test.ResourceRequirements', 'Resources.', {
  limits: field(map(quantity()), 1, 'Limits.'),
  requests: field(map(quantity()), 2, 'Requests.'),
});

export const Container: StructType = struct('test.Container', 'Container.', {
  name: field(str(), 1, 'Name.', { required: true }),
  image: field(str(), 2, 'Image.'),
  args: field(list(str(), { listType: 'atomic' }), 4, 'Arguments.'),
  ports: field(
    list(ref(() => ContainerPort), { listType: 'map', mapKeys: ['containerPort', 'protocol'], patchStrategy: 'merge', patchMergeKey: 'containerPort' }),
    6,
    'Ports.',
  ),
  env: field(list(ref(() => EnvVar), { listType: 'map', mapKeys: ['name'], patchStrategy: 'merge', patchMergeKey: 'name' }), 7, 'Env.'),
  resources: field(ref(() => ResourceRequirements), 8, 'Resources.'),
  volumeMounts: field(list(ref(() => VolumeMount), { listType: 'map', mapKeys: ['mountPath'], patchStrategy: 'merge', patchMergeKey: 'mountPath' }), 9, 'Mounts.'),
  terminationMessagePath: field(str(), 13, 'Termination message path.'),
  imagePullPolicy: field(str(), 14, 'Pull policy.'),
  terminationMessagePolicy: field(str(), 20, 'Termination message policy.'),
});

const EmptyDir: StructType = struct('test.EmptyDirVolumeSource', 'Empty dir.', { medium: field(str(), 1, 'Medium.') });
const ConfigMapVolume: StructType = struct('test.ConfigMapVolumeSource', 'ConfigMap volume.', { name: field(str(), 1, 'ConfigMap name.') });

const Volume: StructType = struct('test.Volume', 'Volume.', {
  name: field(str(), 1, 'Name.', { required: true }),
  emptyDir: field(ref(() => EmptyDir), 2, 'Empty dir.'),
  configMap: field(ref(() => ConfigMapVolume), 3, 'ConfigMap.'),
});

const PodSecurityContext: StructType = struct('test.PodSecurityContext', 'Security context.', { runAsUser: field(int64(), 2, 'UID.') });

const Toleration: StructType = struct('test.Toleration', 'Toleration.', { key: field(str(), 1, 'Key.'), operator: field(str(), 2, 'Operator.') });

export const PodSpec: StructType = struct('test.PodSpec', 'Pod spec.', {
  volumes: field(list(ref(() => Volume), { listType: 'map', mapKeys: ['name'], patchStrategy: 'merge,retainKeys', patchMergeKey: 'name' }), 1, 'Volumes.'),
  containers: field(list(ref(() => Container), { listType: 'map', mapKeys: ['name'], patchStrategy: 'merge', patchMergeKey: 'name' }), 2, 'Containers.', { required: true }),
  restartPolicy: field(str(), 3, 'Restart policy.'),
  terminationGracePeriodSeconds: field(int64(), 4, 'Grace period.'),
  dnsPolicy: field(str(), 6, 'DNS policy.'),
  nodeSelector: field(map(str()), 7, 'Node selector.'),
  securityContext: field(ref(() => PodSecurityContext), 14, 'Security context.'),
  schedulerName: field(str(), 19, 'Scheduler.'),
  tolerations: field(list(ref(() => Toleration), { listType: 'atomic' }), 22, 'Tolerations.'),
});

const PodTemplateSpec: StructType = struct('test.PodTemplateSpec', 'Pod template.', {
  metadata: field(ref(() => ObjectMeta), 1, 'Metadata.'),
  spec: field(ref(() => PodSpec), 2, 'Spec.'),
});

const LabelSelector: StructType = struct('test.LabelSelector', 'Selector.', { matchLabels: field(map(str()), 1, 'Labels.') }, { mapType: 'atomic' });

const RollingUpdate: StructType = struct('test.RollingUpdateDeployment', 'Rolling update.', {
  maxUnavailable: field(intOrString(), 1, 'Max unavailable.'),
  maxSurge: field(intOrString(), 2, 'Max surge.'),
});

const DeploymentStrategy: StructType = struct('test.DeploymentStrategy', 'Strategy.', {
  type: field(str(), 1, 'Type.'),
  rollingUpdate: field(ref(() => RollingUpdate), 2, 'Rolling update.'),
});

const Condition: StructType = struct('test.DeploymentCondition', 'Condition.', {
  type: field(str(), 1, 'Type.', { required: true }),
  status: field(str(), 2, 'Status.', { required: true }),
});

export const Deployment: StructType = struct('test.Deployment', 'Deployment.', {
  ...typeMeta,
  metadata: field(ref(() => ObjectMeta), 1, 'Metadata.'),
  spec: field(
    ref(() =>
      struct('test.DeploymentSpec', 'Spec.', {
        replicas: field(int32(), 1, 'Replicas.'),
        selector: field(ref(() => LabelSelector), 2, 'Selector.', { required: true }),
        template: field(ref(() => PodTemplateSpec), 3, 'Template.', { required: true }),
        strategy: field(ref(() => DeploymentStrategy), 4, 'Strategy.'),
        minReadySeconds: field(int32(), 5, 'Min ready.'),
        revisionHistoryLimit: field(int32(), 6, 'History.'),
        progressDeadlineSeconds: field(int32(), 9, 'Deadline.'),
        config: field(any(), 99, 'Free-form settings (stands in for RawExtension-like fields).'),
      }),
    ),
    2,
    'Spec.',
  ),
  status: field(
    ref(() =>
      struct('test.DeploymentStatus', 'Status.', {
        replicas: field(int32(), 2, 'Replicas.'),
        conditions: field(list(ref(() => Condition), { listType: 'map', mapKeys: ['type'], patchStrategy: 'merge', patchMergeKey: 'type' }), 6, 'Conditions.'),
      }),
    ),
    3,
    'Status.',
  ),
});
