// metrics.k8s.io/v1beta1, the resource metrics API `kubectl top` reads, served the way
// metrics-server serves it: NodeMetrics and PodMetrics computed from each node's kubelet Summary
// API (GET /stats/summary over the node's tunnel). Nodes are asked in parallel with a time limit;
// a node without a tunnel, or that does not answer in time, contributes nothing.
import { Hono, type Context } from 'hono';
import type { KubeObject } from '../../shared/api/kind.js';
import type { Registry } from '../../shared/api/registry.js';
import { errors } from '../../shared/apiserver/errors.js';
import type { Logger } from '../../shared/apiserver/logger.js';
import type { RestStorage } from '../../shared/apiserver/rest.js';
import { decodeFromStore } from '../../shared/apiserver/codec.js';
import type { StaticGroup } from '../../shared/apiserver/discovery.js';
import { kubeletRequest, readLimited } from './node-proxy.js';
import type { NodeDialer } from './tunnel-registry.js';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
const API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;
const WINDOW = '10s';

/** The parts of kubelet's stats/v1alpha1 Summary this API reads. */
export interface Summary {
  node?: { nodeName?: string; cpu?: CpuStats; memory?: MemoryStats };
  pods?: { podRef?: { name?: string; namespace?: string }; containers?: { name?: string; cpu?: CpuStats; memory?: MemoryStats }[] }[];
}
interface CpuStats {
  time?: string;
  usageNanoCores?: number;
}
interface MemoryStats {
  time?: string;
  workingSetBytes?: number;
}

const DECIMAL_SUFFIXES = ['n', 'u', 'm', '', 'k', 'M', 'G', 'T', 'P', 'E'];
const BINARY_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** CPU in nanocores as a canonical Kubernetes quantity: 123456n, 12m, 2. */
export function formatCpu(nanoCores: number): string {
  let v = BigInt(Math.max(0, Math.round(nanoCores)));
  if (v === 0n) return '0';
  let i = 0;
  while (i < DECIMAL_SUFFIXES.length - 1 && v % 1000n === 0n) {
    v /= 1000n;
    i++;
  }
  return `${v}${DECIMAL_SUFFIXES[i]}`;
}

/** Memory in bytes as a canonical binary Kubernetes quantity: 4567Ki, 12Mi, 1000. */
export function formatMemory(bytes: number): string {
  let v = BigInt(Math.max(0, Math.round(bytes)));
  if (v === 0n) return '0';
  let i = 0;
  while (i < BINARY_SUFFIXES.length - 1 && v % 1024n === 0n) {
    v /= 1024n;
    i++;
  }
  return `${v}${BINARY_SUFFIXES[i]}`;
}

export interface MetricsDeps {
  rest: RestStorage;
  registry: Registry;
  nodes: NodeDialer;
  log: Logger;
  /** How long one node may take to answer (default 5 s). */
  nodeTimeoutMs?: number;
}

/** The Summary of `nodeName`, or undefined when it has no tunnel, fails or is too slow. */
export async function fetchSummary(deps: MetricsDeps, nodeName: string): Promise<Summary | undefined> {
  if (!deps.nodes.connected(nodeName)) return undefined;
  const signal = AbortSignal.timeout(deps.nodeTimeoutMs ?? 5_000);
  try {
    const res = await kubeletRequest(deps.nodes, nodeName, { method: 'GET', path: '/stats/summary?only_cpu_and_memory=true', headers: { Accept: 'application/json' }, signal });
    const body = await readLimited(res, 32 * 1024 * 1024);
    if (res.statusCode !== 200) {
      deps.log.warn({ node: nodeName, status: res.statusCode, body: body.slice(0, 200) }, 'node summary request failed');
      return undefined;
    }
    return JSON.parse(body) as Summary;
  } catch (err) {
    deps.log.warn({ node: nodeName, err: err instanceof Error ? err.message : String(err) }, 'node summary unavailable');
    return undefined;
  }
}

const usable = (cpu?: CpuStats, memory?: MemoryStats) => typeof cpu?.usageNanoCores === 'number' && typeof memory?.workingSetBytes === 'number';
const latest = (...times: (string | undefined)[]) => times.filter((t): t is string => Boolean(t)).sort().pop() ?? new Date().toISOString();
const stamp = (t: string) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

function objectMeta(obj: KubeObject, now: string): Record<string, unknown> {
  const meta: Record<string, unknown> = { name: obj.metadata.name };
  if (obj.metadata.namespace) meta.namespace = obj.metadata.namespace;
  meta.creationTimestamp = now;
  if (obj.metadata.labels && Object.keys(obj.metadata.labels).length) meta.labels = obj.metadata.labels;
  return meta;
}

function nodeMetrics(node: KubeObject, summary: Summary, now: string): Record<string, unknown> | undefined {
  const s = summary.node;
  if (!s || !usable(s.cpu, s.memory)) return undefined;
  return {
    metadata: objectMeta(node, now),
    timestamp: stamp(latest(s.cpu?.time, s.memory?.time)),
    window: WINDOW,
    usage: { cpu: formatCpu(s.cpu!.usageNanoCores!), memory: formatMemory(s.memory!.workingSetBytes!) },
  };
}

function podMetrics(pod: KubeObject, stats: NonNullable<Summary['pods']>[number], now: string): Record<string, unknown> | undefined {
  const containers = (stats.containers ?? []).filter((c) => c.name && usable(c.cpu, c.memory));
  if (!containers.length) return undefined;
  return {
    metadata: objectMeta(pod, now),
    timestamp: stamp(latest(...containers.flatMap((c) => [c.cpu?.time, c.memory?.time]))),
    window: WINDOW,
    containers: containers.map((c) => ({ name: c.name, usage: { cpu: formatCpu(c.cpu!.usageNanoCores!), memory: formatMemory(c.memory!.workingSetBytes!) } })),
  };
}

async function summaries(deps: MetricsDeps, nodeNames: Iterable<string>): Promise<Map<string, Summary>> {
  const names = [...new Set(nodeNames)].filter(Boolean);
  const results = await Promise.all(names.map(async (n) => [n, await fetchSummary(deps, n)] as const));
  return new Map(results.filter((r): r is readonly [string, Summary] => r[1] !== undefined));
}

async function listObjects(deps: MetricsDeps, plural: 'nodes' | 'pods', namespace: string | undefined, c: Context): Promise<KubeObject[]> {
  const def = deps.registry.resource('', 'v1', plural)!;
  const page = await deps.rest.list({ def, namespace }, { labelSelector: c.req.query('labelSelector'), fieldSelector: c.req.query('fieldSelector') });
  return page.items.map((kv) => page.parsed?.get(kv) ?? decodeFromStore(kv));
}

const list = (kind: string, items: unknown[]) => ({ kind, apiVersion: API_VERSION, metadata: {}, items });
const single = (kind: string, item: Record<string, unknown>) => ({ kind, apiVersion: API_VERSION, ...item });

function podStatsIndex(all: Map<string, Summary>) {
  const index = new Map<string, NonNullable<Summary['pods']>[number]>();
  for (const summary of all.values()) for (const p of summary.pods ?? []) if (p.podRef?.name) index.set(`${p.podRef.namespace ?? ''}/${p.podRef.name}`, p);
  return index;
}

/** Routes for /apis/metrics.k8s.io/v1beta1/...; mount the returned app at that prefix. */
export function metricsApi(deps: MetricsDeps): Hono {
  const app = new Hono();
  const nodeName = (pod: KubeObject) => (pod.spec as { nodeName?: string } | undefined)?.nodeName ?? '';

  app.get('/nodes', async (c) => {
    const nodes = await listObjects(deps, 'nodes', undefined, c);
    const all = await summaries(deps, nodes.map((n) => n.metadata.name ?? ''));
    const now = stamp(new Date().toISOString());
    const items = nodes.flatMap((n) => {
      const s = all.get(n.metadata.name ?? '');
      const m = s && nodeMetrics(n, s, now);
      return m ? [m] : [];
    });
    return c.json(list('NodeMetricsList', items));
  });

  app.get('/nodes/:name', async (c) => {
    const name = c.req.param('name');
    const notFound = errors.notFound({ group: METRICS_GROUP, resource: 'nodes' }, name);
    const node = await deps.rest.get({ def: deps.registry.resource('', 'v1', 'nodes')!, name }).catch(() => undefined);
    if (!node) throw notFound;
    const summary = await fetchSummary(deps, name);
    const m = summary && nodeMetrics(node, summary, stamp(new Date().toISOString()));
    if (!m) throw notFound;
    return c.json(single('NodeMetrics', m));
  });

  const podList = async (c: Context, namespace: string | undefined) => {
    const pods = await listObjects(deps, 'pods', namespace, c);
    const index = podStatsIndex(await summaries(deps, pods.map(nodeName)));
    const now = stamp(new Date().toISOString());
    const items = pods.flatMap((p) => {
      const stats = index.get(`${p.metadata.namespace}/${p.metadata.name}`);
      const m = stats && podMetrics(p, stats, now);
      return m ? [m] : [];
    });
    return c.json(list('PodMetricsList', items));
  };
  app.get('/pods', (c) => podList(c, undefined));
  app.get('/namespaces/:namespace/pods', (c) => podList(c, c.req.param('namespace')));

  app.get('/namespaces/:namespace/pods/:name', async (c) => {
    const { namespace, name } = c.req.param();
    const notFound = errors.notFound({ group: METRICS_GROUP, resource: 'pods' }, name);
    const pod = await deps.rest.get({ def: deps.registry.resource('', 'v1', 'pods')!, namespace, name }).catch(() => undefined);
    if (!pod || !nodeName(pod)) throw notFound;
    const summary = await fetchSummary(deps, nodeName(pod));
    const stats = summary && podStatsIndex(new Map([[nodeName(pod), summary]])).get(`${namespace}/${name}`);
    const m = stats && podMetrics(pod, stats, stamp(new Date().toISOString()));
    if (!m) throw notFound;
    return c.json(single('PodMetrics', m));
  });

  app.on(['PUT', 'POST', 'DELETE', 'PATCH'], '*', () => {
    throw errors.methodNotAllowed();
  });
  app.all('*', () => {
    throw errors.pathNotFound();
  });
  return app;
}

/** How discovery lists this API (as metrics-server's APIService makes kube-apiserver list it). */
export const METRICS_DISCOVERY: StaticGroup = {
  group: METRICS_GROUP,
  version: METRICS_VERSION,
  resources: [
    { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
    { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
  ],
};
