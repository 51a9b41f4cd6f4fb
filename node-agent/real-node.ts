// A real node on this machine: the agent runs pods through containerd's CRI (set up by
// scripts/setup-node.sh), reports the host's capacity and identity, heartbeats, follows the pods
// bound to it and removes what the runtime still runs for pods the API no longer has.
import { readFileSync } from 'node:fs';
import { readdir, statfs } from 'node:fs/promises';
import { arch, cpus, hostname, networkInterfaces, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { KubeClient } from '../shared/client/kube-client.js';
import type { Logger } from '../shared/apiserver/logger.js';
import { NodeAgent, type NodeAgentOptions } from './agent.js';
import { Backoff } from './backoff.js';
import { CriRuntime } from './cri/cri-runtime.js';
import { NODE_NAME_LABEL, POD_UID_LABEL, type PodConfigOptions } from './cri/pod-config.js';
import { startClusterDns } from './dns/cluster-dns.js';
import { createKubeletApi } from './kubelet-api/server.js';
import { startServiceProxy } from './proxy/service-proxy.js';
import { connectTunnel } from './tunnel-client.js';
import { CLUSTER_DNS_IP } from '../shared/apiserver/bootstrap.js';
import { PodStatusPoller } from './cri/pod-status-poller.js';
import { createEnvResolver } from './env.js';
import type { NodeHealth, NodeIdentity, NodeResources } from './node-object.js';
import { PodSource, type Pod } from './pod-source.js';
import { kubePodEventRecorder, kubeVolumeSources } from './volumes/kube-sources.js';

export const KUBELET_VERSION = 'v1.33.0-stratus';

export interface LocalNodeOptions {
  client: KubeClient;
  /** The directory scripts/setup-node.sh prepared (containerd.sock, pods/). */
  nodeDir: string;
  /** Default: the host name, lower-cased. */
  nodeName?: string;
  log: Logger;
  labels?: Record<string, string>;
  clusterDns?: PodConfigOptions['clusterDns'];
  /** cgroupfs root for pod cgroups (default /stratus). */
  cgroupRoot?: string;
  /** Lease renewal and runtime health check interval (default 10 s, kubelet's). */
  heartbeatMs?: number;
  /** How often the runtime is polled for container changes (default 500 ms). */
  pollIntervalMs?: number;
  agent?: NodeAgentOptions;
  /**
   * Serve kubelet's API (logs, exec, attach, port-forward, stats) to the API server over the tunnel
   * this agent opens to it (default true).
   */
  tunnel?: boolean;
  /**
   * Be this node's kube-proxy and cluster DNS: iptables rules for Services (chains named with
   * `chainPrefix`, default STRATUS) and a DNS server behind the kube-dns ClusterIP, which pods get
   * as their nameserver. Off by default: the rules are host-wide, so one agent per machine.
   */
  services?: { chainPrefix?: string; domain?: string };
  /**
   * Bring the container runtime back (e.g. run scripts/setup-node.sh again), called when it has not
   * answered for two heartbeats in a row; one call at a time, repeated with back-off while it stays down.
   */
  restartRuntime?: () => Promise<void>;
  /** Back-off between restartRuntime calls (default 10 s doubling to 5 min). */
  restartRuntimeBackoff?: Backoff;
}

export interface LocalNode {
  agent: NodeAgent;
  runtime: CriRuntime;
  /** Stop following pods and heartbeating; pods keep running (a restarted agent adopts them). */
  stop(): Promise<void>;
}

export async function startLocalNode(opts: LocalNodeOptions): Promise<LocalNode> {
  const { client, log } = opts;
  const name = (opts.nodeName ?? hostname()).toLowerCase();
  const internalIP = hostIPv4();
  const capacity = await hostCapacity(opts.nodeDir);
  const podIPs = new Map<string, string>();
  let runtime: CriRuntime | undefined;
  const domain = opts.services?.domain ?? 'cluster.local';
  const dns = opts.services ? await startClusterDns({ client, listen: { address: internalIP, port: 0 }, domain, log: log.child({ component: 'dns' }) }) : undefined;
  const clusterDns = opts.clusterDns ?? (dns ? { servers: [CLUSTER_DNS_IP], domain } : undefined);
  const resolveEnv = createEnvResolver({
    client,
    nodeName: name,
    hostIP: internalIP,
    allocatable: capacity,
    podIP: async (uid) => {
      const cached = podIPs.get(uid);
      if (cached) return cached;
      const sandboxes = await runtime!.client.listPodSandbox({ label_selector: { [POD_UID_LABEL]: uid }, state: { state: 'SANDBOX_READY' } });
      const ip = sandboxes[0] ? ((await runtime!.client.podSandboxStatus(sandboxes[0].id)).status.network?.ip ?? '') : '';
      if (ip) podIPs.set(uid, ip);
      return ip;
    },
  });
  runtime = await CriRuntime.connect({
    socket: join(opts.nodeDir, 'containerd.sock'),
    nodeIP: internalIP,
    clusterDns,
    cgroupRoot: opts.cgroupRoot,
    resolveEnv,
    volumeSources: kubeVolumeSources(client),
    allocatable: capacity,
    recordEvent: kubePodEventRecorder(client, name),
    volumeWarning: (message) => log.warn(message),
  });

  const identity: NodeIdentity = {
    name,
    internalIP,
    labels: opts.labels,
    capacity,
    runtimeVersion: runtime.version,
    kubeletVersion: KUBELET_VERSION,
    os: hostOs(),
  };
  const agent = new NodeAgent(identity, client, runtime, log.child({ node: name }), opts.agent);
  agent.setHealth(await runtimeHealth(runtime));
  await agent.register();

  await removeOrphans(runtime, client, name, log);

  const source: PodSource = new PodSource({
    client,
    fieldSelector: `spec.nodeName=${name}`,
    log,
    onEvent: (type, pod) => {
      if (type === 'DELETED') podIPs.delete(pod.metadata.uid);
      void agent.handlePod(type, pod);
    },
  });
  source.start();

  const poller = new PodStatusPoller(runtime.statusReader, {
    intervalMs: opts.pollIntervalMs ?? 500,
    onChange: (status) => agent.observe(status),
    onError: (err) => log.debug({ err: String(err) }, 'runtime poll failed'),
  });
  poller.start();

  const services = opts.services
    ? await startServiceProxy({ client, nodeName: name, nodeIPs: [internalIP], log: log.child({ component: 'service-proxy' }), chainPrefix: opts.services.chainPrefix, clusterDns: { address: dns!.address, port: dns!.port } })
    : undefined;

  const kubeletApi = createKubeletApi({ cri: runtime.client, logRoot: join(opts.nodeDir, 'pods'), log: log.child({ component: 'kubelet-api' }), nodeName: name, pods: source });
  const tunnel =
    opts.tunnel === false ? undefined : connectTunnel({ ...client.access, nodeName: name, onStream: (s) => kubeletApi.emit('connection', s), log: log.child({ component: 'tunnel' }) });

  const recovery = runtimeRecovery(opts.restartRuntime, opts.restartRuntimeBackoff ?? new Backoff(), log.child({ component: 'runtime-recovery' }));
  let beating = false;
  const heartbeat = setInterval(() => {
    if (beating) return;
    beating = true;
    void (async () => {
      try {
        const before = agent.currentHealth.notReadyReason;
        const health = await runtimeHealth(runtime!);
        recovery.observe(health);
        agent.setHealth(health);
        await agent.renewLease();
        if (health.notReadyReason !== before) await agent.postStatus();
      } catch (err) {
        log.warn({ err: String(err) }, 'node heartbeat failed');
      } finally {
        beating = false;
      }
    })();
  }, opts.heartbeatMs ?? 10_000);
  heartbeat.unref?.();

  return {
    agent,
    runtime,
    async stop() {
      clearInterval(heartbeat);
      await tunnel?.close();
      await services?.stop();
      await dns?.stop();
      await source.stop();
      await poller.stop();
      await agent.close();
      runtime!.close();
    },
  };
}

/**
 * Remove what the runtime still holds for this node's pods that the API no longer has (deleted
 * while the agent was down), and volume directories no sandbox uses. Sandboxes of other nodes
 * sharing the runtime (tests, several agents) are left alone.
 */
async function removeOrphans(runtime: CriRuntime, client: KubeClient, name: string, log: Logger): Promise<void> {
  const listed = await client.get<{ items: Pod[] }>(`/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${name}`)}`);
  const known = new Set(listed.items.map((p) => p.metadata.uid));
  const sandboxes = await runtime.client.listPodSandbox();
  const mine = new Set(sandboxes.filter((s) => s.labels[NODE_NAME_LABEL] === name).map((s) => s.labels[POD_UID_LABEL]));
  for (const uid of mine) {
    if (known.has(uid)) continue;
    log.info({ uid }, 'removing a pod the API no longer has');
    await runtime.stopPod(uid, 0).catch((err: unknown) => log.warn({ uid, err: String(err) }, 'could not remove an orphaned pod'));
  }
  const withSandbox = new Set(sandboxes.map((s) => s.labels[POD_UID_LABEL]));
  const dirs = await readdir(runtime.volumes.root).catch(() => [] as string[]);
  for (const uid of dirs) {
    if (withSandbox.has(uid) || known.has(uid)) continue;
    await runtime.volumes.tearDown(uid).catch((err: unknown) => log.warn({ uid, err: String(err) }, 'could not remove the volumes of a gone pod'));
  }
}

const RUNTIME_DOWN = 'container runtime is down';

/**
 * Restart a runtime that stopped answering: after two failed heartbeats in a row, call `restart`
 * (never two at once), then again after each back-off delay while it stays down.
 */
function runtimeRecovery(restart: (() => Promise<void>) | undefined, backoff: Backoff, log: Logger): { observe(health: NodeHealth): void } {
  const key = 'runtime';
  let downBeats = 0;
  let restarting = false;
  let notBefore = 0;
  return {
    observe(health) {
      if (!health.notReadyReason?.startsWith(RUNTIME_DOWN)) {
        if (downBeats >= 2) log.info('container runtime answers again');
        downBeats = 0;
        backoff.reset(key);
        notBefore = 0;
        return;
      }
      downBeats++;
      if (!restart || downBeats < 2 || restarting || Date.now() < notBefore) return;
      restarting = true;
      const delay = backoff.next(key);
      notBefore = Date.now() + delay;
      log.warn({ reason: health.notReadyReason, nextAttemptInMs: delay }, 'container runtime is down: restarting it');
      restart()
        .then(() => log.info('container runtime restart finished'))
        .catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'restarting the container runtime failed'))
        .finally(() => {
          restarting = false;
        });
    },
  };
}

/** RuntimeReady and NetworkReady as kubelet maps them to the node's Ready condition. */
async function runtimeHealth(runtime: CriRuntime): Promise<NodeHealth> {
  const base = { memoryPressure: false, diskPressure: false, pidPressure: false };
  try {
    const conditions = await runtime.client.status();
    const problems: string[] = [];
    for (const type of ['RuntimeReady', 'NetworkReady']) {
      const c = conditions.find((x) => x.type === type);
      if (!c?.status) problems.push(`${type}=false reason:${c?.reason ?? ''} message:${c?.message ?? 'not reported'}`);
    }
    if (!problems.length) return base;
    const what = problems[0].startsWith('Runtime') ? RUNTIME_DOWN : 'container runtime network not ready';
    return { ...base, notReadyReason: `${what}: ${problems.join(', ')}` };
  } catch (e) {
    return { ...base, notReadyReason: `${RUNTIME_DOWN}: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** The first non-internal IPv4 address of the host, else 127.0.0.1. */
export function hostIPv4(): string {
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    // Bridges created for pods (cni0, docker0, veths) are not the node's address.
    if (/^(cni|cbr|docker|veth|virbr|flannel|cali)/.test(name)) continue;
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** cpu, memory, pods 110 and the ephemeral storage of the filesystem holding the node directory. */
export async function hostCapacity(nodeDir: string): Promise<NodeResources> {
  let storage = '0';
  try {
    const fs = await statfs(nodeDir);
    storage = `${Math.floor((Number(fs.blocks) * Number(fs.bsize)) / 1024)}Ki`;
  } catch {
    // The directory does not exist yet: report no storage rather than fail.
  }
  return { cpu: String(cpus().length), memory: `${Math.floor(totalmem() / 1024)}Ki`, pods: '110', ephemeralStorage: storage };
}

function hostOs(): NonNullable<NodeIdentity['os']> {
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(read('/etc/os-release'))?.[1] ?? 'Linux';
  const machineID = read('/etc/machine-id').trim() || hostname();
  const goArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };
  return { image: pretty, kernel: release(), machineID, arch: goArch[arch()] ?? arch() };
}
