import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, SQLITE_FILE_NAME, type SqliteStoreConfig } from '../../shared/store/index.js';
import type { Store, WatchEvent } from '../../shared/store/contract.js';
import { storeConformance } from './conformance.js';
import { spawnStoreWriter, WriterHandle } from './writers.js';

function tempConfig(extra: Partial<SqliteStoreConfig> = {}): SqliteStoreConfig {
  return { backend: 'sqlite', dataDir: mkdtempSync(join(tmpdir(), 'stratus-store-')), ...extra };
}

storeConformance('sqlite', async () => {
  const config = tempConfig();
  let current = await openStore(config);
  return {
    store: current,
    cleanup: async () => {
      await current.close();
      rmSync(config.dataDir, { recursive: true, force: true });
    },
    reopen: async () => {
      await current.close();
      current = await openStore(config);
      return current;
    },
    spawnWriter: (job) => spawnStoreWriter(config, job),
  };
});

describe('sqlite store specifics', () => {
  const opened: Store[] = [];
  const dirs: string[] = [];
  async function open(config: SqliteStoreConfig): Promise<Store> {
    dirs.push(config.dataDir);
    const store = await openStore(config);
    opened.push(store);
    return store;
  }
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('assigns dense revisions while several processes write, so no filler rows are needed', async () => {
    const config = tempConfig();
    const store = await open(config);
    const from = (await store.create('/dense-start', 'v')).rev;
    const events: WatchEvent[] = [];
    const watch = store.watch({ prefix: '/dense/', afterRev: from, onEvents: (e) => events.push(...e) });
    const writers = [0, 1, 2].map(
      (i) => new WriterHandle(spawnStoreWriter(config, { kind: 'create', prefix: `/dense/${i}/`, count: 200 })),
    );
    await Promise.all(writers.map((w) => w.ready));
    writers.forEach((w) => w.go());
    await Promise.all(writers.map((w) => w.done));
    await waitFor(() => events.length >= 600);
    watch.close();
    // Every revision from..from+600 was delivered once: no gap a reader could have skipped past.
    expect(events.map((e) => e.kv.rev)).toEqual(Array.from({ length: 600 }, (_, i) => from + 1 + i));
    // The writers really interleaved (otherwise this would prove little).
    const owners = events.map((e) => e.key.split('/')[2]);
    const switches = owners.filter((o, i) => i > 0 && o !== owners[i - 1]).length;
    expect(switches).toBeGreaterThan(2);
  });

  it('compacts automatically, keeping at least the configured number of revisions', async () => {
    const store = await open(
      tempConfig({ historyRetention: { minRevisions: 20, minAgeMs: 0, checkIntervalMs: 20 } }),
    );
    const first = await store.create('/auto/a', '0');
    let rev = first.rev;
    for (let i = 1; i <= 100; i++) rev = (await store.update('/auto/a', String(i), rev)).rev;
    await waitFor(async () => (await store.compactedRev()) >= rev - 20);
    const compacted = await store.compactedRev();
    expect(compacted).toBeLessThanOrEqual(rev - 20);
    await expect(store.list({ prefix: '/auto/', rev: compacted - 1 })).rejects.toMatchObject({ code: 'Expired' });
    expect((await store.list({ prefix: '/auto/', rev: compacted })).items[0].value).toBe(String(compacted - first.rev));
    expect((await store.get('/auto/a'))?.value).toBe('100');
  });

  it('compaction removes superseded history and tombstones from the file', async () => {
    const config = tempConfig({ historyRetention: false });
    const store = await open(config);
    let kv = await store.create('/gc/kept', '0');
    for (let i = 1; i <= 300; i++) kv = await store.update('/gc/kept', String(i), kv.rev);
    const gone = await store.create('/gc/gone', 'x');
    await store.delete('/gc/gone', gone.rev);
    const countLog = () => {
      const db = new Database(join(config.dataDir, SQLITE_FILE_NAME), { readonly: true });
      try {
        return db.prepare('SELECT count(*) FROM log').pluck().get() as number;
      } finally {
        db.close();
      }
    };
    expect(countLog()).toBe(303);
    await store.compact(await store.currentRev());
    expect(countLog()).toBe(1);
    expect(await store.get('/gc/kept')).toEqual(kv);
    expect(await store.get('/gc/gone')).toBeUndefined();
    // Revisions never repeat, even though the newest log rows were deleted.
    const next = await store.create('/gc/gone', 'again');
    expect(next.rev).toBeGreaterThan(kv.rev + 2);
  });

  it('delivers writes made through another connection, and expires a watcher that compaction overtook', async () => {
    const config = tempConfig({ historyRetention: false });
    const watching = await open(config);
    const other = await open(config);
    const events: WatchEvent[] = [];
    const errors: string[] = [];
    watching.watch({
      prefix: '/x/',
      afterRev: 0,
      onEvents: (e) => events.push(...e),
      onError: (err) => errors.push(err.code),
    });
    const first = await other.create('/x/1', 'v');
    await waitFor(() => events.length === 1);
    expect(events[0].kv).toEqual(first);

    // "From now" means after the other connection's latest write, even one not yet polled here.
    await other.create('/y/old', 'v');
    const fromNow: WatchEvent[] = [];
    const nowWatch = watching.watch({ prefix: '/y/', afterRev: 0, onEvents: (e) => fromNow.push(...e) });
    const fresh = await other.create('/y/new', 'v');
    await waitFor(() => fromNow.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 150));
    nowWatch.close();
    expect(fromNow.map((e) => e.kv)).toEqual([fresh]);

    // Write and compact past it before the watching connection polls again: those rows may be gone,
    // so the watcher must hear Expired rather than silently skip them.
    for (let i = 2; i <= 5; i++) await other.create(`/x/${i}`, 'v');
    await other.compact(await other.currentRev());
    await waitFor(() => errors.length > 0);
    expect(errors).toEqual(['Expired']);
    expect(events).toHaveLength(1);
  });
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
