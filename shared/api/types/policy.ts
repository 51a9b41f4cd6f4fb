// policy/v1 types (io.k8s.api.policy.v1.*): PodDisruptionBudget and the Eviction body of
// pods/eviction. Protobuf numbers follow k8s.io/api/policy/v1/generated.proto; checks follow
// pkg/apis/policy/validation.
import { field, int32, int64, intOrString, list, map, ref, str, struct, time, type FieldError, type StructType } from '../schema/dsl.js';
import { invalid, notSupported } from '../schema/errors.js';
import { at, nonNegative, validateNotMoreThan100Percent, validatePositiveIntOrPercent } from './apps.js';
import { typeMeta } from './core-reference.js';
import { Condition, DeleteOptions, LabelSelector, ObjectMeta } from './meta.js';

const POLICY = 'io.k8s.api.policy.v1';

const UNHEALTHY_POD_EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'];

export const PodDisruptionBudgetSpec: StructType = struct(
  `${POLICY}.PodDisruptionBudgetSpec`,
  'How many of the selected pods voluntary disruptions must leave running.',
  {
    minAvailable: field(intOrString(), 1, 'Pods (number or percent) that must stay available after an eviction.'),
    selector: field(ref(() => LabelSelector), 2, 'Pods the budget covers; an empty selector covers every pod in the namespace.', { patchStrategy: 'replace' }),
    maxUnavailable: field(intOrString(), 3, 'Pods (number or percent) that may be unavailable after an eviction.'),
    unhealthyPodEvictionPolicy: field(str(), 4, 'IfHealthyBudget (the default behaviour) or AlwaysAllow eviction of running but unhealthy pods.'),
  },
  {
    validate: (spec, path) => {
      const errs: FieldError[] = [];
      if (spec.minAvailable != null && spec.maxUnavailable != null) {
        errs.push(invalid(path, spec, 'minAvailable and maxUnavailable cannot be both set'));
      }
      for (const name of ['minAvailable', 'maxUnavailable']) {
        if (spec[name] == null) continue;
        errs.push(...validatePositiveIntOrPercent(spec[name], at(path, name)), ...validateNotMoreThan100Percent(spec[name], at(path, name)));
      }
      const policy = spec.unhealthyPodEvictionPolicy;
      if (typeof policy === 'string' && !UNHEALTHY_POD_EVICTION_POLICIES.includes(policy)) {
        errs.push(notSupported(at(path, 'unhealthyPodEvictionPolicy'), policy, UNHEALTHY_POD_EVICTION_POLICIES));
      }
      return errs;
    },
  },
);

export const PodDisruptionBudgetStatus: StructType = struct(`${POLICY}.PodDisruptionBudgetStatus`, 'Observed state of a PodDisruptionBudget.', {
  observedGeneration: field(int64(), 1, 'Generation the status was computed for.', { validate: nonNegative }),
  disruptedPods: field(map(time()), 2, 'Pods evicted but not yet seen deleted, with the time of eviction.'),
  disruptionsAllowed: field(int32(), 3, 'Evictions allowed right now.', { required: true, default: 0, validate: nonNegative }),
  currentHealthy: field(int32(), 4, 'Selected pods that are healthy.', { required: true, default: 0, validate: nonNegative }),
  desiredHealthy: field(int32(), 5, 'Healthy pods the budget requires.', { required: true, default: 0, validate: nonNegative }),
  expectedPods: field(int32(), 6, 'Pods counted by the budget.', { required: true, default: 0, validate: nonNegative }),
  conditions: field(
    list(ref(() => Condition), { listType: 'map', mapKeys: ['type'], patchStrategy: 'merge', patchMergeKey: 'type' }),
    7,
    'Latest observations, e.g. DisruptionAllowed.',
  ),
});

export const PodDisruptionBudget: StructType = struct(
  `${POLICY}.PodDisruptionBudget`,
  'Limits how many pods of an application voluntary disruptions may take down at once.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    spec: field(ref(() => PodDisruptionBudgetSpec), 2, 'The budget.', { default: {} }),
    status: field(ref(() => PodDisruptionBudgetStatus), 3, 'Observed state, written by the disruption controller.', { default: {} }),
  },
  { gvk: [{ group: 'policy', version: 'v1', kind: 'PodDisruptionBudget' }] },
);

export const Eviction: StructType = struct(
  `${POLICY}.Eviction`,
  'A request to evict a pod, honouring disruption budgets (POST to pods/<name>/eviction).',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Names the pod to evict.'),
    deleteOptions: field(ref(() => DeleteOptions), 2, 'Options for the resulting delete.'),
  },
  { gvk: [{ group: 'policy', version: 'v1', kind: 'Eviction' }] },
);
