// The node's service proxy, as kube-proxy's iptables mode: follows Services and EndpointSlices and
// rewrites its own iptables chains whole after changes (batched), so that cluster IPs and node
// ports lead to ready endpoints from pods and from the node itself.
import type { KubeClient } from '../../shared/client/kube-client.js';
import type { Logger } from '../../shared/apiserver/logger.js';
import { Iptables, bridgedTrafficSeesIptables } from './iptables.js';
import { chainNames, renderRules } from './iptables-rules.js';
import { ResourceCache } from './resource-cache.js';
import { servicePorts, type Endpoint, type ServiceObject, type SliceObject } from './service-ports.js';

/** The cluster DNS Service every cluster gets (kube-system/kube-dns). */
export const CLUSTER_DNS_SERVICE = { namespace: 'kube-system', name: 'kube-dns' } as const;
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';

export interface ServiceProxyOptions {
  client: KubeClient;
  nodeName: string;
  nodeIPs: string[];
  log: Logger;
  /** Prefix of the chains this proxy owns (default STRATUS). */
  chainPrefix?: string;
  /** Changes are applied at most once per this many milliseconds (default 250). */
  syncPeriodMs?: number;
  /** Where the kube-dns Service's ports lead: the agent's own DNS server (port on nodeIPs[0] unless address given). */
  clusterDns?: { address?: string; port: number };
  /** Pod network; traffic to cluster IPs from outside it is masqueraded. */
  clusterCIDR?: string;
  /** Masquerade all cluster IP traffic (default: only when bridged traffic skips iptables). */
  masqueradeAll?: boolean;
  /** Traffic to this range that matches no Service port is rejected (default 10.96.0.0/12). */
  serviceCIDR?: string;
}

export interface ServiceProxy {
  /** Remove the proxy's chains and jump rules and stop following the API. */
  stop(): Promise<void>;
  /** Resolves once the rules reflect every change the proxy had seen when called. */
  synced(): Promise<void>;
}

/** How often the rules are rewritten even without changes, repairing anything that removed them. */
const FULL_RESYNC_MS = 30_000;

export async function startServiceProxy(opts: ServiceProxyOptions): Promise<ServiceProxy> {
  const prefix = opts.chainPrefix ?? 'STRATUS';
  chainNames(prefix);
  const log = opts.log.child({ component: 'service-proxy', node: opts.nodeName });
  await Iptables.check();
  const iptables = new Iptables(prefix);
  const masqueradeAll = opts.masqueradeAll ?? !bridgedTrafficSeesIptables();
  const overrides = new Map<string, Endpoint>();
  if (opts.clusterDns) {
    const ip = opts.clusterDns.address ?? opts.nodeIPs[0];
    if (!ip) throw new Error('clusterDns needs an address or a node IP');
    overrides.set(`${CLUSTER_DNS_SERVICE.namespace}/${CLUSTER_DNS_SERVICE.name}`, { ip, port: opts.clusterDns.port });
  }

  let wanted = 0;
  let applied = -1;
  let waiters: { generation: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let ready = false;
  let lastSync = 0;
  const period = opts.syncPeriodMs ?? 250;

  const schedule = () => {
    wanted++;
    if (timer || stopped || !ready) return;
    timer = setTimeout(() => void sync(), Math.max(0, lastSync + period - Date.now()));
  };
  const services = new ResourceCache<ServiceObject>({ client: opts.client, path: '/api/v1/services', log, onChange: schedule });
  const slices = new ResourceCache<SliceObject>({ client: opts.client, path: '/apis/discovery.k8s.io/v1/endpointslices', log, onChange: schedule });

  async function sync(): Promise<void> {
    timer = undefined;
    if (running) {
      await running;
      if (!timer && !stopped) timer = setTimeout(() => void sync(), 0);
      return;
    }
    const generation = wanted;
    running = (async () => {
      lastSync = Date.now();
      try {
        const ports = servicePorts(services.list(), slices.list(), overrides);
        const existing = await iptables.chains();
        await iptables.restore(renderRules(ports, { prefix, masqueradeAll, clusterCIDR: opts.clusterCIDR, serviceCIDR: opts.serviceCIDR ?? DEFAULT_SERVICE_CIDR, existing }));
        await iptables.ensureJumps();
        applied = generation;
        log.debug({ servicePorts: ports.length }, 'service rules synced');
        const done = waiters.filter((w) => w.generation <= applied);
        waiters = waiters.filter((w) => w.generation > applied);
        for (const w of done) w.resolve();
      } catch (err) {
        log.error({ err: err instanceof Error ? err.message : String(err) }, 'could not program service rules; retrying');
        if (!timer && !stopped) timer = setTimeout(() => void sync(), 1000);
      }
    })();
    await running;
    running = undefined;
    if (wanted > applied && !timer && !stopped) timer = setTimeout(() => void sync(), Math.max(0, lastSync + period - Date.now()));
  }

  services.start();
  slices.start();
  await Promise.all([services.synced(), slices.synced()]);
  ready = true;
  await sync();
  if (applied < 0) throw new Error('the service proxy could not program its first rules (see the log)');
  const resync = setInterval(() => schedule(), FULL_RESYNC_MS);
  resync.unref?.();

  return {
    synced() {
      if (stopped) return Promise.reject(new Error('the service proxy is stopped'));
      if (applied >= wanted) return Promise.resolve();
      return new Promise((resolve, reject) => waiters.push({ generation: wanted, resolve, reject }));
    },
    async stop() {
      stopped = true;
      clearInterval(resync);
      if (timer) clearTimeout(timer);
      await Promise.all([services.stop(), slices.stop()]);
      await running;
      for (const w of waiters) w.reject(new Error('the service proxy stopped'));
      waiters = [];
      await iptables.removeAll();
    },
  };
}
