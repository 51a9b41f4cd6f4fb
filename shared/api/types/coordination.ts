// coordination.k8s.io/v1 Lease (io.k8s.api.coordination.v1.*): node heartbeats and leader election.
// Protobuf numbers follow k8s.io/api/coordination/v1/generated.proto.
import { field, int32, microTime, ref, str, struct, type FieldError, type StructType } from '../schema/dsl.js';
import { invalid } from '../schema/errors.js';
import { at } from './apps.js';
import { typeMeta } from './core-reference.js';
import { ObjectMeta } from './meta.js';

const COORDINATION = 'io.k8s.api.coordination.v1';

export const LeaseSpec: StructType = struct(
  `${COORDINATION}.LeaseSpec`,
  'Who holds a lease and for how long.',
  {
    holderIdentity: field(str(), 1, 'Identity of the current holder.'),
    leaseDurationSeconds: field(int32(), 2, 'Seconds other candidates wait after the last renewal before taking the lease.'),
    acquireTime: field(microTime(), 3, 'When the current holder acquired the lease.'),
    renewTime: field(microTime(), 4, 'When the current holder last renewed the lease.'),
    leaseTransitions: field(int32(), 5, 'How many times the lease changed hands.'),
  },
  {
    validate: (spec, path) => {
      const errs: FieldError[] = [];
      const duration = spec.leaseDurationSeconds;
      if (typeof duration === 'number' && duration <= 0) errs.push(invalid(at(path, 'leaseDurationSeconds'), duration, 'must be greater than 0'));
      const transitions = spec.leaseTransitions;
      if (typeof transitions === 'number' && transitions < 0) {
        errs.push(invalid(at(path, 'leaseTransitions'), transitions, 'must be greater than or equal to 0'));
      }
      return errs;
    },
  },
);

export const Lease: StructType = struct(
  `${COORDINATION}.Lease`,
  'A time-bound claim on something, renewed by its holder.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    spec: field(ref(() => LeaseSpec), 2, 'Holder and timing of the lease.', { default: {} }),
  },
  { gvk: [{ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' }] },
);
