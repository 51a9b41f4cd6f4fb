// The REST operations of a kind, independent of OpenAPI version: which paths exist, which
// methods they accept, their parameters, bodies and responses. v2.ts and v3.ts render these.
import type { KindDef } from '../kind.js';
import type { GroupVersionKind } from './registry.js';
import { NAMES, listSchemaName } from './support-types.js';

export interface ParamSpec {
  name: string;
  in: 'path' | 'query';
  type: 'string' | 'integer' | 'boolean';
  description: string;
  required?: boolean;
}

export type Action = 'get' | 'list' | 'post' | 'put' | 'patch' | 'delete' | 'deletecollection';

export interface ResponseSpec {
  code: string;
  description: string;
  schema?: string;
}

export interface OperationSpec {
  method: 'get' | 'put' | 'post' | 'delete' | 'patch';
  operationId: string;
  description: string;
  action: Action;
  gvk: GroupVersionKind;
  /** Tag Kubernetes groups operations under, e.g. apps_v1 or core_v1. */
  tag: string;
  params: ParamSpec[];
  body?: { schema: string; kind: 'object' | 'patch' | 'delete'; required: boolean };
  responses: ResponseSpec[];
  /** List operations also answer with watch streams. */
  streams: boolean;
}

export interface PathSpec {
  path: string;
  params: ParamSpec[];
  operations: OperationSpec[];
}

const q = (name: string, type: ParamSpec['type'], description: string): ParamSpec => ({ name, in: 'query', type, description });

export const PARAMS = {
  pretty: q('pretty', 'string', "If 'true', the response is indented for humans."),
  dryRun: q('dryRun', 'string', 'When set to All, the request is fully processed but nothing is persisted.'),
  fieldManager: q('fieldManager', 'string', 'Name of the actor making the change, recorded in managedFields; required for apply patches.'),
  fieldValidation: q('fieldValidation', 'string', 'What to do with unknown or duplicate fields in the body: Ignore, Warn (default) or Strict.'),
  force: q('force', 'boolean', 'For apply patches only: take over fields that other managers own instead of reporting a conflict.'),
  labelSelector: q('labelSelector', 'string', 'Only return objects whose labels match this selector.'),
  fieldSelector: q('fieldSelector', 'string', 'Only return objects whose fields match this selector.'),
  limit: q('limit', 'integer', 'Maximum number of items to return; the rest is reachable through the continue token.'),
  continue: q('continue', 'string', 'Token from a previous chunked list to fetch the next chunk.'),
  resourceVersion: q('resourceVersion', 'string', 'Version to list or watch from; its meaning depends on resourceVersionMatch.'),
  resourceVersionMatch: q('resourceVersionMatch', 'string', 'How resourceVersion is applied to a list: Exact or NotOlderThan.'),
  watch: q('watch', 'boolean', 'Stream add, update and delete events instead of returning a list.'),
  timeoutSeconds: q('timeoutSeconds', 'integer', 'End the list or watch call after this many seconds.'),
  allowWatchBookmarks: q('allowWatchBookmarks', 'boolean', 'Allow the server to send BOOKMARK events in a watch.'),
  sendInitialEvents: q('sendInitialEvents', 'boolean', 'Start a watch with synthetic events for the current state.'),
  gracePeriodSeconds: q('gracePeriodSeconds', 'integer', 'Seconds to wait before the object is removed; 0 removes it at once.'),
  orphanDependents: q('orphanDependents', 'boolean', 'Deprecated: orphan dependents instead of deleting them; use propagationPolicy.'),
  propagationPolicy: q('propagationPolicy', 'string', 'How dependents are garbage collected: Orphan, Background or Foreground.'),
  namespace: { name: 'namespace', in: 'path', type: 'string', required: true, description: 'Namespace of the objects.' } as ParamSpec,
};

const LIST_PARAMS = [
  PARAMS.allowWatchBookmarks,
  PARAMS.continue,
  PARAMS.fieldSelector,
  PARAMS.labelSelector,
  PARAMS.limit,
  PARAMS.resourceVersion,
  PARAMS.resourceVersionMatch,
  PARAMS.sendInitialEvents,
  PARAMS.timeoutSeconds,
  PARAMS.watch,
];
const WRITE_PARAMS = [PARAMS.dryRun, PARAMS.fieldManager, PARAMS.fieldValidation];
const PATCH_PARAMS = [...WRITE_PARAMS, PARAMS.force];
const DELETE_PARAMS = [PARAMS.dryRun, PARAMS.gracePeriodSeconds, PARAMS.orphanDependents, PARAMS.propagationPolicy];
const DELETECOLLECTION_PARAMS = [
  PARAMS.continue,
  PARAMS.dryRun,
  PARAMS.fieldSelector,
  PARAMS.gracePeriodSeconds,
  PARAMS.labelSelector,
  PARAMS.limit,
  PARAMS.orphanDependents,
  PARAMS.propagationPolicy,
  PARAMS.resourceVersion,
  PARAMS.resourceVersionMatch,
  PARAMS.sendInitialEvents,
  PARAMS.timeoutSeconds,
];

const UNAUTHORIZED: ResponseSpec = { code: '401', description: 'Unauthorized' };

/** URL prefix of a group-version: /api/v1 or /apis/<group>/<version>. */
export function groupVersionPrefix(group: string, version: string): string {
  return group ? `/apis/${group}/${version}` : `/api/${version}`;
}

/** Key of a group-version in /openapi/v3: api/v1 or apis/<group>/<version>. */
export function groupVersionKey(group: string, version: string): string {
  return groupVersionPrefix(group, version).slice(1);
}

/** Group as it appears in operation ids: rbac.authorization.k8s.io -> RbacAuthorization, '' -> Core. */
export function operationGroupName(group: string): string {
  if (!group) return 'Core';
  const trimmed = group.endsWith('.k8s.io') ? group.slice(0, -'.k8s.io'.length) : group;
  return trimmed
    .split(/[.-]/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}

function upperFirst(s: string): string {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

/** All paths of one kind, in a stable order. */
export function pathsForKind(def: KindDef): PathSpec[] {
  const gvk = { group: def.group, version: def.version, kind: def.kind };
  const groupName = operationGroupName(def.group);
  const idBase = `${groupName}${upperFirst(def.version)}`;
  const tag = `${groupName[0].toLowerCase()}${groupName.slice(1)}_${def.version}`;
  const scope = def.namespaced ? 'Namespaced' : '';
  const verbs = new Set(def.verbs);
  const objectSchema = def.schema.name;
  const listSchema = listSchemaName(def);
  const prefix = groupVersionPrefix(def.group, def.version);
  const collection = def.namespaced ? `${prefix}/namespaces/{namespace}/${def.plural}` : `${prefix}/${def.plural}`;
  const scopeParams = def.namespaced ? [PARAMS.namespace] : [];
  const nameParam = (of: string): ParamSpec => ({ name: 'name', in: 'path', type: 'string', required: true, description: `Name of the ${of}.` });

  const op = (o: Omit<OperationSpec, 'gvk' | 'tag' | 'streams'> & Partial<Pick<OperationSpec, 'gvk' | 'streams'>>): OperationSpec => ({
    gvk,
    tag,
    streams: false,
    ...o,
  });
  const objectResponses = (schema: string, extra: ResponseSpec[]): ResponseSpec[] => [
    { code: '200', description: 'OK', schema },
    ...extra,
    UNAUTHORIZED,
  ];

  const paths: PathSpec[] = [];

  const collectionOps: OperationSpec[] = [];
  if (verbs.has('list')) {
    collectionOps.push(
      op({
        method: 'get',
        action: 'list',
        operationId: `list${idBase}${scope}${def.kind}`,
        description: `List or watch ${def.kind} objects.`,
        params: LIST_PARAMS,
        responses: objectResponses(listSchema, []),
        streams: true,
      }),
    );
  }
  if (verbs.has('create')) {
    collectionOps.push(
      op({
        method: 'post',
        action: 'post',
        operationId: `create${idBase}${scope}${def.kind}`,
        description: `Create a ${def.kind}.`,
        params: WRITE_PARAMS,
        body: { schema: objectSchema, kind: 'object', required: true },
        responses: objectResponses(objectSchema, [
          { code: '201', description: 'Created', schema: objectSchema },
          { code: '202', description: 'Accepted', schema: objectSchema },
        ]),
      }),
    );
  }
  if (verbs.has('deletecollection')) {
    collectionOps.push(
      op({
        method: 'delete',
        action: 'deletecollection',
        operationId: `delete${idBase}Collection${scope}${def.kind}`,
        description: `Delete every ${def.kind} matching the selectors.`,
        params: DELETECOLLECTION_PARAMS,
        body: { schema: NAMES.deleteOptions, kind: 'delete', required: false },
        responses: objectResponses(NAMES.status, []),
      }),
    );
  }
  if (collectionOps.length > 0) paths.push({ path: collection, params: [...scopeParams, PARAMS.pretty], operations: collectionOps });

  const item = `${collection}/{name}`;
  const itemOps: OperationSpec[] = [];
  if (verbs.has('get')) {
    itemOps.push(
      op({
        method: 'get',
        action: 'get',
        operationId: `read${idBase}${scope}${def.kind}`,
        description: `Read one ${def.kind}.`,
        params: [],
        responses: objectResponses(objectSchema, []),
      }),
    );
  }
  if (verbs.has('update')) {
    itemOps.push(
      op({
        method: 'put',
        action: 'put',
        operationId: `replace${idBase}${scope}${def.kind}`,
        description: `Replace one ${def.kind}.`,
        params: WRITE_PARAMS,
        body: { schema: objectSchema, kind: 'object', required: true },
        responses: objectResponses(objectSchema, [{ code: '201', description: 'Created', schema: objectSchema }]),
      }),
    );
  }
  if (verbs.has('patch')) {
    itemOps.push(
      op({
        method: 'patch',
        action: 'patch',
        operationId: `patch${idBase}${scope}${def.kind}`,
        description: `Partially update one ${def.kind}.`,
        params: PATCH_PARAMS,
        body: { schema: NAMES.patch, kind: 'patch', required: true },
        responses: objectResponses(objectSchema, [{ code: '201', description: 'Created', schema: objectSchema }]),
      }),
    );
  }
  if (verbs.has('delete')) {
    itemOps.push(
      op({
        method: 'delete',
        action: 'delete',
        operationId: `delete${idBase}${scope}${def.kind}`,
        description: `Delete one ${def.kind}.`,
        params: DELETE_PARAMS,
        body: { schema: NAMES.deleteOptions, kind: 'delete', required: false },
        responses: objectResponses(NAMES.status, [{ code: '202', description: 'Accepted', schema: NAMES.status }]),
      }),
    );
  }
  if (itemOps.length > 0) paths.push({ path: item, params: [nameParam(def.kind), ...scopeParams, PARAMS.pretty], operations: itemOps });

  const subresource = (sub: 'status' | 'scale', schema: string, subGvk: GroupVersionKind): void => {
    const suffix = upperFirst(sub);
    const mk = (method: 'get' | 'put' | 'patch'): OperationSpec => {
      const verb = method === 'get' ? 'read' : method === 'put' ? 'replace' : 'patch';
      const text = method === 'get' ? 'Read' : method === 'put' ? 'Replace' : 'Partially update';
      return op({
        method,
        action: method,
        gvk: subGvk,
        operationId: `${verb}${idBase}${scope}${def.kind}${suffix}`,
        description: `${text} the ${sub} of one ${def.kind}.`,
        params: method === 'get' ? [] : method === 'put' ? WRITE_PARAMS : PATCH_PARAMS,
        body: method === 'get' ? undefined : method === 'put' ? { schema, kind: 'object', required: true } : { schema: NAMES.patch, kind: 'patch', required: true },
        responses: objectResponses(schema, method === 'get' ? [] : [{ code: '201', description: 'Created', schema }]),
      });
    };
    paths.push({
      path: `${item}/${sub}`,
      params: [nameParam(sub === 'scale' ? 'Scale' : def.kind), ...scopeParams, PARAMS.pretty],
      operations: [mk('get'), mk('put'), mk('patch')],
    });
  };
  if (def.subresources.status) subresource('status', objectSchema, gvk);
  if (def.subresources.scale) subresource('scale', NAMES.scale, { group: 'autoscaling', version: 'v1', kind: 'Scale' });

  if (def.namespaced && verbs.has('list')) {
    paths.push({
      path: `${prefix}/${def.plural}`,
      params: [...LIST_PARAMS.slice(0, 5), PARAMS.pretty, ...LIST_PARAMS.slice(5)],
      operations: [
        op({
          method: 'get',
          action: 'list',
          operationId: `list${idBase}${def.kind}ForAllNamespaces`,
          description: `List or watch ${def.kind} objects across all namespaces.`,
          params: [],
          responses: objectResponses(listSchema, []),
          streams: true,
        }),
      ],
    });
  }
  return paths;
}

/**
 * The paths object of a document (sorted by path, each rendered by the flavour's `render`) and
 * the schema names it must contain: every kind, its list, the shared meta types, and whatever the
 * paths referenced.
 */
export function documentPaths<R extends { referenced: Iterable<string> }>(
  kinds: KindDef[],
  renderer: R,
  render: (spec: PathSpec, renderer: R) => unknown,
): { paths: Record<string, unknown>; roots: string[] } {
  const specs = kinds.flatMap((k) => pathsForKind(k)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const paths: Record<string, unknown> = {};
  for (const spec of specs) paths[spec.path] = render(spec, renderer);
  const roots = [...kinds.flatMap((k) => [k.schema.name, listSchemaName(k)]), NAMES.status, NAMES.deleteOptions, NAMES.watchEvent, NAMES.patch, ...renderer.referenced];
  return { paths, roots };
}
