// A test fixture for files that run a real node on this machine's containerd: an in-process
// control plane, a client, one namespace and a node agent with its own node name and cgroup root,
// all removed again (including every sandbox of that namespace) when the file is done.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startControlPlane, type ControlPlane } from '../../cli/control-plane.js';
import { removeCgroup } from '../../node-agent/cri/cgroups.js';
import { CriRuntime } from '../../node-agent/cri/cri-runtime.js';
import { startLocalNode, type LocalNode, type LocalNodeOptions } from '../../node-agent/real-node.js';
import { createLogger } from '../../shared/apiserver/logger.js';
import { KubeClient } from '../../shared/client/kube-client.js';
import { freePort, repoRoot } from '../e2e/harness.js';

export const NODE_DIR = process.env.STRATUS_NODE_DIR ?? join(repoRoot, '.cluster/node');
const NS_LABEL = 'io.kubernetes.pod.namespace';
const UID_LABEL = 'io.kubernetes.pod.uid';

/** Run scripts/setup-node.sh (idempotent) and return the node directory it prepared. */
export async function prepareContainerd(): Promise<string> {
  try {
    await promisify(execFile)('bash', [join(repoRoot, 'scripts/setup-node.sh'), '--data-dir', NODE_DIR], { timeout: 170_000 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`scripts/setup-node.sh could not prepare containerd, so a real node cannot run:\n${err.stderr || err.stdout || err.message}`);
  }
  return NODE_DIR;
}

/**
 * Poll `check` until it returns something truthy. A check that throws is retried; the last error
 * is named in the time-out message.
 */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 30_000, intervalMs = 150): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A v1 Pod in `namespace` with a 1 s termination grace period unless `spec` says otherwise. */
export function podManifest(namespace: string, name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, ...metadata }, spec: { terminationGracePeriodSeconds: 1, ...spec } };
}

export interface RealClusterOptions {
  namespace: string;
  nodeName: string;
  /** cgroupfs root of this file's pods; removed on stop. */
  cgroupRoot: string;
  /** Options for every node this cluster starts, over the fixture's defaults (200 ms polling, silent log). */
  node?: Partial<Omit<LocalNodeOptions, 'client' | 'nodeDir' | 'nodeName' | 'cgroupRoot'>>;
  /** Start the node right away (default true); otherwise call startNode() when ready. */
  startNode?: boolean;
}

export interface RealCluster {
  /** Temporary directory holding the control plane's data. */
  readonly dir: string;
  readonly cp: ControlPlane;
  readonly client: KubeClient;
  /** The running node agent, if one runs. */
  readonly node: LocalNode | undefined;
  readonly nodeDir: string;
  startNode(): Promise<LocalNode>;
  /** Stop the agent; its pods keep running in containerd. */
  stopNode(): Promise<void>;
  restartNode(): Promise<LocalNode>;
  /** Close the control plane, run `whileDown`, then start it again on the same data directory and port. */
  restartControlPlane(whileDown?: () => Promise<void>): Promise<ControlPlane>;
  /** Stop the node, remove every pod of the namespace from containerd, close everything. */
  stop(): Promise<void>;
}

export async function startRealCluster(opts: RealClusterOptions): Promise<RealCluster> {
  const nodeDir = await prepareContainerd();
  const log = createLogger('silent');
  const dir = mkdtempSync(join(tmpdir(), `stratus-${opts.namespace}-`));
  let cp: ControlPlane | undefined;
  let client: KubeClient | undefined;
  let node: LocalNode | undefined;

  const startNode = async (): Promise<LocalNode> => {
    if (!node) node = await startLocalNode({ log: createLogger('silent'), pollIntervalMs: 200, ...opts.node, client: client!, nodeDir, nodeName: opts.nodeName, cgroupRoot: opts.cgroupRoot });
    return node;
  };
  const stopNode = async (): Promise<void> => {
    const running = node;
    node = undefined;
    await running?.stop();
  };

  const stop = async (): Promise<void> => {
    await stopNode();
    const cleanup = await CriRuntime.connect({ socket: join(nodeDir, 'containerd.sock'), cgroupRoot: opts.cgroupRoot }).catch(() => undefined);
    if (cleanup) {
      const sandboxes = await cleanup.client.listPodSandbox({ label_selector: { [NS_LABEL]: opts.namespace } }).catch(() => []);
      const uids = new Set(sandboxes.map((s) => s.labels[UID_LABEL]));
      // Pods whose volumes were set up but which never got a sandbox have only an API object.
      const pods = await client?.get<{ items: { metadata: { uid: string } }[] }>(`/api/v1/namespaces/${opts.namespace}/pods`).catch(() => ({ items: [] }));
      for (const p of pods?.items ?? []) uids.add(p.metadata.uid);
      for (const uid of uids) await cleanup.stopPod(uid, 0).catch(() => undefined);
      cleanup.close();
    }
    await removeCgroup(opts.cgroupRoot).catch(() => undefined);
    client?.close();
    await cp?.close();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    cp = await startControlPlane({ dataDir: dir, port: await freePort(), log });
    client = new KubeClient({ server: cp.url, token: cp.token, caCert: cp.caCert });
    await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: opts.namespace } });
    if (opts.startNode ?? true) await startNode();
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }

  const started = { cp, client };
  return {
    dir,
    nodeDir,
    get cp() {
      return started.cp;
    },
    client: started.client,
    get node() {
      return node;
    },
    startNode,
    stopNode,
    async restartNode() {
      await stopNode();
      return startNode();
    },
    async restartControlPlane(whileDown) {
      const port = Number(new URL(started.cp.url).port);
      await started.cp.close();
      await whileDown?.();
      cp = started.cp = await startControlPlane({ dataDir: dir, port, log });
      return started.cp;
    },
    stop,
  };
}
