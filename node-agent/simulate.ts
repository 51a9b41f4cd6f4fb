// Hollow nodes (`stratus agent --simulate N`): N NodeAgents with fake runtimes in one process,
// sharing one API connection pool and ONE pod watch (all bound pods, routed by spec.nodeName).
// Heartbeats are spread evenly over the renew interval so N nodes cost N/interval requests per
// second, not bursts. For scale tests and capacity what-ifs, like kubemark or KWOK.
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
  const interval = opts.renewIntervalMs ?? 10_000;
  const tickMs = 100;
  const perTick = (agents.length * tickMs) / interval;
  let budget = 0;
  let cursor = 0;
  let inFlight = 0;
  const ticker = setInterval(() => {
    budget = Math.min(budget + perTick, perTick * 10 + 1);
    for (; budget >= 1 && agents.length; budget--) {
      // Skip a beat rather than pile up requests when the control plane is slow.
      if (inFlight > 256) break;
      const agent = agents[cursor];
      cursor = (cursor + 1) % agents.length;
      inFlight++;
      agent
        .renewLease()
        .then(() => heartbeats++)
        .catch((err: unknown) => {
          failed++;
          opts.log.debug({ node: agent.name, err: String(err) }, 'heartbeat failed');
        })
        .finally(() => inFlight--);
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
    async stop() {
      clearInterval(ticker);
      await source.stop();
      await Promise.all(agents.map((a) => a.drain()));
    },
  };
}
