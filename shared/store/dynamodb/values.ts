// Reading values: a value lives in its log item (inline) or in chunk items addressed by its
// revision. The value written at a revision never changes, so values are cached by revision
// (bounded by bytes); that makes most `prev` lookups of watch events and repeated gets free.
import type { TableClient } from './client.js';
import { decodeChunks, decodeLog, keyOfChunk, keyOfLog, type LogEntry } from './items.js';
import { PARTITION_KEY, revOfSortKey, SORT_KEY } from './table.js';

export class ValueReader {
  private readonly cache = new Map<number, string>();
  private cachedBytes = 0;

  constructor(
    private readonly table: TableClient,
    private readonly cacheBytes = 32 * 1024 * 1024,
  ) {}

  remember(rev: number, value: string): void {
    const size = value.length * 2;
    if (size > this.cacheBytes / 8 || this.cache.has(rev)) return;
    this.cache.set(rev, value);
    this.cachedBytes += size;
    for (const [oldest, v] of this.cache) {
      if (this.cachedBytes <= this.cacheBytes) break;
      this.cache.delete(oldest);
      this.cachedBytes -= v.length * 2;
    }
  }

  /** Values of PUT log entries (inline or chunked); entries whose chunks are gone are left out. */
  async ofEntries(op: string, entries: LogEntry[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    const chunked: LogEntry[] = [];
    for (const e of entries) {
      if (e.type !== 'PUT') continue;
      const cached = this.cache.get(e.rev);
      if (cached !== undefined) out.set(e.rev, cached);
      else if (e.chunks === 0) {
        out.set(e.rev, e.value ?? '');
        this.remember(e.rev, e.value ?? '');
      } else chunked.push(e);
    }
    if (chunked.length > 0) {
      const keys = chunked.flatMap((e) => Array.from({ length: e.chunks }, (_, i) => keyOfChunk(e.rev, i)));
      const pieces = new Map<number, { index: number; data: Uint8Array }[]>();
      for (const item of await this.table.batchGet(op, keys)) {
        const rev = revOfSortKey(item[PARTITION_KEY].S!.slice('chunk#'.length));
        const list = pieces.get(rev) ?? [];
        list.push({ index: Number(item[SORT_KEY].S), data: item.d.B! });
        pieces.set(rev, list);
      }
      for (const e of chunked) {
        const list = pieces.get(e.rev);
        if (!list || list.length !== e.chunks) continue;
        list.sort((a, b) => a.index - b.index);
        const value = decodeChunks(list.map((p) => p.data));
        out.set(e.rev, value);
        this.remember(e.rev, value);
      }
    }
    return out;
  }

  /** Values written at these revisions; revisions whose log item is gone (or not a PUT) are left out. */
  async atRevs(op: string, revs: number[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    const missing: number[] = [];
    for (const rev of new Set(revs)) {
      const cached = this.cache.get(rev);
      if (cached !== undefined) out.set(rev, cached);
      else missing.push(rev);
    }
    if (missing.length === 0) return out;
    const entries = (await this.table.batchGet(op, missing.map(keyOfLog))).map(decodeLog);
    for (const [rev, value] of await this.ofEntries(op, entries)) out.set(rev, value);
    return out;
  }
}
