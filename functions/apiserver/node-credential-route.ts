// POST /stratus/v1/nodecredentialrequests: a bootstrapper (or an admin) exchanges its token for
// the bearer credential of node spec.nodeName. Shaped like a TokenRequest:
//   {"apiVersion":"stratus.dev/v1","kind":"NodeCredentialRequest","spec":{"nodeName":"n1"}}
// answers 201 with status.token and status.user (system:node:n1 in system:nodes). Kubernetes does
// this with a CertificateSigningRequest that the CSR approver signs; who may call it is decided by
// the authorizer (node-authorizer.ts).
import type { Context } from 'hono';
import type { Registry } from '../../shared/api/registry.js';
import { invalid, required } from '../../shared/api/schema/errors.js';
import { errors } from '../../shared/apiserver/errors.js';
import type { RestStorage } from '../../shared/apiserver/rest.js';
import { issueNodeCredential, isValidNodeName, NODE_USER_PREFIX, NODES_GROUP } from '../../shared/apiserver/node-credentials.js';

export const NODE_CREDENTIAL_API_VERSION = 'stratus.dev/v1';
export const NODE_CREDENTIAL_KIND = 'NodeCredentialRequest';

export function nodeCredentialHandler(rest: RestStorage, registry: Registry) {
  return async (c: Context): Promise<Response> => {
    let body: { apiVersion?: unknown; kind?: unknown; spec?: { nodeName?: unknown } };
    try {
      body = JSON.parse(await c.req.text()) as typeof body;
    } catch (e) {
      throw errors.badRequest(`error decoding ${NODE_CREDENTIAL_KIND}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest(`error decoding ${NODE_CREDENTIAL_KIND}: the body must be a JSON object`);
    if ((body.apiVersion !== undefined && body.apiVersion !== NODE_CREDENTIAL_API_VERSION) || (body.kind !== undefined && body.kind !== NODE_CREDENTIAL_KIND)) {
      throw errors.badRequest(`expected apiVersion ${NODE_CREDENTIAL_API_VERSION} and kind ${NODE_CREDENTIAL_KIND}`);
    }
    const nodeName = body.spec?.nodeName;
    if (typeof nodeName !== 'string' || !nodeName) throw errors.invalid('stratus.dev', NODE_CREDENTIAL_KIND, '', [required('spec.nodeName')]);
    if (!isValidNodeName(nodeName)) {
      const detail = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
      throw errors.invalid('stratus.dev', NODE_CREDENTIAL_KIND, nodeName, [invalid('spec.nodeName', nodeName, detail)]);
    }
    const caller = (c.get('user' as never) as { username?: string } | undefined)?.username ?? '';
    const token = await issueNodeCredential(rest, registry, nodeName, caller);
    const answer = {
      apiVersion: NODE_CREDENTIAL_API_VERSION,
      kind: NODE_CREDENTIAL_KIND,
      metadata: { name: nodeName, creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
      spec: { nodeName },
      status: { token, user: { username: `${NODE_USER_PREFIX}${nodeName}`, groups: [NODES_GROUP] } },
    };
    return c.body(JSON.stringify(answer), 201, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  };
}
