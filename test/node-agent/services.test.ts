// Services on a real node: the service proxy's iptables rules and the cluster DNS server, next to a
// real node agent on containerd, carry real traffic between real pods and from the node itself:
// load balancing over ready endpoints, ClientIP affinity, node ports, fast refusal without
// endpoints, and names resolved through the pods' resolv.conf.
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { get } from 'node:http';
import { promisify } from 'node:util';
import dnsPacket, { type Packet } from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/apiserver/logger.js';
import type { KubeClient } from '../../shared/client/kube-client.js';
import { hostIPv4, type LocalNode } from '../../node-agent/real-node.js';
import { CLUSTER_DNS_IP, startClusterDns, type ClusterDns } from '../../node-agent/dns/cluster-dns.js';
import { startServiceProxy, type ServiceProxy } from '../../node-agent/proxy/service-proxy.js';
import { freePort } from '../e2e/harness.js';
import { startRealCluster, waitFor, type RealCluster } from './real-cluster.js';

const NS = 'services-test';
const NODE = 'stratus-services-test';
const CHAIN_PREFIX = 'STSVCTEST';
const run = promisify(execFile);

let cluster: RealCluster;
let client: KubeClient;
let node: LocalNode | undefined;
let proxy: ServiceProxy | undefined;
let dns: ClusterDns | undefined;
let upstream: ReturnType<typeof createSocket> | undefined;
const nodeIP = hostIPv4();

type Obj = { metadata: { name: string; uid: string; labels?: Record<string, string> }; spec?: Record<string, unknown>; status?: Record<string, unknown> };
type Slice = { endpoints?: { addresses: string[]; conditions: { ready?: boolean }; targetRef?: { name: string } }[] };

const listPods = async (selector: string) => (await client.get<{ items: Obj[] }>(`/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent(selector)}`)).items;
const getService = (name: string) => client.get<Obj & { spec: { clusterIP: string; ports: { nodePort?: number }[] } }>(`/api/v1/namespaces/${NS}/services/${name}`);

/** The ready endpoint pod names of a Service, from its EndpointSlices. */
async function readyEndpointPods(service: string): Promise<string[]> {
  const slices = await client.get<{ items: Slice[] }>(`/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${service}`)}`);
  return slices.items.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions.ready).map((e) => e.targetRef?.name ?? '')).sort();
}

async function containerId(pod: string): Promise<string> {
  const p = await client.get<Obj>(`/api/v1/namespaces/${NS}/pods/${pod}`);
  const id = ((p.status?.containerStatuses as { containerID?: string }[] | undefined) ?? [])[0]?.containerID;
  if (!id) throw new Error(`${pod} has no container`);
  return id.replace(/^containerd:\/\//, '');
}

/** Run a shell command in a pod's first container. */
async function sh(pod: string, script: string, timeoutSeconds = 60): Promise<{ out: string; err: string; code: number }> {
  const r = await node!.runtime.client.execSync(await containerId(pod), ['sh', '-c', script], timeoutSeconds);
  return { out: r.stdout.toString('utf8'), err: r.stderr.toString('utf8'), code: r.exit_code };
}

/** GET from the test process (the node itself); rejects with the socket error code. */
function httpGet(host: string, port: number, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host, port, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body.trim()));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}

/**
 * Hostnames answering `count` requests made one after the other from a pod. The image's busybox
 * wget crashes with -T, so `timeout` bounds each request.
 */
async function hitsFromPod(pod: string, url: string, count: number): Promise<string[]> {
  const r = await sh(pod, `for i in $(seq 1 ${count}); do timeout 5 wget -qO- ${url} || echo FAILED; done`);
  return r.out.trim().split('\n');
}

function webDeployment(name: string, replicas: number, labels: Record<string, string>) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'httpd',
              image: 'busybox',
              command: ['sh', '-c', 'mkdir -p /www && hostname > /www/index.html && touch /www/ready && exec httpd -f -p 8080 -h /www'],
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { exec: { command: ['cat', '/www/ready'] }, periodSeconds: 1, failureThreshold: 1 },
            },
          ],
        },
      },
    },
  };
}

/** A stand-in for the host's resolver, on loopback: answers every A query with 192.0.2.123. */
async function startFakeUpstream(): Promise<{ socket: ReturnType<typeof createSocket>; port: number }> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const reply: Packet = { type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers: (q.questions ?? []).filter((x) => x.type === 'A').map((x) => ({ name: x.name, type: 'A', class: 'IN', ttl: 60, data: '192.0.2.123' })) };
    socket.send(dnsPacket.encode(reply), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { socket, port: socket.address().port };
}

function queryDns(server: { address: string; port: number }, name: string, type: 'A' | 'AAAA' = 'A'): Promise<ReturnType<typeof dnsPacket.decode>> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no DNS answer for ${name}`));
    }, 5000);
    socket.on('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(dnsPacket.decode(msg));
    });
    socket.send(dnsPacket.encode({ type: 'query', id: 77, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }] }), server.port, server.address);
  });
}

beforeAll(async () => {
  cluster = await startRealCluster({
    namespace: NS,
    nodeName: NODE,
    cgroupRoot: '/stratus-services-test',
    node: { clusterDns: { servers: [CLUSTER_DNS_IP], domain: 'cluster.local' } },
    startNode: false,
  });
  ({ client } = cluster);
  const log = createLogger('silent');
  const fake = await startFakeUpstream();
  upstream = fake.socket;
  dns = await startClusterDns({ client, listen: { address: nodeIP, port: 0 }, log, upstreams: [{ address: '127.0.0.1', port: fake.port }] });
  proxy = await startServiceProxy({ client, nodeName: NODE, nodeIPs: [nodeIP], log, chainPrefix: CHAIN_PREFIX, syncPeriodMs: 100, clusterDns: { port: dns.port } });
  node = await cluster.startNode();

  await client.create(`/apis/apps/v1/namespaces/${NS}/deployments`, webDeployment('web', 3, { app: 'web' }));
  for (const [name, extra] of [
    ['web', { type: 'NodePort' }],
    ['web-sticky', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } }],
    ['web-headless', { clusterIP: 'None' }],
  ] as const) {
    await client.create(`/api/v1/namespaces/${NS}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: NS },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }], ...extra },
    });
  }
  await client.create(`/api/v1/namespaces/${NS}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'client', namespace: NS },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] },
  });
  await waitFor(async () => (await readyEndpointPods('web')).length === 3, '3 ready web endpoints', 60_000);
  await waitFor(async () => (await client.get<Obj>(`/api/v1/namespaces/${NS}/pods/client`)).status?.phase === 'Running', 'the client pod to run', 60_000);
  await proxy.synced();
}, 240_000);

afterAll(async () => {
  await proxy?.stop().catch(() => undefined);
  await dns?.stop().catch(() => undefined);
  upstream?.close();
  await cluster?.stop();
}, 60_000);

describe('services on a real node', () => {
  it('balances a ClusterIP over the ready pods, from a pod and from the node', async () => {
    const { spec } = await getService('web');
    const pods = (await listPods('app=web')).map((p) => p.metadata.name).sort();
    const fromPod = await hitsFromPod('client', `http://${spec.clusterIP}/`, 30);
    expect(fromPod.filter((h) => !pods.includes(h))).toEqual([]);
    expect(new Set(fromPod).size).toBeGreaterThanOrEqual(2);

    const fromNode: string[] = [];
    for (let i = 0; i < 30; i++) fromNode.push(await httpGet(spec.clusterIP, 80));
    expect(fromNode.filter((h) => !pods.includes(h))).toEqual([]);
    expect(new Set(fromNode).size).toBeGreaterThanOrEqual(2);
  });

  it('reaches the Service through its node port on the node IP', async () => {
    const { spec } = await getService('web');
    const nodePort = spec.ports[0].nodePort!;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    const pods = (await listPods('app=web')).map((p) => p.metadata.name);
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add(await httpGet(nodeIP, nodePort));
    expect([...seen].every((h) => pods.includes(h))).toBe(true);
    expect(seen.size).toBeGreaterThanOrEqual(2);
    const fromPod = await hitsFromPod('client', `http://${nodeIP}:${nodePort}/`, 5);
    expect(fromPod.every((h) => pods.includes(h))).toBe(true);
  });

  it('keeps a client on one backend with sessionAffinity ClientIP', async () => {
    const { spec } = await getService('web-sticky');
    const fromPod = await hitsFromPod('client', `http://${spec.clusterIP}/`, 20);
    expect(fromPod).toHaveLength(20);
    expect(new Set(fromPod).size).toBe(1);
    expect(fromPod[0]).not.toBe('FAILED');
    const fromNode = new Set<string>();
    for (let i = 0; i < 15; i++) fromNode.add(await httpGet(spec.clusterIP, 80));
    expect(fromNode.size).toBe(1);
  });

  it('refuses a Service without endpoints at once, from the node and from a pod', async () => {
    await client.create(`/api/v1/namespaces/${NS}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'nobody', namespace: NS },
      spec: { selector: { app: 'nobody' }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    const { spec } = await getService('nobody');
    await waitFor(async () => (await run('iptables-save', ['-t', 'filter'])).stdout.includes(`-d ${spec.clusterIP}/32`), 'the reject rule');
    const started = Date.now();
    const err = await httpGet(spec.clusterIP, 80).then(() => undefined, (e: { code?: string }) => e);
    expect(err?.code).toBe('ECONNREFUSED');
    expect(Date.now() - started).toBeLessThan(2000);
    const t0 = Date.now();
    const r = await sh('client', `timeout 10 wget -qO- http://${spec.clusterIP}/ 2>&1; echo "exit=$?"`);
    expect(r.out).toMatch(/refused/i);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('resolves Service names from pods through the cluster DNS in their resolv.conf', async () => {
    const { spec } = await getService('web');
    const conf = await sh('client', 'cat /etc/resolv.conf');
    expect(conf.out).toContain(`nameserver ${CLUSTER_DNS_IP}`);
    expect(conf.out).toContain(`search ${NS}.svc.cluster.local svc.cluster.local cluster.local`);
    const lookup = await sh('client', `nslookup web.${NS}.svc.cluster.local`);
    expect(lookup.code, lookup.out + lookup.err).toBe(0);
    expect(lookup.out).toContain(`Address: ${spec.clusterIP}`);
    const pods = (await listPods('app=web')).map((p) => p.metadata.name);
    const short = await hitsFromPod('client', 'http://web/', 3);
    expect(short.every((h) => pods.includes(h))).toBe(true);
    const missing = await sh('client', `nslookup missing.${NS}.svc.cluster.local`);
    expect(missing.out + missing.err).toMatch(/NXDOMAIN|can't find/i);
  });

  it('answers a headless Service with the ready pod IPs', async () => {
    const readyIPs = async () => {
      const ready = await readyEndpointPods('web-headless');
      return (await listPods('app=web')).filter((p) => ready.includes(p.metadata.name)).map((p) => p.status!.podIP as string).sort();
    };
    // Ready endpoints can change under load (1 s exec probes): compare against the slices at the time.
    const { answered, ips } = await waitFor(async () => {
      const lookup = await sh('client', `nslookup web-headless.${NS}.svc.cluster.local`);
      const result = { answered: [...lookup.out.matchAll(/Address: (10\.88\.\d+\.\d+)/g)].map((m) => m[1]).sort(), ips: await readyIPs() };
      return lookup.code === 0 && result.ips.length === 3 && JSON.stringify(result.answered) === JSON.stringify(result.ips) ? result : undefined;
    }, 'nslookup to answer the 3 ready pod IPs');
    expect(answered).toEqual(ips);
  });

  it('forwards other names upstream and answers SERVFAIL quickly when the upstream is gone', async () => {
    const forwarded = await queryDns({ address: CLUSTER_DNS_IP, port: 53 }, 'example.test');
    expect(forwarded.answers).toMatchObject([{ type: 'A', data: '192.0.2.123' }]);
    const dead = await startClusterDns({ client, listen: { address: '127.0.0.1', port: 0 }, log: createLogger('silent'), upstreams: [{ address: '127.0.0.1', port: await freePort() }], upstreamTimeoutMs: 3000 });
    try {
      const t0 = Date.now();
      const r = await queryDns(dead, 'example.test');
      expect((r as { rcode?: string }).rcode).toBe('SERVFAIL');
      expect(Date.now() - t0).toBeLessThan(1000);
      await dead.synced();
      const aaaa = await queryDns(dead, `web.${NS}.svc.cluster.local`, 'AAAA');
      expect((aaaa as { rcode?: string }).rcode).toBe('NOERROR');
      expect(aaaa.answers).toEqual([]);
    } finally {
      await dead.stop();
    }
  });

  it('stops sending traffic to a pod that turns unready, and to a pod that is deleted', async () => {
    const { spec } = await getService('web');
    const before = (await listPods('app=web')).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const [unready, deleted] = before.map((p) => p.metadata.name);
    const gone = before.slice(0, 2).map((p) => p.status!.podIP as string);
    await sh(unready, 'rm /www/ready');
    await waitFor(async () => !(await readyEndpointPods('web')).includes(unready), `${unready} to leave the ready endpoints`);
    await client.delete(`/api/v1/namespaces/${NS}/pods/${deleted}`);
    await waitFor(async () => !(await readyEndpointPods('web')).includes(deleted), `${deleted} to leave the endpoints`);
    await waitFor(async () => {
      const nat = (await run('iptables-save', ['-t', 'nat'])).stdout;
      return gone.every((ip) => !nat.includes(`--to-destination ${ip}:8080`));
    }, 'the proxy to drop both endpoints');
    const fromPod = await hitsFromPod('client', `http://${spec.clusterIP}/`, 30);
    expect(fromPod).not.toContain(unready);
    expect(fromPod).not.toContain(deleted);
    expect(fromPod).not.toContain('FAILED');
    const fromNode: string[] = [];
    for (let i = 0; i < 20; i++) fromNode.push(await httpGet(spec.clusterIP, 80));
    expect(fromNode).not.toContain(unready);
    expect(fromNode).not.toContain(deleted);
  });

  it('removes its chains and jump rules when stopped', async () => {
    const before = (await run('iptables-save', ['-t', 'nat'])).stdout;
    expect(before).toContain(`:${CHAIN_PREFIX}-SERVICES`);
    await proxy!.stop();
    proxy = undefined;
    const after = (await run('iptables-save')).stdout;
    expect(after).not.toContain(CHAIN_PREFIX);
  });
});
