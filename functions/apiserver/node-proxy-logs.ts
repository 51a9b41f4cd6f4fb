// GET /api/v1/namespaces/<ns>/pods/<name>/log: validated like kube-apiserver's PodLogOptions, then
// streamed from the node's kubelet (/containerLogs/<ns>/<pod>/<container>) over its tunnel. With
// follow=true the response lasts until the log ends or the client goes away, which also closes the
// stream to the node.
import type { Context } from 'hono';
import type { IncomingMessage } from 'node:http';
import type { Registry } from '../../shared/api/registry.js';
import { errors } from '../../shared/apiserver/errors.js';
import type { RestStorage } from '../../shared/apiserver/rest.js';
import { forbidden, invalid } from '../../shared/api/schema/errors.js';
import type { FieldError } from '../../shared/api/schema/dsl.js';
import { getPod, hasNode, kubeletFailure, kubeletRequest, queryTrue, readLimited, resolveContainer } from './node-proxy.js';
import type { NodeDialer } from './tunnel-registry.js';

export interface PodLogDeps {
  rest: RestStorage;
  registry: Registry;
  nodes: NodeDialer;
}

const INTEGER = /^-?\d+$/;

/** The kubelet query for the request's log options (422/400 when they are invalid). */
export function kubeletLogQuery(name: string, q: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams();
  const fieldErrors: FieldError[] = [];
  const integer = (key: string): number | undefined => {
    const v = q.get(key);
    if (v === null || v === '') return undefined;
    if (!INTEGER.test(v)) throw errors.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
    return Number(v);
  };
  for (const flag of ['follow', 'previous', 'timestamps']) if (queryTrue(q.get(flag))) out.set(flag, 'true');
  const sinceSeconds = integer('sinceSeconds');
  const tailLines = integer('tailLines');
  const limitBytes = integer('limitBytes');
  const sinceTime = q.get('sinceTime') || undefined;
  if (sinceSeconds !== undefined && sinceSeconds < 1) fieldErrors.push(invalid('sinceSeconds', sinceSeconds, 'must be greater than 0'));
  if (tailLines !== undefined && tailLines < 0) fieldErrors.push(invalid('tailLines', tailLines, 'must be greater than or equal to 0'));
  if (limitBytes !== undefined && limitBytes < 1) fieldErrors.push(invalid('limitBytes', limitBytes, 'must be greater than 0'));
  if (sinceSeconds !== undefined && sinceTime !== undefined) fieldErrors.push(forbidden('', 'at most one of `sinceTime` or `sinceSeconds` may be specified'));
  if (sinceTime !== undefined && Number.isNaN(Date.parse(sinceTime))) throw errors.badRequest(`parsing time ${JSON.stringify(sinceTime)} as RFC3339 failed`);
  if (fieldErrors.length) throw errors.invalid('', 'PodLogOptions', name, fieldErrors);
  if (sinceSeconds !== undefined) out.set('sinceSeconds', String(sinceSeconds));
  if (sinceTime !== undefined) out.set('sinceTime', new Date(sinceTime).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  if (tailLines !== undefined) out.set('tailLines', String(tailLines));
  if (limitBytes !== undefined) out.set('limitBytes', String(limitBytes));
  return out;
}

/** A web ReadableStream over a node response, pausing the node while the client is slow. */
function webStream(res: IncomingMessage, onCancel: () => void): ReadableStream<Uint8Array> {
  let done = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        res.on('data', (chunk: Buffer) => {
          if (done) return;
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) res.pause();
        });
        const finish = (err?: Error) => {
          if (done) return;
          done = true;
          if (err) controller.error(err);
          else controller.close();
        };
        res.once('end', () => finish());
        res.once('error', (err) => finish(err));
        // A node that vanished mid-log ends the response instead of leaving it open.
        res.once('close', () => finish(res.complete ? undefined : new Error('the connection to the node closed')));
      },
      pull() {
        res.resume();
      },
      cancel() {
        done = true;
        onCancel();
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  );
}

export async function podLogs(c: Context, deps: PodLogDeps): Promise<Response> {
  const namespace = c.req.param('namespace')!;
  const name = c.req.param('name')!;
  const q = new URL(c.req.url).searchParams;
  const pod = await getPod(deps.rest, deps.registry, namespace, name);
  const container = resolveContainer(pod, q.get('container') ?? undefined);
  const query = kubeletLogQuery(name, q);
  // kube-apiserver answers an empty log for a pod no node runs yet.
  if (!hasNode(pod)) return c.body(null, 200);
  const nodeName = (pod.spec as { nodeName: string }).nodeName;
  const aborted = new AbortController();
  const clientSignal = c.req.raw.signal;
  clientSignal?.addEventListener('abort', () => aborted.abort(), { once: true });
  const qs = query.toString();
  const res = await kubeletRequest(deps.nodes, nodeName, {
    method: 'GET',
    path: `/containerLogs/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}${qs ? `?${qs}` : ''}`,
    signal: aborted.signal,
  });
  const code = res.statusCode ?? 500;
  if (code < 200 || code > 206) throw kubeletFailure(code, await readLimited(res), 'pods/log', name);
  const contentType = (res.headers['content-type'] ?? 'text/plain').split(';')[0].trim();
  return c.body(webStream(res, () => aborted.abort()), 200, { 'Content-Type': contentType });
}
