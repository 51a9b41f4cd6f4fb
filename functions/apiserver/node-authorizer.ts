// Authorization for the identities joining creates, modelled on kube-apiserver's Node authorizer
// plus the NodeRestriction admission plugin, without RBAC:
// - system:masters: everything.
// - system:anonymous: only `get` of kube-public/cluster-info (the authenticator lets nothing else through).
// - bootstrappers (system:bootstrappers): discovery and the node credential exchange, nothing else.
// - nodes (system:node:<name> in system:nodes): read nodes, pods, services, endpoints and
//   endpointslices; read the Secrets and ConfigMaps pods bound to the node refer to; write their
//   own Node (and its status) and their own Lease in kube-node-lease; write status of, evict and
//   delete pods bound to them; create events; create tokens (serviceaccounts/token) for the
//   service accounts of pods bound to them, bound to such a pod.
// - any other authenticated user: everything (stratus has no RBAC yet).
// Denials are 403 Statuses worded as kube-apiserver words them.
import type { KubeObject } from '../../shared/api/kind.js';
import type { Registry } from '../../shared/api/registry.js';
import { ApiError, errors } from '../../shared/apiserver/errors.js';
import type { RestStorage } from '../../shared/apiserver/rest.js';
import { decodeFromStore } from '../../shared/apiserver/codec.js';
import { admissionDenied, authorizationDenied, type RequestAttributes } from '../../shared/apiserver/authz-attributes.js';
import { podReferences } from '../../shared/apiserver/authz-pod-refs.js';
import { BOOTSTRAPPERS_GROUP } from '../../shared/apiserver/bootstrap-tokens.js';
import { CLUSTER_INFO_NAME, CLUSTER_INFO_NAMESPACE } from '../../shared/apiserver/cluster-info.js';
import { NODE_USER_PREFIX, NODES_GROUP } from '../../shared/apiserver/node-credentials.js';

export const NODE_CREDENTIAL_PATH = '/stratus/v1/nodecredentialrequests';
export const ANONYMOUS_USER = 'system:anonymous';
const NODE_LEASE_NAMESPACE = 'kube-node-lease';

export interface AuthorizationRequest {
  user: { username: string; groups: string[] };
  /** Derived from the request when first read. */
  readonly attrs: RequestAttributes;
  /** The decoded request body (read only for the creates whose object name matters). */
  body(): Promise<unknown>;
}

export interface RequestAuthorizer {
  /** Resolves when the request may proceed; throws a 403 ApiError otherwise. */
  authorize(req: AuthorizationRequest): Promise<void>;
}

type Decision = { allow: true } | { allow: false; reason: string };
const ALLOW: Decision = { allow: true };
const deny = (reason = ''): Decision => ({ allow: false, reason });

/** Discovery, OpenAPI, version and health: readable by every authenticated user, as system:discovery grants. */
function isDiscovery(a: RequestAttributes): boolean {
  if (a.resourceRequest || a.verb !== 'get') return false;
  return /^\/(api|apis|openapi)(\/.*)?$/.test(a.path) || ['/version', '/healthz', '/livez', '/readyz'].includes(a.path);
}

const isClusterInfoGet = (a: RequestAttributes) =>
  a.resourceRequest && a.verb === 'get' && a.apiGroup === '' && a.resource === 'configmaps' && !a.subresource && a.namespace === CLUSTER_INFO_NAMESPACE && a.name === CLUSTER_INFO_NAME;

const gr = (a: RequestAttributes) => `${a.apiGroup}/${a.resource}`;
const oneOf = (verb: string, ...verbs: string[]) => verbs.includes(verb);

export function clusterAuthorizer(deps: { rest: RestStorage; registry: Registry }): RequestAuthorizer {
  const pods = deps.registry.resource('', 'v1', 'pods')!;

  const getPod = async (namespace: string, name: string): Promise<KubeObject | undefined> => {
    try {
      return await deps.rest.get({ def: pods, namespace, name });
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return undefined;
      throw e;
    }
  };

  /** Whether a pod bound to `node` in `namespace` refers to the Secret or ConfigMap `name`. */
  const referencedByNodePods = async (node: string, namespace: string, kind: 'secrets' | 'configMaps', name: string): Promise<boolean> => {
    const page = await deps.rest.list({ def: pods, namespace }, { fieldSelector: `spec.nodeName=${node}` });
    return page.items.some((kv) => podReferences(page.parsed?.get(kv) ?? decodeFromStore(kv))[kind].has(name));
  };

  const readReferenced = async (node: string, a: RequestAttributes, kind: 'secrets' | 'configMaps'): Promise<Decision> => {
    if (!oneOf(a.verb, 'get', 'list', 'watch')) return deny('can only read resources of this type');
    if (a.subresource) return deny('cannot read subresource');
    if (!a.namespace) return deny('can only read namespaced object of this type');
    if (!a.name) return deny('No Object name found');
    return (await referencedByNodePods(node, a.namespace, kind, a.name)) ? ALLOW : deny(`no relationship found between node '${node}' and this object`);
  };

  /** The Node authorizer's token rule: only the token subresource of a service account a pod on the node runs as. */
  const createToken = async (node: string, a: RequestAttributes): Promise<Decision> => {
    if (a.verb !== 'create' || !a.name) return deny('can only create tokens for individual service accounts');
    if (a.subresource !== 'token') return deny('can only create token subresource of serviceaccount');
    const page = await deps.rest.list({ def: pods, namespace: a.namespace }, { fieldSelector: `spec.nodeName=${node}` });
    const runsAs = page.items.some((kv) => ((page.parsed?.get(kv) ?? decodeFromStore(kv)).spec as { serviceAccountName?: string } | undefined)?.serviceAccountName === a.name);
    return runsAs ? ALLOW : deny(`no relationship found between node '${node}' and this object`);
  };

  const lease = (node: string, a: RequestAttributes): Decision => {
    if (!oneOf(a.verb, 'get', 'create', 'update', 'patch', 'delete')) return deny('can only get, create, update, patch, or delete a node lease');
    if (a.namespace !== NODE_LEASE_NAMESPACE) return deny(`can only access leases in the "${NODE_LEASE_NAMESPACE}" system namespace`);
    // A create names its object in the body: admission checks it.
    if (a.verb !== 'create' && a.name !== node) return deny('can only access node lease with the same name as the requesting node');
    return ALLOW;
  };

  const nodeDecision = async (node: string, a: RequestAttributes): Promise<Decision> => {
    if (!a.resourceRequest) return deny();
    const { verb, subresource: sub } = a;
    switch (gr(a)) {
      case '/nodes':
        if (!sub && oneOf(verb, 'get', 'list', 'watch', 'create', 'update', 'patch')) return ALLOW;
        if (sub === 'status' && oneOf(verb, 'update', 'patch')) return ALLOW;
        return deny();
      case '/pods':
        if (!sub && oneOf(verb, 'get', 'list', 'watch', 'delete')) return ALLOW;
        if (sub === 'status' && oneOf(verb, 'update', 'patch')) return ALLOW;
        if (sub === 'eviction' && verb === 'create') return ALLOW;
        return deny();
      case '/services':
      case '/endpoints':
      case 'discovery.k8s.io/endpointslices':
        return !sub && oneOf(verb, 'get', 'list', 'watch') ? ALLOW : deny();
      case '/events':
      case 'events.k8s.io/events':
        return !sub && oneOf(verb, 'create', 'update', 'patch') ? ALLOW : deny();
      case 'coordination.k8s.io/leases':
        return lease(node, a);
      case '/serviceaccounts':
        return createToken(node, a);
      case '/secrets':
        return readReferenced(node, a, 'secrets');
      case '/configmaps':
        return readReferenced(node, a, 'configMaps');
      default:
        return deny();
    }
  };

  /** NodeRestriction: a node writes only its own Node and Lease, and only pods bound to it. */
  const admitNode = async (node: string, req: AuthorizationRequest): Promise<void> => {
    const a = req.attrs;
    const bodyName = async () => String(((await req.body()) as { metadata?: { name?: unknown } } | undefined)?.metadata?.name ?? '');
    switch (gr(a)) {
      case '/nodes': {
        if (!oneOf(a.verb, 'create', 'update', 'patch')) return;
        const requested = a.verb === 'create' ? await bodyName() : a.name;
        if (requested !== node) throw admissionDenied(a, requested, `node "${node}" is not allowed to modify node "${requested}"`);
        return;
      }
      case 'coordination.k8s.io/leases': {
        if (a.verb !== 'create') return;
        const requested = await bodyName();
        if (requested !== node) throw admissionDenied(a, requested, 'can only access node lease with the same name as the requesting node');
        return;
      }
      case '/pods': {
        const checks: Record<string, string> = {
          '/delete': `node "${node}" can only delete pods with spec.nodeName set to itself`,
          'status/update': `node "${node}" can only update pod status for pods with spec.nodeName set to itself`,
          'status/patch': `node "${node}" can only update pod status for pods with spec.nodeName set to itself`,
          'eviction/create': `node ${node} can only evict pods with spec.nodeName set to itself`,
        };
        const message = checks[`${a.subresource}/${a.verb}`];
        if (!message) return;
        const pod = await getPod(a.namespace, a.name);
        // A missing pod is left to the handler, which answers 404.
        if (pod && (pod.spec as { nodeName?: string } | undefined)?.nodeName !== node) throw admissionDenied(a, a.name, message);
        return;
      }
      case '/serviceaccounts':
        if (a.subresource === 'token' && a.verb === 'create') await admitNodeToken(node, a, await req.body());
        return;
    }
  };

  /** NodeRestriction for TokenRequests: bound to a pod (by name and uid) that runs on the node. */
  const admitNodeToken = async (node: string, a: RequestAttributes, body: unknown): Promise<void> => {
    const ref = (body as { spec?: { boundObjectRef?: { apiVersion?: unknown; kind?: unknown; name?: unknown; uid?: unknown } | null } } | undefined)?.spec?.boundObjectRef;
    if (!ref || ref.apiVersion !== 'v1' || ref.kind !== 'Pod' || typeof ref.name !== 'string' || !ref.name) throw admissionDenied(a, a.name, 'node requested token not bound to a pod');
    if (typeof ref.uid !== 'string' || !ref.uid) throw admissionDenied(a, a.name, 'node requested token with a pod binding without a uid');
    const pod = await getPod(a.namespace, ref.name);
    if (!pod) throw errors.notFound({ group: '', resource: 'pods' }, ref.name);
    if (pod.metadata.uid !== ref.uid) {
      throw admissionDenied(a, a.name, `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
    }
    if ((pod.spec as { nodeName?: string } | undefined)?.nodeName !== node) throw admissionDenied(a, a.name, 'node requested token bound to a pod scheduled on a different node');
  };

  return {
    async authorize(req) {
      const { user } = req;
      if (user.groups.includes('system:masters')) return;
      const a = req.attrs;
      if (user.username === ANONYMOUS_USER) {
        if (isClusterInfoGet(a)) return;
        throw authorizationDenied(user.username, a);
      }
      if (isDiscovery(a)) return;
      const isNode = user.username.startsWith(NODE_USER_PREFIX) && user.groups.includes(NODES_GROUP);
      if (isNode) {
        const node = user.username.slice(NODE_USER_PREFIX.length);
        if (!node) throw authorizationDenied(user.username, a, `unknown node for user "${user.username}"`);
        const decision = await nodeDecision(node, a);
        if (!decision.allow) throw authorizationDenied(user.username, a, decision.reason);
        await admitNode(node, req);
        return;
      }
      if (user.groups.includes(BOOTSTRAPPERS_GROUP)) {
        if (!a.resourceRequest && a.verb === 'post' && a.path === NODE_CREDENTIAL_PATH) return;
        throw authorizationDenied(user.username, a);
      }
    },
  };
}
