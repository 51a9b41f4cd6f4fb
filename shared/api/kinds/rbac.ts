// rbac.authorization.k8s.io/v1 kinds as KindDefs: Roles, ClusterRoles and their bindings.
import { kindDef, type KindDef, type KubeObject, type Printer } from '../kind.js';
import { age, ageColumn, col, nameColumn } from '../printers/common.js';
import type { FieldError } from '../schema/dsl.js';
import { asObj, deepEqual, invalidGo } from '../types/apps.js';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from '../types/rbac.js';

const rbac = { group: 'rbac.authorization.k8s.io', version: 'v1', nameRule: 'pathSegment' } as const;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Kinds without their own printer get kube-apiserver's default Name / Created At table. */
const createdAtPrinter: Printer = {
  columns: [nameColumn, col('Created At', 'date', 'When the object was created.')],
  cells: (o) => {
    const t = Date.parse(str(o.metadata.creationTimestamp));
    return [o.metadata.name, Number.isNaN(t) ? '0001-01-01T00:00:00Z' : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z')];
  },
};

/** SubjectsStrings: users, groups and service accounts (as namespace/name) of a binding. */
export function bindingSubjects(o: KubeObject): { users: string[]; groups: string[]; serviceAccounts: string[] } {
  const out = { users: [] as string[], groups: [] as string[], serviceAccounts: [] as string[] };
  for (const s of Array.isArray(o.subjects) ? o.subjects : []) {
    const subject = asObj(s) ?? {};
    if (subject.kind === 'ServiceAccount') out.serviceAccounts.push(`${str(subject.namespace)}/${str(subject.name)}`);
    else if (subject.kind === 'User') out.users.push(str(subject.name));
    else if (subject.kind === 'Group') out.groups.push(str(subject.name));
  }
  return out;
}

function bindingPrinter(what: string): Printer {
  return {
    columns: [
      nameColumn,
      col('Role', 'string', 'The granted role, as kind/name.'),
      ageColumn,
      col('Users', 'string', `Users the ${what} applies to.`, 1),
      col('Groups', 'string', `Groups the ${what} applies to.`, 1),
      col('ServiceAccounts', 'string', `Service accounts the ${what} applies to, as namespace/name.`, 1),
    ],
    cells: (o, now) => {
      const ref = asObj(o.roleRef) ?? {};
      const { users, groups, serviceAccounts } = bindingSubjects(o);
      return [
        o.metadata.name,
        `${str(ref.kind)}/${str(ref.name)}`,
        age(o.metadata.creationTimestamp, now),
        users.join(', '),
        groups.join(', '),
        serviceAccounts.join(', '),
      ];
    },
  };
}

/** A binding's roleRef is fixed at creation; rebinding means a new binding. */
function roleRefUnchanged(o: KubeObject, old: KubeObject | undefined): FieldError[] {
  if (!old || deepEqual(o.roleRef, old.roleRef)) return [];
  const ref = asObj(o.roleRef) ?? {};
  const rendered = `rbac.RoleRef{APIGroup:${JSON.stringify(str(ref.apiGroup))}, Kind:${JSON.stringify(str(ref.kind))}, Name:${JSON.stringify(str(ref.name))}}`;
  return [invalidGo('roleRef', rendered, 'cannot change roleRef')];
}

export const kinds: KindDef[] = [
  kindDef({
    ...rbac,
    kind: 'ClusterRoleBinding',
    plural: 'clusterrolebindings',
    namespaced: false,
    schema: ClusterRoleBinding,
    printer: bindingPrinter('clusterRoleBinding'),
    validate: roleRefUnchanged,
  }),
  kindDef({ ...rbac, kind: 'ClusterRole', plural: 'clusterroles', namespaced: false, schema: ClusterRole, printer: createdAtPrinter }),
  kindDef({
    ...rbac,
    kind: 'RoleBinding',
    plural: 'rolebindings',
    namespaced: true,
    schema: RoleBinding,
    printer: bindingPrinter('roleBinding'),
    validate: roleRefUnchanged,
  }),
  kindDef({ ...rbac, kind: 'Role', plural: 'roles', namespaced: true, schema: Role, printer: createdAtPrinter }),
];
