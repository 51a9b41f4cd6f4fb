// Endpoints and EndpointSlices follow the pods behind a Service: readiness moves addresses between
// `addresses` and `notReadyAddresses` (and flips slice conditions), terminating pods leave
// Endpoints but stay in slices, named ports resolve per pod, slices split at 100 endpoints, and
// everything goes away with the Service. The test plays the kubelet by writing pod status itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../shared/api/kind.js';
import { endpointsController, truncateSubsets, type EndpointSubset } from '../../shared/controllers/services/endpoints.js';
import { endpointSliceController } from '../../shared/controllers/services/endpointslice.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
let nsCounter = 0;

beforeAll(async () => {
  h = await startHarness([endpointsController, endpointSliceController]);
  await h.createNode('node-a', { labels: { 'topology.kubernetes.io/zone': 'zone-a' } });
});
afterAll(async () => {
  await h?.close();
});

/** A fresh namespace per test keeps the tests independent within one harness. */
async function namespace(): Promise<string> {
  const name = `svc-${++nsCounter}`;
  await h.client.create('core/namespaces', { metadata: { name } });
  return name;
}

interface PodOptions {
  ip: string;
  ready?: boolean;
  labels?: Record<string, string>;
  ports?: { name: string; containerPort: number }[];
  hostname?: string;
  subdomain?: string;
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** A pod on node-a that the "kubelet" (this test) reports Running with an IP and a Ready condition. */
async function runPod(ns: string, name: string, o: PodOptions): Promise<KubeObject> {
  const pod = await h.client.create('core/pods', {
    metadata: { name, namespace: ns, labels: o.labels ?? { app: 'web' } },
    spec: {
      nodeName: 'node-a',
      ...(o.hostname ? { hostname: o.hostname } : {}),
      ...(o.subdomain ? { subdomain: o.subdomain } : {}),
      containers: [{ name: 'c', image: 'nginx', ...(o.ports ? { ports: o.ports } : {}) }],
    },
  });
  return setStatus(ns, pod.metadata.name!, o.ip, o.ready ?? true);
}

async function setStatus(ns: string, name: string, ip: string, ready: boolean): Promise<KubeObject> {
  const status = ready ? 'True' : 'False';
  return h.client.patch(
    'core/pods',
    ns,
    name,
    'merge',
    {
      status: {
        phase: 'Running',
        podIP: ip,
        podIPs: [{ ip }],
        conditions: [
          { type: 'Ready', status, lastTransitionTime: now() },
          { type: 'ContainersReady', status, lastTransitionTime: now() },
        ],
      },
    },
    { subresource: 'status' },
  );
}

async function service(ns: string, name: string, spec: Record<string, unknown>, labels: Record<string, string> = { tier: 'front' }): Promise<KubeObject> {
  return h.client.create('core/services', { metadata: { name, namespace: ns, labels }, spec });
}

const endpointsOf = (ns: string, name: string) => h.reader.get('core/endpoints', ns, name);
const slicesOf = async (ns: string, name: string) =>
  (await h.reader.list('discovery.k8s.io/endpointslices', { namespace: ns, labels: { 'kubernetes.io/service-name': name } })) as (KubeObject & {
    endpoints?: { addresses: string[]; conditions: Record<string, boolean>; hostname?: string; nodeName?: string; zone?: string; targetRef?: Record<string, string> }[];
    ports?: { name?: string; port?: number; protocol?: string }[];
    addressType?: string;
  })[];

type Subset = { addresses?: { ip: string; hostname?: string; nodeName?: string; targetRef?: Record<string, string> }[]; notReadyAddresses?: { ip: string }[]; ports?: { name?: string; port: number; protocol?: string }[] };
const subsetsOf = (ep: KubeObject | undefined): Subset[] => (ep?.subsets as Subset[] | undefined) ?? [];
const ips = (list: { ip: string }[] | undefined) => (list ?? []).map((a) => a.ip).sort();
const sliceEndpoints = async (ns: string, name: string) => (await slicesOf(ns, name)).flatMap((s) => s.endpoints ?? []);

/** Wait until the controllers are idle and `check` holds. */
async function eventually<T>(check: () => Promise<T | undefined | false>, what: string): Promise<T> {
  return h.waitFor(async () => {
    await h.settle();
    return check();
  }, 10_000, what);
}

describe('endpoints and endpoint slices', () => {
  it('follow readiness and termination of the selected pods', async () => {
    const ns = await namespace();
    const svc = await service(ns, 'web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] });
    await runPod(ns, 'a', { ip: '10.1.0.1', ready: true });
    await runPod(ns, 'b', { ip: '10.1.0.2', ready: false });
    await runPod(ns, 'other', { ip: '10.1.0.9', labels: { app: 'other' } });

    const ep = await eventually(async () => {
      const e = await endpointsOf(ns, 'web');
      const s = subsetsOf(e);
      return s.length === 1 && ips(s[0].addresses).join() === '10.1.0.1' && ips(s[0].notReadyAddresses).join() === '10.1.0.2' && e;
    }, 'a ready, b not ready');
    const subset = subsetsOf(ep)[0];
    expect(subset.ports).toEqual([{ port: 8080, protocol: 'TCP' }]);
    expect(subset.addresses![0]).toMatchObject({ ip: '10.1.0.1', nodeName: 'node-a', targetRef: { kind: 'Pod', namespace: ns, name: 'a' } });
    expect(ep.metadata.labels).toEqual({ tier: 'front', 'endpoints.kubernetes.io/managed-by': 'endpoint-controller' });
    expect(ep.metadata.annotations?.['endpoints.kubernetes.io/last-change-trigger-time']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(ep.metadata.ownerReferences).toBeUndefined();

    const [slice] = await slicesOf(ns, 'web');
    expect(slice.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
    expect(slice.addressType).toBe('IPv4');
    expect(slice.metadata.labels).toEqual({ tier: 'front', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
    expect(slice.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    expect(slice.ports).toEqual([{ name: '', port: 8080, protocol: 'TCP' }]);
    const byPod = Object.fromEntries((slice.endpoints ?? []).map((e) => [e.targetRef!.name, e]));
    expect(Object.keys(byPod).sort()).toEqual(['a', 'b']);
    expect(byPod.a).toMatchObject({ addresses: ['10.1.0.1'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-a', zone: 'zone-a' });
    expect(byPod.b.conditions).toEqual({ ready: false, serving: false, terminating: false });

    // b becomes ready: both addresses are ready.
    await setStatus(ns, 'b', '10.1.0.2', true);
    await eventually(async () => ips(subsetsOf(await endpointsOf(ns, 'web'))[0]?.addresses).join() === '10.1.0.1,10.1.0.2', 'both ready');
    await eventually(async () => (await sliceEndpoints(ns, 'web')).every((e) => e.conditions.ready), 'both ready in slice');

    // a terminates (graceful deletion of a pod on a node): gone from Endpoints, terminating in the slice.
    await h.client.delete('core/pods', ns, 'a');
    await eventually(async () => ips(subsetsOf(await endpointsOf(ns, 'web'))[0]?.addresses).join() === '10.1.0.2', 'a left Endpoints');
    const terminating = await eventually(async () => (await sliceEndpoints(ns, 'web')).find((e) => e.targetRef?.name === 'a' && e.conditions.terminating), 'a terminating in slice');
    expect(terminating.conditions).toEqual({ ready: false, serving: true, terminating: true });
    expect(subsetsOf(await endpointsOf(ns, 'web'))[0].notReadyAddresses).toBeUndefined();

    // b stops being ready: it moves to notReadyAddresses.
    await setStatus(ns, 'b', '10.1.0.2', false);
    await eventually(async () => {
      const s = subsetsOf(await endpointsOf(ns, 'web'));
      return s.length === 1 && !s[0].addresses && ips(s[0].notReadyAddresses).join() === '10.1.0.2';
    }, 'b not ready');
  });

  it('publishes not-ready pods as ready when the Service asks for it', async () => {
    const ns = await namespace();
    await service(ns, 'web', { selector: { app: 'web' }, ports: [{ port: 80 }], publishNotReadyAddresses: true });
    await runPod(ns, 'a', { ip: '10.2.0.1', ready: false });
    await eventually(async () => ips(subsetsOf(await endpointsOf(ns, 'web'))[0]?.addresses).join() === '10.2.0.1', 'published');
    const [ep] = await sliceEndpoints(ns, 'web');
    expect(ep.conditions).toEqual({ ready: true, serving: false, terminating: false });
  });

  it('resolves named target ports per pod', async () => {
    const ns = await namespace();
    await service(ns, 'web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'web' }] });
    await runPod(ns, 'x', { ip: '10.3.0.1', ports: [{ name: 'web', containerPort: 8080 }] });
    await runPod(ns, 'y', { ip: '10.3.0.2', ports: [{ name: 'web', containerPort: 9090 }] });
    await runPod(ns, 'z', { ip: '10.3.0.3', ports: [{ name: 'metrics', containerPort: 9100 }] });

    const subsets = await eventually(async () => {
      const s = subsetsOf(await endpointsOf(ns, 'web'));
      return s.length === 2 && s;
    }, 'two subsets');
    const byPort = Object.fromEntries(subsets.map((s) => [s.ports![0].port, ips(s.addresses)]));
    expect(byPort).toEqual({ 8080: ['10.3.0.1'], 9090: ['10.3.0.2'] });
    expect(subsets[0].ports![0]).toMatchObject({ name: 'http', protocol: 'TCP' });

    // One slice per distinct port set; the pod without the named port lands in a portless slice.
    const slices = await eventually(async () => {
      const s = await slicesOf(ns, 'web');
      return s.length === 3 && s;
    }, 'three slices');
    const view = slices.map((s) => [(s.ports ?? []).map((p) => `${p.name}:${p.port}`).join(), (s.endpoints ?? []).map((e) => e.addresses[0]).join()]).sort();
    expect(view).toEqual([
      ['', '10.3.0.3'],
      ['http:8080', '10.3.0.1'],
      ['http:9090', '10.3.0.2'],
    ]);
  });

  it('splits more than 100 endpoints across slices', async () => {
    const ns = await namespace();
    const count = 103;
    // Pods first: the Service's first sync sees all of them and packs the slices full.
    for (let i = 0; i < count; i++) await runPod(ns, `p${i}`, { ip: `10.4.${Math.floor(i / 200)}.${(i % 200) + 1}`, labels: { app: 'big' } });
    await service(ns, 'big', { selector: { app: 'big' }, ports: [{ port: 80 }] });
    const slices = await eventually(async () => {
      const s = await slicesOf(ns, 'big');
      return s.reduce((n, x) => n + (x.endpoints?.length ?? 0), 0) === count && s;
    }, `${count} endpoints in slices`);
    expect(slices.map((s) => s.endpoints!.length).sort((a, b) => b - a)).toEqual([100, 3]);
    const ep = await eventually(async () => {
      const e = await endpointsOf(ns, 'big');
      return subsetsOf(e)[0]?.addresses?.length === count && e;
    }, 'all addresses in Endpoints');
    expect(ep.metadata.annotations?.['endpoints.kubernetes.io/over-capacity']).toBeUndefined();

    // Removing pods shrinks the slices in place instead of recreating them.
    const names = new Set(slices.map((s) => s.metadata.name));
    for (let i = 0; i < 3; i++) await h.client.delete('core/pods', ns, `p${i}`, { gracePeriodSeconds: 0 });
    const after = await eventually(async () => {
      const s = await slicesOf(ns, 'big');
      return s.reduce((n, x) => n + (x.endpoints?.length ?? 0), 0) === count - 3 && s;
    }, 'three endpoints fewer');
    for (const s of after) expect(names.has(s.metadata.name)).toBe(true);

    // Pods arriving one by one never push a slice past 100 endpoints.
    for (let i = count; i < count + 100; i++) await runPod(ns, `p${i}`, { ip: `10.4.1.${i - count + 1}`, labels: { app: 'big' } });
    const grown = await eventually(async () => {
      const s = await slicesOf(ns, 'big');
      return s.reduce((n, x) => n + (x.endpoints?.length ?? 0), 0) === count + 97 && s;
    }, 'one hundred more endpoints');
    expect(grown.length).toBeGreaterThanOrEqual(2);
    for (const s of grown) expect(s.endpoints!.length).toBeLessThanOrEqual(100);
  }, 60_000);

  it('gives pods of a headless Service their hostnames', async () => {
    const ns = await namespace();
    await service(ns, 'db', { clusterIP: 'None', selector: { app: 'db' } });
    await runPod(ns, 'db-0', { ip: '10.5.0.1', labels: { app: 'db' }, hostname: 'db-0', subdomain: 'db' });
    await runPod(ns, 'db-1', { ip: '10.5.0.2', labels: { app: 'db' }, hostname: 'db-1', subdomain: 'elsewhere' });
    const ep = await eventually(async () => {
      const e = await endpointsOf(ns, 'db');
      return subsetsOf(e)[0]?.addresses?.length === 2 && e;
    }, 'headless endpoints');
    const [subset] = subsetsOf(ep);
    expect(subset.ports).toBeUndefined();
    expect(subset.addresses!.map((a) => [a.ip, a.hostname ?? null])).toEqual([
      ['10.5.0.1', 'db-0'],
      ['10.5.0.2', null],
    ]);
    expect(ep.metadata.labels?.['service.kubernetes.io/headless']).toBe('');
    const [slice] = await slicesOf(ns, 'db');
    expect(slice.metadata.labels?.['service.kubernetes.io/headless']).toBe('');
    expect(slice.ports ?? []).toEqual([]);
    expect(Object.fromEntries((slice.endpoints ?? []).map((e) => [e.targetRef!.name, e.hostname ?? null]))).toEqual({ 'db-0': 'db-0', 'db-1': null });
  });

  it('follows selector changes and cleans up when the Service goes', async () => {
    const ns = await namespace();
    await service(ns, 'web', { selector: { app: 'blue' }, ports: [{ port: 80 }] });
    await runPod(ns, 'blue', { ip: '10.6.0.1', labels: { app: 'blue' } });
    await runPod(ns, 'green', { ip: '10.6.0.2', labels: { app: 'green' } });
    await eventually(async () => ips(subsetsOf(await endpointsOf(ns, 'web'))[0]?.addresses).join() === '10.6.0.1', 'blue selected');

    await h.client.patch('core/services', ns, 'web', 'merge', { spec: { selector: { app: 'green' } } });
    await eventually(async () => ips(subsetsOf(await endpointsOf(ns, 'web'))[0]?.addresses).join() === '10.6.0.2', 'green selected');
    await eventually(async () => (await sliceEndpoints(ns, 'web')).map((e) => e.addresses[0]).join() === '10.6.0.2', 'green in slices');

    // A pod relabelled into the selector joins.
    await h.client.patch('core/pods', ns, 'blue', 'merge', { metadata: { labels: { app: 'green' } } });
    await eventually(async () => ips(subsetsOf(await endpointsOf(ns, 'web'))[0]?.addresses).join() === '10.6.0.1,10.6.0.2', 'relabelled pod joins');

    // With no pods left, Endpoints has no subsets and one empty placeholder slice remains.
    await h.client.patch('core/services', ns, 'web', 'merge', { spec: { selector: { app: 'none' } } });
    await eventually(async () => subsetsOf(await endpointsOf(ns, 'web')).length === 0, 'no subsets');
    const placeholder = await eventually(async () => {
      const s = await slicesOf(ns, 'web');
      return s.length === 1 && !(s[0].endpoints ?? []).length && s;
    }, 'placeholder slice');
    expect(placeholder[0].ports ?? []).toEqual([]);

    await h.client.delete('core/services', ns, 'web');
    await eventually(async () => !(await endpointsOf(ns, 'web')) && (await slicesOf(ns, 'web')).length === 0, 'endpoints and slices deleted');
  });

  it('leaves Services without a selector to whoever writes their Endpoints', async () => {
    const ns = await namespace();
    await h.client.create('core/endpoints', { metadata: { name: 'external', namespace: ns }, subsets: [{ addresses: [{ ip: '192.168.1.10' }], ports: [{ port: 5432 }] }] });
    await service(ns, 'external', { ports: [{ port: 5432 }] });
    await runPod(ns, 'p', { ip: '10.7.0.1' });
    await h.settle();
    expect(ips(subsetsOf(await endpointsOf(ns, 'external'))[0].addresses)).toEqual(['192.168.1.10']);
    expect(await slicesOf(ns, 'external')).toEqual([]);
    // Deleting the Service keeps the hand-made Endpoints; the cluster's `kubernetes` Service is left alone too.
    await h.client.delete('core/services', ns, 'external');
    await h.settle();
    expect(await endpointsOf(ns, 'external')).toBeDefined();
    const ours = { 'kubernetes.io/service-name': 'kubernetes', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' };
    expect(await h.reader.list('discovery.k8s.io/endpointslices', { namespace: 'default', labels: ours })).toEqual([]);
  });
});

describe('Endpoints capacity', () => {
  const addresses = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ ip: `${prefix}.${Math.floor(i / 250)}.${i % 250}` }));

  it('keeps at most 1000 addresses, ready ones first, each subset keeping its share', () => {
    const overReady: EndpointSubset[] = [
      { addresses: addresses(800, '10.0'), ports: [{ port: 80, protocol: 'TCP' }] },
      { addresses: addresses(400, '10.1'), notReadyAddresses: addresses(50, '10.2'), ports: [{ port: 81, protocol: 'TCP' }] },
    ];
    expect(truncateSubsets(overReady)).toBe(true);
    expect(overReady.map((s) => [s.addresses?.length ?? 0, s.notReadyAddresses?.length ?? 0])).toEqual([
      [667, 0],
      [333, 0],
    ]);

    const overNotReady: EndpointSubset[] = [{ addresses: addresses(900, '10.0'), notReadyAddresses: addresses(300, '10.1') }];
    expect(truncateSubsets(overNotReady)).toBe(true);
    expect([overNotReady[0].addresses!.length, overNotReady[0].notReadyAddresses!.length]).toEqual([900, 100]);

    const within: EndpointSubset[] = [{ addresses: addresses(1000, '10.0') }];
    expect(truncateSubsets(within)).toBe(false);
    expect(within[0].addresses).toHaveLength(1000);
  });
});
