// Framework controllers on the AWS-shaped path, end to end: API writes through the local function
// URL land in DynamoDB Local, their stream records reach the dispatcher, which maps them onto
// (controller, object) work on the SQS FIFO queue, and the worker reconciles with a store reader,
// a REST client and an event recorder. A controller with a watch (owned ConfigMaps -> owner
// Secret) converges, a deleted dependent wakes its owner, and a failing reconcile retries until it
// succeeds.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsLocal, type AwsLocal } from '../../cli/aws-local/start.js';
import { createLogger } from '../../shared/apiserver/logger.js';
import { LOCAL_CREDENTIALS } from '../../shared/aws-local/sqs-local.js';
import { toControllerOwner } from '../../shared/controllers/runtime/mappers.js';
import type { ControllerDef, ObjectRef } from '../../shared/controllers/runtime/types.js';
import { api, freePort, removeDir } from '../e2e/harness.js';

const NS = 'default';
const counted: ObjectRef[] = [];
/** Keeps three ConfigMaps controlled by each Secret and counts them into the Secret's label. */
const counter: ControllerDef = {
  name: 'counter',
  resources: ['core/secrets'],
  watches: [{ resource: 'core/configmaps', map: toControllerOwner('Secret', 'core/secrets') }],
  setup:
    ({ reader, client, events }) =>
    async (ref) => {
      counted.push(ref);
      const secret = await reader.get('core/secrets', ref.namespace, ref.name);
      if (!secret || !secret.metadata.labels?.counted) return;
      const owned = await reader.list('core/configmaps', { namespace: ref.namespace, ownerUid: secret.metadata.uid });
      if (owned.length < 3) {
        const names = new Set(owned.map((c) => c.metadata.name));
        let i = 0;
        while (names.has(`${ref.name}-${i}`)) i++;
        await client.create('core/configmaps', {
          metadata: { name: `${ref.name}-${i}`, namespace: ref.namespace, ownerReferences: [{ apiVersion: 'v1', kind: 'Secret', name: ref.name, uid: secret.metadata.uid, controller: true }] },
        });
        return { requeueAfter: 1 };
      }
      if (secret.metadata.labels.owned !== String(owned.length)) {
        await client.patch('core/secrets', ref.namespace, ref.name, 'merge', { metadata: { labels: { owned: String(owned.length) } } });
        await events.record(secret, 'Normal', 'Counted', `owns ${owned.length} config maps`);
      }
    },
};

let attempts = 0;
const flakySeen = new Set<string>();
/** Fails its first three reconciles of ConfigMap "flaky", then succeeds. */
const flaky: ControllerDef = {
  name: 'flaky',
  resources: ['core/configmaps'],
  setup: () => async (ref) => {
    flakySeen.add(ref.name);
    if (ref.name !== 'flaky') return;
    attempts++;
    if (attempts < 4) throw new Error('not yet');
  },
};

let cp: AwsLocal;
let dir: string;
let sqs: SQSClient;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stratus-ctl-loop-'));
  cp = await startAwsLocal({ dataDir: dir, port: await freePort(), log: createLogger(process.env.TEST_LOG ?? 'silent'), controllers: [counter, flaky], retryBaseSeconds: 0 });
  sqs = new SQSClient({ endpoint: cp.endpoints.sqs, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
});
afterAll(async () => {
  sqs?.destroy();
  await cp?.close();
  if (dir) removeDir(dir);
});

const server = () => ({ url: cp.url, token: cp.token, ca: cp.caCert });
const post = async (path: string, body: unknown) => {
  const r = await api(server(), 'POST', path, { body: JSON.stringify(body) });
  if (r.status !== 201) throw new Error(`POST ${path}: ${r.status} ${r.text}`);
  return r.json;
};
const get = async (path: string) => (await api(server(), 'GET', path)).json;
const ownedNames = async (secretUid: string): Promise<string[]> =>
  ((await get(`/api/v1/namespaces/${NS}/configmaps`)).items as { metadata: { name: string; ownerReferences?: { uid: string }[] } }[])
    .filter((c) => c.metadata.ownerReferences?.some((o) => o.uid === secretUid))
    .map((c) => c.metadata.name)
    .sort();

async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not seen in time`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves once the counter has not been called for `ms` (its requeues and wake-ups have run out). */
async function counterQuiet(ms = 2500): Promise<void> {
  for (let n = -1; n !== counted.length; ) {
    n = counted.length;
    await new Promise((r) => setTimeout(r, ms));
  }
}

describe('framework controllers through stream -> dispatcher -> SQS FIFO -> worker', () => {
  it('the dispatcher forwards changes of primary and watched resources', () => {
    expect(cp.functionEnv.dispatcher.WORK_QUEUE_RESOURCES).toBe('core/configmaps,core/secrets');
  });

  it('a controller with a watch converges: owned ConfigMaps are created and counted into the owner', async () => {
    const secret = await post(`/api/v1/namespaces/${NS}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bundle', labels: { counted: 'yes' } } });
    const owned = await until('owned label', async () => (await get(`/api/v1/namespaces/${NS}/secrets/bundle`)).metadata.labels?.owned);
    expect(owned).toBe('3');
    expect(await ownedNames(secret.metadata.uid)).toEqual(['bundle-0', 'bundle-1', 'bundle-2']);
    // The worker's event recorder reports as the controller.
    const event = await until('Counted event', async () =>
      ((await get(`/api/v1/namespaces/${NS}/events`)).items as { reason: string; message: string; source: { component: string }; involvedObject: { name: string } }[]).find((e) => e.reason === 'Counted'),
    );
    expect(event).toMatchObject({ message: 'owns 3 config maps', source: { component: 'counter' }, involvedObject: { name: 'bundle' } });
  });

  it('deleting an owned ConfigMap wakes the owner, which recreates it', async () => {
    const secret = await get(`/api/v1/namespaces/${NS}/secrets/bundle`);
    // Converged: the counter asks for no requeue, so only the deletion can wake it.
    await counterQuiet();
    const before = counted.filter((r) => r.name === 'bundle').length;
    const del = await api(server(), 'DELETE', `/api/v1/namespaces/${NS}/configmaps/bundle-1`);
    expect(del.status).toBe(200);
    await until('recreated bundle-1', async () => (await ownedNames(secret.metadata.uid)).includes('bundle-1'));
    expect(await ownedNames(secret.metadata.uid)).toEqual(['bundle-0', 'bundle-1', 'bundle-2']);
    expect(counted.filter((r) => r.name === 'bundle').length).toBeGreaterThan(before);
    expect(counted.every((r) => r.resource === 'core/secrets' && r.namespace === NS)).toBe(true);
  });

  it('an object a controller does not own does not wake it', async () => {
    await counterQuiet();
    const before = counted.length;
    await post(`/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unowned' } });
    // The same dispatch that woke flaky (a primary of ConfigMaps) would have woken the counter.
    await until('flaky woken for unowned', () => flakySeen.has('unowned'));
    await new Promise((r) => setTimeout(r, 1000));
    expect(counted.length).toBe(before);
  });

  it('a failing reconcile is retried until it succeeds, and leaves nothing in the dead-letter queue', async () => {
    await post(`/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'flaky' } });
    await until('four attempts', () => attempts >= 4);
    await new Promise((r) => setTimeout(r, 1500));
    expect(attempts).toBe(4);
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: cp.queues.workDlq.url, AttributeNames: ['ApproximateNumberOfMessages'] }));
    expect(Attributes!.ApproximateNumberOfMessages).toBe('0');
  });
});
