// What an authorizer decides on, derived from the request the way kube-apiserver's RequestInfo
// does: resource requests (/api/v1/..., /apis/<g>/<v>/...) get a verb, group, version, resource,
// subresource, namespace and name; everything else is a non-resource request (verb = method).
// Plus the 403 Statuses kube-apiserver answers with when authorization or admission says no.
import { ApiError, type Status, type StatusDetails } from './errors.js';

export interface RequestAttributes {
  verb: string;
  path: string;
  resourceRequest: boolean;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  /** Empty for cluster-scoped requests (for a Namespace object: its own name). */
  namespace: string;
  name: string;
  fieldSelector?: string;
}

const METHOD_VERBS: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

/** Attributes of a request to `path` with `method` and the query `query`. */
export function requestAttributes(method: string, path: string, query: URLSearchParams): RequestAttributes {
  const nonResource: RequestAttributes = { verb: method.toLowerCase(), path, resourceRequest: false, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' };
  let parts = path.split('/').filter(Boolean);
  if (parts.length < 3 || (parts[0] !== 'api' && parts[0] !== 'apis')) return nonResource;
  parts = parts.map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  let apiGroup = '';
  if (parts[0] === 'apis') {
    if (parts.length < 4) return nonResource;
    apiGroup = parts[1];
    parts = parts.slice(2);
  } else parts = parts.slice(1);
  const apiVersion = parts[0];
  parts = parts.slice(1);
  let verb: string;
  if (parts[0] === 'watch' || parts[0] === 'proxy') {
    verb = parts[0];
    parts = parts.slice(1);
  } else verb = METHOD_VERBS[method.toUpperCase()] ?? '';
  let namespace = '';
  if (parts[0] === 'namespaces' && parts.length > 1) {
    namespace = parts[1];
    // /namespaces/<ns>/<plural>/... is about <plural>; /namespaces/<ns>[/status|/finalize] about the namespace.
    if (parts.length > 2 && parts[2] !== 'status' && parts[2] !== 'finalize') parts = parts.slice(2);
  }
  const [resource = '', name = '', sub = ''] = parts;
  const subresource = verb === 'proxy' ? '' : sub;
  const attrs: RequestAttributes = { verb, path, resourceRequest: true, apiGroup, apiVersion, resource, subresource, namespace, name };
  const fieldSelector = query.get('fieldSelector') ?? undefined;
  if (fieldSelector !== undefined) attrs.fieldSelector = fieldSelector;
  if (!name && verb === 'get') {
    const watch = query.get('watch');
    attrs.verb = watch === 'true' || watch === '1' ? 'watch' : 'list';
  }
  // A list or watch of one object by metadata.name is a request about that object.
  if (!attrs.name && (attrs.verb === 'list' || attrs.verb === 'watch') && fieldSelector) {
    const exact = exactFieldMatch(fieldSelector, 'metadata.name');
    if (exact && /^[^/%]+$/.test(exact) && exact !== '.' && exact !== '..') attrs.name = exact;
  }
  if (!attrs.name && attrs.verb === 'delete') attrs.verb = 'deletecollection';
  return attrs;
}

/** The value a field selector requires `field` to equal, if it does. */
export function exactFieldMatch(selector: string, field: string): string | undefined {
  for (const term of selector.split(',')) {
    const m = /^\s*([^!=\s]+)\s*==?\s*(.*?)\s*$/.exec(term);
    if (m && m[1] === field) return m[2];
  }
  return undefined;
}

// kube-apiserver escapes these in its forbidden messages so they cannot read as HTML.
const sanitize = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** "User "u" cannot <verb> resource "<r>[/<sub>]" in API group "<g>" in the namespace "<ns>"" and its variants. */
export function forbiddenMessage(username: string, a: RequestAttributes): string {
  const user = JSON.stringify(username);
  if (!a.resourceRequest) return `User ${user} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
  return `User ${user} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} ${scope}`;
}

/** A 403 Forbidden Status for `resource` (group + plural, either may be empty) and object `name`. */
export function forbiddenError(group: string, resource: string, name: string, detail: string): ApiError {
  const qualified = group ? `${resource}.${group}` : resource;
  let message: string;
  if (!resource && !group) message = `forbidden: ${detail}`;
  else if (!name) message = `${qualified} is forbidden: ${detail}`;
  else message = `${qualified} ${JSON.stringify(name)} is forbidden: ${detail}`;
  const details: StatusDetails = {};
  if (name) details.name = name;
  if (group) details.group = group;
  if (resource) details.kind = resource;
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Forbidden', details, code: 403 };
  return new ApiError(status);
}

/** The 403 an authorizer's denial produces; `reason` (the authorizer's explanation) is appended when given. */
export function authorizationDenied(username: string, a: RequestAttributes, reason = ''): ApiError {
  const msg = sanitize(forbiddenMessage(username, a));
  return forbiddenError(a.apiGroup, a.resource, a.name, reason ? `${msg}: ${reason}` : msg);
}

/** The 403 an admission check produces for the object `name`. */
export function admissionDenied(a: Pick<RequestAttributes, 'apiGroup' | 'resource'>, name: string, reason: string): ApiError {
  return forbiddenError(a.apiGroup, a.resource, name, reason);
}
