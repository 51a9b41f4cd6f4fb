// rbac.authorization.k8s.io/v1 types (io.k8s.api.rbac.v1.*): Role, ClusterRole and their bindings.
// Protobuf numbers follow k8s.io/api/rbac/v1/generated.proto; defaults and checks follow
// Kubernetes' rbac/v1 defaulting and pkg/apis/rbac/validation.
import { field, list, ref, str, struct, type FieldError, type StructType } from '../schema/dsl.js';
import { invalid, notSupported, required } from '../schema/errors.js';
import { dns1123SubdomainMessages, pathSegmentNameMessages } from '../validation/names.js';
import { asObj, at, type Obj } from './apps.js';
import { typeMeta } from './core-reference.js';
import { LabelSelector, ObjectMeta } from './meta.js';

const RBAC = 'io.k8s.api.rbac.v1';
export const RBAC_GROUP = 'rbac.authorization.k8s.io';

const atomicStrings = () => list(str(), { listType: 'atomic' });

const lengthOf = (v: unknown): number => (Array.isArray(v) ? v.length : 0);

/** ValidatePolicyRule; `namespaced` rules (of Roles) may not name non-resource URLs. */
export function validatePolicyRule(rule: Obj, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (lengthOf(rule.verbs) === 0) errs.push(required(at(path, 'verbs'), 'verbs must contain at least one value'));
  if (lengthOf(rule.nonResourceURLs) > 0) {
    if (namespaced) errs.push(invalid(at(path, 'nonResourceURLs'), rule.nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs'));
    if (lengthOf(rule.apiGroups) > 0 || lengthOf(rule.resources) > 0 || lengthOf(rule.resourceNames) > 0) {
      errs.push(invalid(at(path, 'nonResourceURLs'), rule.nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if (lengthOf(rule.apiGroups) === 0) errs.push(required(at(path, 'apiGroups'), 'resource rules must supply at least one api group'));
  if (lengthOf(rule.resources) === 0) errs.push(required(at(path, 'resources'), 'resource rules must supply at least one resource'));
  return errs;
}

export const PolicyRule: StructType = struct(
  `${RBAC}.PolicyRule`,
  'Actions allowed on a set of resources or non-resource URLs.',
  {
    // Kubernetes words a missing verbs list itself ("verbs must contain at least one value"), so the
    // check lives in validatePolicyRule instead of the generic required flag.
    verbs: field(atomicStrings(), 1, 'Allowed verbs, e.g. get, list, watch; * allows all.'),
    apiGroups: field(atomicStrings(), 2, 'API groups of the resources; "" is the core group.'),
    resources: field(atomicStrings(), 3, 'Resources the rule covers; * covers all.'),
    resourceNames: field(atomicStrings(), 4, 'Restricts the rule to these object names.'),
    nonResourceURLs: field(atomicStrings(), 5, 'URL paths (not resources) the rule covers; only in ClusterRoles.'),
  },
);

export const AggregationRule: StructType = struct(`${RBAC}.AggregationRule`, 'Builds a ClusterRole\'s rules from other ClusterRoles.', {
  clusterRoleSelectors: field(list(ref(() => LabelSelector), { listType: 'atomic' }), 1, 'ClusterRoles matching any selector contribute their rules.'),
});

/** SetDefaults_RoleBinding / ClusterRoleBinding: the role reference lives in the RBAC group. */
function defaultRoleRef(ref: Obj): void {
  if (!ref.apiGroup) ref.apiGroup = RBAC_GROUP;
}

export const RoleRef: StructType = struct(
  `${RBAC}.RoleRef`,
  'The Role or ClusterRole a binding grants.',
  {
    apiGroup: field(str(), 1, 'Group of the referenced role; rbac.authorization.k8s.io.', { required: true }),
    kind: field(str(), 2, 'Role or ClusterRole.', { required: true }),
    name: field(str(), 3, 'Name of the referenced role.', { required: true }),
  },
  { mapType: 'atomic', defaults: defaultRoleRef },
);

/** SetDefaults_Subject: users and groups live in the RBAC group, service accounts in the core group. */
function defaultSubject(s: Obj): void {
  if (s.apiGroup) return;
  if (s.kind === 'ServiceAccount') s.apiGroup = '';
  else if (s.kind === 'User' || s.kind === 'Group') s.apiGroup = RBAC_GROUP;
}

export const Subject: StructType = struct(
  `${RBAC}.Subject`,
  'A user, group or service account a binding applies to.',
  {
    kind: field(str(), 1, 'User, Group or ServiceAccount.', { required: true }),
    apiGroup: field(str(), 2, 'Group of the subject: "" for ServiceAccount, rbac.authorization.k8s.io for User and Group.'),
    name: field(str(), 3, 'Name of the subject.', { required: true }),
    namespace: field(str(), 4, 'Namespace of a ServiceAccount subject.'),
  },
  { mapType: 'atomic', defaults: defaultSubject },
);

const SUBJECT_KINDS = ['ServiceAccount', 'User', 'Group'];

/** ValidateRoleBindingSubject; subjects of cluster-wide bindings must name a ServiceAccount's namespace. */
export function validateSubject(subject: Obj, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = typeof subject.name === 'string' ? subject.name : '';
  const apiGroup = typeof subject.apiGroup === 'string' ? subject.apiGroup : '';
  switch (subject.kind) {
    case 'ServiceAccount':
      if (name) errs.push(...dns1123SubdomainMessages(name).map((m) => invalid(at(path, 'name'), name, m)));
      if (apiGroup !== '') errs.push(notSupported(at(path, 'apiGroup'), apiGroup, ['']));
      if (!namespaced && !subject.namespace) errs.push(required(at(path, 'namespace'), ''));
      break;
    case 'User':
    case 'Group':
      if (apiGroup !== RBAC_GROUP) errs.push(notSupported(at(path, 'apiGroup'), apiGroup, [RBAC_GROUP]));
      break;
    default:
      if (subject.kind) errs.push(notSupported(at(path, 'kind'), subject.kind, SUBJECT_KINDS));
  }
  return errs;
}

/** The roleRef checks of ValidateRoleBinding / ValidateClusterRoleBinding. */
export function validateRoleRef(roleRef: Obj | undefined, allowedKinds: readonly string[]): FieldError[] {
  if (!roleRef) return [];
  const errs: FieldError[] = [];
  if (roleRef.apiGroup && roleRef.apiGroup !== RBAC_GROUP) errs.push(notSupported('roleRef.apiGroup', roleRef.apiGroup, [RBAC_GROUP]));
  if (roleRef.kind && !allowedKinds.includes(roleRef.kind as string)) errs.push(notSupported('roleRef.kind', roleRef.kind, allowedKinds));
  const name = roleRef.name;
  if (typeof name === 'string' && name !== '') errs.push(...pathSegmentNameMessages(name).map((m) => invalid('roleRef.name', name, m)));
  return errs;
}

function validateRules(o: Obj, namespaced: boolean): FieldError[] {
  const rules = Array.isArray(o.rules) ? o.rules : [];
  return rules.flatMap((r, i) => validatePolicyRule(asObj(r) ?? {}, namespaced, `rules[${i}]`));
}

function validateSubjects(o: Obj, namespaced: boolean): FieldError[] {
  const subjects = Array.isArray(o.subjects) ? o.subjects : [];
  return subjects.flatMap((s, i) => validateSubject(asObj(s) ?? {}, namespaced, `subjects[${i}]`));
}

export const Role: StructType = struct(
  `${RBAC}.Role`,
  'A namespaced set of permissions.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    rules: field(list(ref(() => PolicyRule), { listType: 'atomic' }), 2, 'The permissions this Role grants.'),
  },
  { gvk: [{ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role' }], validate: (o) => validateRules(o, true) },
);

export const ClusterRole: StructType = struct(
  `${RBAC}.ClusterRole`,
  'A cluster-wide set of permissions, usable by RoleBindings and ClusterRoleBindings.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    rules: field(list(ref(() => PolicyRule), { listType: 'atomic' }), 2, 'The permissions this ClusterRole grants.'),
    aggregationRule: field(ref(() => AggregationRule), 3, 'When set, the rules are assembled from the selected ClusterRoles.'),
  },
  {
    gvk: [{ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole' }],
    validate: (o) => {
      const errs = validateRules(o, false);
      const aggregation = asObj(o.aggregationRule);
      if (aggregation && lengthOf(aggregation.clusterRoleSelectors) === 0) {
        errs.push(required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
      }
      return errs;
    },
  },
);

export const RoleBinding: StructType = struct(
  `${RBAC}.RoleBinding`,
  'Grants a Role or ClusterRole to subjects within one namespace.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    subjects: field(list(ref(() => Subject), { listType: 'atomic' }), 2, 'Who receives the permissions.'),
    roleRef: field(ref(() => RoleRef), 3, 'The Role or ClusterRole granted; cannot change.', { required: true }),
  },
  {
    gvk: [{ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding' }],
    validate: (o) => [...validateRoleRef(asObj(o.roleRef), ['Role', 'ClusterRole']), ...validateSubjects(o, true)],
  },
);

export const ClusterRoleBinding: StructType = struct(
  `${RBAC}.ClusterRoleBinding`,
  'Grants a ClusterRole to subjects across the whole cluster.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    subjects: field(list(ref(() => Subject), { listType: 'atomic' }), 2, 'Who receives the permissions.'),
    roleRef: field(ref(() => RoleRef), 3, 'The ClusterRole granted; cannot change.', { required: true }),
  },
  {
    gvk: [{ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRoleBinding' }],
    validate: (o) => [...validateRoleRef(asObj(o.roleRef), ['ClusterRole']), ...validateSubjects(o, false)],
  },
);
