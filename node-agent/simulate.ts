// Hollow nodes (`stratus agent --simulate N`): N NodeAgents with fake runtimes in one process,
// sharing one API connection pool and ONE pod watch (all bound pods, routed by spec.nodeName).
// Heartbeats are spread evenly over the renew interval so N nodes cost N/interval requests per
// second, not bursts; so is the full node status kubelet reports every 5 minutes when nothing
// changed (nodeStatusReportFrequency). For scale tests and capacity what-ifs, like kubemark or KWOK.
import { performance } from 'node:perf_hooks';
import type { KubeClient } from '../shared/client/kube-client.js';
import type { Logger } from '../shared/apiserver/logger.js';
import { NodeAgent } from './agent.js';
import { FakeRuntime } from './fake-runtime.js';
import type { NodeResources } from './node-object.js';
import { PodSource } from './pod-source.js';

export interface HollowOptions {
  client: KubeClient;
  count: number;
  /** Node names are <prefix><index> (default "hollow-"). */
  prefix?: string;
  capacity?: Partial<NodeResources>;
  labels?: Record<string, string>;
  /** Lease renew interval (default 10 s, kubelet's). */
  renewIntervalMs?: number;
  /** How often each node reports its full status although nothing changed (default 5 min, kubelet's). */
  statusReportIntervalMs?: number;
  /** Registrations in flight at once (default 32). */
  concurrency?: number;
  log: Logger;
  onProgress?: (registered: number, total: number) => void;
}

export interface HollowNodes {
  agents: NodeAgent[];
  stop(): Promise<void>;
  /** Heartbeats that failed since start (the control plane not keeping up shows here). */
  readonly failedHeartbeats: number;
  readonly heartbeats: number;
  /** Periodic node status reports sent, and how many failed. */
  readonly statusReports: number;
  readonly failedStatusReports: number;
}

export async function startHollowNodes(opts: HollowOptions): Promise<HollowNodes> {
  const prefix = opts.prefix ?? 'hollow-';
  const capacity: NodeResources = { cpu: '4', memory: '16Gi', pods: '110', ephemeralStorage: '100Gi', ...opts.capacity };
  const agents: NodeAgent[] = [];
  for (let i = 0; i < opts.count; i++) {
    const n = 64 * 65536 + i * 256 + 1; // the node's own address: .1 of its pod /24
    agents.push(
      new NodeAgent(
        {
          name: `${prefix}${i}`,
          internalIP: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
          labels: { 'node.stratus.dev/hollow': 'true', ...opts.labels },
          capacity,
          runtimeVersion: 'fake://1.0.0',
          kubeletVersion: 'v1.33.0-stratus',
        },
        opts.client,
        new FakeRuntime(i),
        opts.log.child({ node: `${prefix}${i}` }),
      ),
    );
  }

  let next = 0;
  let registered = 0;
  const worker = async () => {
    while (next < agents.length) {
      const agent = agents[next++];
      await agent.register();
      registered++;
      opts.onProgress?.(registered, agents.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 32, agents.length) }, worker));

  const byName = new Map(agents.map((a) => [a.name, a]));
  const source = new PodSource({
    client: opts.client,
    fieldSelector: 'spec.nodeName!=',
    log: opts.log,
    onEvent: (type, pod) => {
      const agent = pod.spec.nodeName ? byName.get(pod.spec.nodeName) : undefined;
      if (agent) void agent.handlePod(type, pod);
    },
  });
  source.start();

  let heartbeats = 0;
  let failed = 0;
  let statusReports = 0;
  let failedStatus = 0;
  let inFlight = 0;
  const tickMs = 100;
  // Skip a beat rather than pile up requests when the control plane is slow.
  const maxInFlight = 256;
  const lease = spread(agents.length, opts.renewIntervalMs ?? 10_000);
  const status = spread(agents.length, opts.statusReportIntervalMs ?? 300_000);
  const send = (work: () => Promise<void>, ok: () => void, fail: (err: unknown) => void) => {
    inFlight++;
    work()
      .then(ok, fail)
      .finally(() => inFlight--);
  };
  const ticker = setInterval(() => {
    for (const agent of lease.due(agents, () => inFlight < maxInFlight)) {
      send(
        () => agent.renewLease(),
        () => heartbeats++,
        (err) => {
          failed++;
          opts.log.debug({ node: agent.name, err: String(err) }, 'heartbeat failed');
        },
      );
    }
    for (const agent of status.due(agents, () => inFlight < maxInFlight / 2)) {
      send(
        () => agent.postStatus(),
        () => statusReports++,
        (err) => {
          failedStatus++;
          opts.log.debug({ node: agent.name, err: String(err) }, 'node status report failed');
        },
      );
    }
  }, tickMs);

  return {
    agents,
    get failedHeartbeats() {
      return failed;
    },
    get heartbeats() {
      return heartbeats;
    },
    get statusReports() {
      return statusReports;
    },
    get failedStatusReports() {
      return failedStatus;
    },
    async stop() {
      clearInterval(ticker);
      await source.stop();
      await Promise.all(agents.map((a) => a.drain()));
    },
  };
}

/**
 * Round-robin over `count` items so each comes up once per `intervalMs`, evenly spread. The budget
 * grows with the time that really passed (a busy or starved process fires its ticks late, and
 * must not fall behind because of it) and carries over up to one second's worth when `room` says no.
 */
function spread(count: number, intervalMs: number) {
  const perMs = count / intervalMs;
  let budget = 0;
  let cursor = 0;
  let last = performance.now();
  return {
    *due<T>(items: T[], room: () => boolean): Generator<T> {
      const now = performance.now();
      budget = Math.min(budget + perMs * (now - last), perMs * 1000 + 1);
      last = now;
      for (; budget >= 1 && items.length && room(); budget--) {
        const item = items[cursor];
        cursor = (cursor + 1) % items.length;
        yield item;
      }
    },
  };
}
