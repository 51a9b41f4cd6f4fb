// apps/v1 workload types (io.k8s.api.apps.v1.*): Deployment, ReplicaSet, DaemonSet, StatefulSet and
// ControllerRevision. Protobuf numbers follow k8s.io/api/apps/v1/generated.proto, defaults follow
// Kubernetes' apps/v1 defaulting, checks follow pkg/apis/apps/validation and are worded the same way.
import {
  any,
  bool,
  field,
  int32,
  int64,
  intOrString,
  list,
  ref,
  str,
  struct,
  time,
  type FieldError,
  type FieldValidator,
  type StructType,
} from '../schema/dsl.js';
import { forbidden, invalid, notSupported, required } from '../schema/errors.js';
import { isEverything, labelSelectorFromStruct, matchesLabels, type MetaLabelSelector } from '../selectors/labels.js';
import { regexMessage } from '../validation/names.js';
import { goStringSlice } from '../validation/render.js';
import { PersistentVolumeClaim, PodTemplateSpec } from './core-pod.js';
import { typeMeta } from './core-reference.js';
import { LabelSelector, ObjectMeta } from './meta.js';

const APPS = 'io.k8s.api.apps.v1';

// ---- helpers shared by the workload groups (apps, batch, policy) --------------------------------

export type Obj = Record<string, unknown>;

export function asObj(v: unknown): Obj | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}

/** Child path as Kubernetes prints it ('' at the root). */
export function at(path: string, child: string): string {
  return path ? `${path}.${child}` : child;
}

const isEmptyOrAbsent = (v: unknown): boolean =>
  v === undefined || v === null || (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && Object.keys(v as Obj).length === 0);

/**
 * Kubernetes' semantic equality of decoded JSON values: key order is ignored and, as in Go, an
 * absent, null, empty list and empty map are all the same thing.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isEmptyOrAbsent(a) && isEmptyOrAbsent(b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ao = a as Obj;
  const bo = b as Obj;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!deepEqual(ao[k], bo[k])) return false;
  return true;
}

export const NEGATIVE_MESSAGE = 'must be greater than or equal to 0';
export const FIELD_IMMUTABLE = 'field is immutable';
export const SELECTOR_MISMATCH = '`selector` does not match template `labels`';

/** ValidateNonnegativeField as a per-field check. */
export const nonNegative: FieldValidator = (v, path) => (typeof v === 'number' && v < 0 ? [invalid(path, v, NEGATIVE_MESSAGE)] : []);

/** An Invalid error whose bad value is already rendered the way Go's %#v prints it. */
export function invalidGo(field: string, rendered: string, detail: string): FieldError {
  return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${rendered}${detail ? `: ${detail}` : ''}` };
}

/** %#v of a map[string]string: map[string]string{"a":"1", "b":"2"}; absent prints as nil. */
export function goStringMap(m: unknown): string {
  const o = asObj(m);
  if (!o) return 'map[string]string(nil)';
  const keys = Object.keys(o).sort();
  return `map[string]string{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(String(o[k]))}`).join(', ')}}`;
}

/** %#v of a metav1.LabelSelector value, as it appears in "field is immutable" messages. */
export function goLabelSelector(sel: unknown): string {
  const s = asObj(sel);
  if (!s) return 'null';
  const exprs = Array.isArray(s.matchExpressions)
    ? `[]v1.LabelSelectorRequirement{${s.matchExpressions
        .map((e) => {
          const r = asObj(e) ?? {};
          return `v1.LabelSelectorRequirement{Key:${JSON.stringify(String(r.key ?? ''))}, Operator:${JSON.stringify(String(r.operator ?? ''))}, Values:${goStringSlice(Array.isArray(r.values) ? r.values.map(String) : null)}}`;
        })
        .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${goStringMap(s.matchLabels)}, MatchExpressions:${exprs}}`;
}

/** %#v of an intstr.IntOrString value. */
export function goIntOrString(v: unknown): string {
  if (typeof v === 'number') return `intstr.IntOrString{Type:0, IntVal:${v}, StrVal:""}`;
  return `intstr.IntOrString{Type:1, IntVal:0, StrVal:${JSON.stringify(String(v ?? ''))}}`;
}

export const PERCENT_MESSAGE = regexMessage("a valid percent string must be a numeric string followed by an ending '%'", '[0-9]+%', '1%', '93%');

/** IntOrString.IntValue() for percents ("25%" -> 25), numbers, and numeric strings; 0 otherwise. */
export function intOrPercentValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return 0;
  const m = /^([0-9]+)%$/.exec(v);
  if (m) return Number(m[1]);
  return /^[+-]?[0-9]+$/.test(v) ? Number(v) : 0;
}

/** ValidatePositiveIntOrPercent. */
export function validatePositiveIntOrPercent(v: unknown, path: string): FieldError[] {
  if (typeof v === 'string') return /^[0-9]+%$/.test(v) ? [] : [invalidGo(path, goIntOrString(v), PERCENT_MESSAGE)];
  if (typeof v === 'number' && v < 0) return [invalid(path, v, NEGATIVE_MESSAGE)];
  return [];
}

/** IsNotMoreThan100Percent. */
export function validateNotMoreThan100Percent(v: unknown, path: string): FieldError[] {
  if (typeof v !== 'string' || !/^[0-9]+%$/.test(v)) return [];
  return intOrPercentValue(v) > 100 ? [invalidGo(path, goIntOrString(v), 'must not be greater than 100%')] : [];
}

function selectorIsEmpty(sel: Obj): boolean {
  const labels = asObj(sel.matchLabels);
  const exprs = Array.isArray(sel.matchExpressions) ? sel.matchExpressions : [];
  return (labels ? Object.keys(labels).length : 0) + exprs.length === 0;
}

export interface SelectorRules {
  /** Message for a selector with no terms, e.g. "empty selector is invalid for deployment". */
  emptyMessage?: string;
  /** Detail of the error Kubernetes adds when the selector cannot be converted; absent: none. */
  unconvertibleDetail?: string;
}

/**
 * The selector checks every controller kind shares: an empty selector is refused, and the pod
 * template's labels must be selected. An absent selector selects nothing, so the template never
 * matches (Kubernetes reports that next to the "Required value" of spec.selector).
 */
export function validateSelectorAgainstTemplate(spec: Obj, path: string, rules: SelectorRules): FieldError[] {
  const errs: FieldError[] = [];
  const raw = spec.selector;
  const selector = asObj(raw);
  if (selector && rules.emptyMessage && selectorIsEmpty(selector)) {
    errs.push(invalidGo(at(path, 'selector'), goLabelSelector(selector), rules.emptyMessage));
  }
  let parsed;
  try {
    parsed = labelSelectorFromStruct(selector as MetaLabelSelector | undefined);
  } catch {
    if (rules.unconvertibleDetail !== undefined) errs.push(invalidGo(at(path, 'selector'), goLabelSelector(selector), rules.unconvertibleDetail));
    return errs;
  }
  const templateLabels = asObj(asObj(asObj(spec.template)?.metadata)?.labels);
  if (!isEverything(parsed) && !matchesLabels(parsed, templateLabels as Record<string, string> | undefined)) {
    errs.push(invalidGo(at(path, 'template.metadata.labels'), goStringMap(templateLabels), SELECTOR_MISMATCH));
  }
  return errs;
}

/** Pods of long-running controllers must restart Always and may not carry activeDeadlineSeconds. */
export function validateLongRunningTemplate(template: unknown, templatePath: string, kindName: string): FieldError[] {
  const podSpec = asObj(asObj(template)?.spec);
  if (!podSpec) return [];
  const errs: FieldError[] = [];
  const policy = podSpec.restartPolicy;
  if (typeof policy === 'string' && policy !== 'Always') {
    errs.push(notSupported(at(templatePath, 'spec.restartPolicy'), policy, ['Always']));
  }
  if (podSpec.activeDeadlineSeconds !== undefined && podSpec.activeDeadlineSeconds !== null) {
    errs.push(forbidden(at(templatePath, 'spec.activeDeadlineSeconds'), `activeDeadlineSeconds in ${kindName} is not Supported`));
  }
  return errs;
}

/** "cannot be greater than ..." checks of replica counters in a status. */
function notAbove(status: Obj, path: string, fieldName: string, limitField: string, message: string): FieldError[] {
  const v = status[fieldName];
  const limit = status[limitField];
  const a = typeof v === 'number' ? v : 0;
  const b = typeof limit === 'number' ? limit : 0;
  return a > b ? [invalid(at(path, fieldName), a, message)] : [];
}

const ABOVE_REPLICAS = 'cannot be greater than status.replicas';

function conditionType(name: string, description: string, fields: Record<string, ReturnType<typeof field>>): StructType {
  return struct(`${APPS}.${name}`, description, {
    type: field(str(), 1, 'Condition type.', { required: true }),
    status: field(str(), 2, 'True, False or Unknown.', { required: true }),
    ...fields,
    reason: field(str(), 4, 'Machine-readable reason for the last transition.'),
    message: field(str(), 5, 'Human-readable details about the last transition.'),
  });
}

const conditionsList = (item: () => StructType) =>
  list(ref(item), { listType: 'map', mapKeys: ['type'], patchStrategy: 'merge', patchMergeKey: 'type' });

// ---- ControllerRevision ----------------------------------------------------------------------------

export const ControllerRevision: StructType = struct(
  `${APPS}.ControllerRevision`,
  'An immutable snapshot of a controller\'s state, kept for rollout history and rollback.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    data: field(any(), 2, 'The serialized state this revision records.'),
    revision: field(int64(), 3, 'Revision number of the recorded state.', { required: true, default: 0, validate: nonNegative }),
  },
  {
    gvk: [{ group: 'apps', version: 'v1', kind: 'ControllerRevision' }],
    validate: (o) => (o.data === undefined || o.data === null ? [required('data', 'data is mandatory')] : []),
  },
);

// ---- Deployment ------------------------------------------------------------------------------------

export const RollingUpdateDeployment: StructType = struct(
  `${APPS}.RollingUpdateDeployment`,
  'Parameters of a rolling Deployment update.',
  {
    maxUnavailable: field(intOrString(), 1, 'How many pods (number or percent, rounded down) may be unavailable during the update.'),
    maxSurge: field(intOrString(), 2, 'How many pods (number or percent, rounded up) may exist above the desired count during the update.'),
  },
);

/** SetDefaults for a Deployment strategy: RollingUpdate with 25% / 25%. Idempotent. */
export function defaultDeploymentStrategy(s: Obj): void {
  if (!s.type) s.type = 'RollingUpdate';
  if (s.type !== 'RollingUpdate') return;
  const ru = asObj(s.rollingUpdate) ?? {};
  ru.maxUnavailable ??= '25%';
  ru.maxSurge ??= '25%';
  s.rollingUpdate = ru;
}

function validateDeploymentStrategy(s: Obj, path: string): FieldError[] {
  switch (s.type) {
    case 'Recreate':
      return s.rollingUpdate != null ? [forbidden(at(path, 'rollingUpdate'), "may not be specified when strategy `type` is 'Recreate'")] : [];
    case 'RollingUpdate': {
      const ru = asObj(s.rollingUpdate);
      if (!ru) return [required(at(path, 'rollingUpdate'), 'this should be defaulted and never be nil')];
      const p = at(path, 'rollingUpdate');
      const errs = [...validatePositiveIntOrPercent(ru.maxUnavailable, at(p, 'maxUnavailable')), ...validatePositiveIntOrPercent(ru.maxSurge, at(p, 'maxSurge'))];
      if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
        errs.push(invalidGo(at(p, 'maxUnavailable'), goIntOrString(ru.maxUnavailable ?? 0), 'may not be 0 when `maxSurge` is 0'));
      }
      errs.push(...validateNotMoreThan100Percent(ru.maxUnavailable, at(p, 'maxUnavailable')));
      return errs;
    }
    default:
      return [notSupported(path, s, ['Recreate', 'RollingUpdate'])];
  }
}

export const DeploymentStrategy: StructType = struct(
  `${APPS}.DeploymentStrategy`,
  'How a Deployment replaces old pods with new ones.',
  {
    type: field(str(), 1, 'Recreate or RollingUpdate (the default).', { default: 'RollingUpdate' }),
    rollingUpdate: field(ref(() => RollingUpdateDeployment), 2, 'Rolling update parameters; only with type RollingUpdate.'),
  },
  { defaults: defaultDeploymentStrategy },
);

export const DeploymentSpec: StructType = struct(
  `${APPS}.DeploymentSpec`,
  'Desired state of a Deployment.',
  {
    replicas: field(int32(), 1, 'Number of desired pods; defaults to 1.', { default: 1, validate: nonNegative }),
    selector: field(ref(() => LabelSelector), 2, 'Selects the pods (and ReplicaSets) this Deployment manages; must match the template labels.', {
      required: true,
    }),
    template: field(ref(() => PodTemplateSpec), 3, 'Pod template; restartPolicy must be Always.', { required: true, default: {} }),
    strategy: field(ref(() => DeploymentStrategy), 4, 'How old pods are replaced by new ones.', { default: {}, patchStrategy: 'retainKeys' }),
    minReadySeconds: field(int32(), 5, 'Seconds a new pod must be ready without crashing to count as available.', { validate: nonNegative }),
    revisionHistoryLimit: field(int32(), 6, 'How many old ReplicaSets to keep for rollback; defaults to 10.', { default: 10, validate: nonNegative }),
    paused: field(bool(), 7, 'True stops the Deployment from rolling out template changes.'),
    progressDeadlineSeconds: field(int32(), 9, 'Seconds a rollout may go without progress before it is reported as failed; defaults to 600.', {
      default: 600,
      validate: nonNegative,
    }),
  },
  {
    defaults: (spec) => defaultDeploymentStrategy((spec.strategy = asObj(spec.strategy) ?? {}) as Obj),
    validate: (spec, path) => {
      const errs = [
        ...validateSelectorAgainstTemplate(spec, path, { emptyMessage: 'empty selector is invalid for deployment', unconvertibleDetail: 'invalid label selector' }),
        ...validateLongRunningTemplate(spec.template, at(path, 'template'), 'ReplicaSet'),
      ];
      const strategy = asObj(spec.strategy);
      if (strategy) errs.push(...validateDeploymentStrategy(strategy, at(path, 'strategy')));
      const deadline = spec.progressDeadlineSeconds;
      const minReady = typeof spec.minReadySeconds === 'number' ? spec.minReadySeconds : 0;
      if (typeof deadline === 'number' && deadline <= minReady) {
        errs.push(invalid(at(path, 'progressDeadlineSeconds'), deadline, 'must be greater than minReadySeconds'));
      }
      return errs;
    },
  },
);

export const DeploymentCondition: StructType = conditionType('DeploymentCondition', 'One observed aspect of a Deployment\'s state.', {
  lastUpdateTime: field(time(), 6, 'When the condition was last updated.'),
  lastTransitionTime: field(time(), 7, 'When the status last changed.'),
});

export const DeploymentStatus: StructType = struct(
  `${APPS}.DeploymentStatus`,
  'Observed state of a Deployment.',
  {
    observedGeneration: field(int64(), 1, 'Generation last acted on by the controller.', { validate: nonNegative }),
    replicas: field(int32(), 2, 'Non-terminating pods selected by this Deployment.', { validate: nonNegative }),
    updatedReplicas: field(int32(), 3, 'Selected pods that run the current template.', { validate: nonNegative }),
    readyReplicas: field(int32(), 7, 'Selected pods that are ready.', { validate: nonNegative }),
    availableReplicas: field(int32(), 4, 'Selected pods ready for at least minReadySeconds.', { validate: nonNegative }),
    unavailableReplicas: field(int32(), 5, 'Pods still missing for full availability.', { validate: nonNegative }),
    conditions: field(conditionsList(() => DeploymentCondition), 6, 'Latest observations of the Deployment\'s state.'),
    collisionCount: field(int32(), 8, 'Hash collision counter used to name new ReplicaSets.', { validate: nonNegative }),
  },
  {
    validate: (s, path) => [
      ...notAbove(s, path, 'updatedReplicas', 'replicas', ABOVE_REPLICAS),
      ...notAbove(s, path, 'readyReplicas', 'replicas', ABOVE_REPLICAS),
      ...notAbove(s, path, 'availableReplicas', 'replicas', ABOVE_REPLICAS),
      ...notAbove(s, path, 'availableReplicas', 'readyReplicas', 'cannot be greater than readyReplicas'),
    ],
  },
);

export const Deployment: StructType = struct(
  `${APPS}.Deployment`,
  'Declarative rollouts of pods through ReplicaSets.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    spec: field(ref(() => DeploymentSpec), 2, 'Desired state.', { default: {} }),
    status: field(ref(() => DeploymentStatus), 3, 'Observed state, written by the controller.', { default: {} }),
  },
  { gvk: [{ group: 'apps', version: 'v1', kind: 'Deployment' }] },
);

// ---- ReplicaSet ------------------------------------------------------------------------------------

export const ReplicaSetSpec: StructType = struct(
  `${APPS}.ReplicaSetSpec`,
  'Desired state of a ReplicaSet.',
  {
    replicas: field(int32(), 1, 'Number of desired pods; defaults to 1.', { default: 1, validate: nonNegative }),
    minReadySeconds: field(int32(), 4, 'Seconds a new pod must be ready without crashing to count as available.', { validate: nonNegative }),
    selector: field(ref(() => LabelSelector), 2, 'Selects the pods counted against replicas; must match the template labels.', { required: true }),
    template: field(ref(() => PodTemplateSpec), 3, 'Pod template used when pods are missing.', { default: {} }),
  },
  {
    validate: (spec, path) => [
      ...validateSelectorAgainstTemplate(spec, path, { emptyMessage: 'empty selector is invalid for deployment', unconvertibleDetail: 'invalid label selector' }),
      ...validateLongRunningTemplate(spec.template, at(path, 'template'), 'ReplicaSet'),
    ],
  },
);

export const ReplicaSetCondition: StructType = conditionType('ReplicaSetCondition', 'One observed aspect of a ReplicaSet\'s state.', {
  lastTransitionTime: field(time(), 3, 'When the status last changed.'),
});

export const ReplicaSetStatus: StructType = struct(
  `${APPS}.ReplicaSetStatus`,
  'Observed state of a ReplicaSet.',
  {
    replicas: field(int32(), 1, 'Non-terminating pods currently selected.', { required: true, default: 0, validate: nonNegative }),
    fullyLabeledReplicas: field(int32(), 2, 'Selected pods whose labels match the whole template.', { validate: nonNegative }),
    readyReplicas: field(int32(), 4, 'Selected pods that are ready.', { validate: nonNegative }),
    availableReplicas: field(int32(), 5, 'Selected pods ready for at least minReadySeconds.', { validate: nonNegative }),
    observedGeneration: field(int64(), 3, 'Generation last acted on by the controller.', { validate: nonNegative }),
    conditions: field(conditionsList(() => ReplicaSetCondition), 6, 'Latest observations of the ReplicaSet\'s state.'),
  },
  {
    validate: (s, path) => [
      ...notAbove(s, path, 'fullyLabeledReplicas', 'replicas', ABOVE_REPLICAS),
      ...notAbove(s, path, 'readyReplicas', 'replicas', ABOVE_REPLICAS),
      ...notAbove(s, path, 'availableReplicas', 'replicas', ABOVE_REPLICAS),
      ...notAbove(s, path, 'availableReplicas', 'readyReplicas', 'cannot be greater than readyReplicas'),
    ],
  },
);

export const ReplicaSet: StructType = struct(
  `${APPS}.ReplicaSet`,
  'Keeps a given number of identical pods running.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    spec: field(ref(() => ReplicaSetSpec), 2, 'Desired state.', { default: {} }),
    status: field(ref(() => ReplicaSetStatus), 3, 'Observed state, written by the controller.', { default: {} }),
  },
  { gvk: [{ group: 'apps', version: 'v1', kind: 'ReplicaSet' }] },
);

// ---- DaemonSet -------------------------------------------------------------------------------------

export const RollingUpdateDaemonSet: StructType = struct(
  `${APPS}.RollingUpdateDaemonSet`,
  'Parameters of a rolling DaemonSet update.',
  {
    maxUnavailable: field(intOrString(), 1, 'How many nodes (number or percent) may lack a ready daemon pod during the update; defaults to 1.'),
    maxSurge: field(intOrString(), 2, 'How many nodes (number or percent) may run an old and a new pod at once; defaults to 0.'),
  },
);

/** SetDefaults for a DaemonSet update strategy: RollingUpdate, maxUnavailable 1, maxSurge 0. Idempotent. */
export function defaultDaemonSetUpdateStrategy(s: Obj): void {
  if (!s.type) s.type = 'RollingUpdate';
  if (s.type !== 'RollingUpdate') return;
  const ru = asObj(s.rollingUpdate) ?? {};
  ru.maxUnavailable ??= 1;
  ru.maxSurge ??= 0;
  s.rollingUpdate = ru;
}

function validateDaemonSetUpdateStrategy(s: Obj, path: string): FieldError[] {
  switch (s.type) {
    case 'OnDelete':
      return [];
    case 'RollingUpdate': {
      const ru = asObj(s.rollingUpdate);
      if (!ru) return [required(at(path, 'rollingUpdate'), '')];
      const p = at(path, 'rollingUpdate');
      const errs = [
        ...validatePositiveIntOrPercent(ru.maxUnavailable, at(p, 'maxUnavailable')),
        ...validatePositiveIntOrPercent(ru.maxSurge, at(p, 'maxSurge')),
        ...validateNotMoreThan100Percent(ru.maxUnavailable, at(p, 'maxUnavailable')),
        ...validateNotMoreThan100Percent(ru.maxSurge, at(p, 'maxSurge')),
      ];
      const hasUnavailable = intOrPercentValue(ru.maxUnavailable) !== 0;
      const hasSurge = intOrPercentValue(ru.maxSurge) !== 0;
      if (hasUnavailable && hasSurge) errs.push(invalidGo(at(p, 'maxSurge'), goIntOrString(ru.maxSurge), 'may not be set when maxUnavailable is non-zero'));
      if (!hasUnavailable && !hasSurge) errs.push(required(at(p, 'maxUnavailable'), 'cannot be 0 when maxSurge is 0'));
      return errs;
    }
    default:
      return [notSupported(path, s, ['RollingUpdate', 'OnDelete'])];
  }
}

export const DaemonSetUpdateStrategy: StructType = struct(
  `${APPS}.DaemonSetUpdateStrategy`,
  'How a DaemonSet replaces its pods when the template changes.',
  {
    type: field(str(), 1, 'RollingUpdate (the default) or OnDelete.', { default: 'RollingUpdate' }),
    rollingUpdate: field(ref(() => RollingUpdateDaemonSet), 2, 'Rolling update parameters; only with type RollingUpdate.'),
  },
  { defaults: defaultDaemonSetUpdateStrategy },
);

export const DaemonSetSpec: StructType = struct(
  `${APPS}.DaemonSetSpec`,
  'Desired state of a DaemonSet.',
  {
    selector: field(ref(() => LabelSelector), 1, 'Selects the daemon pods; must match the template labels.', { required: true }),
    template: field(ref(() => PodTemplateSpec), 2, 'Pod run on every eligible node; restartPolicy must be Always.', { required: true, default: {} }),
    updateStrategy: field(ref(() => DaemonSetUpdateStrategy), 3, 'How pods are replaced after a template change.', { default: {} }),
    minReadySeconds: field(int32(), 4, 'Seconds a new pod must be ready without crashing to count as available.', { validate: nonNegative }),
    revisionHistoryLimit: field(int32(), 6, 'How many old revisions to keep for rollback; defaults to 10.', { default: 10, validate: nonNegative }),
  },
  {
    defaults: (spec) => defaultDaemonSetUpdateStrategy((spec.updateStrategy = asObj(spec.updateStrategy) ?? {}) as Obj),
    validate: (spec, path) => {
      const errs = [
        ...validateSelectorAgainstTemplate(spec, path, { emptyMessage: 'empty selector is invalid for daemonset' }),
        ...validateLongRunningTemplate(spec.template, at(path, 'template'), 'DaemonSet'),
      ];
      const strategy = asObj(spec.updateStrategy);
      if (strategy) errs.push(...validateDaemonSetUpdateStrategy(strategy, at(path, 'updateStrategy')));
      return errs;
    },
  },
);

export const DaemonSetCondition: StructType = conditionType('DaemonSetCondition', 'One observed aspect of a DaemonSet\'s state.', {
  lastTransitionTime: field(time(), 3, 'When the status last changed.'),
});

export const DaemonSetStatus: StructType = struct(
  `${APPS}.DaemonSetStatus`,
  'Observed state of a DaemonSet.',
  {
    currentNumberScheduled: field(int32(), 1, 'Nodes that should run the daemon pod and run at least one.', { required: true, default: 0, validate: nonNegative }),
    numberMisscheduled: field(int32(), 2, 'Nodes that run the daemon pod but should not.', { required: true, default: 0, validate: nonNegative }),
    desiredNumberScheduled: field(int32(), 3, 'Nodes that should run the daemon pod.', { required: true, default: 0, validate: nonNegative }),
    numberReady: field(int32(), 4, 'Nodes whose daemon pod is ready.', { required: true, default: 0, validate: nonNegative }),
    observedGeneration: field(int64(), 5, 'Generation last acted on by the controller.', { validate: nonNegative }),
    updatedNumberScheduled: field(int32(), 6, 'Nodes running the current template.', { validate: nonNegative }),
    numberAvailable: field(int32(), 7, 'Nodes whose daemon pod has been ready for minReadySeconds.', { validate: nonNegative }),
    numberUnavailable: field(int32(), 8, 'Nodes that should run the daemon pod but have none available.', { validate: nonNegative }),
    collisionCount: field(int32(), 9, 'Hash collision counter used to name new ControllerRevisions.', { validate: nonNegative }),
    conditions: field(conditionsList(() => DaemonSetCondition), 10, 'Latest observations of the DaemonSet\'s state.'),
  },
);

export const DaemonSet: StructType = struct(
  `${APPS}.DaemonSet`,
  'Runs one copy of a pod on every eligible node.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    spec: field(ref(() => DaemonSetSpec), 2, 'Desired state.', { default: {} }),
    status: field(ref(() => DaemonSetStatus), 3, 'Observed state, written by the controller.', { default: {} }),
  },
  { gvk: [{ group: 'apps', version: 'v1', kind: 'DaemonSet' }] },
);

// ---- StatefulSet -----------------------------------------------------------------------------------

export const RollingUpdateStatefulSetStrategy: StructType = struct(
  `${APPS}.RollingUpdateStatefulSetStrategy`,
  'Parameters of a rolling StatefulSet update.',
  {
    partition: field(int32(), 1, 'Pods with an ordinal below this one keep the old revision; defaults to 0.'),
    maxUnavailable: field(intOrString(), 2, 'How many pods (number or percent) may be unavailable during the update.'),
  },
);

/** SetDefaults for a StatefulSet update strategy (an unset type becomes RollingUpdate, partition 0). */
export function defaultStatefulSetUpdateStrategy(s: Obj): void {
  if (!s.type) {
    s.type = 'RollingUpdate';
    s.rollingUpdate = asObj(s.rollingUpdate) ?? {};
  }
  const ru = asObj(s.rollingUpdate);
  if (s.type === 'RollingUpdate' && ru) ru.partition ??= 0;
}

function validateStatefulSetUpdateStrategy(s: Obj | undefined, path: string): FieldError[] {
  const type = s?.type ?? '';
  if (type === '') return [required(path, '')];
  const ru = asObj(s?.rollingUpdate);
  if (type === 'OnDelete') {
    return ru ? [invalid(at(path, 'rollingUpdate'), ru, "only allowed for updateStrategy 'RollingUpdate'")] : [];
  }
  if (type === 'RollingUpdate') {
    if (!ru) return [];
    const p = at(path, 'rollingUpdate');
    const errs = [...nonNegative(ru.partition, at(p, 'partition'))];
    if (ru.maxUnavailable !== undefined && ru.maxUnavailable !== null) {
      const mp = at(p, 'maxUnavailable');
      errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, mp));
      if (intOrPercentValue(ru.maxUnavailable) === 0) errs.push(invalidGo(mp, goIntOrString(ru.maxUnavailable), 'cannot be 0'));
      errs.push(...validateNotMoreThan100Percent(ru.maxUnavailable, mp));
    }
    return errs;
  }
  return [invalid(path, s, "must be 'RollingUpdate' or 'OnDelete'")];
}

export const StatefulSetUpdateStrategy: StructType = struct(
  `${APPS}.StatefulSetUpdateStrategy`,
  'How a StatefulSet replaces its pods when the template changes.',
  {
    type: field(str(), 1, 'RollingUpdate (the default) or OnDelete.'),
    rollingUpdate: field(ref(() => RollingUpdateStatefulSetStrategy), 2, 'Rolling update parameters; only with type RollingUpdate.'),
  },
  { defaults: defaultStatefulSetUpdateStrategy },
);

const PVC_RETENTION = ['Retain', 'Delete'];
const pvcRetention: FieldValidator = (v, path) => (typeof v === 'string' && !PVC_RETENTION.includes(v) ? [notSupported(path, v, PVC_RETENTION)] : []);

export const StatefulSetPersistentVolumeClaimRetentionPolicy: StructType = struct(
  `${APPS}.StatefulSetPersistentVolumeClaimRetentionPolicy`,
  'What happens to claims made from volumeClaimTemplates when pods go away.',
  {
    whenDeleted: field(str(), 1, 'Retain (the default) or Delete claims when the StatefulSet is deleted.', { default: 'Retain', validate: pvcRetention }),
    whenScaled: field(str(), 2, 'Retain (the default) or Delete claims of pods removed by a scale-down.', { default: 'Retain', validate: pvcRetention }),
  },
);

export const StatefulSetOrdinals: StructType = struct(`${APPS}.StatefulSetOrdinals`, 'How replica ordinals are numbered.', {
  start: field(int32(), 1, 'Ordinal of the first replica; defaults to 0.'),
});

const POD_MANAGEMENT = ['OrderedReady', 'Parallel'];

export const StatefulSetSpec: StructType = struct(
  `${APPS}.StatefulSetSpec`,
  'Desired state of a StatefulSet.',
  {
    replicas: field(int32(), 1, 'Number of desired pods; defaults to 1.', { default: 1, validate: nonNegative }),
    selector: field(ref(() => LabelSelector), 2, 'Selects the pods of this set; must match the template labels.', { required: true }),
    template: field(ref(() => PodTemplateSpec), 3, 'Pod template; each pod gets a stable name <set>-<ordinal>.', { required: true, default: {} }),
    volumeClaimTemplates: field(list(ref(() => PersistentVolumeClaim), { listType: 'atomic' }), 4, 'Claims created per pod and mounted by name.'),
    serviceName: field(str(), 5, 'Headless Service that gives the pods their DNS names.'),
    podManagementPolicy: field(str(), 6, 'OrderedReady (the default: one pod at a time, in order) or Parallel.', { default: 'OrderedReady' }),
    updateStrategy: field(ref(() => StatefulSetUpdateStrategy), 7, 'How pods are replaced after a template change.', { default: {} }),
    revisionHistoryLimit: field(int32(), 8, 'How many old revisions to keep; defaults to 10.', { default: 10, validate: nonNegative }),
    minReadySeconds: field(int32(), 9, 'Seconds a new pod must be ready without crashing to count as available.', { validate: nonNegative }),
    persistentVolumeClaimRetentionPolicy: field(
      ref(() => StatefulSetPersistentVolumeClaimRetentionPolicy),
      10,
      'Lifecycle of the claims made from volumeClaimTemplates.',
      { default: { whenDeleted: 'Retain', whenScaled: 'Retain' } },
    ),
    ordinals: field(ref(() => StatefulSetOrdinals), 11, 'Numbering of replica ordinals.'),
  },
  {
    defaults: (spec) => {
      if (!spec.podManagementPolicy) spec.podManagementPolicy = 'OrderedReady';
      defaultStatefulSetUpdateStrategy((spec.updateStrategy = asObj(spec.updateStrategy) ?? {}) as Obj);
    },
    validate: (spec, path) => {
      const errs: FieldError[] = [];
      const policy = spec.podManagementPolicy ?? '';
      if (policy === '') errs.push(required(at(path, 'podManagementPolicy'), ''));
      else if (!POD_MANAGEMENT.includes(policy as string)) {
        errs.push(invalid(at(path, 'podManagementPolicy'), policy, "must be 'OrderedReady' or 'Parallel'"));
      }
      errs.push(...validateStatefulSetUpdateStrategy(asObj(spec.updateStrategy), at(path, 'updateStrategy')));
      const start = asObj(spec.ordinals)?.start;
      errs.push(...nonNegative(start, at(path, 'ordinals.start')));
      errs.push(...validateSelectorAgainstTemplate(spec, path, { emptyMessage: 'empty selector is invalid for statefulset', unconvertibleDetail: '' }));
      errs.push(...validateLongRunningTemplate(spec.template, at(path, 'template'), 'StatefulSet'));
      return errs;
    },
  },
);

export const StatefulSetCondition: StructType = conditionType('StatefulSetCondition', 'One observed aspect of a StatefulSet\'s state.', {
  lastTransitionTime: field(time(), 3, 'When the status last changed.'),
});

export const StatefulSetStatus: StructType = struct(
  `${APPS}.StatefulSetStatus`,
  'Observed state of a StatefulSet.',
  {
    observedGeneration: field(int64(), 1, 'Generation last acted on by the controller.', { validate: nonNegative }),
    replicas: field(int32(), 2, 'Pods created by the controller.', { required: true, default: 0, validate: nonNegative }),
    readyReplicas: field(int32(), 3, 'Pods that are ready.', { validate: nonNegative }),
    currentReplicas: field(int32(), 4, 'Pods created from currentRevision.', { validate: nonNegative }),
    updatedReplicas: field(int32(), 5, 'Pods created from updateRevision.', { validate: nonNegative }),
    currentRevision: field(str(), 6, 'Revision of the pods in [0, currentReplicas).'),
    updateRevision: field(str(), 7, 'Revision of the pods being rolled out.'),
    collisionCount: field(int32(), 9, 'Hash collision counter used to name new ControllerRevisions.', { validate: nonNegative }),
    conditions: field(conditionsList(() => StatefulSetCondition), 10, 'Latest observations of the StatefulSet\'s state.'),
    availableReplicas: field(int32(), 11, 'Pods ready for at least minReadySeconds.', { default: 0, validate: nonNegative }),
  },
  {
    validate: (s, path) => [
      ...notAbove(s, path, 'readyReplicas', 'replicas', ABOVE_REPLICAS),
      ...notAbove(s, path, 'currentReplicas', 'replicas', ABOVE_REPLICAS),
      ...notAbove(s, path, 'updatedReplicas', 'replicas', ABOVE_REPLICAS),
      ...notAbove(s, path, 'availableReplicas', 'replicas', ABOVE_REPLICAS),
      ...notAbove(s, path, 'availableReplicas', 'readyReplicas', 'cannot be greater than status.readyReplicas'),
    ],
  },
);

export const StatefulSet: StructType = struct(
  `${APPS}.StatefulSet`,
  'Pods with stable names and storage, created and removed in order.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    spec: field(ref(() => StatefulSetSpec), 2, 'Desired state.', { default: {} }),
    status: field(ref(() => StatefulSetStatus), 3, 'Observed state, written by the controller.', { default: {} }),
  },
  { gvk: [{ group: 'apps', version: 'v1', kind: 'StatefulSet' }] },
);
