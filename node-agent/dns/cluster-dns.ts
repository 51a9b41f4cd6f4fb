// The cluster DNS server the agent runs: UDP and TCP on one address and port, answering the
// cluster domain from Services and EndpointSlices it follows, forwarding other names upstream and
// answering SERVFAIL quickly when no upstream replies.
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import dnsPacket, { type Packet } from 'dns-packet';
import type { KubeClient } from '../../shared/client/kube-client.js';
import type { Logger } from '../../shared/apiserver/logger.js';
import { ResourceCache } from '../proxy/resource-cache.js';
import type { ServiceObject, SliceObject } from '../proxy/service-ports.js';
import { RCODE, answerQuery, encodeForUdp, errorResponse, udpLimit } from './answer.js';
import { buildClusterRecords, type ClusterRecords } from './cluster-records.js';
import { forwardQuery, resolvConfUpstreams, type Upstream } from './upstream.js';

import { CLUSTER_DNS_IP } from '../../shared/apiserver/bootstrap.js';

/** The cluster IP of the kube-dns Service, which pods get as their nameserver. */
export { CLUSTER_DNS_IP };
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

export interface ClusterDnsOptions {
  client: KubeClient;
  /** Port 0 picks a free port (the same one for UDP and TCP). */
  listen: { address: string; port: number };
  domain?: string;
  log: Logger;
  /** Resolvers for other names (default: the host's /etc/resolv.conf nameservers). */
  upstreams?: Upstream[];
  /** How long one upstream may take before the next is tried (default 2000 ms). */
  upstreamTimeoutMs?: number;
}

export interface ClusterDns {
  stop(): Promise<void>;
  address: string;
  port: number;
  /** Resolves once Services and EndpointSlices have been listed. */
  synced(): Promise<void>;
}

export async function startClusterDns(opts: ClusterDnsOptions): Promise<ClusterDns> {
  const log = opts.log.child({ component: 'cluster-dns' });
  const domain = opts.domain ?? DEFAULT_CLUSTER_DOMAIN;
  const upstreams = (opts.upstreams ?? resolvConfUpstreams()).filter((u) => !(u.address === opts.listen.address && u.port === opts.listen.port) && u.address !== CLUSTER_DNS_IP);
  const timeoutMs = opts.upstreamTimeoutMs ?? 2000;

  let records: ClusterRecords | undefined;
  const invalidate = () => (records = undefined);
  const services = new ResourceCache<ServiceObject>({ client: opts.client, path: '/api/v1/services', log, onChange: invalidate });
  const slices = new ResourceCache<SliceObject>({ client: opts.client, path: '/apis/discovery.k8s.io/v1/endpointslices', log, onChange: invalidate });
  services.start();
  slices.start();
  const current = () => (records ??= buildClusterRecords(services.list(), slices.list(), domain));

  /** The encoded response to one query message, or undefined when it cannot be parsed at all. */
  async function respond(message: Buffer): Promise<{ response: Packet | Buffer; query: Packet } | undefined> {
    let query: Packet;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return undefined;
    }
    if (query.type === 'response') return undefined;
    try {
      const local = answerQuery(query, current());
      if (local) return { response: local, query };
      const reply = await forwardQuery(message, upstreams, timeoutMs);
      return { response: reply ?? errorResponse(query, RCODE.SERVFAIL), query };
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'dns query failed');
      return { response: errorResponse(query, RCODE.SERVFAIL), query };
    }
  }

  const udp: Socket = createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    void respond(msg).then((r) => {
      if (!r) return;
      const out = Buffer.isBuffer(r.response) ? r.response : encodeForUdp(r.response, udpLimit(r.query));
      udp.send(out, rinfo.port, rinfo.address);
    });
  });
  udp.on('error', (err) => log.warn({ err: err.message }, 'dns udp socket error'));
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(opts.listen.port, opts.listen.address, () => {
      udp.off('error', reject);
      resolve();
    });
  });
  const port = udp.address().port;

  const connections = new Set<TcpSocket>();
  const tcp: Server = createServer((conn) => {
    connections.add(conn);
    conn.on('close', () => connections.delete(conn));
    conn.on('error', () => conn.destroy());
    conn.setTimeout(10_000, () => conn.destroy());
    let buf = Buffer.alloc(0);
    conn.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const message = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + message.length);
        void respond(message).then((r) => {
          if (!r || conn.destroyed) return;
          const body = Buffer.isBuffer(r.response) ? r.response : dnsPacket.encode(r.response);
          const len = Buffer.alloc(2);
          len.writeUInt16BE(body.length);
          conn.write(Buffer.concat([len, body]));
        });
      }
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, opts.listen.address, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    udp.close();
    await Promise.all([services.stop(), slices.stop()]);
    throw err;
  }
  log.info({ address: opts.listen.address, port, domain, upstreams: upstreams.map((u) => `${u.address}:${u.port}`) }, 'cluster DNS listening');

  return {
    address: opts.listen.address,
    port,
    synced: () => Promise.all([services.synced(), slices.synced()]).then(() => undefined),
    async stop() {
      await Promise.all([services.stop(), slices.stop()]);
      for (const c of connections) c.destroy();
      await new Promise<void>((r) => tcp.close(() => r()));
      await new Promise<void>((r) => udp.close(() => r()));
    },
  };
}
