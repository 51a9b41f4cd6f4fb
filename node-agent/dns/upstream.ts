// Forwarding queries for names outside the cluster domain to the host's resolvers, over UDP, one
// resolver after the other; undefined when none answered in time.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';

export interface Upstream {
  address: string;
  port: number;
}

/** The nameservers of a resolv.conf (default the host's), port 53. */
export function resolvConfUpstreams(path = '/etc/resolv.conf'): Upstream[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key === 'nameserver' && value && /^\d{1,3}(\.\d{1,3}){3}$/.test(value)) out.push({ address: value, port: 53 });
  }
  return out;
}

function askOne(upstream: Upstream, query: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const id = query.readUInt16BE(0);
    let settled = false;
    const finish = (reply: Buffer | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.on('error', () => finish(undefined));
    socket.on('message', (msg) => {
      if (msg.length >= 12 && msg.readUInt16BE(0) === id) finish(msg);
    });
    // A connected socket hears ICMP port-unreachable, so a resolver that is not there fails fast.
    socket.connect(upstream.port, upstream.address, () => {
      socket.send(query, (err) => {
        if (err) finish(undefined);
      });
    });
  });
}

export async function forwardQuery(query: Buffer, upstreams: readonly Upstream[], timeoutMs: number): Promise<Buffer | undefined> {
  for (const upstream of upstreams) {
    const reply = await askOne(upstream, query, timeoutMs);
    if (reply) return reply;
  }
  return undefined;
}
