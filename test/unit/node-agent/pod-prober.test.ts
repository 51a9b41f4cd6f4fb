// A pod's probes over time against a real local HTTP server whose answer the test switches:
// readiness needs successThreshold passes and failureThreshold failures to flip, a new container
// instance starts unready, startup gates liveness and readiness, and a failed liveness probe asks
// for one kill and then waits for the next instance.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PodProber } from '../../../node-agent/probes/pod-prober.js';
import type { ProbedContainerSpec } from '../../../node-agent/probes/spec.js';

let server: Server;
let port: number;
const answers = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    res.statusCode = answers.get(req.url ?? '') ?? 404;
    res.end();
  });
  port = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
});
afterAll(() => server.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function harness(container: ProbedContainerSpec) {
  const instance = { id: 'a1', state: 'running', startedAt: new Date().toISOString() };
  const log = { unhealthy: [] as string[], failed: [] as string[], changes: 0 };
  const prober = new PodProber({
    containers: [container],
    instance: () => instance,
    podIP: () => '127.0.0.1',
    unhealthy: (_c, m) => log.unhealthy.push(m),
    changed: () => log.changes++,
    failed: (c, k) => log.failed.push(`${c}/${k}`),
  });
  const state = () => prober.state(container.name, instance.id, instance.state === 'running');
  return { prober, instance, log, state };
}

describe('PodProber', () => {
  it('readiness flips only after successThreshold passes and failureThreshold failures', async () => {
    answers.set('/r1', 200);
    const h = harness({ name: 'c', readinessProbe: { httpGet: { path: '/r1', port }, periodSeconds: 1, successThreshold: 2, failureThreshold: 2 } });
    h.prober.start();
    try {
      await sleep(300);
      expect(h.state()).toEqual({ started: true, ready: false });
      await sleep(1000);
      expect(h.state().ready).toBe(true);
      answers.set('/r1', 500);
      await sleep(1000);
      expect(h.state().ready).toBe(true);
      await sleep(1000);
      expect(h.state().ready).toBe(false);
      expect(h.log.unhealthy).toContain('Readiness probe failed: HTTP probe failed with statuscode: 500');
      expect(h.log.failed).toEqual([]);
    } finally {
      h.prober.stop();
    }
  }, 10_000);

  it('a new container instance starts unready and is probed at once', async () => {
    answers.set('/r2', 200);
    const h = harness({ name: 'c', readinessProbe: { httpGet: { path: '/r2', port }, periodSeconds: 5 } });
    h.prober.start();
    try {
      await sleep(300);
      expect(h.state().ready).toBe(true);
      h.instance.id = 'a2';
      expect(h.state().ready).toBe(false);
      h.prober.kick();
      await sleep(300);
      expect(h.state().ready).toBe(true);
    } finally {
      h.prober.stop();
    }
  }, 10_000);

  it('initialDelaySeconds holds the first probe', async () => {
    answers.set('/r3', 200);
    const h = harness({ name: 'c', readinessProbe: { httpGet: { path: '/r3', port }, periodSeconds: 1, initialDelaySeconds: 2 } });
    h.prober.start();
    try {
      await sleep(1200);
      expect(h.state().ready).toBe(false);
      await sleep(1500);
      expect(h.state().ready).toBe(true);
    } finally {
      h.prober.stop();
    }
  }, 10_000);

  it('startup gates liveness and readiness; a failed liveness probe asks for one kill until the next instance', async () => {
    answers.delete('/started');
    answers.set('/live', 500);
    answers.set('/ready', 200);
    const h = harness({
      name: 'c',
      startupProbe: { httpGet: { path: '/started', port }, periodSeconds: 1, failureThreshold: 30 },
      livenessProbe: { httpGet: { path: '/live', port }, periodSeconds: 1, failureThreshold: 1 },
      readinessProbe: { httpGet: { path: '/ready', port }, periodSeconds: 1 },
    });
    h.prober.start();
    try {
      await sleep(2200);
      expect(h.state()).toEqual({ started: false, ready: false });
      expect(h.log.failed).toEqual([]);
      expect(h.log.unhealthy.every((m) => m.startsWith('Startup probe failed: '))).toBe(true);
      answers.set('/started', 200);
      await sleep(2300);
      expect(h.state()).toEqual({ started: true, ready: true });
      expect(h.log.failed).toEqual(['c/liveness']);
      await sleep(1500);
      expect(h.log.failed).toEqual(['c/liveness']);
      h.instance.id = 'b1';
      h.prober.kick();
      await sleep(2300);
      expect(h.log.failed).toEqual(['c/liveness', 'c/liveness']);
    } finally {
      h.prober.stop();
    }
  }, 15_000);
});
