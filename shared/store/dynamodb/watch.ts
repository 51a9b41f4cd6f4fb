// Watches on the DynamoDB log: the poll loop and the watcher bookkeeping are ../watch-hub.ts; this
// driver reads the log partition (strongly consistent) after the loop's revision, stops at a
// missing revision until it is committed or filled (see revisions.ts), and replays a prefix's
// range for a watcher that starts behind the loop. Local writes kick the loop at once; other
// processes' writes are seen within pollIntervalMs.
import type { KeyValue, WatchEvent } from '../contract.js';
import { WatchHub as Hub, type LogBatch, type ReplayPage, type WatchDriver } from '../watch-hub.js';
import type { TableClient } from './client.js';
import { decodeLog, type LogEntry } from './items.js';
import type { Revisions } from './revisions.js';
import { LOG_PK, PARTITION_KEY, revOfSortKey, revSortKey, SORT_KEY } from './table.js';
import type { ValueReader } from './values.js';

export interface WatchHubOptions {
  pollIntervalMs: number;
  progressIntervalMs: number;
}

const PAGE = 500;

/** The store's watch hub, polling the DynamoDB log. */
export class WatchHub extends Hub {
  constructor(table: TableClient, revs: Revisions, values: ValueReader, opts: WatchHubOptions) {
    super(new LogDriver(table, revs, values), { ...opts, label: 'dynamodb store' });
  }
}

class LogDriver implements WatchDriver {
  /** Where the loop started walking; below it, revisions may still be unresolved. */
  private base = 0;
  /** A missing revision the last read stopped at; the next read waits for it first. */
  private hole: { rev: number; laterAt?: number } | undefined;

  constructor(
    private readonly table: TableClient,
    private readonly revs: Revisions,
    private readonly values: ValueReader,
  ) {}

  headRev(): number {
    return this.revs.knownRev;
  }

  resume(cursor: number): number {
    this.base = Math.max(this.revs.resolved, cursor);
    return this.base;
  }

  compactedRev(): Promise<number> {
    return this.revs.compactedRev('watch');
  }

  async readNew(after: number, wanted: (key: string, rev: number) => boolean): Promise<LogBatch> {
    const hole = this.hole;
    this.hole = undefined;
    if (hole && hole.rev === after + 1) {
      const verdict = await this.revs.hole('watch', hole.rev, hole.laterAt);
      if (verdict.kind === 'compacted') return { events: [], ...this.skipTo(after, verdict.compacted), more: true };
    }
    const out = await this.table.query('watch', {
      KeyConditionExpression: '#pk = :pk AND #sk > :after',
      ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#sk': SORT_KEY },
      ExpressionAttributeValues: { ':pk': { S: LOG_PK }, ':after': { S: revSortKey(after) } },
      Limit: PAGE,
    });
    const items = (out.Items ?? []).map(decodeLog);
    const run: LogEntry[] = [];
    let expected = after + 1;
    for (const e of items) {
      if (e.rev !== expected) break;
      run.push(e);
      expected++;
    }
    // The contiguous run goes out first; the hole after it is waited for on the next read.
    if (run.length < items.length) this.hole = { rev: expected, laterAt: items[run.length].at || undefined };
    const more = run.length < items.length || out.LastEvaluatedKey !== undefined;
    if (run.length === 0) return { events: [], through: after, more };
    const entries = run.filter((e) => e.type !== 'FILL' && wanted(e.key, e.rev));
    const { events, goneAt } = entries.length > 0 ? await this.toEvents('watch', entries) : { events: [] };
    if (goneAt !== undefined) return { events: [], ...(await this.historyGone(after, goneAt)), more };
    const last = run[run.length - 1].rev;
    if (this.revs.resolved >= this.base) this.revs.advance(last);
    return { events, through: last, more };
  }

  async readRange(prefix: string, after: number, until: number): Promise<ReplayPage> {
    if (after < this.base) await this.revs.resolveThrough('watch', this.base);
    const out = await this.table.query('watch', {
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
      ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#sk': SORT_KEY, ...(prefix === '' ? {} : { '#k': 'k' }) },
      ExpressionAttributeValues: {
        ':pk': { S: LOG_PK },
        ':lo': { S: revSortKey(after + 1) },
        ':hi': { S: revSortKey(until) },
        ...(prefix === '' ? {} : { ':prefix': { S: prefix } }),
      },
      ...(prefix === '' ? {} : { FilterExpression: 'begins_with(#k, :prefix)' }),
      Limit: PAGE,
    });
    // Compaction announces itself before deleting: read after the page, the marker covers it.
    const compacted = await this.revs.compactedRev('watch');
    if (after < compacted) return { expiredAt: compacted };
    const entries = (out.Items ?? []).map(decodeLog).filter((e) => e.type !== 'FILL' && e.key.startsWith(prefix));
    let events: WatchEvent[] = [];
    if (entries.length > 0) {
      const built = await this.toEvents('watch', entries);
      if (built.goneAt !== undefined) return { expiredAt: Math.max(built.goneAt, await this.revs.compactedRev('watch')) };
      events = built.events;
    }
    return { events, through: out.LastEvaluatedKey ? revOfSortKey(out.LastEvaluatedKey[SORT_KEY].S!) : until };
  }

  /** Builds events; goneAt is the first revision whose value or previous value is no longer stored. */
  private async toEvents(op: string, entries: LogEntry[]): Promise<{ events: WatchEvent[]; goneAt?: number }> {
    const own = await this.values.ofEntries(op, entries);
    const prevs = await this.values.atRevs(
      op,
      entries.filter((e) => e.prevRev > 0 && !own.has(e.prevRev)).map((e) => e.prevRev),
    );
    const events: WatchEvent[] = [];
    for (const e of entries) {
      const prevValue = e.prevRev > 0 ? (own.get(e.prevRev) ?? prevs.get(e.prevRev)) : undefined;
      const value = e.type === 'PUT' ? own.get(e.rev) : prevValue;
      if (value === undefined || (e.prevRev > 0 && prevValue === undefined)) return { events, goneAt: e.rev };
      const prev: KeyValue | undefined =
        e.prevRev > 0 ? { key: e.key, value: prevValue!, rev: e.prevRev, createRev: e.createRev } : undefined;
      const kv: KeyValue = { key: e.key, value, rev: e.rev, createRev: e.createRev };
      events.push({ type: e.type as 'PUT' | 'DELETE', key: e.key, kv, prev, created: e.type === 'PUT' && e.prevRev === 0 });
    }
    return { events };
  }

  /** A value the loop needs is gone: only compaction may have taken it (watchers behind it expire). */
  private async historyGone(after: number, rev: number): Promise<{ through: number; compacted: number }> {
    const compacted = await this.revs.compactedRev('watch');
    if (compacted < rev) throw new Error(`log item or value at revision ${rev} is missing above the compacted revision ${compacted}`);
    return this.skipTo(after, compacted);
  }

  private skipTo(after: number, compacted: number): { through: number; compacted: number } {
    if (compacted > after) this.revs.advance(compacted);
    return { through: Math.max(after, compacted), compacted };
  }
}
