// The controller loop of the AWS-shaped path, in process: an API write lands in DynamoDB Local,
// its stream record reaches the dispatcher through the local Streams event source, the dispatcher
// queues (controller, object) on the SQS FIFO work queue, and the worker runs the controller's reconcile.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsLocal, type AwsLocal } from '../../cli/aws-local/start.js';
import { createLogger } from '../../shared/apiserver/logger.js';
import type { ControllerDef } from '../../shared/controllers/runtime/types.js';
import { api, freePort, removeDir } from '../e2e/harness.js';

const seen: { key: string; at: number }[] = [];
let requeued = false;
const recorder: ControllerDef = {
  name: 'recorder',
  resources: ['core/configmaps'],
  setup: () => async (ref) => {
    const key = `/registry/${ref.resource}/${ref.namespace}/${ref.name}`;
    seen.push({ key, at: Date.now() });
    // Ask once to be called again, as a controller waiting on something would.
    if (ref.name === 'again' && !requeued) {
      requeued = true;
      return { requeueAfter: 1000 };
    }
  },
};

let cp: AwsLocal;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stratus-loop-'));
  cp = await startAwsLocal({ dataDir: dir, port: await freePort(), log: createLogger('silent'), controllers: [recorder] });
});
afterAll(async () => {
  await cp?.close();
  removeDir(dir);
});

const server = () => ({ url: cp.url, token: cp.token, ca: cp.caCert });
async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not seen in time: ${JSON.stringify(seen)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('stream -> dispatcher -> SQS FIFO -> worker', () => {
  it('configures the functions the way the stack does', () => {
    expect(cp.functionEnv.dispatcher).toMatchObject({ TABLE_NAME: cp.tableName, WORK_QUEUE_URL: cp.queues.work.url, WORK_QUEUE_RESOURCES: 'core/configmaps' });
    expect(cp.functionEnv.worker).toMatchObject({ TABLE_NAME: cp.tableName, WORK_QUEUE_URL: cp.queues.work.url, REQUEUE_QUEUE_URL: cp.queues.requeue.url });
    expect(cp.functionEnv.api.ADMIN_TOKEN_SHA256).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(cp.functionEnv)).not.toContain(cp.token);
  });

  it('reconciles a ConfigMap written through the API', async () => {
    const r = await api(server(), 'POST', '/api/v1/namespaces/default/configmaps', { body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'watched' } }) });
    expect(r.status).toBe(201);
    await until(() => seen.some((s) => s.key === '/registry/core/configmaps/default/watched'));
  });

  it('does not queue resources no controller reconciles', async () => {
    await api(server(), 'POST', '/api/v1/namespaces/default/secrets', { body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'quiet' } }) });
    await api(server(), 'POST', '/api/v1/namespaces/default/configmaps', { body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'marker' } }) });
    await until(() => seen.some((s) => s.key.endsWith('/marker')));
    expect(seen.some((s) => s.key.includes('secrets'))).toBe(false);
  });

  it('calls reconcile again after requeueAfter', async () => {
    await api(server(), 'POST', '/api/v1/namespaces/default/configmaps', { body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'again' } }) });
    await until(() => seen.filter((s) => s.key.endsWith('/again')).length >= 2);
    const [first, second] = seen.filter((s) => s.key.endsWith('/again'));
    expect(second.at - first.at).toBeGreaterThanOrEqual(900);
  });
});
