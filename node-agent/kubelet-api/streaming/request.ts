// Kubelet's streaming URLs as the API server sends them:
//   /exec/{namespace}/{pod}[/{uid}]/{container}?command=...&stdin=1&stdout=1&stderr=1&tty=1
//   /attach/{namespace}/{pod}[/{uid}]/{container}?stdin=1&...
//   /portForward/{namespace}/{pod}[/{uid}][?port=...]
// Stream flags are accepted under the API's names (stdin/stdout/stderr) and kubelet's older ones
// (input/output/error), with "1" or "true".
export interface PodRef {
  namespace: string;
  pod: string;
  uid?: string;
}

export interface CommandRequest extends PodRef {
  container: string;
  /** Empty for attach. */
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export interface PortForwardRequest extends PodRef {
  /** Ports named in the query (only WebSocket port-forward uses them; SPDY names ports per stream). */
  ports: number[];
}

export class BadStreamingRequest extends Error {}

function segments(path: string, verb: string): string[] {
  let parts: string[];
  try {
    parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw new BadStreamingRequest(`malformed path ${JSON.stringify(path)}`);
  }
  if (parts[0] !== verb) throw new BadStreamingRequest(`expected a /${verb}/ path`);
  return parts.slice(1);
}

function flag(q: URLSearchParams, ...names: string[]): boolean {
  return names.some((n) => {
    const v = q.get(n);
    return v === '1' || v === 'true';
  });
}

export function parseCommandRequest(url: string, verb: 'exec' | 'attach'): CommandRequest {
  const u = new URL(url, 'http://kubelet');
  const parts = segments(u.pathname, verb);
  if (parts.length !== 3 && parts.length !== 4) throw new BadStreamingRequest(`expected /${verb}/{namespace}/{pod}/{container}`);
  const [namespace, pod] = parts;
  const uid = parts.length === 4 ? parts[2] : undefined;
  const container = parts[parts.length - 1];
  const q = u.searchParams;
  const req: CommandRequest = {
    namespace,
    pod,
    uid,
    container,
    command: q.getAll('command'),
    stdin: flag(q, 'stdin', 'input'),
    stdout: flag(q, 'stdout', 'output'),
    stderr: flag(q, 'stderr', 'error'),
    tty: flag(q, 'tty'),
  };
  if (verb === 'exec' && req.command.length === 0) throw new BadStreamingRequest('you must specify at least 1 command');
  if (!req.stdin && !req.stdout && !req.stderr) throw new BadStreamingRequest('you must specify at least 1 of stdin, stdout, stderr');
  // With a terminal, stdout and stderr are one stream.
  if (req.tty) req.stderr = false;
  return req;
}

export function parsePortForwardRequest(url: string): PortForwardRequest {
  const u = new URL(url, 'http://kubelet');
  const parts = segments(u.pathname, 'portForward');
  if (parts.length !== 2 && parts.length !== 3) throw new BadStreamingRequest('expected /portForward/{namespace}/{pod}');
  const ports: number[] = [];
  for (const list of [...u.searchParams.getAll('port'), ...u.searchParams.getAll('ports')]) {
    for (const p of list.split(',').filter(Boolean)) {
      const n = Number(p);
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw new BadStreamingRequest(`invalid port ${JSON.stringify(p)}`);
      ports.push(n);
    }
  }
  return { namespace: parts[0], pod: parts[1], uid: parts[2], ports };
}
