// What `stratus join` runs once it holds node credentials: one agent per joined node, each with
// its own credential (so each is authorized as its own node only). Today these are hollow nodes
// (fake runtime, real registration, heartbeats and pod status); the container-running agent
// replaces the body of startJoinedAgents.
import { createHash } from 'node:crypto';
import { startLocalNode } from '../node-agent/real-node.js';
import { runNodeSetup, runtimeRestarter } from './local-node.js';
import { resolve } from 'node:path';
import type { Logger } from '../shared/apiserver/logger.js';
import { KubeClient, type ClusterAccess } from '../shared/client/kube-client.js';
import { NodeAgent } from '../node-agent/agent.js';
import { FakeRuntime } from '../node-agent/fake-runtime.js';
import type { NodeResources } from '../node-agent/node-object.js';
import { PodSource } from '../node-agent/pod-source.js';

export interface JoinedNode {
  name: string;
  /** The node's kubeconfig (its credential), as written by join. */
  kubeconfig: string;
  access: ClusterAccess;
}

export interface AgentOptions {
  /** Run hollow nodes (fake runtime) instead of containers. */
  simulate: boolean;
  log: Logger;
  capacity?: Partial<NodeResources>;
  /** Lease renew interval (default 10 s, kubelet's). */
  renewIntervalMs?: number;
  /** Real node: where scripts/setup-node.sh prepares containerd (default <repo>/.cluster/node). */
  nodeDir?: string;
}

export interface RunningAgents {
  nodes: string[];
  stop(): Promise<void>;
}

/** A real node on this machine: set up containerd (as root), then run the CRI agent with the node's own credential. */
async function startRealAgent(node: JoinedNode, opts: AgentOptions): Promise<RunningAgents> {
  const nodeDir = opts.nodeDir ?? resolve(import.meta.dirname, '../.cluster/node');
  if (process.getuid?.() !== 0) throw new Error('running containers needs root: run `stratus join` as root (or pass --simulate N for hollow nodes)');
  const code = await runNodeSetup(nodeDir, opts.log);
  if (code !== 0) throw new Error(`scripts/setup-node.sh failed (exit ${code}); its log lines above say what is missing`);
  const client = new KubeClient(node.access, { userAgent: 'stratus-node-agent' });
  const log = opts.log.child({ node: node.name });
  const local = await startLocalNode({ client, nodeDir, nodeName: node.name, log, services: {}, restartRuntime: runtimeRestarter(nodeDir, log) });
  return {
    nodes: [node.name],
    async stop() {
      await local.stop();
      client.close();
    },
  };
}

// Hollow nodes' pod ranges sit in the upper half of 10.64.0.0/10, away from `stratus agent --simulate`'s
// hollow-<i> nodes (which count up from the bottom); the name picks the /24.
const podRangeIndex = (name: string) => 8192 + (createHash('sha256').update(name).digest().readUInt32BE(0) % 8192);

function firstAddress(index: number): string {
  const n = 64 * 65536 + index * 256 + 1;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

/** Start the agent(s) for `nodes`; resolves once every node is registered. */
export async function startJoinedAgents(nodes: JoinedNode[], opts: AgentOptions): Promise<RunningAgents> {
  if (!opts.simulate) {
    if (nodes.length !== 1) throw new Error('a real node joins as exactly one node (use --simulate N for several hollow ones)');
    return startRealAgent(nodes[0], opts);
  }
  const capacity: NodeResources = { cpu: '4', memory: '16Gi', pods: '110', ephemeralStorage: '100Gi', ...opts.capacity };
  const running: { client: KubeClient; agent: NodeAgent; source: PodSource; timer: NodeJS.Timeout }[] = [];
  const stop = async () => {
    for (const r of running) clearInterval(r.timer);
    await Promise.all(running.map((r) => r.source.stop()));
    await Promise.all(running.map((r) => r.agent.drain()));
    for (const r of running) r.client.close();
  };
  try {
    for (const node of nodes) {
      const index = podRangeIndex(node.name);
      const log = opts.log.child({ node: node.name });
      const client = new KubeClient(node.access, { maxSockets: 4, userAgent: 'stratus-node-agent' });
      const agent = new NodeAgent(
        {
          name: node.name,
          internalIP: firstAddress(index),
          labels: { 'node.stratus.dev/hollow': 'true' },
          capacity,
          runtimeVersion: 'fake://1.0.0',
          kubeletVersion: 'v1.33.0-stratus',
        },
        client,
        new FakeRuntime(index),
        log,
      );
      const source = new PodSource({ client, fieldSelector: `spec.nodeName=${node.name}`, log, onEvent: (type, pod) => void agent.handlePod(type, pod) });
      const timer = setInterval(() => {
        agent.renewLease().catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'heartbeat failed'));
      }, opts.renewIntervalMs ?? 10_000);
      running.push({ client, agent, source, timer });
      await agent.register();
      source.start();
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { nodes: nodes.map((n) => n.name), stop };
}
