// One conformance suite for every store backend: each test states a promise of the store contract
// (shared/store/contract.ts) and checks it through the public API only.
import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError, type Store, type StoreErrorCode, type WatchEvent } from '../../shared/store/contract.js';
import type { WriterJob } from './writer-job.js';
import { WriterHandle } from './writers.js';

export type { WriterJob } from './writer-job.js';

export interface StoreUnderTest {
  store: Store;
  /** Closes whatever store instance is current and removes its data. */
  cleanup: () => Promise<void>;
  /** Closes the store and opens it again on the same data; the new instance becomes current. */
  reopen?: () => Promise<Store>;
  /** Starts test/store/writer-process.ts in another OS process, on the same data. */
  spawnWriter?: (job: WriterJob) => ChildProcess;
}

export function storeConformance(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`store contract: ${name}`, () => {
    let h: StoreUnderTest;
    let store: Store;

    beforeEach(async () => {
      h = await open();
      store = h.store;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    describe('reads', () => {
      it('get returns nothing for a missing key and value plus revisions for a present one', async () => {
        expect(await store.get('/r/missing')).toBeUndefined();
        const created = await store.create('/r/x', '{"a":1}');
        expect(await store.get('/r/x')).toEqual({ key: '/r/x', value: '{"a":1}', rev: created.rev, createRev: created.rev });
      });

      it('list by prefix returns keys in order and keeps /a/ apart from /ab/', async () => {
        for (const key of ['/a/2', '/ab/1', '/a/1', '/a', '/b/1']) await store.create(key, key);
        expect(keys((await store.list({ prefix: '/a/' })).items)).toEqual(['/a/1', '/a/2']);
        expect(keys((await store.list({ prefix: '/ab/' })).items)).toEqual(['/ab/1']);
        expect(keys((await store.list({ prefix: '/a' })).items)).toEqual(['/a', '/a/1', '/a/2', '/ab/1']);
        expect(keys((await store.list({ prefix: '/c/' })).items)).toEqual([]);
      });

      it('treats prefix characters literally (no wildcards)', async () => {
        for (const key of ['/x/%/1', '/x/_/1', '/x/a/1', '/x/ab']) await store.create(key, 'v');
        expect(keys((await store.list({ prefix: '/x/%' })).items)).toEqual(['/x/%/1']);
        expect(keys((await store.list({ prefix: '/x/_' })).items)).toEqual(['/x/_/1']);
        expect(keys((await store.list({ prefix: '/x/a' })).items)).toEqual(['/x/a/1', '/x/ab']);
      });

      it('pages through a prefix with limit, startAfter and more', async () => {
        const all: string[] = [];
        for (let i = 0; i < 25; i++) all.push((await store.create(`/p/${String(i).padStart(2, '0')}`, String(i))).key);
        await store.create('/q/00', 'other prefix');
        const first = await store.list({ prefix: '/p/', limit: 10 });
        expect(first.items).toHaveLength(10);
        expect(first.more).toBe(true);
        const seen = keys(first.items);
        let page = first;
        while (page.more) {
          page = await store.list({ prefix: '/p/', limit: 10, startAfter: seen[seen.length - 1], rev: first.rev });
          expect(page.rev).toBe(first.rev);
          seen.push(...keys(page.items));
        }
        expect(seen).toEqual(all);
        expect(page.items).toHaveLength(5);
        // A cursor that is not itself a key still works.
        expect(keys((await store.list({ prefix: '/p/', startAfter: '/p/22x' })).items)).toEqual(['/p/23', '/p/24']);
        const exact = await store.list({ prefix: '/p/', limit: 25 });
        expect(exact.items).toHaveLength(25);
        expect(exact.more).toBe(false);
      });

      it('applies filter before limit', async () => {
        for (let i = 0; i < 10; i++) await store.create(`/f/${i}`, JSON.stringify({ even: i % 2 === 0 }));
        const even = (kv: { value: string }) => (JSON.parse(kv.value) as { even: boolean }).even;
        const page = await store.list({ prefix: '/f/', limit: 3, filter: even });
        expect(keys(page.items)).toEqual(['/f/0', '/f/2', '/f/4']);
        expect(page.more).toBe(true);
        const rest = await store.list({ prefix: '/f/', limit: 3, filter: even, startAfter: '/f/4' });
        expect(keys(rest.items)).toEqual(['/f/6', '/f/8']);
        expect(rest.more).toBe(false);
        const exactlyAll = await store.list({ prefix: '/f/', limit: 5, filter: even });
        expect(exactlyAll.items).toHaveLength(5);
        expect(exactlyAll.more).toBe(false);
      });

      it('serves the latest list at the current revision and an older revision as that old world', async () => {
        const a1 = await store.create('/w/a', 'a1');
        const b1 = await store.create('/w/b', 'b1');
        const before = await store.currentRev();
        const a2 = await store.update('/w/a', 'a2', a1.rev);
        await store.delete('/w/b');
        const c1 = await store.create('/w/c', 'c1');

        const latest = await store.list({ prefix: '/w/' });
        expect(latest.rev).toBe(await store.currentRev());
        expect(latest.items).toEqual([a2, c1]);

        const old = await store.list({ prefix: '/w/', rev: before });
        expect(old.rev).toBe(before);
        expect(old.items).toEqual([a1, b1]);
        const oldPage = await store.list({ prefix: '/w/', rev: before, limit: 1, startAfter: '/w/a' });
        expect(oldPage.items).toEqual([b1]);
        expect(oldPage.more).toBe(false);
        expect((await store.list({ prefix: '/w/', rev: a1.rev })).items).toEqual([a1]);
      });

      it('rejects a list at a future revision with TooLarge', async () => {
        await store.create('/t/a', 'v');
        const current = await store.currentRev();
        expect((await storeError(store.list({ prefix: '/t/', rev: current + 1 }))).code).toBe('TooLarge');
      });

      it('returns values unchanged, including unicode and a 1.5 MiB value', async () => {
        const unicode = JSON.stringify({ text: 'grüße, 世界, 🚀', quote: '"\\' });
        const big = JSON.stringify({ data: 'x'.repeat(1.5 * 1024 * 1024) });
        await store.create('/v/unicode', unicode);
        await store.create('/v/big', big);
        expect((await store.get('/v/unicode'))?.value).toBe(unicode);
        expect((await store.get('/v/big'))?.value).toBe(big);
        expect((await store.list({ prefix: '/v/' })).items.map((kv) => kv.value.length)).toEqual([big.length, unicode.length]);
      });
    });

    describe('writes', () => {
      it('creates only if absent', async () => {
        const first = await store.create('/c/a', 'one');
        expect((await storeError(store.create('/c/a', 'two'))).code).toBe('AlreadyExists');
        expect((await store.get('/c/a'))?.value).toBe('one');
        await store.delete('/c/a');
        const again = await store.create('/c/a', 'three');
        expect(again.createRev).toBe(again.rev);
        expect(again.rev).toBeGreaterThan(first.rev);
      });

      it('updates only at the expected revision; Conflict carries the current value', async () => {
        const v1 = await store.create('/u/a', 'v1');
        const v2 = await store.update('/u/a', 'v2', v1.rev);
        expect(v2).toEqual({ key: '/u/a', value: 'v2', rev: v2.rev, createRev: v1.rev });
        expect(v2.rev).toBeGreaterThan(v1.rev);
        const conflict = await storeError(store.update('/u/a', 'stale', v1.rev));
        expect(conflict.code).toBe('Conflict');
        expect(conflict.current).toEqual(v2);
        expect((await store.get('/u/a'))?.value).toBe('v2');
        expect((await storeError(store.update('/u/missing', 'x', 1))).code).toBe('NotFound');
      });

      it('deletes (optionally at an expected revision) and returns the last value', async () => {
        const v1 = await store.create('/d/a', 'v1');
        const v2 = await store.update('/d/a', 'v2', v1.rev);
        const conflict = await storeError(store.delete('/d/a', v1.rev));
        expect(conflict.code).toBe('Conflict');
        expect(conflict.current).toEqual(v2);
        expect(await store.get('/d/a')).toEqual(v2);
        const result = await store.delete('/d/a', v2.rev);
        expect(result.deleted).toEqual(v2);
        expect(result.rev).toBeGreaterThan(v2.rev);
        expect(await store.currentRev()).toBe(result.rev);
        expect(await store.get('/d/a')).toBeUndefined();
        expect((await storeError(store.delete('/d/a'))).code).toBe('NotFound');
        const b = await store.create('/d/b', 'b');
        expect((await store.delete('/d/b')).deleted).toEqual(b);
      });

      it('gives every write a strictly greater revision and currentRev follows it', async () => {
        const start = await store.currentRev();
        const revs: number[] = [];
        for (let i = 0; i < 5; i++) revs.push((await store.create(`/s/${i}`, 'v')).rev);
        revs.push((await store.update('/s/0', 'v2', revs[0])).rev);
        revs.push((await store.delete('/s/1')).rev);
        expect(revs[0]).toBeGreaterThan(start);
        for (let i = 1; i < revs.length; i++) expect(revs[i]).toBeGreaterThan(revs[i - 1]);
        expect(await store.currentRev()).toBe(revs[revs.length - 1]);
      });
    });

    describe('watch', () => {
      it('replays from a revision, then continues live: creates, updates, deletes in order with prev', async () => {
        const a1 = await store.create('/e/a', 'a1');
        const a2 = await store.update('/e/a', 'a2', a1.rev);
        const b1 = await store.create('/e/b', 'b1');
        const w = record(store, '/e/', a1.rev);
        const del = await store.delete('/e/a');
        const c1 = await store.create('/e/c', 'c1');
        const c2 = await store.update('/e/c', 'c2', c1.rev);
        await waitFor(() => w.events.length >= 5, 'five events');
        await settle();
        w.close();
        expect(w.errors).toEqual([]);
        expect(w.events).toEqual([
          { type: 'PUT', key: '/e/a', kv: a2, prev: a1, created: false },
          { type: 'PUT', key: '/e/b', kv: b1, created: true },
          { type: 'DELETE', key: '/e/a', kv: { ...a2, rev: del.rev }, prev: a2, created: false },
          { type: 'PUT', key: '/e/c', kv: c1, created: true },
          { type: 'PUT', key: '/e/c', kv: c2, prev: c1, created: false },
        ]);
      });

      it('treats afterRev 0 as "from now"', async () => {
        await store.create('/n/old', 'v');
        const w = record(store, '/n/', 0);
        const fresh = await store.create('/n/new', 'v');
        await waitFor(() => w.events.length >= 1, 'the new event');
        await settle();
        w.close();
        expect(w.events.map((e) => e.kv)).toEqual([fresh]);
      });

      it('delivers only keys under the watched prefix', async () => {
        const start = await store.currentRev();
        const w = record(store, '/a/', start);
        await store.create('/ab/1', 'no');
        await store.create('/a', 'no');
        const yes = await store.create('/a/1', 'yes');
        await store.create('/b/1', 'no');
        const last = await store.create('/a/2', 'yes');
        await waitFor(() => w.events.length >= 2, 'two events');
        await settle();
        w.close();
        expect(w.events.map((e) => e.kv)).toEqual([yes, last]);
      });

      it('list then watch from the list revision misses nothing and repeats nothing under concurrent writes', async () => {
        let writing = true;
        let written = 0;
        const writer = (async () => {
          while (writing || written < 60) {
            await store.create(`/lw/${String(written).padStart(4, '0')}`, String(written));
            written++;
            if (written % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
          }
        })();
        await waitFor(() => written >= 20, 'some writes');
        const listed = await store.list({ prefix: '/lw/' });
        const w = record(store, '/lw/', listed.rev);
        writing = false;
        await writer;
        const end = await store.currentRev();
        await waitFor(() => lastRev(w.events) >= end, 'the watch to reach the end');
        await settle();
        w.close();
        const seen = [...keys(listed.items), ...w.events.map((e) => e.key)];
        expect(new Set(seen).size).toBe(seen.length);
        expect(seen).toHaveLength(written);
        expect(w.events.every((e) => e.kv.rev > listed.rev && e.created)).toBe(true);
        expectIncreasing(w.events.map((e) => e.kv.rev));
      });

      it('sends progress notifications that advance while the watched prefix is idle', async () => {
        const w = record(store, '/idle/', 0);
        const elsewhere = await store.create('/busy/1', 'v');
        await waitFor(() => w.progress.some((rev) => rev >= elsewhere.rev), 'progress past the unrelated write', 10_000);
        w.close();
        expect(w.events).toEqual([]);
        expectNonDecreasing(w.progress);
      });

      it('stops delivering after close', async () => {
        const w = record(store, '/z/', 0);
        await store.create('/z/1', 'v');
        await waitFor(() => w.events.length === 1, 'the first event');
        w.close();
        await store.create('/z/2', 'v');
        await store.create('/z/3', 'v');
        await sleep(300);
        expect(w.events).toHaveLength(1);
      });
    });

    describe('compaction', () => {
      it('keeps the latest world, serves reads from the compacted revision on, and expires older ones', async () => {
        const a1 = await store.create('/k/a', 'a1');
        await store.create('/k/b', 'b1');
        const a2 = await store.update('/k/a', 'a2', a1.rev);
        const delB = await store.delete('/k/b');
        const c1 = await store.create('/k/c', 'c1');
        const a3 = await store.update('/k/a', 'a3', a2.rev);
        const live = record(store, '/k/', 0);

        await store.compact(delB.rev);
        expect(await store.compactedRev()).toBe(delB.rev);

        expect((await store.list({ prefix: '/k/' })).items).toEqual([a3, c1]);
        expect(await store.get('/k/a')).toEqual(a3);
        expect((await store.list({ prefix: '/k/', rev: delB.rev })).items).toEqual([a2]);
        expect((await store.list({ prefix: '/k/', rev: c1.rev })).items).toEqual([a2, c1]);
        expect((await storeError(store.list({ prefix: '/k/', rev: delB.rev - 1 }))).code).toBe('Expired');

        const expired = record(store, '/k/', a2.rev);
        await waitFor(() => expired.errors.length > 0, 'the Expired error');
        expect(expired.errors.map((e) => e.code)).toEqual(['Expired']);
        expect(expired.events).toEqual([]);

        const resumed = record(store, '/k/', delB.rev);
        await waitFor(() => resumed.events.length >= 2, 'the retained events');
        expect(resumed.events).toEqual([
          { type: 'PUT', key: '/k/c', kv: c1, created: true },
          { type: 'PUT', key: '/k/a', kv: a3, prev: a2, created: false },
        ]);

        // A watcher that was already caught up is not disturbed by compaction.
        const a4 = await store.update('/k/a', 'a4', a3.rev);
        await waitFor(() => live.events.length >= 1, 'the live event');
        expect(live.errors).toEqual([]);
        expect(live.events.map((e) => e.kv)).toEqual([a4]);
        for (const w of [live, expired, resumed]) w.close();
      });
    });

    describe('durability and concurrency', () => {
      it('keeps data and continues revisions after close and reopen', async () => {
        expect(h.reopen, 'backend provides reopen').toBeDefined();
        const a = await store.create('/re/a', 'a');
        const b = await store.create('/re/b', 'b');
        store = await h.reopen!();
        expect((await store.list({ prefix: '/re/' })).items).toEqual([a, b]);
        expect(await store.currentRev()).toBe(b.rev);
        expect((await store.create('/re/c', 'c')).rev).toBeGreaterThan(b.rev);
      });

      it('32 async writers x 10 read-modify-write increments lose no update', async () => {
        const start = await store.create('/cnt/x', '0');
        const w = record(store, '/cnt/', start.rev);
        let conflicts = 0;
        await Promise.all(
          Array.from({ length: 32 }, async () => {
            for (let i = 0; i < 10; i++) conflicts += await increment(store, '/cnt/x');
          }),
        );
        expect((await store.get('/cnt/x'))?.value).toBe('320');
        expect(conflicts).toBeGreaterThan(0);
        await waitFor(() => w.events.length >= 320, 'all increments');
        w.close();
        // Every increment built on the one before it: 1, 2, ..., 320, each with the previous as prev.
        expect(w.events.map((e) => e.kv.value)).toEqual(Array.from({ length: 320 }, (_, i) => String(i + 1)));
        expect(w.events.every((e) => e.prev?.value === String(Number(e.kv.value) - 1))).toBe(true);
      });

      it('several processes incrementing one key lose no update', async () => {
        expect(h.spawnWriter, 'backend provides spawnWriter').toBeDefined();
        await store.create('/cnt/y', '0');
        const writers = Array.from(
          { length: 4 },
          () => new WriterHandle(h.spawnWriter!({ kind: 'increment', key: '/cnt/y', writers: 8, increments: 10 })),
        );
        await Promise.all(writers.map((w) => w.ready));
        writers.forEach((w) => w.go());
        const conflicts = await Promise.all(writers.map((w) => w.done));
        expect((await store.get('/cnt/y'))?.value).toBe('320');
        expect(conflicts.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
        const revs = writers.flatMap((w) => w.acks.map((a) => a.rev));
        expect(new Set(revs).size).toBe(320);
      });

      it('a watcher sees every write of several writer processes exactly once, in order', async () => {
        expect(h.spawnWriter, 'backend provides spawnWriter').toBeDefined();
        // A revision to replay from (0 would mean "from now").
        const from = (await store.create('/mp-start', 'v')).rev;
        const all = record(store, '/mp/', from);
        const one = record(store, '/mp/1/', from);
        const writers = [0, 1, 2].map(
          (i) => new WriterHandle(h.spawnWriter!({ kind: 'create', prefix: `/mp/${i}/`, count: 150 })),
        );
        await Promise.all(writers.map((w) => w.ready));
        writers.forEach((w) => w.go());
        await Promise.all(writers.map((w) => w.done));
        const acks = writers.flatMap((w) => w.acks).sort((x, y) => x.rev - y.rev);
        expect(acks).toHaveLength(450);
        await waitFor(() => all.events.length >= acks.length && one.events.length >= 150, 'all events');
        await settle();
        // Compare with a watcher that replays the same range from the log afterwards.
        const replay = record(store, '/mp/', from);
        await waitFor(() => replay.events.length >= acks.length, 'the replay');
        await settle();
        for (const w of [all, one, replay]) w.close();

        const revKey = (events: WatchEvent[]) => events.map((e) => ({ rev: e.kv.rev, key: e.key }));
        expect(all.errors).toEqual([]);
        expect(revKey(all.events)).toEqual(acks);
        expect(revKey(replay.events)).toEqual(acks);
        expect(revKey(one.events)).toEqual(writers[1].acks);
      });

      it('keeps every acknowledged write when a writer process is killed with SIGKILL', async () => {
        expect(h.spawnWriter, 'backend provides spawnWriter').toBeDefined();
        expect(h.reopen, 'backend provides reopen').toBeDefined();
        const writer = new WriterHandle(
          h.spawnWriter!({ kind: 'create', prefix: '/kill/', count: 1_000_000, value: JSON.stringify({ pad: 'p'.repeat(1000) }) }),
        );
        await writer.ready;
        const enough = new Promise<void>((resolve) => writer.onAck(() => writer.acks.length === 300 && resolve()));
        writer.go();
        await enough;
        writer.child.kill('SIGKILL');
        await expect(writer.done).rejects.toThrow(/SIGKILL/);
        const acked = [...writer.acks];
        expect(acked.length).toBeGreaterThanOrEqual(300);

        store = await h.reopen!();
        const stored = new Map((await store.list({ prefix: '/kill/' })).items.map((kv) => [kv.key, kv.rev]));
        const lost = acked.filter((a) => stored.get(a.key) !== a.rev);
        expect(lost).toEqual([]);
        const after = await store.create('/kill-after', 'v');
        expect(after.rev).toBeGreaterThan(Math.max(...acked.map((a) => a.rev)));
      });
    });
  });
}

// ---- helpers --------------------------------------------------------------------------------

interface Recorder {
  events: WatchEvent[];
  errors: StoreError[];
  progress: number[];
  close: () => void;
}

function record(store: Store, prefix: string, afterRev: number): Recorder {
  const r: Recorder = { events: [], errors: [], progress: [], close: () => undefined };
  const watch = store.watch({
    prefix,
    afterRev,
    onEvents: (events) => r.events.push(...events),
    onError: (err) => r.errors.push(err),
    onProgress: (rev) => r.progress.push(rev),
  });
  r.close = () => watch.close();
  return r;
}

async function increment(store: Store, key: string): Promise<number> {
  let conflicts = 0;
  for (;;) {
    const current = await store.get(key);
    try {
      await store.update(key, String(Number(current!.value) + 1), current!.rev);
      return conflicts;
    } catch (err) {
      if (!(err instanceof StoreError) || err.code !== 'Conflict') throw err;
      conflicts++;
    }
  }
}

async function storeError(promise: Promise<unknown>): Promise<StoreError & { code: StoreErrorCode }> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(StoreError);
    return err as StoreError;
  }
  throw new Error('expected the call to fail with a StoreError');
}

function keys(items: { key: string }[]): string[] {
  return items.map((kv) => kv.key);
}

function lastRev(events: WatchEvent[]): number {
  return events.length > 0 ? events[events.length - 1].kv.rev : 0;
}

function expectIncreasing(revs: number[]): void {
  for (let i = 1; i < revs.length; i++) expect(revs[i]).toBeGreaterThan(revs[i - 1]);
}

function expectNonDecreasing(revs: number[]): void {
  for (let i = 1; i < revs.length; i++) expect(revs[i]).toBeGreaterThanOrEqual(revs[i - 1]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Gives a watch time to deliver anything extra (a duplicate would show up here). */
function settle(): Promise<void> {
  return sleep(150);
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
