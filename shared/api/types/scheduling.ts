// scheduling.k8s.io/v1 PriorityClass (io.k8s.api.scheduling.v1.*). Protobuf numbers follow
// k8s.io/api/scheduling/v1/generated.proto; checks follow pkg/apis/scheduling/validation.
import { bool, field, int32, ref, str, struct, type FieldError, type StructType } from '../schema/dsl.js';
import { forbidden, notSupported, required } from '../schema/errors.js';
import { typeMeta } from './core-reference.js';
import { ObjectMeta } from './meta.js';

const SCHEDULING = 'io.k8s.api.scheduling.v1';

/** Values above this are reserved for the system-* classes. */
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
export const SYSTEM_PRIORITY_CLASS_PREFIX = 'system-';

/** The classes Kubernetes creates itself; only these may use the system- prefix. */
export const SYSTEM_PRIORITY_CLASSES: readonly { name: string; value: number; globalDefault: boolean; description: string }[] = [
  { name: 'system-node-critical', value: 2_000_001_000, globalDefault: false, description: 'Used for system critical pods that must not be moved from their current node.' },
  { name: 'system-cluster-critical', value: 2_000_000_000, globalDefault: false, description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.' },
];

const PREEMPTION_POLICIES = ['PreemptLowerPriority', 'Never'];

/** IsKnownSystemPriorityClass: undefined when the class matches a system class, else why not. */
function systemClassProblem(name: string, value: unknown, globalDefault: unknown): string | undefined {
  const known = SYSTEM_PRIORITY_CLASSES.find((c) => c.name === name);
  if (!known) return `${name} is not a known system priority class`;
  if (known.value !== value) return `value of ${name} PriorityClass must be ${known.value}`;
  if (known.globalDefault !== (globalDefault === true)) return `globalDefault of ${name} PriorityClass must be ${known.globalDefault}`;
  return undefined;
}

/** ValidatePriorityClass (create and update alike; update-only rules live with the kind). */
export function validatePriorityClass(pc: Record<string, unknown>): FieldError[] {
  const errs: FieldError[] = [];
  const name = String((pc.metadata as Record<string, unknown> | undefined)?.name ?? '');
  if (name.startsWith(SYSTEM_PRIORITY_CLASS_PREFIX)) {
    const problem = systemClassProblem(name, pc.value, pc.globalDefault);
    if (problem) {
      errs.push(forbidden('metadata.name', `priority class names with '${SYSTEM_PRIORITY_CLASS_PREFIX}' prefix are reserved for system use only. error: ${problem}`));
    }
  } else if (typeof pc.value === 'number' && pc.value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errs.push(forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  }
  const policy = pc.preemptionPolicy;
  if (policy === '') errs.push(required('preemptionPolicy', ''));
  else if (typeof policy === 'string' && !PREEMPTION_POLICIES.includes(policy)) errs.push(notSupported('preemptionPolicy', policy, PREEMPTION_POLICIES));
  return errs;
}

export const PriorityClass: StructType = struct(
  `${SCHEDULING}.PriorityClass`,
  'Maps a class name to the scheduling priority pods of that class get.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    value: field(int32(), 2, 'Priority given to pods that name this class.', { required: true, default: 0 }),
    globalDefault: field(bool(), 3, 'True makes this the priority of pods that name no class.'),
    description: field(str(), 4, 'Free text on when to use this class.'),
    preemptionPolicy: field(str(), 5, 'PreemptLowerPriority (the default) or Never.', { default: 'PreemptLowerPriority' }),
  },
  { gvk: [{ group: 'scheduling.k8s.io', version: 'v1', kind: 'PriorityClass' }] },
);
