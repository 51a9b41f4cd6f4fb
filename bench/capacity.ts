// Read and write capacity units each Kubernetes API operation costs on the DynamoDB store, measured
// in-process: DynamoDB Local, the DynamoDB store, and the API server's Hono app driven with
// app.request (no HTTP, no Lambda). Units come from ReturnConsumedCapacity, twice over: per store
// operation (store.capacity()) and per DynamoDB request (a client middleware), the latter so that
// reads DynamoDB Local reports as free can be charged the way DynamoDB charges them.
//
// The correction: DynamoDB Local reports 0 units for a Query that returns nothing (and for a read
// of a missing item), while DynamoDB charges every strongly consistent read request at least 1 RCU
// (0.5 eventually consistent). All of the store's reads are strongly consistent, so `awsRcu` below is
// the sum over read requests of max(reported, 1). The idle watch, whose polls are all empty Queries,
// is where this matters most. Writes: DynamoDB Local under-reports transactions that update existing
// items, so write units are also computed from the requests by DynamoDB's formula and the larger
// figure is used.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal } from '../shared/aws-local/dynamodb-local.js';
import { ensureTable } from '../shared/store/dynamodb/index.js';
import { openDynamoStoreWith, type DynamoStore } from '../shared/store/dynamodb/store.js';
import { DEFAULT_RETRY, type CapacityReport } from '../shared/store/dynamodb/client.js';
import { builtinRegistry } from '../shared/api/registry.js';
import { createLogger } from '../shared/apiserver/logger.js';
import { createApiServer, type ApiServer } from '../functions/apiserver/app.js';
import { staticTokenAuthenticator } from '../functions/apiserver/auth.js';

const TOKEN = 'capacity-bench';
const READ_COMMANDS = new Set(['GetItemCommand', 'QueryCommand', 'BatchGetItemCommand']);
const progress = (msg: string) => process.stderr.write(`bench(capacity): ${msg}\n`);

/** DynamoDB requests seen by the client since the last reset, with the units DynamoDB Local reported. */
class RequestLedger {
  requests = 0;
  readRequests = 0;
  writeRequests = 0;
  reportedRcu = 0;
  reportedWcu = 0;
  /** Reads charged at least 1 RCU each (strongly consistent), as DynamoDB does. */
  awsRcu = 0;
  emptyReads = 0;
  /** Write units by DynamoDB's published formula, from the request (see formulaWcu). */
  formulaWcu = 0;

  record(command: string, consumed: unknown, input: unknown): void {
    this.requests++;
    const list = (consumed === undefined ? [] : Array.isArray(consumed) ? consumed : [consumed]) as { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number }[];
    let units = 0;
    for (const c of list) units += c.CapacityUnits ?? (c.ReadCapacityUnits ?? 0) + (c.WriteCapacityUnits ?? 0);
    if (READ_COMMANDS.has(command)) {
      this.readRequests++;
      this.reportedRcu += units;
      this.awsRcu += Math.max(units, 1);
      if (units === 0) this.emptyReads++;
    } else {
      this.writeRequests++;
      this.reportedWcu += units;
      this.formulaWcu += formulaWcu(command, input);
    }
  }

  reset(): void {
    Object.assign(this, { formulaWcu: 0, requests: 0, readRequests: 0, writeRequests: 0, reportedRcu: 0, reportedWcu: 0, awsRcu: 0, emptyReads: 0 });
  }
}

type Attr = Record<string, unknown>;

/** An item's billed size: attribute names plus values (numbers ~1 byte per 2 digits + 1). */
function itemBytes(item: Record<string, Attr> | undefined): number {
  let bytes = 0;
  const valueBytes = (v: Attr): number => {
    if (typeof v.S === 'string') return Buffer.byteLength(v.S);
    if (typeof v.N === 'string') return Math.ceil(v.N.length / 2) + 1;
    if (v.B instanceof Uint8Array) return v.B.length;
    if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
    if (v.M) return 3 + itemBytes(v.M as Record<string, Attr>);
    if (Array.isArray(v.L)) return 3 + (v.L as Attr[]).reduce((n, x) => n + 1 + valueBytes(x), 0);
    return 0;
  };
  for (const [name, v] of Object.entries(item ?? {})) bytes += Buffer.byteLength(name) + valueBytes(v);
  return bytes;
}

const kb = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

/**
 * Write units by DynamoDB's formula: 1 WCU per KB of the item (2 in a transaction). An update is
 * charged by the larger of the old and new item, which the request does not show: a superseded log
 * item is taken to be as large as the log item the same transaction puts (the same object, one
 * revision older), other updated items (counter, kv pointers, markers) as under 1 KB.
 */
function formulaWcu(command: string, input: unknown): number {
  const req = input as { Item?: Record<string, Attr>; TransactItems?: { Put?: { Item: Record<string, Attr> }; Update?: { Key: Record<string, Attr> }; Delete?: unknown; ConditionCheck?: unknown }[]; RequestItems?: Record<string, { PutRequest?: { Item: Record<string, Attr> }; DeleteRequest?: unknown }[]> };
  if (command === 'PutItemCommand') return kb(itemBytes(req.Item));
  if (command === 'UpdateItemCommand' || command === 'DeleteItemCommand') return 1;
  if (command === 'BatchWriteItemCommand') {
    return Object.values(req.RequestItems ?? {}).flat().reduce((n, w) => n + (w.PutRequest ? kb(itemBytes(w.PutRequest.Item)) : 1), 0);
  }
  if (command === 'TransactWriteItemsCommand') {
    const items = req.TransactItems ?? [];
    const logPut = items.find((t) => t.Put && (t.Put.Item.pk as Attr)?.S === 'log');
    const logBytes = logPut ? itemBytes(logPut.Put!.Item) : 0;
    return items.reduce((n, t) => {
      if (t.Put) return n + 2 * kb(itemBytes(t.Put.Item));
      if (t.Update) return n + 2 * ((t.Update.Key.pk as Attr)?.S === 'log' ? kb(logBytes) : 1);
      return n + 2;
    }, 0);
  }
  return 0;
}

interface Harness {
  store: DynamoStore;
  server: ApiServer;
  ledger: RequestLedger;
  close(): Promise<void>;
}

async function openHarness(endpoint: string, region: string, credentials: { accessKeyId: string; secretAccessKey: string }, tableName: string): Promise<Harness> {
  const client = new DynamoDBClient({ endpoint, region, credentials, maxAttempts: 1 });
  const ledger = new RequestLedger();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      ledger.record(context.commandName ?? '', (out.output as { ConsumedCapacity?: unknown }).ConsumedCapacity, args.input);
      return out;
    },
    { step: 'initialize', name: 'capacityLedger' },
  );
  const store = await openDynamoStoreWith({
    client,
    tableName,
    retentionMs: 24 * 3600_000,
    pollIntervalMs: 100,
    progressIntervalMs: 1000,
    gapWaitMs: 300,
    retry: DEFAULT_RETRY,
    ownsClient: true,
  });
  const server = createApiServer({
    store,
    registry: builtinRegistry(),
    log: createLogger('silent'),
    serverAddress: '127.0.0.1:0',
    authenticator: staticTokenAuthenticator({ [TOKEN]: { username: 'admin', uid: 'a', groups: ['system:masters'] } }),
  });
  return { store, server, ledger, close: () => store.close() };
}

async function call(h: Harness, method: string, path: string, body?: unknown, contentType = 'application/json') {
  const init: RequestInit = { method, headers: { Authorization: `Bearer ${TOKEN}`, Accept: 'application/json' } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['Content-Type'] = contentType;
  }
  const res = await h.server.app.request(path, init);
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as any;
}

/** A ConfigMap whose JSON is ~1.5 KB. */
const configMap = (ns: string, name: string, generation = 0) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns, labels: { app: 'capacity', tier: 'x' } },
  data: { 'config.yaml': `generation: ${generation}\n` + 'some.setting: some-value-here\n'.repeat(45) },
});

const pod = (ns: string, name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, labels: { app: 'capacity' } },
  spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'busybox:1.36', command: ['sleep', '3600'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
});

const lease = (name: string, renewTime: string) => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name, namespace: 'kube-node-lease' },
  spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime },
});

const microTime = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

export interface OperationUnits {
  /** How many times the operation ran; the unit figures are per operation. */
  samples: number;
  dynamoRequests: number;
  readRequests: number;
  /** Read requests DynamoDB Local reported as free (charged 1 RCU each in awsRcu). */
  emptyReads: number;
  writeRequests: number;
  /** As DynamoDB Local reported them. */
  reportedRcu: number;
  reportedWcu: number;
  /** Reads charged at ≥ 1 RCU each, as DynamoDB charges strongly consistent reads. */
  awsRcu: number;
  /** The larger of reported and formulaWcu (DynamoDB Local under-reports updates inside transactions). */
  awsWcu: number;
  /** Write units by DynamoDB's published formula computed from the requests (a cross-check of awsWcu). */
  formulaWcu: number;
  /** Per store operation (get, create, update, ...; resolve and checkpoint are background writes). */
  byStoreOp: CapacityReport;
}

async function measure(h: Harness, samples: number, body: (i: number) => Promise<void>): Promise<OperationUnits> {
  h.store.resetCapacity();
  h.ledger.reset();
  for (let i = 0; i < samples; i++) await body(i);
  const l = h.ledger;
  const per = (x: number) => +(x / samples).toFixed(2);
  const byStoreOp: CapacityReport = {};
  for (const [op, c] of Object.entries(h.store.capacity())) {
    byStoreOp[op] = { calls: per(c.calls), requests: per(c.requests), rcu: per(c.rcu), wcu: per(c.wcu) };
  }
  return {
    samples,
    dynamoRequests: per(l.requests),
    readRequests: per(l.readRequests),
    emptyReads: per(l.emptyReads),
    writeRequests: per(l.writeRequests),
    reportedRcu: per(l.reportedRcu),
    reportedWcu: per(l.reportedWcu),
    awsRcu: per(l.awsRcu),
    awsWcu: per(Math.max(l.reportedWcu, l.formulaWcu)),
    formulaWcu: per(l.formulaWcu),
    byStoreOp,
  };
}

export async function runCapacityBench(opts: { quick?: boolean } = {}) {
  const n = opts.quick ? 10 : 30;
  progress('starting DynamoDB Local');
  const local = await startDynamoDbLocal();
  const tableName = 'stratus-capacity';
  const setupClient = new DynamoDBClient({ endpoint: local.endpoint, region: local.region, credentials: local.credentials });
  await ensureTable(setupClient, tableName);
  setupClient.destroy();
  const h = await openHarness(local.endpoint, local.region, local.credentials, tableName);
  // A second API server on the same table: what a different Lambda environment (empty value cache) sees.
  const other = await openHarness(local.endpoint, local.region, local.credentials, tableName);
  try {
    for (const name of ['capacity', 'capacity-list', 'capacity-watch', 'kube-node-lease']) {
      await call(h, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
    const cmPath = '/api/v1/namespaces/capacity/configmaps';
    const bytes = JSON.stringify(configMap('capacity', 'cm-000')).length;
    const ops: Record<string, OperationUnits> = {};

    progress(`per-operation units (${n} samples each)`);
    ops.createConfigMap = await measure(h, n, async (i) => void (await call(h, 'POST', cmPath, configMap('capacity', `cm-${i}`))));
    ops.getSameInstance = await measure(h, n, async (i) => void (await call(h, 'GET', `${cmPath}/cm-${i}`)));
    ops.getOtherInstance = await measure(other, n, async (i) => void (await call(other, 'GET', `${cmPath}/cm-${i}`)));
    const rvs: string[] = [];
    for (let i = 0; i < n; i++) rvs[i] = (await call(h, 'GET', `${cmPath}/cm-${i}`)).metadata.resourceVersion;
    ops.updateConfigMap = await measure(h, n, async (i) => {
      const cm = { ...configMap('capacity', `cm-${i}`, 1), metadata: { ...configMap('capacity', `cm-${i}`).metadata, resourceVersion: rvs[i] } };
      await call(h, 'PUT', `${cmPath}/cm-${i}`, cm);
    });
    ops.mergePatchConfigMap = await measure(h, n, async (i) => void (await call(h, 'PATCH', `${cmPath}/cm-${i}`, { metadata: { labels: { patched: String(i) } } }, 'application/merge-patch+json')));
    ops.deleteConfigMap = await measure(h, n, async (i) => void (await call(h, 'DELETE', `${cmPath}/cm-${i}`)));

    progress('list of 100');
    for (let i = 0; i < 100; i++) await call(h, 'POST', '/api/v1/namespaces/capacity-list/configmaps', configMap('capacity-list', `l-${i}`));
    ops.list100SameInstance = await measure(h, 5, async () => {
      const list = await call(h, 'GET', '/api/v1/namespaces/capacity-list/configmaps');
      if (list.items.length !== 100) throw new Error(`list returned ${list.items.length}`);
    });
    ops.list100OtherInstance = await measure(other, 1, async () => void (await call(other, 'GET', '/api/v1/namespaces/capacity-list/configmaps')));

    progress('pod status updates and Lease renewals');
    let podRv = (await call(h, 'POST', '/api/v1/namespaces/capacity/pods', pod('capacity', 'p-0'))).metadata.resourceVersion as string;
    ops.podStatusUpdate = await measure(h, n, async (i) => {
      const current = pod('capacity', 'p-0');
      const updated = {
        ...current,
        metadata: { ...current.metadata, resourceVersion: podRv },
        status: {
          phase: 'Running',
          hostIP: '10.0.0.1',
          podIP: `10.1.0.${i % 250}`,
          startTime: '2026-01-01T00:00:00Z',
          conditions: [{ type: 'Ready', status: i % 2 ? 'True' : 'False', lastTransitionTime: new Date(1_700_000_000_000 + i * 1000).toISOString().replace(/\.\d+Z$/, 'Z') }],
          containerStatuses: [{ name: 'app', ready: i % 2 === 1, restartCount: 0, image: 'busybox:1.36', imageID: 'docker.io/library/busybox@sha256:0', started: true, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } }],
        },
      };
      podRv = (await call(h, 'PUT', '/api/v1/namespaces/capacity/pods/p-0/status', updated)).metadata.resourceVersion;
    });
    const leasePath = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
    let leaseRv = (await call(h, 'POST', leasePath, lease('node-1', microTime(Date.now())))).metadata.resourceVersion as string;
    ops.leaseRenewPut = await measure(h, n, async (i) => {
      const l = lease('node-1', microTime(Date.now() + i * 10_000));
      leaseRv = (await call(h, 'PUT', `${leasePath}/node-1`, { ...l, metadata: { ...l.metadata, resourceVersion: leaseRv } })).metadata.resourceVersion;
    });
    ops.leaseRenewMergePatch = await measure(h, n, async (i) => {
      await call(h, 'PATCH', `${leasePath}/node-1`, { spec: { renewTime: microTime(Date.now() + (n + i) * 10_000) } }, 'application/merge-patch+json');
    });

    progress('idle watch for 10 s');
    const idleSeconds = 10;
    const watchRv = (await call(h, 'GET', '/api/v1/namespaces/capacity-watch/configmaps')).metadata.resourceVersion as string;
    const idleWatch = await measure(h, 1, async () => {
      const controller = new AbortController();
      const res = await h.server.app.request(`/api/v1/namespaces/capacity-watch/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion=${watchRv}`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
        signal: controller.signal,
      });
      const reader = res.body!.getReader();
      const drain = (async () => {
        for (;;) if ((await reader.read().catch(() => ({ done: true }))).done) break;
      })();
      await new Promise((r) => setTimeout(r, idleSeconds * 1000));
      controller.abort();
      await reader.cancel().catch(() => {});
      await drain;
    });

    return {
      setup: 'in-process: DynamoDB Local + DynamoDB store + API server app (app.request); one API server process, a second one on the same table for the "other instance" reads',
      configMapJsonBytes: bytes,
      correction:
        'DynamoDB Local reports 0 units for Query results that are empty (and reads of missing items); DynamoDB charges every strongly consistent read request at least 1 RCU. awsRcu = sum over read requests of max(reported, 1). awsWcu = max(reported, formulaWcu): DynamoDB Local charges transactional puts double as DynamoDB does, but reports less than the DynamoDB formula for transactions that update existing items (the superseded log item), so the formula (2 WCU per KB per transactional item, an update charged by the larger image) is used where it is higher. Failed conditional writes are not in these runs.',
      operations: ops,
      idleWatch: {
        seconds: idleSeconds,
        pollsPerSecond: +(idleWatch.readRequests / idleSeconds).toFixed(2),
        reportedRcuPerSecond: +(idleWatch.reportedRcu / idleSeconds).toFixed(2),
        awsRcuPerSecond: +(idleWatch.awsRcu / idleSeconds).toFixed(2),
        emptyReadsCorrected: idleWatch.emptyReads,
        raw: idleWatch,
      },
    };
  } finally {
    await other.close();
    await h.close();
    await local.stop();
  }
}
