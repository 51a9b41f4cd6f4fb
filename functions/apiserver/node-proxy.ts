// What pods/log, pods/exec, pods/attach and pods/portforward share: finding the pod's node and
// container the way kube-apiserver does (same Status wording), and HTTP requests to a node's
// kubelet API over its tunnel.
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { KubeObject } from '../../shared/api/kind.js';
import type { Registry } from '../../shared/api/registry.js';
import { ApiError, errors, type Status } from '../../shared/apiserver/errors.js';
import type { RestStorage } from '../../shared/apiserver/rest.js';
import { serviceUnavailable, type NodeDialer } from './tunnel-registry.js';

/** The 503 every node streaming request gets where no tunnel endpoint exists (Lambda). */
export const streamingUnavailable = () =>
  serviceUnavailable('streaming to nodes (logs, exec, attach, port-forward, metrics) needs the node tunnel endpoint of `stratus start`; this API server runs without one');

interface PodSpecView {
  nodeName?: string;
  containers?: { name: string }[];
  initContainers?: { name: string }[];
  ephemeralContainers?: { name: string }[];
}

const specOf = (pod: KubeObject) => (pod.spec ?? {}) as PodSpecView;

/** Every container name in the order kube-apiserver lists them: init, regular, ephemeral. */
function allContainerNames(spec: PodSpecView): string[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])].map((c) => c.name);
}

export async function getPod(rest: RestStorage, registry: Registry, namespace: string, name: string): Promise<KubeObject> {
  return rest.get({ def: registry.resource('', 'v1', 'pods')!, namespace, name });
}

/** The container a request means: the one named, or the pod's only container. */
export function resolveContainer(pod: KubeObject, requested: string | undefined): string {
  const spec = specOf(pod);
  const name = pod.metadata.name;
  if (!requested) {
    const containers = spec.containers ?? [];
    if (containers.length === 1) return containers[0].name;
    if (containers.length === 0) throw errors.badRequest(`a container name must be specified for pod ${name}`);
    throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${allContainerNames(spec).join(' ')}]`);
  }
  if (!allContainerNames(spec).includes(requested)) throw errors.badRequest(`container ${requested} is not valid for pod ${name}`);
  return requested;
}

/** The node a pod is bound to, or the 400 kube-apiserver answers for an unscheduled pod. */
export function boundNode(pod: KubeObject): string {
  const node = specOf(pod).nodeName;
  if (!node) throw errors.badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
  return node;
}

export const hasNode = (pod: KubeObject): boolean => Boolean(specOf(pod).nodeName);

/** One HTTP request to the kubelet API of `nodeName` over its tunnel; resolves with the response head. */
export async function kubeletRequest(
  dialer: NodeDialer,
  nodeName: string,
  req: { method: string; path: string; headers?: OutgoingHttpHeaders; signal?: AbortSignal },
): Promise<IncomingMessage> {
  const stream = await dialer.dial(nodeName);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({
      method: req.method,
      path: req.path,
      headers: { Host: nodeName, Connection: 'close', ...req.headers },
      createConnection: () => stream as unknown as Socket,
      signal: req.signal,
    });
    outgoing.once('response', resolve);
    outgoing.once('error', (err) => {
      stream.destroy();
      // Before any answer, a failing stream means the tunnel failed: the node is unreachable.
      reject(req.signal?.aborted ? err : serviceUnavailable(`error talking to node "${nodeName}" over its tunnel: ${err.message}`));
    });
    outgoing.end();
  });
}

const MAX_ERROR_BODY = 50_000;

/** The body of a (failed) kubelet response as text, read up to a limit. */
export async function readLimited(res: IncomingMessage, limit = MAX_ERROR_BODY): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) break;
  }
  res.destroy();
  return Buffer.concat(chunks).toString('utf8').slice(0, limit);
}

/** The Status kube-apiserver makes of a kubelet's non-2xx answer for `resource` `name`. */
export function kubeletFailure(code: number, body: string, resource: string, name: string): ApiError {
  const text = body.trimEnd();
  if (code === 400) return errors.badRequest(text);
  if (code === 500) return errors.internal(text);
  const known: Record<number, [string, string]> = {
    401: ['Unauthorized', 'the server has asked for the client to provide credentials'],
    403: ['Forbidden', 'the server does not allow access to the requested resource'],
    404: ['NotFound', 'the server could not find the requested resource'],
    409: ['Conflict', 'the server reported a conflict'],
    429: ['TooManyRequests', 'the server has received too many requests and has asked us to try again later'],
    503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
    504: ['Timeout', 'the server was unable to return a response in the time allotted, but may still be processing the request'],
  };
  const [reason, message] = known[code] ?? ['InternalError', `the server responded with the status code ${code} but did not return more information`];
  const status: Status = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: text ? `${message} (${text})` : message,
    reason,
    details: { name, kind: resource, causes: [{ reason: 'UnexpectedServerResponse', message: text }] },
    code,
  };
  return new ApiError(status);
}

/** Go's strconv.ParseBool truths, which kube-apiserver's query decoding uses. */
export const queryTrue = (v: string | null | undefined): boolean => v !== null && v !== undefined && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v);
