// pods/exec, pods/attach and pods/portforward: upgrade requests (SPDY/3.1 or WebSocket) that
// node:http hands to its 'upgrade' event, outside Hono. After authentication, authorization and
// the same pod checks kube-apiserver makes, the request is re-sent to the node's kubelet path
// (/exec|/attach/<ns>/<pod>/<container>, /portForward/<ns>/<pod>) over the node's tunnel, with the
// client's query and headers (minus its credentials), and from then on bytes flow both ways
// unchanged: the kubelet answers the upgrade itself.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Registry } from '../../shared/api/registry.js';
import { ApiError, errors } from '../../shared/apiserver/errors.js';
import type { Logger } from '../../shared/apiserver/logger.js';
import type { RestStorage } from '../../shared/apiserver/rest.js';
import { requestAttributes } from '../../shared/apiserver/authz-attributes.js';
import type { Authenticator } from './auth.js';
import type { RequestAuthorizer } from './node-authorizer.js';
import { boundNode, getPod, resolveContainer } from './node-proxy.js';
import { writeRawStatus } from './raw-response.js';
import { bearerUser } from './tunnel-endpoint.js';
import type { NodeDialer } from './tunnel-registry.js';

export interface PodStreamDeps {
  authenticator: Authenticator;
  authorizer: RequestAuthorizer;
  rest: RestStorage;
  registry: Registry;
  nodes: NodeDialer;
  log: Logger;
}

export const POD_STREAM_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)$/;

const KUBELET_VERB: Record<string, string> = { exec: 'exec', attach: 'attach', portforward: 'portForward' };

/** Headers the node must not see: the client's credentials for this API server. */
const DROPPED_HEADERS = new Set(['authorization', 'proxy-authorization']);

/** The kubelet path (with query) for a pod stream request. */
export async function kubeletStreamPath(deps: Pick<PodStreamDeps, 'rest' | 'registry'>, namespace: string, name: string, subresource: string, query: URLSearchParams, rawQuery: string) {
  const pod = await getPod(deps.rest, deps.registry, namespace, name);
  const container = subresource === 'portforward' ? undefined : resolveContainer(pod, query.get('container') ?? undefined);
  const nodeName = boundNode(pod);
  const segments = [KUBELET_VERB[subresource], namespace, name, ...(container ? [container] : [])].map(encodeURIComponent);
  return { nodeName, path: `/${segments.join('/')}${rawQuery ? `?${rawQuery}` : ''}` };
}

function requestHead(req: IncomingMessage, path: string): Buffer {
  const lines = [`${req.method} ${path} HTTP/1.1`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const key = req.rawHeaders[i];
    if (DROPPED_HEADERS.has(key.toLowerCase()) || key.toLowerCase().startsWith('impersonate-')) continue;
    lines.push(`${key}: ${req.rawHeaders[i + 1]}`);
  }
  lines.push('', '');
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

/** Join two byte streams until either ends or fails. */
export function splice(a: Duplex, b: Duplex): void {
  const teardown = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', teardown);
  b.on('error', teardown);
  a.on('close', teardown);
  b.on('close', teardown);
  a.pipe(b);
  b.pipe(a);
}

/** Handles upgrade requests for pod streams; returns false for any other path. */
export function podStreamUpgrade(deps: PodStreamDeps) {
  return (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = POD_STREAM_PATH.exec(url.pathname);
    if (!match) return false;
    socket.on('error', () => socket.destroy());
    void (async () => {
      const [, namespace, name, subresource] = match.map((s) => decodeURIComponent(s));
      const user = await bearerUser(deps.authenticator, req.headers.authorization);
      if (!user) throw errors.unauthorized();
      const attrs = requestAttributes(req.method ?? 'GET', url.pathname, url.searchParams);
      await deps.authorizer.authorize({ user, attrs, body: async () => undefined });
      const target = await kubeletStreamPath(deps, namespace, name, subresource, url.searchParams, url.search.slice(1));
      const upstream = await deps.nodes.dial(target.nodeName);
      if (socket.destroyed) return void upstream.destroy();
      deps.log.debug({ node: target.nodeName, pod: `${namespace}/${name}`, subresource, user: user.username }, 'pod stream opened');
      upstream.write(requestHead(req, target.path));
      if (head.length) upstream.write(head);
      splice(socket, upstream);
    })().catch((err: unknown) => {
      if (err instanceof ApiError) return writeRawStatus(socket, err.status);
      deps.log.error({ err: err instanceof Error ? err.message : String(err), path: url.pathname }, 'pod stream failed');
      writeRawStatus(socket, errors.internal(err instanceof Error ? err.message : String(err)).status);
    });
    return true;
  };
}
