// The checks a probe or a lifecycle hook performs against a container: a command run inside it,
// an HTTP GET, a TCP connect and a gRPC health check, each bounded by a timeout and reporting
// its outcome with the texts kubelet puts into events.
import * as grpc from '@grpc/grpc-js';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { resolvePort, type HttpGetAction, type ProbedContainerSpec } from './spec.js';

/** success/failure count towards thresholds; unknown (the check could not run) is ignored. */
export type CheckResult = 'success' | 'failure' | 'unknown';

export interface CheckOutcome {
  result: CheckResult;
  /** Output or failure text (command output, HTTP failure, dial error). */
  output: string;
}

export type ExecFn = (cmd: string[], timeoutSeconds: number) => Promise<{ exitCode: number; stdout: string; stderr: string }>;

/** What a check is run against: the pod's IP, the container's spec (named ports) and a way to run commands in it. */
export interface CheckTarget {
  podIP: string;
  container: ProbedContainerSpec;
  exec?: ExecFn;
}

/** The User-Agent kubelet's HTTP probes send (kube-probe/<major>.<minor>). */
export const PROBE_USER_AGENT = 'kube-probe/1.33';
const MAX_BODY = 10 * 1024;

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));
const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

class CheckTimeout extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeout('timeout')), ms);
  });
  return Promise.race([p, expired]).finally(() => clearTimeout(timer));
}

/** A command in the container: exit 0 passes; running past the timeout fails with kubelet's "timed out" text. */
export async function execCheck(command: string[], target: CheckTarget, timeoutSeconds: number): Promise<CheckOutcome> {
  if (!target.exec) return { result: 'unknown', output: 'the container runtime cannot run commands in containers' };
  const run = target.exec(command, timeoutSeconds);
  run.catch(() => undefined);
  try {
    const res = await withTimeout(run, timeoutSeconds * 1000 + 250);
    return { result: res.exitCode === 0 ? 'success' : 'failure', output: res.stdout + res.stderr };
  } catch (e) {
    if (e instanceof CheckTimeout || /deadline|timeout .*exceeded|timed out/i.test(errText(e))) {
      return { result: 'failure', output: `command ${JSON.stringify(command.join(' '))} timed out` };
    }
    throw e;
  }
}

/** The URL an httpGet action requests, as kubelet formats it (Go's url.URL String). */
export function httpGetUrl(action: HttpGetAction, target: CheckTarget): URL {
  const scheme = (action.scheme ?? 'HTTP').toLowerCase();
  const host = action.host || target.podIP;
  const port = resolvePort(action.port, target.container);
  let path = action.path ?? '';
  if (path && !path.startsWith('/')) path = `/${path}`;
  return new URL(`${scheme}://${hostPort(host, port)}${path}`);
}

export interface HttpGetOptions {
  userAgent?: string;
  /** Lifecycle hooks: any HTTP answer counts as success, only transport errors fail. */
  anyStatus?: boolean;
}

/** GET the action's URL: 200-399 passes, anything else fails with "HTTP probe failed with statuscode: N". */
export async function httpGetCheck(action: HttpGetAction, target: CheckTarget, timeoutSeconds: number, opts: HttpGetOptions = {}): Promise<CheckOutcome> {
  const userAgent = opts.userAgent ?? PROBE_USER_AGENT;
  const url = httpGetUrl(action, target);
  const shown = `${url.protocol}//${url.host}${action.path ? url.pathname + url.search : ''}`;
  const headers: Record<string, string> = {};
  for (const h of action.httpHeaders ?? []) headers[h.name] = h.value;
  const lower = new Set(Object.keys(headers).map((k) => k.toLowerCase()));
  if (!lower.has('user-agent')) headers['User-Agent'] = userAgent;
  if (!lower.has('accept')) headers.Accept = '*/*';
  headers.Connection = 'close';
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<CheckOutcome>((resolve) => {
    let settled = false;
    const finish = (o: CheckOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(o);
    };
    const req = send(
      { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, path: url.pathname + url.search, method: 'GET', headers, rejectUnauthorized: false },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < MAX_BODY) chunks.push(c);
          size += c.length;
        });
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          const body = Buffer.concat(chunks).subarray(0, MAX_BODY).toString('utf8');
          finish(opts.anyStatus || (code >= 200 && code < 400) ? { result: 'success', output: body } : { result: 'failure', output: `HTTP probe failed with statuscode: ${code}` });
        });
        res.on('error', (e) => finish({ result: 'failure', output: `Get "${shown}": ${errText(e)}` }));
      },
    );
    const timer = setTimeout(() => finish({ result: 'failure', output: `Get "${shown}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` }), timeoutSeconds * 1000);
    req.on('error', (e) => finish({ result: 'failure', output: `Get "${shown}": ${dialError(e, url.hostname, Number(url.port))}` }));
    req.end();
  });
}

/** Go's text for a failed dial, which is what kubelet reports. */
function dialError(e: unknown, host: string, port: number): string {
  const code = (e as { code?: string }).code;
  const addr = `dial tcp ${hostPort(host.replace(/^\[|\]$/g, ''), port)}`;
  if (code === 'ECONNREFUSED') return `${addr}: connect: connection refused`;
  if (code === 'EHOSTUNREACH') return `${addr}: connect: no route to host`;
  if (code === 'ENETUNREACH') return `${addr}: connect: network is unreachable`;
  if (code === 'ECONNRESET') return 'read: connection reset by peer';
  return `${addr}: ${errText(e)}`;
}

/** Open a TCP connection to the port (on the pod IP unless host is set): connecting within the timeout passes. */
export function tcpCheck(action: { port: number | string; host?: string }, target: CheckTarget, timeoutSeconds: number): Promise<CheckOutcome> {
  const host = action.host || target.podIP;
  const port = resolvePort(action.port, target.container);
  return new Promise<CheckOutcome>((resolve) => {
    const sock = connect({ host, port });
    const finish = (o: CheckOutcome) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => finish({ result: 'failure', output: `dial tcp ${hostPort(host, port)}: i/o timeout` }), timeoutSeconds * 1000);
    sock.once('connect', () => finish({ result: 'success', output: '' }));
    sock.once('error', (e) => finish({ result: 'failure', output: dialError(e, host, port) }));
  });
}

const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/** grpc.health.v1.Health/Check against the pod IP: SERVING passes. */
export function grpcCheck(action: { port: number; service?: string }, target: CheckTarget, timeoutSeconds: number): Promise<CheckOutcome> {
  const addr = hostPort(target.podIP, action.port);
  const client = new grpc.Client(addr, grpc.credentials.createInsecure());
  const service = Buffer.from(action.service ?? '', 'utf8');
  // HealthCheckRequest{service = 1}; HealthCheckResponse{status = 1 (enum)}: small enough to encode by hand.
  const serialize = () => (service.length ? Buffer.concat([Buffer.from([0x0a, ...varint(service.length)]), service]) : Buffer.alloc(0));
  const deserialize = (b: Buffer) => {
    let status = 0;
    if (b[0] === 0x08) status = b[1] ?? 0;
    return { status };
  };
  return new Promise<CheckOutcome>((resolve) => {
    client.makeUnaryRequest('/grpc.health.v1.Health/Check', serialize, deserialize, {}, new grpc.Metadata({ waitForReady: false }), { deadline: Date.now() + timeoutSeconds * 1000 }, (err, res) => {
      client.close();
      if (err) {
        const timedOut = err.code === grpc.status.DEADLINE_EXCEEDED;
        resolve({
          result: 'failure',
          output: timedOut ? `timeout: health rpc did not complete within ${timeoutSeconds}s` : `failed to connect service ${JSON.stringify(addr)} within ${timeoutSeconds}s: ${err.details || err.message}`,
        });
        return;
      }
      const status = SERVING_STATUS[res?.status ?? 0] ?? 'UNKNOWN';
      resolve(status === 'SERVING' ? { result: 'success', output: '' } : { result: 'failure', output: `service unhealthy (responded with ${JSON.stringify(status)})` });
    });
  });
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}
