// io.k8s.api.autoscaling.v1.Scale: the body of every /scale subresource (Deployments,
// ReplicaSets, StatefulSets, ReplicationControllers, custom resources).
import { field, int32, ref, str, struct, type StructType } from '../schema/dsl.js';
import { ObjectMeta } from './meta.js';

const AUTOSCALING_V1 = 'io.k8s.api.autoscaling.v1';

export const ScaleSpec: StructType = struct(`${AUTOSCALING_V1}.ScaleSpec`, 'Desired size of a scalable object.', {
  replicas: field(int32(), 1, 'Desired number of replicas.'),
});

export const ScaleStatus: StructType = struct(`${AUTOSCALING_V1}.ScaleStatus`, 'Observed size of a scalable object.', {
  // Go serialises replicas even when zero.
  replicas: field(int32(), 1, 'Number of replicas observed.', { required: true, default: 0 }),
  selector: field(str(), 2, 'Label selector of the counted pods, in query-string form (e.g. app=web).'),
});

export const Scale: StructType = struct(
  `${AUTOSCALING_V1}.Scale`,
  'Desired and observed replica count of a scalable object, as read and written through /scale.',
  {
    apiVersion: field(str(), undefined, 'Versioned schema of this representation (group/version).'),
    kind: field(str(), undefined, 'REST resource kind this object represents, in CamelCase.'),
    metadata: field(ref(() => ObjectMeta), 1, 'Metadata of the scaled object.'),
    spec: field(ref(() => ScaleSpec), 2, 'Desired replica count.', { default: {} }),
    status: field(ref(() => ScaleStatus), 3, 'Observed replica count; read-only.', { default: {} }),
  },
  { gvk: [{ group: 'autoscaling', version: 'v1', kind: 'Scale' }] },
);
