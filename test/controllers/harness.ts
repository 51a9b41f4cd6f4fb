// In-process harness for controller tests: a real SQLite store, the real API server storage and
// the in-process controller manager running the controllers under test. Tests write through
// `client` (as a user would through the API) and observe through `reader` or `client`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../shared/api/kind.js';
import { builtinRegistry } from '../../shared/api/registry.js';
import type { Registry } from '../../shared/api/registry.js';
import { bootstrapCluster } from '../../shared/apiserver/bootstrap.js';
import { createLogger } from '../../shared/apiserver/logger.js';
import type { RestStorage } from '../../shared/apiserver/rest.js';
import type { Store } from '../../shared/store/contract.js';
import { openSqliteStore } from '../../shared/store/sqlite.js';
import { createApiServer } from '../../functions/apiserver/app.js';
import type { NamespaceLifecycle } from '../../shared/apiserver/namespace-lifecycle.js';
import type { LeaderElectionOptions } from '../../shared/controllers/runtime/leader.js';
import { RestClient } from '../../shared/controllers/runtime/client.js';
import { ControllerManager } from '../../shared/controllers/runtime/manager.js';
import type { ControllerDef } from '../../shared/controllers/runtime/types.js';
import { StoreReader } from '../../shared/controllers/runtime/reader.js';

export interface NodeOptions {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Record<string, unknown>[];
  unschedulable?: boolean;
  ready?: boolean;
}

export interface Harness {
  store: Store;
  registry: Registry;
  rest: RestStorage;
  /** Writes as a user would make them (field manager "test"). */
  client: RestClient;
  /** Current state straight from the store. */
  reader: StoreReader;
  manager: ControllerManager;
  namespaces: NamespaceLifecycle;
  /** A Ready node with the given capacity (default 4 cpu, 8Gi, 110 pods) and a fresh Lease. */
  createNode(name: string, opts?: NodeOptions): Promise<KubeObject>;
  /** Renew the node's Lease now (a heartbeat). */
  renewLease(name: string): Promise<void>;
  /** Poll `check` until it returns a truthy value (or throw with the last value after `timeoutMs`). */
  waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs?: number, what?: string): Promise<T>;
  /** Resolves when no controller has work queued or running. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(controllers: readonly ControllerDef[], opts: { clock?: () => Date; logLevel?: string; leaderElection?: LeaderElectionOptions } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'stratus-ctl-'));
  const store = openSqliteStore({ path: join(dir, 'db'), historyRetention: false });
  const registry = builtinRegistry();
  const log = createLogger(opts.logLevel ?? 'silent');
  const { rest, namespaces } = createApiServer({ store, registry, log, serverAddress: '127.0.0.1:0', authenticator: { authenticateToken: () => undefined } });
  await namespaces.start();
  await bootstrapCluster(rest, registry, 6443);
  const manager = new ControllerManager({ store, registry, rest, namespaces, log, controllers, clock: opts.clock, leaderElection: opts.leaderElection });
  await manager.start();
  const client = new RestClient(rest, registry, store, 'test');
  const reader = new StoreReader(store);

  async function renewLease(name: string): Promise<void> {
    const now = new Date().toISOString().replace('Z', '000Z');
    const existing = await reader.get('coordination.k8s.io/leases', 'kube-node-lease', name);
    if (existing) {
      await client.patch('coordination.k8s.io/leases', 'kube-node-lease', name, 'merge', { spec: { renewTime: now } });
      return;
    }
    await client.create('coordination.k8s.io/leases', {
      metadata: { name, namespace: 'kube-node-lease' },
      spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: now },
    });
  }

  return {
    store,
    registry,
    rest,
    client,
    reader,
    manager,
    namespaces,
    async createNode(name, o = {}) {
      const capacity = { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: o.pods ?? '110', 'ephemeral-storage': '100Gi' };
      const node = await client.create('core/nodes', {
        metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...o.labels } },
        spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
      });
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const ready = o.ready ?? true;
      const status = {
        capacity,
        allocatable: capacity,
        conditions: [
          { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available', lastHeartbeatTime: now, lastTransitionTime: now },
          { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure', lastHeartbeatTime: now, lastTransitionTime: now },
          { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available', lastHeartbeatTime: now, lastTransitionTime: now },
          ready
            ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }
            : { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'container runtime is down', lastHeartbeatTime: now, lastTransitionTime: now },
        ],
        addresses: [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: name }],
        nodeInfo: { kubeletVersion: 'v1.33.0', containerRuntimeVersion: 'fake://1.0', operatingSystem: 'linux', architecture: 'amd64', osImage: 'test', kernelVersion: '6.1', machineID: name, systemUUID: name, bootID: name, kubeProxyVersion: 'v1.33.0' },
      };
      const withStatus = await client.updateStatus('core/nodes', { ...node, status });
      await renewLease(name);
      return withStatus;
    },
    renewLease,
    async waitFor(check, timeoutMs = 10_000, what = 'condition') {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      for (;;) {
        last = await check();
        if (last) return last as never;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    settle: () => manager.whenIdle(),
    async close() {
      await manager.stop();
      namespaces.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
