// The node agent's kubelet HTTP API against real containerd: pods run by a real node agent print
// lines, and the API (driven in-process over a stream pair, the way the tunnel hands it
// connections) serves their logs with kubectl's options, the previous instance after a crash,
// kubelet's error texts, and a Summary with the pods' and node's cpu and memory.
import { writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { request, type Server } from 'node:http';
import { join } from 'node:path';
import { duplexPair, PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/apiserver/logger.js';
import { isKubeNotFound, type KubeClient } from '../../shared/client/kube-client.js';
import { createKubeletApi, type KubeletPod } from '../../node-agent/kubelet-api/server.js';
import { streamLogs } from '../../node-agent/kubelet-api/logs.js';
import type { Summary } from '../../node-agent/kubelet-api/stats.js';
import { podManifest, startRealCluster, waitFor as waitUntil, type RealCluster } from './real-cluster.js';

const NS = 'kubeletapi-test';
const NODE = 'stratus-kubeletapi-test';

let cluster: RealCluster;
let dir: string;
let client: KubeClient;
/** Answers from what containerd holds only. */
let criOnly: Server;
/** Follows the pods' API statuses, as the agent will wire it. */
let withPods: Server;

type Obj = KubeletPod & { status?: { phase?: string; containerStatuses?: { name: string; restartCount: number; state: { running?: unknown; waiting?: { reason: string } } }[] } };

const waitFor = <T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 30_000) => waitUntil(check, what, timeoutMs, 100);

const getPod = (name: string) => client.get<Obj>(`/api/v1/namespaces/${NS}/pods/${name}`);

function pod(name: string, script: string, extra: Record<string, unknown> = {}) {
  return podManifest(NS, name, { terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', script] }], ...extra });
}

async function waitRunning(name: string): Promise<Obj> {
  return waitFor(async () => {
    const p = await getPod(name);
    return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.state.running ? p : undefined;
  }, `${name} to run`);
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request over a fresh in-memory stream pair whose other end the server gets as a connection. */
function call(server: Server, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const [ours, theirs] = duplexPair();
    server.emit('connection', theirs);
    const req = request({ path, method: opts.method ?? 'GET', headers: opts.headers, createConnection: () => ours as never }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        resolve({ status: res.statusCode!, headers: res.headers, body });
        ours.destroy();
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const logs = (server: Server, podName: string, query = '') => call(server, `/containerLogs/${NS}/${podName}/main${query ? `?${query}` : ''}`);
const lines = (body: string) => body.split('\n').filter(Boolean);

beforeAll(async () => {
  cluster = await startRealCluster({ namespace: NS, nodeName: NODE, cgroupRoot: '/stratus-kubeletapi-test' });
  ({ dir, client } = cluster);
  const node = cluster.node!;
  const base = { cri: node.runtime.client, logRoot: join(cluster.nodeDir, 'pods'), log: createLogger('silent'), nodeName: NODE, followRecheckMs: 200 };
  criOnly = createKubeletApi(base);
  withPods = createKubeletApi({
    ...base,
    pods: {
      get: async (namespace, name) => {
        try {
          return await client.get<KubeletPod>(`/api/v1/namespaces/${namespace}/pods/${name}`);
        } catch (e) {
          if (isKubeNotFound(e)) return undefined;
          throw e;
        }
      },
      list: async () => (await client.get<{ items: KubeletPod[] }>(`/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${NODE}`)}`)).items,
    },
  });
  await Promise.all([
    client.create(`/api/v1/namespaces/${NS}/pods`, pod('counter', 'i=0; while true; do echo line $i; echo err $i >&2; i=$((i+1)); sleep 0.2; done')),
    // Runs 8 s, then fails; the agent restarts it after a 10 s back-off.
    client.create(`/api/v1/namespaces/${NS}/pods`, pod('crasher', 'echo "instance $(cat /proc/sys/kernel/random/uuid)"; echo going down >&2; sleep 8; exit 1')),
    client.create(`/api/v1/namespaces/${NS}/pods`, pod('busy', 'while true; do :; done')),
  ]);
  await Promise.all([waitRunning('counter'), waitRunning('crasher'), waitRunning('busy')]);
  // A few lines to read.
  await new Promise((r) => setTimeout(r, 1500));
}, 240_000);

afterAll(() => cluster?.stop(), 60_000);

describe('kubelet API: container logs', () => {
  it('serves the whole log, stdout and stderr, as plain text', async () => {
    for (const server of [criOnly, withPods]) {
      const r = await logs(server, 'counter');
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
      const all = lines(r.body);
      expect(all.slice(0, 2).sort()).toEqual(['err 0', 'line 0']);
      expect(all.filter((l) => l.startsWith('line ')).length).toBeGreaterThanOrEqual(5);
      expect(all.filter((l) => l.startsWith('err ')).length).toBeGreaterThanOrEqual(5);
      expect(r.body.endsWith('\n')).toBe(true);
    }
  });

  it('tailLines keeps the last lines, and the legacy tail=all keeps everything', async () => {
    const r = await logs(criOnly, 'counter', 'tailLines=4');
    const tail = lines(r.body);
    expect(tail).toHaveLength(4);
    const all = lines((await logs(criOnly, 'counter', 'tail=all')).body);
    expect(all.length).toBeGreaterThan(4);
    // The last four of a read made just before are in the same order (the file only grew since).
    const start = all.indexOf(tail[0]);
    expect(start).toBeGreaterThan(0);
    expect(all.slice(start, start + 4)).toEqual(tail);
    expect(lines((await logs(criOnly, 'counter', 'tailLines=0')).body)).toEqual([]);
  });

  it('timestamps prefixes each line with its RFC 3339 time with nine fractional digits', async () => {
    const r = await logs(criOnly, 'counter', 'timestamps=true&tailLines=6');
    const got = lines(r.body);
    expect(got).toHaveLength(6);
    for (const l of got) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (line|err) \d+$/);
    const t = Date.parse(got[5].split(' ')[0]);
    expect(Math.abs(Date.now() - t)).toBeLessThan(5_000);
  });

  it('sinceSeconds and sinceTime drop older lines', async () => {
    const all = lines((await logs(criOnly, 'counter', 'timestamps=true')).body);
    const recent = lines((await logs(criOnly, 'counter', 'timestamps=true&sinceSeconds=1')).body);
    expect(recent.length).toBeGreaterThan(0);
    expect(recent.length).toBeLessThan(all.length);
    for (const l of recent) expect(Date.now() - Date.parse(l.split(' ')[0])).toBeLessThan(2_500);
    const future = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    expect((await logs(criOnly, 'counter', `sinceTime=${future}`)).body).toBe('');
    const past = (await logs(criOnly, 'counter', `sinceTime=2000-01-01T00:00:00Z`)).body;
    expect(lines(past).slice(0, 2).sort()).toEqual(['err 0', 'line 0']);
  });

  it('limitBytes cuts the output at exactly that many bytes', async () => {
    const r = await logs(criOnly, 'counter', 'limitBytes=10');
    expect(r.status).toBe(200);
    expect(Buffer.byteLength(r.body)).toBe(10);
    expect(['line 0\nerr', 'err 0\nline']).toContain(r.body);
  });

  it('follow streams new lines as they are written, until the client goes away', async () => {
    const seen = await new Promise<string[]>((resolve, reject) => {
      const [ours, theirs] = duplexPair();
      criOnly.emit('connection', theirs);
      const req = request({ path: `/containerLogs/${NS}/counter/main?follow=true&tailLines=1`, createConnection: () => ours as never }, (res) => {
        expect(res.statusCode).toBe(200);
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
          const got = lines(text).filter((l) => l.startsWith('line '));
          if (got.length >= 4) {
            req.destroy();
            resolve(got);
          }
        });
        res.on('end', () => reject(new Error(`the followed log ended early (${res.statusCode}): ${text}`)));
        res.on('error', () => undefined);
      });
      req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
      req.end();
    });
    const numbers = seen.map((l) => Number(l.split(' ')[1]));
    for (let i = 1; i < numbers.length; i++) expect(numbers[i]).toBe(numbers[i - 1] + 1);
    // The server keeps answering after the followed request was dropped.
    expect((await call(criOnly, '/healthz')).body).toBe('ok');
  });

  it('previous shows the instance before a crash-restart; follow on a finished instance ends by itself', async () => {
    const restarted = await waitFor(async () => {
      const p = await getPod('crasher');
      const cs = p.status?.containerStatuses?.[0];
      return cs && cs.restartCount >= 1 && cs.state.running ? p : undefined;
    }, 'crasher to run again after its restart', 40_000);
    expect(restarted.status!.containerStatuses![0].restartCount).toBe(1);
    for (const server of [criOnly, withPods]) {
      const current = await logs(server, 'crasher');
      const previous = await logs(server, 'crasher', 'previous=true&follow=true');
      expect(previous.status).toBe(200);
      expect(lines(previous.body)).toHaveLength(2);
      expect(lines(previous.body)).toContain('going down');
      const instance = (body: string) => lines(body).find((l) => l.startsWith('instance '));
      expect(instance(previous.body)).toMatch(/^instance [0-9a-f-]{36}$/);
      expect(instance(current.body)).toMatch(/^instance [0-9a-f-]{36}$/);
      expect(instance(current.body)).not.toBe(instance(previous.body));
    }
  }, 60_000);

  it('answers kubelet error texts for bad options, unknown pods and containers, and a missing previous instance', async () => {
    const bad = await logs(criOnly, 'counter', 'tailLines=-1');
    expect([bad.status, bad.body]).toEqual([422, '{"message": "Invalid request."}']);
    const both = await logs(criOnly, 'counter', 'sinceSeconds=5&sinceTime=2020-01-01T00:00:00Z');
    expect(both.status).toBe(422);
    const undecodable = await logs(criOnly, 'counter', 'tailLines=lots');
    expect([undecodable.status, undecodable.body]).toEqual([400, '{"message": "Unable to decode query."}']);

    for (const server of [criOnly, withPods]) {
      const nopod = await logs(server, 'nope');
      expect([nopod.status, nopod.body]).toEqual([404, 'pod "nope" does not exist']);
      const noprev = await logs(server, 'counter', 'previous=true');
      expect([noprev.status, noprev.body]).toEqual([400, 'previous terminated container "main" in pod "counter" not found']);
    }
    const nocontainer = await call(withPods, `/containerLogs/${NS}/counter/sidecar`);
    expect([nocontainer.status, nocontainer.body]).toEqual([404, 'container "sidecar" not found in pod "counter"']);
  });

  it('says a container is waiting to start, with the reason from its status', async () => {
    await client.create(`/api/v1/namespaces/${NS}/pods`, {
      ...pod('badenv', 'sleep 3600'),
      spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'], env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'missing', key: 'k' } } }] }] },
    });
    await waitFor(async () => (await getPod('badenv')).status?.containerStatuses?.[0]?.state.waiting?.reason === 'CreateContainerConfigError', 'CreateContainerConfigError');
    const r = await logs(withPods, 'badenv');
    expect([r.status, r.body]).toEqual([400, 'container "main" in pod "badenv" is waiting to start: CreateContainerConfigError']);
  });

  it('joins partial (P) entries with the entry that completes them, per stream', async () => {
    const file = join(dir, 'partial.log');
    writeFileSync(
      file,
      [
        '2024-05-01T10:00:00.1Z stdout P hel',
        '2024-05-01T10:00:00.2Z stderr F oops',
        '2024-05-01T10:00:00.3Z stdout P lo ',
        '2024-05-01T10:00:00.400000000Z stdout F world',
        '2024-05-01T10:00:01.000000001Z stdout F last',
        '',
      ].join('\n'),
    );
    const read = async (opts: Parameters<typeof streamLogs>[2]) => {
      const out = new PassThrough();
      let text = '';
      out.on('data', (c: Buffer) => (text += c.toString()));
      const fh = await open(file, 'r');
      await streamLogs(fh, file, opts, out, { isRunning: async () => false });
      await fh.close();
      return text;
    };
    expect(await read({ follow: false, previous: false, timestamps: false })).toBe('oops\nhello world\nlast\n');
    expect(await read({ follow: false, previous: false, timestamps: true, tailLines: 2 })).toBe('2024-05-01T10:00:00.100000000Z hello world\n2024-05-01T10:00:01.000000001Z last\n');
    expect(await read({ follow: true, previous: false, timestamps: false, since: new Date('2024-05-01T10:00:00.150Z') })).toBe('oops\nlast\n');
  });
});

describe('kubelet API: stats and the rest', () => {
  it('/stats/summary reports the busy pod using cpu and memory, the test pods, and the node', async () => {
    const r = await call(withPods, '/stats/summary');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    const summary = JSON.parse(r.body) as Summary;
    expect(summary.node.nodeName).toBe(NODE);
    expect(summary.node.cpu!.usageNanoCores).toBeGreaterThan(0);
    expect(summary.node.cpu!.usageCoreNanoSeconds).toBeGreaterThan(0);
    expect(summary.node.memory!.workingSetBytes).toBeGreaterThan(0);
    expect(summary.node.memory!.availableBytes).toBeGreaterThan(0);
    expect(summary.node.fs!.capacityBytes).toBeGreaterThan(0);
    expect(summary.node.startTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const names = summary.pods.map((p) => p.podRef.name);
    expect(names).toEqual(expect.arrayContaining(['counter', 'busy', 'crasher']));
    const busy = summary.pods.find((p) => p.podRef.name === 'busy')!;
    expect(busy.podRef).toEqual({ name: 'busy', namespace: NS, uid: (await getPod('busy')).metadata.uid });
    const [c] = busy.containers;
    expect(c.name).toBe('main');
    // A shell spinning in a loop uses a good share of a core, even on a busy machine.
    expect(c.cpu!.usageNanoCores).toBeGreaterThan(10_000_000);
    expect(c.cpu!.usageCoreNanoSeconds).toBeGreaterThan(0);
    expect(c.memory!.workingSetBytes).toBeGreaterThan(0);
    expect(busy.cpu!.usageNanoCores).toBe(c.cpu!.usageNanoCores);
    expect(busy.memory!.workingSetBytes).toBe(c.memory!.workingSetBytes);
    const counter = summary.pods.find((p) => p.podRef.name === 'counter')!;
    expect(counter.containers[0].logs!.usedBytes).toBeGreaterThan(0);

    const small = JSON.parse((await call(criOnly, '/stats/summary?only_cpu_and_memory=true')).body) as Summary;
    expect(small.node.fs).toBeUndefined();
    expect(small.pods.map((p) => p.podRef.name)).toEqual(expect.arrayContaining(['counter', 'busy']));
    const smallBusy = small.pods.find((p) => p.podRef.name === 'busy')!;
    expect(smallBusy.containers[0].cpu!.usageNanoCores).toBeGreaterThan(10_000_000);
    expect(smallBusy.containers[0].logs).toBeUndefined();
  });

  it('/healthz, /pods, unknown paths, and streaming paths without an upgrade', async () => {
    expect(await call(criOnly, '/healthz')).toMatchObject({ status: 200, body: 'ok' });
    for (const server of [criOnly, withPods]) {
      const list = JSON.parse((await call(server, '/pods')).body) as { kind: string; items: KubeletPod[] };
      expect(list.kind).toBe('PodList');
      expect(list.items.filter((p) => p.metadata.namespace === NS).map((p) => p.metadata.name)).toEqual(expect.arrayContaining(['counter', 'busy', 'crasher']));
    }
    expect(await call(criOnly, '/nothing/here')).toMatchObject({ status: 404, body: '404 page not found\n' });
    expect(await call(criOnly, `/exec/${NS}/counter/main?command=ls&output=1`, { method: 'POST' })).toMatchObject({ status: 400, body: 'Upgrade request required' });
    expect(await call(criOnly, `/portForward/${NS}/counter`)).toMatchObject({ status: 400 });
    expect(await call(criOnly, '/healthz', { method: 'DELETE' })).toMatchObject({ status: 405 });
  });

  it('hands upgrades on streaming paths to the streaming handlers and refuses others', async () => {
    const upgrade = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const [ours, theirs] = duplexPair();
        criOnly.emit('connection', theirs);
        let raw = '';
        ours.setEncoding('utf8');
        ours.on('data', (c: string) => (raw += c));
        ours.on('end', () => resolve({ status: Number(raw.split(' ')[1]), body: raw.slice(raw.indexOf('\r\n\r\n') + 4) }));
        ours.on('error', reject);
        ours.write(`POST ${path} HTTP/1.1\r\nHost: kubelet\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\nContent-Length: 0\r\n\r\n`);
      });
    expect(await upgrade('/nothing/here')).toEqual({ status: 404, body: '404 page not found\n' });
    // The streaming module answers for a pod that does not exist (whatever its wording, not the router's 404).
    const exec = await upgrade(`/exec/${NS}/nope/main?command=ls&output=1`);
    expect(exec.status).toBeGreaterThanOrEqual(400);
    expect(exec.body).not.toBe('404 page not found\n');
  });
});
