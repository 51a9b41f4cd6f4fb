// Service cluster IPs and node ports, allocated by the API server as kube-apiserver's service
// storage does. Each allocation is a store key created if absent, so two Services can never hold
// the same IP or port, across processes too. Released when the Service goes or stops needing it.
import type { KubeObject } from '../api/kind.js';
import { invalid } from '../api/schema/errors.js';
import { StoreError, type Store } from '../store/contract.js';
import { errors } from './errors.js';

/** 10.96.0.0/12, Kubernetes' default service CIDR; .1 is the `kubernetes` Service's. */
const SERVICE_CIDR = { base: (10 << 24) | (96 << 16), size: 1 << 20 };
const NODE_PORT_RANGE = { min: 30000, max: 32767 };
const IP_PREFIX = '/registry/allocations/serviceips/';
const PORT_PREFIX = '/registry/allocations/nodeports/';

type Spec = {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ports?: { nodePort?: number; protocol?: string }[];
};

const ipString = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const ipNumber = (s: string): number | undefined => {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (!m) return undefined;
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
};
const inCidr = (n: number) => n - SERVICE_CIDR.base >= 1 && n - SERVICE_CIDR.base < SERVICE_CIDR.size - 1;

const needsClusterIP = (spec: Spec) => spec.type !== 'ExternalName' && spec.clusterIP !== 'None';
const needsNodePorts = (spec: Spec) => spec.type === 'NodePort' || spec.type === 'LoadBalancer';
const owner = (svc: KubeObject) => `${svc.metadata.namespace}/${svc.metadata.name}`;

export class ServiceAllocator {
  constructor(private readonly store: Store) {}

  /**
   * Allocate what a new or changed Service needs (clusterIP, node ports) and release what an
   * updated one no longer uses. Returns an undo for when the write that follows fails.
   */
  async allocate(svc: KubeObject, old: KubeObject | undefined, dryRun: boolean): Promise<() => Promise<void>> {
    const spec = (svc.spec ??= {}) as Spec;
    const taken: string[] = [];
    const undo = async () => {
      for (const key of taken) await this.release(key);
    };
    try {
      if (needsClusterIP(spec) && !spec.clusterIP) {
        const ip = await this.allocateIP(svc, dryRun, taken);
        spec.clusterIP = ip;
        spec.clusterIPs = [ip];
      } else if (needsClusterIP(spec) && spec.clusterIP !== (old?.spec as Spec | undefined)?.clusterIP) {
        await this.reserveIP(svc, spec.clusterIP!, dryRun, taken);
      }
      if (needsNodePorts(spec)) {
        const oldPorts = new Set(((old?.spec as Spec | undefined)?.ports ?? []).map((p) => p.nodePort).filter(Boolean));
        for (const [i, port] of (spec.ports ?? []).entries()) {
          if (port.nodePort) {
            if (!oldPorts.has(port.nodePort)) await this.reservePort(svc, port.nodePort, i, dryRun, taken);
          } else port.nodePort = await this.allocatePort(svc, dryRun, taken);
        }
      }
    } catch (e) {
      await undo();
      throw e;
    }
    return undo;
  }

  /** Release what `old` held and `svc` (absent on delete) no longer uses. */
  async releaseUnused(old: KubeObject, svc?: KubeObject): Promise<void> {
    const was = (old.spec ?? {}) as Spec;
    const now = (svc?.spec ?? {}) as Spec;
    if (was.clusterIP && was.clusterIP !== 'None' && (!svc || !needsClusterIP(now) || now.clusterIP !== was.clusterIP)) {
      await this.release(IP_PREFIX + was.clusterIP);
    }
    const keep = new Set(svc && needsNodePorts(now) ? (now.ports ?? []).map((p) => p.nodePort) : []);
    for (const p of was.ports ?? []) if (p.nodePort && !keep.has(p.nodePort)) await this.release(PORT_PREFIX + p.nodePort);
  }

  private async allocateIP(svc: KubeObject, dryRun: boolean, taken: string[]): Promise<string> {
    const start = 2 + Math.floor(Math.random() * (SERVICE_CIDR.size - 4));
    for (let i = 0; i < SERVICE_CIDR.size - 3; i++) {
      const ip = ipString(SERVICE_CIDR.base + 2 + ((start - 2 + i) % (SERVICE_CIDR.size - 3)));
      if (await this.tryTake(IP_PREFIX + ip, owner(svc), dryRun, taken)) return ip;
    }
    throw errors.internal('failed to allocate a service IP: range is full');
  }

  private async reserveIP(svc: KubeObject, ip: string, dryRun: boolean, taken: string[]): Promise<void> {
    const n = ipNumber(ip);
    const field = 'spec.clusterIPs';
    if (n === undefined || !inCidr(n)) {
      throw errors.invalid('', 'Service', svc.metadata.name ?? '', [invalid(field, [ip], `failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is 10.96.0.0/12`)]);
    }
    if (!(await this.tryTake(IP_PREFIX + ip, owner(svc), dryRun, taken))) {
      throw errors.invalid('', 'Service', svc.metadata.name ?? '', [invalid(field, [ip], `failed to allocate IP ${ip}: provided IP is already allocated`)]);
    }
  }

  private async allocatePort(svc: KubeObject, dryRun: boolean, taken: string[]): Promise<number> {
    const span = NODE_PORT_RANGE.max - NODE_PORT_RANGE.min + 1;
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i++) {
      const port = NODE_PORT_RANGE.min + ((start + i) % span);
      if (await this.tryTake(PORT_PREFIX + port, owner(svc), dryRun, taken)) return port;
    }
    throw errors.internal('failed to allocate a node port: range is full');
  }

  private async reservePort(svc: KubeObject, port: number, index: number, dryRun: boolean, taken: string[]): Promise<void> {
    const field = `spec.ports[${index}].nodePort`;
    if (port < NODE_PORT_RANGE.min || port > NODE_PORT_RANGE.max) {
      throw errors.invalid('', 'Service', svc.metadata.name ?? '', [invalid(field, port, `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`)]);
    }
    if (!(await this.tryTake(PORT_PREFIX + port, owner(svc), dryRun, taken))) {
      throw errors.invalid('', 'Service', svc.metadata.name ?? '', [invalid(field, port, 'provided port is already allocated')]);
    }
  }

  /** Reserve `key` unless someone holds it; with dryRun only check. */
  private async tryTake(key: string, holder: string, dryRun: boolean, taken: string[]): Promise<boolean> {
    if (dryRun) return (await this.store.get(key)) === undefined;
    try {
      await this.store.create(key, JSON.stringify({ holder }));
      taken.push(key);
      return true;
    } catch (e) {
      if (e instanceof StoreError && e.code === 'AlreadyExists') return false;
      throw e;
    }
  }

  private async release(key: string): Promise<void> {
    try {
      await this.store.delete(key);
    } catch (e) {
      if (!(e instanceof StoreError && e.code === 'NotFound')) throw e;
    }
  }
}
