// autoscaling/v2 HorizontalPodAutoscaler (io.k8s.api.autoscaling.v2.*). Protobuf numbers follow
// k8s.io/api/autoscaling/v2/generated.proto; defaults follow Kubernetes' autoscaling/v2 defaulting
// and checks pkg/apis/autoscaling/validation.
import { field, int32, int64, list, quantity, ref, str, struct, time, type FieldError, type StructType } from '../schema/dsl.js';
import { forbidden, invalid, notSupported, required } from '../schema/errors.js';
import { pathSegmentNameMessages } from '../validation/names.js';
import { asObj, at, type Obj } from './apps.js';
import { typeMeta } from './core-reference.js';
import { LabelSelector, ObjectMeta } from './meta.js';

const AUTOSCALING = 'io.k8s.api.autoscaling.v2';

/** CPU utilization target of the metric an HPA gets when it names none. */
export const DEFAULT_CPU_UTILIZATION = 80;

export const CrossVersionObjectReference: StructType = struct(
  `${AUTOSCALING}.CrossVersionObjectReference`,
  'Identifies an object in any API version.',
  {
    kind: field(str(), 1, 'Kind of the referent, e.g. Deployment.', { required: true }),
    name: field(str(), 2, 'Name of the referent.', { required: true }),
    apiVersion: field(str(), 3, 'API version of the referent, e.g. apps/v1.'),
  },
);

export const MetricIdentifier: StructType = struct(`${AUTOSCALING}.MetricIdentifier`, 'Names a metric, optionally narrowed by labels.', {
  name: field(str(), 1, 'Metric name.', { required: true }),
  selector: field(ref(() => LabelSelector), 2, 'Extra label selector passed to the metrics server.'),
});

export const MetricTarget: StructType = struct(`${AUTOSCALING}.MetricTarget`, 'The value a metric should be held at.', {
  type: field(str(), 1, 'Utilization, Value or AverageValue.', { required: true }),
  value: field(quantity(), 2, 'Target value of the metric.'),
  averageValue: field(quantity(), 3, 'Target per-pod average of the metric.'),
  averageUtilization: field(int32(), 4, 'Target per-pod average as a percentage of the pods\' requests (resource metrics only).'),
});

export const MetricValueStatus: StructType = struct(`${AUTOSCALING}.MetricValueStatus`, 'The current value of a metric.', {
  value: field(quantity(), 1, 'Current value.'),
  averageValue: field(quantity(), 2, 'Current per-pod average.'),
  averageUtilization: field(int32(), 3, 'Current per-pod average as a percentage of requests.'),
});

export const ObjectMetricSource: StructType = struct(`${AUTOSCALING}.ObjectMetricSource`, 'A metric describing one Kubernetes object.', {
  describedObject: field(ref(() => CrossVersionObjectReference), 1, 'The object the metric describes.', { required: true, default: {} }),
  target: field(ref(() => MetricTarget), 2, 'Target value.', { required: true, default: {} }),
  metric: field(ref(() => MetricIdentifier), 3, 'Which metric.', { required: true, default: {} }),
});

export const PodsMetricSource: StructType = struct(`${AUTOSCALING}.PodsMetricSource`, 'A metric averaged over the target\'s pods.', {
  metric: field(ref(() => MetricIdentifier), 1, 'Which metric.', { required: true, default: {} }),
  target: field(ref(() => MetricTarget), 2, 'Target value.', { required: true, default: {} }),
});

export const ResourceMetricSource: StructType = struct(`${AUTOSCALING}.ResourceMetricSource`, 'A resource (cpu, memory) metric of the target\'s pods.', {
  name: field(str(), 1, 'Resource name, e.g. cpu.', { required: true }),
  target: field(ref(() => MetricTarget), 2, 'Target value.', { required: true, default: {} }),
});

export const ContainerResourceMetricSource: StructType = struct(
  `${AUTOSCALING}.ContainerResourceMetricSource`,
  'A resource metric of one container in each of the target\'s pods.',
  {
    name: field(str(), 1, 'Resource name, e.g. cpu.', { required: true }),
    target: field(ref(() => MetricTarget), 2, 'Target value.', { required: true, default: {} }),
    container: field(str(), 3, 'Container whose usage counts.', { required: true }),
  },
);

export const ExternalMetricSource: StructType = struct(`${AUTOSCALING}.ExternalMetricSource`, 'A metric from outside the cluster.', {
  metric: field(ref(() => MetricIdentifier), 1, 'Which metric.', { required: true, default: {} }),
  target: field(ref(() => MetricTarget), 2, 'Target value.', { required: true, default: {} }),
});

export const MetricSpec: StructType = struct(`${AUTOSCALING}.MetricSpec`, 'One metric to scale on; type names the one source set.', {
  type: field(str(), 1, 'Object, Pods, Resource, ContainerResource or External.', { required: true }),
  object: field(ref(() => ObjectMetricSource), 2, 'Metric of a single object.'),
  pods: field(ref(() => PodsMetricSource), 3, 'Metric averaged over the pods.'),
  resource: field(ref(() => ResourceMetricSource), 4, 'Resource metric of the pods.'),
  containerResource: field(ref(() => ContainerResourceMetricSource), 7, 'Resource metric of one container in each pod.'),
  external: field(ref(() => ExternalMetricSource), 5, 'Metric from outside the cluster.'),
});

export const ObjectMetricStatus: StructType = struct(`${AUTOSCALING}.ObjectMetricStatus`, 'Current value of an object metric.', {
  metric: field(ref(() => MetricIdentifier), 1, 'Which metric.', { required: true, default: {} }),
  current: field(ref(() => MetricValueStatus), 2, 'Current value.', { required: true, default: {} }),
  describedObject: field(ref(() => CrossVersionObjectReference), 3, 'The object the metric describes.', { required: true, default: {} }),
});

export const PodsMetricStatus: StructType = struct(`${AUTOSCALING}.PodsMetricStatus`, 'Current value of a pods metric.', {
  metric: field(ref(() => MetricIdentifier), 1, 'Which metric.', { required: true, default: {} }),
  current: field(ref(() => MetricValueStatus), 2, 'Current value.', { required: true, default: {} }),
});

export const ResourceMetricStatus: StructType = struct(`${AUTOSCALING}.ResourceMetricStatus`, 'Current value of a resource metric.', {
  name: field(str(), 1, 'Resource name.', { required: true }),
  current: field(ref(() => MetricValueStatus), 2, 'Current value.', { required: true, default: {} }),
});

export const ContainerResourceMetricStatus: StructType = struct(
  `${AUTOSCALING}.ContainerResourceMetricStatus`,
  'Current value of a container resource metric.',
  {
    name: field(str(), 1, 'Resource name.', { required: true }),
    current: field(ref(() => MetricValueStatus), 2, 'Current value.', { required: true, default: {} }),
    container: field(str(), 3, 'Container whose usage counts.', { required: true }),
  },
);

export const ExternalMetricStatus: StructType = struct(`${AUTOSCALING}.ExternalMetricStatus`, 'Current value of an external metric.', {
  metric: field(ref(() => MetricIdentifier), 1, 'Which metric.', { required: true, default: {} }),
  current: field(ref(() => MetricValueStatus), 2, 'Current value.', { required: true, default: {} }),
});

export const MetricStatus: StructType = struct(`${AUTOSCALING}.MetricStatus`, 'Last read state of one metric.', {
  type: field(str(), 1, 'Object, Pods, Resource, ContainerResource or External.', { required: true }),
  object: field(ref(() => ObjectMetricStatus), 2, 'Object metric.'),
  pods: field(ref(() => PodsMetricStatus), 3, 'Pods metric.'),
  resource: field(ref(() => ResourceMetricStatus), 4, 'Resource metric.'),
  containerResource: field(ref(() => ContainerResourceMetricStatus), 7, 'Container resource metric.'),
  external: field(ref(() => ExternalMetricStatus), 5, 'External metric.'),
});

export const HPAScalingPolicy: StructType = struct(`${AUTOSCALING}.HPAScalingPolicy`, 'A limit on how fast replicas may change.', {
  type: field(str(), 1, 'Pods (absolute) or Percent.', { required: true }),
  value: field(int32(), 2, 'Allowed change within the period; greater than zero.', { required: true, default: 0 }),
  periodSeconds: field(int32(), 3, 'Window the change is measured over, 1 to 1800 seconds.', { required: true, default: 0 }),
});

export const HPAScalingRules: StructType = struct(`${AUTOSCALING}.HPAScalingRules`, 'Scaling policy for one direction.', {
  stabilizationWindowSeconds: field(int32(), 3, 'Seconds of past recommendations considered, 0 to 3600.'),
  selectPolicy: field(str(), 1, 'Max (the default), Min or Disabled.'),
  policies: field(list(ref(() => HPAScalingPolicy), { listType: 'atomic' }), 2, 'Candidate policies; selectPolicy picks among them.'),
});

export const HorizontalPodAutoscalerBehavior: StructType = struct(
  `${AUTOSCALING}.HorizontalPodAutoscalerBehavior`,
  'Scaling policies for both directions.',
  {
    scaleUp: field(ref(() => HPAScalingRules), 1, 'Policy for scaling up.'),
    scaleDown: field(ref(() => HPAScalingRules), 2, 'Policy for scaling down.'),
  },
);

export const HorizontalPodAutoscalerSpec: StructType = struct(
  `${AUTOSCALING}.HorizontalPodAutoscalerSpec`,
  'Desired autoscaling behaviour.',
  {
    scaleTargetRef: field(ref(() => CrossVersionObjectReference), 1, 'The scalable object whose replicas are managed.', { required: true, default: {} }),
    minReplicas: field(int32(), 2, 'Lowest replica count; defaults to 1.', { default: 1 }),
    maxReplicas: field(int32(), 3, 'Highest replica count; at least minReplicas.', { required: true, default: 0 }),
    metrics: field(list(ref(() => MetricSpec), { listType: 'atomic' }), 4, 'Metrics to scale on; 80% average CPU utilization when empty.'),
    behavior: field(ref(() => HorizontalPodAutoscalerBehavior), 5, 'Scaling policies; Kubernetes defaults when unset.'),
  },
  { defaults: defaultHPASpec, validate: validateHPASpec },
);

export const HorizontalPodAutoscalerCondition: StructType = struct(
  `${AUTOSCALING}.HorizontalPodAutoscalerCondition`,
  'One observed aspect of an autoscaler\'s state.',
  {
    type: field(str(), 1, 'AbleToScale, ScalingActive or ScalingLimited.', { required: true }),
    status: field(str(), 2, 'True, False or Unknown.', { required: true }),
    lastTransitionTime: field(time(), 3, 'When the status last changed.'),
    reason: field(str(), 4, 'Machine-readable reason for the last transition.'),
    message: field(str(), 5, 'Human-readable details about the last transition.'),
  },
);

export const HorizontalPodAutoscalerStatus: StructType = struct(
  `${AUTOSCALING}.HorizontalPodAutoscalerStatus`,
  'Observed state of an autoscaler.',
  {
    observedGeneration: field(int64(), 1, 'Generation last acted on.'),
    lastScaleTime: field(time(), 2, 'When the replica count was last changed.'),
    currentReplicas: field(int32(), 3, 'Replicas last seen.'),
    desiredReplicas: field(int32(), 4, 'Replicas last computed.', { required: true, default: 0 }),
    currentMetrics: field(list(ref(() => MetricStatus), { listType: 'atomic' }), 5, 'Last read metric values.'),
    conditions: field(
      list(ref(() => HorizontalPodAutoscalerCondition), { listType: 'map', mapKeys: ['type'], patchStrategy: 'merge', patchMergeKey: 'type' }),
      6,
      'Whether the autoscaler can scale and why.',
    ),
  },
);

export const HorizontalPodAutoscaler: StructType = struct(
  `${AUTOSCALING}.HorizontalPodAutoscaler`,
  'Scales a workload\'s replicas to keep metrics at their targets.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    spec: field(ref(() => HorizontalPodAutoscalerSpec), 2, 'Desired behaviour.', { default: {} }),
    status: field(ref(() => HorizontalPodAutoscalerStatus), 3, 'Observed state, written by the autoscaler.', { default: {} }),
  },
  { gvk: [{ group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler' }] },
);

// ---- defaulting ------------------------------------------------------------------------------------

const scaleUpDefaults = (): Obj => ({
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
});

// The scale-down window stays unset: the controller's --horizontal-pod-autoscaler-downscale-stabilization applies.
const scaleDownDefaults = (): Obj => ({ selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });

/** Fills every unset field of a direction's rules from Kubernetes' defaults. */
function completeRules(given: unknown, defaults: Obj): Obj {
  const from = asObj(given);
  if (!from) return defaults;
  for (const key of ['selectPolicy', 'stabilizationWindowSeconds', 'policies']) {
    if (from[key] !== undefined && from[key] !== null) defaults[key] = from[key];
  }
  return defaults;
}

/** SetDefaults_HorizontalPodAutoscaler: minReplicas 1, an 80% CPU metric, complete behavior. */
export function defaultHPASpec(spec: Obj): void {
  spec.minReplicas ??= 1;
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
  }
  const behavior = asObj(spec.behavior);
  if (behavior) {
    behavior.scaleUp = completeRules(behavior.scaleUp, scaleUpDefaults());
    behavior.scaleDown = completeRules(behavior.scaleDown, scaleDownDefaults());
  }
}

// ---- validation ------------------------------------------------------------------------------------

const METRIC_SOURCE_TYPES = ['Object', 'Pods', 'Resource', 'External', 'ContainerResource'];
const SOURCE_FIELD: Record<string, string> = { Object: 'object', Pods: 'pods', Resource: 'resource', External: 'external', ContainerResource: 'containerResource' };
const METRIC_TARGET_TYPES = ['Utilization', 'Value', 'AverageValue'];
const SELECT_POLICIES = ['Disabled', 'Max', 'Min'];
const SCALING_POLICY_TYPES = ['Pods', 'Percent'];

function validateCrossVersionObjectReference(ref: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const key of ['kind', 'name']) {
    const v = ref[key];
    if (typeof v === 'string' && v !== '') errs.push(...pathSegmentNameMessages(v).map((m) => invalid(at(path, key), v, m)));
  }
  return errs;
}

function validateMetricTarget(target: Obj | undefined, path: string): FieldError[] {
  const t = target ?? {};
  const errs: FieldError[] = [];
  if (t.type && !METRIC_TARGET_TYPES.includes(t.type as string)) errs.push(notSupported(at(path, 'type'), t.type, METRIC_TARGET_TYPES));
  if (typeof t.averageUtilization === 'number' && t.averageUtilization < 1) {
    errs.push(invalid(at(path, 'averageUtilization'), t.averageUtilization, 'must be greater than 0'));
  }
  if (t.value == null && t.averageValue == null && t.averageUtilization == null) {
    errs.push(required(path, 'must set either a target value, average value or average utilization'));
  }
  return errs;
}

function validateMetricSource(type: string, source: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (type === 'Object') errs.push(...validateCrossVersionObjectReference(asObj(source.describedObject) ?? {}, at(path, 'describedObject')));
  const target = asObj(source.target);
  errs.push(...validateMetricTarget(target, at(path, 'target')));
  if (type === 'Pods' && target && target.type !== undefined && target.type !== 'AverageValue') {
    errs.push(notSupported(at(path, 'target.type'), target.type, ['AverageValue']));
  }
  return errs;
}

function validateMetricSpec(spec: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const type = typeof spec.type === 'string' ? spec.type : '';
  if (type !== '' && !METRIC_SOURCE_TYPES.includes(type)) errs.push(notSupported(at(path, 'type'), type, METRIC_SOURCE_TYPES));
  const present = Object.values(SOURCE_FIELD).filter((f) => asObj(spec[f]));
  const expected = SOURCE_FIELD[type];
  if (expected && !asObj(spec[expected])) errs.push(required(at(path, expected), 'must populate information for the given metric source'));
  if (present.length === 1) {
    const sourceType = Object.keys(SOURCE_FIELD).find((k) => SOURCE_FIELD[k] === present[0])!;
    errs.push(...validateMetricSource(sourceType, asObj(spec[present[0]])!, at(path, present[0])));
  }
  if (present.length !== 1) {
    for (const f of present) if (f !== expected) errs.push(forbidden(at(path, f), 'must populate the given metric source only'));
  }
  return errs;
}

function validateScalingRules(rules: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const window = rules.stabilizationWindowSeconds;
  if (typeof window === 'number' && window < 0) errs.push(invalid(at(path, 'stabilizationWindowSeconds'), window, 'must be greater than or equal to zero'));
  if (typeof window === 'number' && window > 3600) errs.push(invalid(at(path, 'stabilizationWindowSeconds'), window, 'must be less than or equal to 3600'));
  if (typeof rules.selectPolicy === 'string' && !SELECT_POLICIES.includes(rules.selectPolicy)) {
    errs.push(notSupported(at(path, 'selectPolicy'), rules.selectPolicy, SELECT_POLICIES));
  }
  const policies = Array.isArray(rules.policies) ? rules.policies : [];
  if (policies.length === 0) errs.push(required(at(path, 'policies'), 'must specify at least one Policy'));
  policies.forEach((p, i) => {
    const policy = asObj(p) ?? {};
    const pp = `${at(path, 'policies')}[${i}]`;
    if (!SCALING_POLICY_TYPES.includes(policy.type as string)) errs.push(notSupported(at(pp, 'type'), policy.type ?? '', SCALING_POLICY_TYPES));
    const value = typeof policy.value === 'number' ? policy.value : 0;
    if (value <= 0) errs.push(invalid(at(pp, 'value'), value, 'must be greater than zero'));
    const period = typeof policy.periodSeconds === 'number' ? policy.periodSeconds : 0;
    if (period <= 0) errs.push(invalid(at(pp, 'periodSeconds'), period, 'must be greater than zero'));
    if (period > 1800) errs.push(invalid(at(pp, 'periodSeconds'), period, 'must be less than or equal to 1800'));
  });
  return errs;
}

/** validateHorizontalPodAutoscalerSpec (without the HPAScaleToZero alpha: minReplicas must be at least 1). */
export function validateHPASpec(spec: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const min = spec.minReplicas;
  const max = typeof spec.maxReplicas === 'number' ? spec.maxReplicas : 0;
  if (typeof min === 'number' && min < 1) errs.push(invalid(at(path, 'minReplicas'), min, 'must be greater than or equal to 1'));
  if (max < 1) errs.push(invalid(at(path, 'maxReplicas'), max, 'must be greater than 0'));
  if (typeof min === 'number' && max < min) errs.push(invalid(at(path, 'maxReplicas'), max, 'must be greater than or equal to `minReplicas`'));
  const refErrs = validateCrossVersionObjectReference(asObj(spec.scaleTargetRef) ?? {}, at(path, 'scaleTargetRef'));
  errs.push(...refErrs);
  if (refErrs.length === 0) {
    const metrics = Array.isArray(spec.metrics) ? spec.metrics : [];
    metrics.forEach((m, i) => errs.push(...validateMetricSpec(asObj(m) ?? {}, `${at(path, 'metrics')}[${i}]`)));
  }
  const behavior = asObj(spec.behavior);
  if (behavior) {
    for (const dir of ['scaleUp', 'scaleDown']) {
      const rules = asObj(behavior[dir]);
      if (rules) errs.push(...validateScalingRules(rules, at(at(path, 'behavior'), dir)));
    }
  }
  return errs;
}
