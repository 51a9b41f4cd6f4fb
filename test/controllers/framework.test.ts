// The in-process controller driver: primary changes reconcile the object, watched changes are
// mapped onto primaries, failures retry with backoff, requeueAfter comes back, and a reconcile
// that just wrote sees its own write on the next pass.
import { afterEach, describe, expect, it } from 'vitest';
import type { ControllerDef, ObjectRef } from '../../shared/controllers/runtime/types.js';
import { toControllerOwner } from '../../shared/controllers/runtime/mappers.js';
import { WorkQueue } from '../../shared/controllers/runtime/queue.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('controller manager', () => {
  it('reconciles primaries, maps watched objects to their owner, and sees its own writes', async () => {
    const seen: ObjectRef[] = [];
    // Counts the ConfigMaps a Secret owns into the Secret's label, creating one ConfigMap per pass until 3 exist.
    const def: ControllerDef = {
      name: 'counter',
      resources: ['core/secrets'],
      watches: [{ resource: 'core/configmaps', map: toControllerOwner('Secret', 'core/secrets') }],
      setup: ({ reader, client }) => async (ref) => {
        seen.push(ref);
        const secret = await reader.get('core/secrets', ref.namespace, ref.name);
        if (!secret) return;
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
        if (secret.metadata.labels?.owned !== String(owned.length)) await client.patch('core/secrets', ref.namespace, ref.name, 'merge', { metadata: { labels: { owned: String(owned.length) } } });
      },
    };
    h = await startHarness([def]);
    await h.client.create('core/secrets', { metadata: { name: 's', namespace: 'default' } });
    const labelled = await h.waitFor(async () => (await h!.reader.get('core/secrets', 'default', 's'))?.metadata.labels?.owned, 5000, 'owned label');
    expect(labelled).toBe('3');
    await h.settle();
    expect((await h.reader.list('core/configmaps', { namespace: 'default' })).map((c) => c.metadata.name).sort()).toEqual(['s-0', 's-1', 's-2']);
    // Deleting an owned ConfigMap wakes the owner, which recreates it.
    await h.client.delete('core/configmaps', 'default', 's-1');
    await h.waitFor(async () => (await h!.reader.list('core/configmaps', { namespace: 'default' })).length === 3, 5000, 'recreated configmap');
    expect(seen.filter((r) => r.name === 's').length).toBeGreaterThan(3);
  });

  it('retries a failing reconcile with backoff until it succeeds', async () => {
    let calls = 0;
    const def: ControllerDef = {
      name: 'flaky',
      resources: ['core/configmaps'],
      setup: () => async (ref) => {
        if (ref.name !== 'x') return;
        calls++;
        if (calls < 4) throw new Error('not yet');
      },
    };
    h = await startHarness([def]);
    await h.client.create('core/configmaps', { metadata: { name: 'x', namespace: 'default' } });
    await h.waitFor(() => calls >= 4, 5000, 'four attempts');
    await new Promise((r) => setTimeout(r, 200));
    expect(calls).toBe(4);
  });
});

describe('work queue', () => {
  it('never hands out a key twice at once and re-queues a key changed while processing', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.length).toBe(2);
    const first = await q.get();
    expect(first).toBe('a');
    q.add('a'); // changed while processing: comes back after done()
    expect(await q.get()).toBe('b');
    expect(q.length).toBe(0);
    q.done('a');
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    q.done('b');
    expect(q.idle).toBe(true);
    q.shutDown();
    expect(await q.get()).toBeUndefined();
  });

  it('backs off exponentially per key and forgets on success', () => {
    const q = new WorkQueue({ baseDelayMs: 10 });
    q.addRateLimited('k');
    q.addRateLimited('k');
    expect(q.failuresOf('k')).toBe(2);
    q.forget('k');
    expect(q.failuresOf('k')).toBe(0);
    q.shutDown();
  });
});
