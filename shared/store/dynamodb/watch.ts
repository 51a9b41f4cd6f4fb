// Watches: one poll loop per store instance reads the log partition (strongly consistent) after
// the last revision it delivered, stops at a missing revision until it is committed or filled
// (see revisions.ts), and fans the events out to watchers by prefix. A watcher that starts behind
// the loop first replays its range from the log with a prefix filter, then joins the fan-out.
// Local writes kick the loop at once; other processes' writes are seen within pollIntervalMs.
import { StoreError, type KeyValue, type Watch, type WatchEvent, type WatchOptions } from '../contract.js';
import type { TableClient } from './client.js';
import { decodeLog, type LogEntry } from './items.js';
import type { Revisions } from './revisions.js';
import { LOG_PK, PARTITION_KEY, revOfSortKey, revSortKey, SORT_KEY } from './table.js';
import type { ValueReader } from './values.js';

export interface WatchHubOptions {
  pollIntervalMs: number;
  progressIntervalMs: number;
}

interface Watcher {
  prefix: string;
  /** Every change with a revision <= cursor has been delivered (or lies before afterRev). */
  cursor: number;
  live: boolean;
  /** A watch from a given revision is checked against the compacted revision before anything else. */
  checked: boolean;
  closed: boolean;
  opts: WatchOptions;
}

const PAGE = 500;

export class WatchHub {
  private readonly watchers = new Set<Watcher>();
  /** The loop has fanned out every revision <= lastSeen. */
  private lastSeen = 0;
  /** Where the loop started walking; below it, revisions may still be unresolved. */
  private base = 0;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private flushWaiters: (() => void)[] = [];
  private lastWarning = 0;

  constructor(
    private readonly table: TableClient,
    private readonly revs: Revisions,
    private readonly values: ValueReader,
    private readonly opts: WatchHubOptions,
  ) {}

  watch(opts: WatchOptions): Watch {
    const watcher: Watcher = {
      prefix: opts.prefix,
      // "From now": everything this instance has seen committed (its own writes included).
      cursor: opts.afterRev > 0 ? opts.afterRev : Math.max(this.revs.knownRev, this.lastSeen),
      live: false,
      checked: opts.afterRev <= 0,
      closed: false,
      opts,
    };
    if (this.watchers.size === 0) {
      this.lastSeen = this.base = Math.max(this.revs.resolved, watcher.cursor);
      this.progressTimer = setInterval(() => this.sendProgress(), this.opts.progressIntervalMs);
      this.progressTimer.unref();
    }
    // Every watcher joins through catchUp at the start of a poll cycle, never in the middle of a
    // fan-out whose events were chosen before it existed.
    this.watchers.add(watcher);
    this.kick();
    return { close: () => this.remove(watcher) };
  }

  /** Polls now (after a local write, so in-process watchers hear of it without waiting). */
  kick(): void {
    if (this.closed || this.watchers.size === 0) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.pollTimer);
    this.running = this.run().finally(() => {
      this.running = undefined;
      if (!this.closed && this.watchers.size > 0) {
        this.pollTimer = setTimeout(() => this.kick(), this.opts.pollIntervalMs);
        this.pollTimer.unref();
      }
    });
  }

  /** Resolves after a full poll cycle that started after this call (nothing to do without watchers). */
  flush(): Promise<void> {
    if (this.closed || this.watchers.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.flushWaiters.push(resolve);
      this.kick();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.watchers) w.closed = true;
    this.watchers.clear();
    this.stopTimers();
    await this.running;
    for (const resolve of this.flushWaiters.splice(0)) resolve();
  }

  private remove(w: Watcher): void {
    if (w.closed) return;
    w.closed = true;
    this.watchers.delete(w);
    if (this.watchers.size === 0) this.stopTimers();
  }

  private stopTimers(): void {
    clearTimeout(this.pollTimer);
    clearInterval(this.progressTimer);
    this.pollTimer = this.progressTimer = undefined;
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      const waiters = this.flushWaiters.splice(0);
      try {
        for (const w of [...this.watchers]) if (!w.live && !w.closed) await this.catchUp(w);
        // Stops early when a new watcher waits to join (the next cycle takes it in first).
        while (!this.closed && this.watchers.size > 0 && (await this.pollOnce()) && !this.joining()) {
          // more log items (or a hole being resolved) right behind
        }
      } catch (err) {
        // Retried on the next tick; said at most every few seconds while it keeps failing.
        if (!this.closed && Date.now() - this.lastWarning > 5000) {
          this.lastWarning = Date.now();
          process.emitWarning(`dynamodb store watch poll failed: ${String(err)}`);
        }
      }
      for (const resolve of waiters) resolve();
    } while (this.again && !this.closed && this.watchers.size > 0);
    for (const resolve of this.flushWaiters.splice(0)) resolve();
  }

  private joining(): boolean {
    for (const w of this.watchers) if (!w.live && !w.closed) return true;
    return false;
  }

  /** Reads log items after lastSeen and fans out the contiguous ones; true if it should go on. */
  private async pollOnce(): Promise<boolean> {
    const out = await this.table.query('watch', {
      KeyConditionExpression: '#pk = :pk AND #sk > :after',
      ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#sk': SORT_KEY },
      ExpressionAttributeValues: { ':pk': { S: LOG_PK }, ':after': { S: revSortKey(this.lastSeen) } },
      Limit: PAGE,
    });
    const items = (out.Items ?? []).map(decodeLog);
    const run: LogEntry[] = [];
    let expected = this.lastSeen + 1;
    for (const e of items) {
      if (e.rev !== expected) break;
      run.push(e);
      expected++;
    }
    if (run.length > 0) await this.fanOut(run);
    if (run.length < items.length) {
      const verdict = await this.revs.hole('watch', expected, items[run.length].at || undefined);
      if (verdict.kind === 'compacted') this.skipTo(verdict.compacted);
      return true;
    }
    return out.LastEvaluatedKey !== undefined;
  }

  private async fanOut(run: LogEntry[]): Promise<void> {
    const live = [...this.watchers].filter((w) => w.live && !w.closed);
    const wanted = run.filter((e) => e.type !== 'FILL' && live.some((w) => e.rev > w.cursor && e.key.startsWith(w.prefix)));
    const last = run[run.length - 1].rev;
    if (wanted.length > 0) {
      const { events, goneAt } = await this.toEvents('watch', wanted);
      if (goneAt !== undefined && (await this.historyGone(goneAt))) return;
      for (const w of live) {
        const batch = events.filter((e) => e.kv.rev > w.cursor && e.key.startsWith(w.prefix));
        if (batch.length > 0) this.deliver(w, batch);
      }
    }
    this.lastSeen = last;
    if (this.revs.resolved >= this.base) this.revs.advance(last);
    for (const w of live) if (w.cursor < last) w.cursor = last;
  }

  /** Replays (cursor, lastSeen] for a watcher that starts behind the loop, then makes it live. */
  private async catchUp(w: Watcher): Promise<void> {
    if (!w.checked) {
      // History before the compacted revision (explicit, or past the retention) may be gone.
      const compacted = await this.revs.compactedRev('watch');
      if (w.cursor < compacted) {
        this.expire(w, compacted);
        return;
      }
      w.checked = true;
    }
    if (w.cursor < this.base) await this.revs.resolveThrough('watch', this.base);
    const filter = w.prefix === '' ? {} : { FilterExpression: 'begins_with(#k, :prefix)' };
    while (!w.closed && !w.live) {
      if (w.cursor >= this.lastSeen) {
        w.live = true;
        return;
      }
      const out = await this.table.query('watch', {
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
        ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#sk': SORT_KEY, ...(w.prefix === '' ? {} : { '#k': 'k' }) },
        ExpressionAttributeValues: {
          ':pk': { S: LOG_PK },
          ':lo': { S: revSortKey(w.cursor + 1) },
          ':hi': { S: revSortKey(this.lastSeen) },
          ...(w.prefix === '' ? {} : { ':prefix': { S: w.prefix } }),
        },
        ...filter,
        Limit: PAGE,
      });
      // Compaction announces itself before deleting: read after the page, the marker covers it.
      const compacted = await this.revs.compactedRev('watch');
      if (w.cursor < compacted) {
        this.expire(w, compacted);
        return;
      }
      const entries = (out.Items ?? []).map(decodeLog).filter((e) => e.type !== 'FILL' && e.key.startsWith(w.prefix));
      if (entries.length > 0) {
        const { events, goneAt } = await this.toEvents('watch', entries);
        if (goneAt !== undefined) {
          this.expire(w, Math.max(goneAt, await this.revs.compactedRev('watch')));
          return;
        }
        this.deliver(w, events);
      }
      w.cursor = out.LastEvaluatedKey ? revOfSortKey(out.LastEvaluatedKey[SORT_KEY].S!) : this.lastSeen;
    }
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

  /** A value the loop needs is gone: if compaction took it, watchers behind the marker expire. */
  private async historyGone(rev: number): Promise<boolean> {
    const compacted = await this.revs.compactedRev('watch');
    if (compacted < rev) throw new Error(`log item or value at revision ${rev} is missing above the compacted revision ${compacted}`);
    this.skipTo(compacted);
    return true;
  }

  private skipTo(compacted: number): void {
    for (const w of [...this.watchers]) if (w.live && w.cursor < compacted) this.expire(w, compacted);
    if (compacted > this.lastSeen) {
      this.lastSeen = compacted;
      this.revs.advance(compacted);
    }
  }

  private deliver(w: Watcher, events: WatchEvent[]): void {
    if (w.closed) return;
    try {
      w.opts.onEvents(events);
    } catch (err) {
      process.emitWarning(`store watch consumer threw: ${String(err)}`);
    }
  }

  private expire(w: Watcher, compacted: number): void {
    if (w.closed) return;
    const err = new StoreError('Expired', `watch from revision ${w.cursor} cannot continue: history compacted up to ${compacted}`);
    this.remove(w);
    try {
      w.opts.onError?.(err);
    } catch (e) {
      process.emitWarning(`store watch error handler threw: ${String(e)}`);
    }
  }

  private sendProgress(): void {
    for (const w of this.watchers) {
      if (!w.live || w.closed || !w.opts.onProgress) continue;
      try {
        w.opts.onProgress(w.cursor);
      } catch (err) {
        process.emitWarning(`store progress handler threw: ${String(err)}`);
      }
    }
  }
}
