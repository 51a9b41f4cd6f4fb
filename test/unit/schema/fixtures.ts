// A small Deployment-like schema used by the schema tests.
import { any, bool, bytes, double, field, int32, int64, intOrString, list, map, quantity, ref, str, struct, time } from '../../../shared/api/schema/dsl.js';
import type { StructType } from '../../../shared/api/schema/dsl.js';

export const Port: StructType = struct('io.k8s.api.core.v1.ContainerPort', 'A port.', {
  containerPort: field(int32(), 3, 'Port number.', { required: true }),
  protocol: field(str({ enum: ['TCP', 'UDP', 'SCTP'] }), 4, 'Protocol.', { default: 'TCP' }),
});

export const Container: StructType = struct(
  'io.k8s.api.core.v1.Container',
  'A container.',
  {
    name: field(str(), 1, 'Name.', { required: true }),
    image: field(str(), 2, 'Image.'),
    imagePullPolicy: field(str({ enum: ['Always', 'Never', 'IfNotPresent'] }), 14, 'Pull policy.'),
    ports: field(list(ref(() => Port), { listType: 'map', mapKeys: ['containerPort', 'protocol'] }), 6, 'Ports.'),
    resources: field(ref(() => Resources), 8, 'Resources.'),
    args: field(list(str()), 4, 'Args.'),
  },
  {
    defaults: (c) => {
      if (c.imagePullPolicy === undefined) {
        const image = String(c.image ?? '');
        c.imagePullPolicy = image.endsWith(':latest') || !image.includes(':') ? 'Always' : 'IfNotPresent';
      }
    },
  },
);

export const Resources: StructType = struct('io.k8s.api.core.v1.ResourceRequirements', 'Resources.', {
  limits: field(map(quantity()), 1, 'Limits.'),
  requests: field(map(quantity()), 2, 'Requests.'),
});

export const PodSpec: StructType = struct('io.k8s.api.core.v1.PodSpec', 'Pod spec.', {
  containers: field(list(ref(() => Container)), 2, 'Containers.', { required: true }),
  restartPolicy: field(str({ enum: ['Always', 'OnFailure', 'Never'] }), 3, 'Restart policy.', { default: 'Always' }),
  nodeSelector: field(map(str()), 7, 'Node selector.'),
  terminationGracePeriodSeconds: field(int64(), 4, 'Grace.', { default: 30 }),
  hostNetwork: field(bool(), 11, 'Host network.'),
});

export const Template: StructType = struct('io.k8s.api.core.v1.PodTemplateSpec', 'Template.', {
  metadata: field(any(), 1, 'Metadata.'),
  spec: field(ref(() => PodSpec), 2, 'Spec.'),
});

export const Strategy: StructType = struct('io.k8s.api.apps.v1.DeploymentStrategy', 'Strategy.', {
  type: field(str({ enum: ['Recreate', 'RollingUpdate'] }), 1, 'Type.'),
  maxSurge: field(intOrString(), 2, 'Max surge.'),
});

export const DeploymentSpec: StructType = struct(
  'io.k8s.api.apps.v1.DeploymentSpec',
  'Deployment spec.',
  {
    replicas: field(int32(), 1, 'Replicas.', { default: 1 }),
    selector: field(any(), 2, 'Selector.', { required: true }),
    template: field(ref(() => Template), 3, 'Template.', { required: true }),
    strategy: field(ref(() => Strategy), 4, 'Strategy.', { default: { type: 'RollingUpdate' } }),
    progressDeadlineSeconds: field(int32(), 9, 'Deadline.'),
    weight: field(double(), 10, 'Test-only float.'),
    payload: field(bytes(), 11, 'Test-only bytes.'),
  },
  {
    validate: (spec, path) =>
      typeof spec.replicas === 'number' && spec.replicas < 0
        ? [{ reason: 'FieldValueInvalid', field: `${path}.replicas`, message: `Invalid value: ${spec.replicas}: must be greater than or equal to 0` }]
        : [],
  },
);

export const DeploymentStatus: StructType = struct('io.k8s.api.apps.v1.DeploymentStatus', 'Status.', {
  replicas: field(int32(), 2, 'Replicas.'),
  lastUpdateTime: field(time(), 6, 'Test-only time.'),
});

export const Deployment: StructType = struct('io.k8s.api.apps.v1.Deployment', 'Deployment.', {
  spec: field(ref(() => DeploymentSpec), 2, 'Spec.'),
  status: field(ref(() => DeploymentStatus), 3, 'Status.'),
});

export function sampleDeployment(): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'nginx:1.25', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '500m' } } }] },
      },
    },
  };
}
