// Resource arithmetic as kube-scheduler does it: quantities become integers (cpu in millicores,
// everything else in whole units, both rounded up like resource.Quantity's MilliValue/Value), a
// pod's request is max(sum of app containers and sidecars, largest init container) plus overhead,
// and a node offers status.allocatable.
import type { KubeObject } from '../api/kind.js';
import { parseQuantity } from '../api/validation/quantity.js';

/** Requests or capacity of one pod or node; `scalars` holds extended resources, hugepages and the like. */
export interface Resources {
  milliCpu: number;
  memory: number;
  ephemeralStorage: number;
  scalars?: Map<string, number>;
}

export interface Allocatable extends Resources {
  pods: number;
}

/** CPU and memory counted for a container without requests when scoring (schedutil defaults). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

const cache = new Map<string, number>();

/** ceil(quantity * 10^scale) from the exact decimal form, so "100m" is 100 millicores, not 101. */
function scaled(input: unknown, scale: number): number {
  if (typeof input !== 'string' && typeof input !== 'number') return 0;
  const id = `${scale}|${input}`;
  const hit = cache.get(id);
  if (hit !== undefined) return hit;
  const q = parseQuantity(input);
  let out = 0;
  if (q && !q.negative && q.digits !== '0') {
    const e = q.exponent + scale;
    if (e >= 0) out = Number(q.digits) * 10 ** e;
    else {
      const cut = q.digits.length + e;
      const whole = cut > 0 ? Number(q.digits.slice(0, cut)) : 0;
      const rest = cut > 0 ? q.digits.slice(cut) : q.digits;
      out = whole + (/[1-9]/.test(rest) ? 1 : 0);
    }
  }
  if (cache.size > 10_000) cache.clear();
  cache.set(id, out);
  return out;
}

/** Quantity.MilliValue(): millicores for cpu. */
export const milliValue = (q: unknown): number => scaled(q, 3);
/** Quantity.Value(): bytes, counts. */
export const value = (q: unknown): number => scaled(q, 0);

/** Resources the fit filter checks besides cpu, memory and ephemeral-storage (schedutil.IsScalarResourceName). */
export function isScalarResource(name: string): boolean {
  if (name.startsWith('hugepages-') || name.startsWith('attachable-volumes-')) return true;
  if (name.includes('kubernetes.io/')) return true;
  return name.includes('/') && !name.startsWith('requests.');
}

type ResourceList = Record<string, unknown> | undefined;

function emptyResources(): Resources {
  return { milliCpu: 0, memory: 0, ephemeralStorage: 0 };
}

function addList(r: Resources, list: ResourceList, factor = 1): void {
  if (!list) return;
  for (const name in list) {
    const q = list[name];
    if (name === 'cpu') r.milliCpu += factor * milliValue(q);
    else if (name === 'memory') r.memory += factor * value(q);
    else if (name === 'ephemeral-storage') r.ephemeralStorage += factor * value(q);
    else if (isScalarResource(name)) {
      r.scalars ??= new Map();
      r.scalars.set(name, (r.scalars.get(name) ?? 0) + factor * value(q));
    }
  }
}

function addResources(into: Resources, r: Resources): void {
  into.milliCpu += r.milliCpu;
  into.memory += r.memory;
  into.ephemeralStorage += r.ephemeralStorage;
  if (r.scalars) for (const [k, v] of r.scalars) (into.scalars ??= new Map()).set(k, (into.scalars.get(k) ?? 0) + v);
}

function maxResources(into: Resources, r: Resources): void {
  into.milliCpu = Math.max(into.milliCpu, r.milliCpu);
  into.memory = Math.max(into.memory, r.memory);
  into.ephemeralStorage = Math.max(into.ephemeralStorage, r.ephemeralStorage);
  if (r.scalars) for (const [k, v] of r.scalars) (into.scalars ??= new Map()).set(k, Math.max(into.scalars.get(k) ?? 0, v));
}

interface ContainerLike {
  resources?: { requests?: Record<string, unknown> };
  restartPolicy?: string;
}

/** One container's requests; with `nonZero`, missing cpu/memory count as the scoring defaults. */
function containerRequests(c: ContainerLike, nonZero: boolean): Resources {
  const r = emptyResources();
  const requests = c.resources?.requests;
  addList(r, requests);
  if (nonZero) {
    if (!requests || !('cpu' in requests)) r.milliCpu = DEFAULT_MILLI_CPU_REQUEST;
    if (!requests || !('memory' in requests)) r.memory = DEFAULT_MEMORY_REQUEST;
  }
  return r;
}

/**
 * What a pod asks of a node (resourcehelper.PodRequests): app containers run together, sidecars
 * (init containers with restartPolicy Always) keep running beside everything started after them,
 * plain init containers run one at a time; overhead comes on top.
 */
export function podRequests(spec: Record<string, unknown> | undefined, nonZero = false): Resources {
  const total = emptyResources();
  for (const c of (spec?.containers as ContainerLike[] | undefined) ?? []) addResources(total, containerRequests(c, nonZero));
  const sidecars = emptyResources();
  const initPeak = emptyResources();
  for (const c of (spec?.initContainers as ContainerLike[] | undefined) ?? []) {
    const r = containerRequests(c, nonZero);
    if (c.restartPolicy === 'Always') {
      addResources(total, r);
      addResources(sidecars, r);
    } else {
      addResources(r, sidecars);
      maxResources(initPeak, r);
    }
  }
  maxResources(total, initPeak);
  addList(total, spec?.overhead as ResourceList);
  return total;
}

/** status.allocatable of a node (capacity when allocatable is absent). */
export function nodeAllocatable(node: KubeObject): Allocatable {
  const status = node.status as { allocatable?: Record<string, unknown>; capacity?: Record<string, unknown> } | undefined;
  const list = status?.allocatable ?? status?.capacity ?? {};
  const r = emptyResources();
  addList(r, list);
  return { ...r, pods: value(list.pods) };
}

export function isZero(r: Resources): boolean {
  if (r.milliCpu || r.memory || r.ephemeralStorage) return false;
  if (r.scalars) for (const v of r.scalars.values()) if (v) return false;
  return true;
}
