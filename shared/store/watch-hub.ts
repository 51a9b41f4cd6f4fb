// The backend-independent half of Store.watch(), in kine's shape: one poll loop per store reads the
// change log after the last revision it fanned out and hands each batch to the live watchers by
// prefix. A watcher that starts behind the loop first replays its own range, then joins the
// fan-out at the loop's position, so it sees every change once and in order. A backend supplies a
// WatchDriver: how to read log rows after a revision, how to replay a range, and where compaction
// stands. Driver calls may be synchronous (SQLite: a local write is delivered in the same tick) or
// asynchronous (DynamoDB); the loop is a generator that only waits where a driver returned a promise.
import { StoreError, type Watch, type WatchEvent, type WatchOptions } from './contract.js';

export type MaybePromise<T> = T | Promise<T>;

/** What the loop read after its position. */
export interface LogBatch {
  /** Changes in revision order, each after the revision asked for. */
  events: WatchEvent[];
  /** Every revision up to here has been read (the loop moves on to it). */
  through: number;
  /** History the loop had not read yet may be gone up to here: live watchers behind it expire. */
  compacted?: number;
  /** More rows wait right behind this batch. */
  more: boolean;
}

/** One page of a watcher's replay: its changes up to `through`, or the news that history is gone. */
export type ReplayPage = { events: WatchEvent[]; through: number } | { expiredAt: number };

export interface WatchDriver {
  /** The newest revision this process knows to be committed: where a watch "from now" starts. */
  headRev(): number;
  /** The first watcher arrived (with this cursor): returns the revision the loop resumes after. */
  resume(cursor: number): number;
  /** History below this revision may be gone. */
  compactedRev(): MaybePromise<number>;
  /** Changes after `after`; `wanted` says whether some live watcher needs a change (a hint). */
  readNew(after: number, wanted: (key: string, rev: number) => boolean): MaybePromise<LogBatch>;
  /** Changes under `prefix` in (after, until], one page; `through` reaches `until` on the last page. */
  readRange(prefix: string, after: number, until: number): MaybePromise<ReplayPage>;
}

export interface WatchHubOptions {
  pollIntervalMs: number;
  progressIntervalMs: number;
  /** Prefix of warnings about failed polls ("store", "dynamodb store"). */
  label: string;
}

interface Watcher {
  prefix: string;
  /** Every change with a revision <= cursor has been delivered (or lies before afterRev). */
  cursor: number;
  /** Joined the fan-out (caught up with the loop). */
  live: boolean;
  /** A watch from a given revision is checked against the compacted revision before anything else. */
  checked: boolean;
  closed: boolean;
  opts: WatchOptions;
}

/** Loop steps: each yields a driver result, which may be a promise to wait for. */
type Steps<T = void> = Generator<unknown, T, unknown>;

export class WatchHub {
  private readonly watchers = new Set<Watcher>();
  /** The loop has fanned out every revision <= lastSeen. */
  private lastSeen = 0;
  private running = false;
  private inFlight: Promise<void> | undefined;
  private again = false;
  private kickQueued = false;
  private closed = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private flushWaiters: (() => void)[] = [];
  private lastWarning = 0;

  constructor(
    private readonly driver: WatchDriver,
    private readonly opts: WatchHubOptions,
  ) {}

  watch(opts: WatchOptions): Watch {
    const watcher: Watcher = {
      prefix: opts.prefix,
      // "From now": everything this process has seen committed (its own writes included).
      cursor: opts.afterRev > 0 ? opts.afterRev : Math.max(this.driver.headRev(), this.lastSeen),
      live: false,
      checked: opts.afterRev <= 0,
      closed: false,
      opts,
    };
    if (this.watchers.size === 0) {
      // The loop idles without watchers; it resumes from here.
      this.lastSeen = this.driver.resume(watcher.cursor);
      this.progressTimer = setInterval(() => this.sendProgress(), this.opts.progressIntervalMs);
      this.progressTimer.unref();
    }
    // Every watcher joins through catchUp at the start of a poll cycle (never inside watch(), and
    // never in the middle of a fan-out whose events were chosen before it existed).
    this.watchers.add(watcher);
    this.kick();
    return { close: () => this.remove(watcher) };
  }

  /** Polls in a moment (after a local write, so watchers hear of it without waiting for the timer). */
  kick(): void {
    if (this.kickQueued || this.closed || this.watchers.size === 0) return;
    this.kickQueued = true;
    queueMicrotask(() => {
      this.kickQueued = false;
      this.pollNow();
    });
  }

  /** Resolves after a full poll cycle that started after this call (nothing to do without watchers). */
  flush(): Promise<void> {
    if (this.closed || this.watchers.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.flushWaiters.push(resolve);
      this.pollNow();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.watchers) w.closed = true;
    this.watchers.clear();
    this.stopTimers();
    await this.inFlight;
    for (const resolve of this.flushWaiters.splice(0)) resolve();
  }

  private pollNow(): void {
    if (this.closed || this.watchers.size === 0) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.pollTimer);
    this.running = true;
    const finished = () => {
      this.running = false;
      this.inFlight = undefined;
      if (!this.closed && this.watchers.size > 0) {
        this.pollTimer = setTimeout(() => this.pollNow(), this.opts.pollIntervalMs);
        this.pollTimer.unref();
      }
    };
    let pending: Promise<void> | undefined;
    try {
      pending = drive(this.cycles());
    } finally {
      if (!pending) finished();
    }
    if (pending) this.inFlight = pending.then(finished, finished);
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

  private *cycles(): Steps {
    do {
      this.again = false;
      const waiters = this.flushWaiters.splice(0);
      try {
        for (const w of [...this.watchers]) if (!w.live && !w.closed) yield* this.catchUp(w);
        // Stops early when a new watcher waits to join (the next cycle takes it in first).
        while (!this.closed && this.watchers.size > 0 && (yield* this.pollOnce()) && !this.joining()) {
          // more log rows right behind
        }
      } catch (err) {
        // Retried on the next tick; said at most every few seconds while it keeps failing.
        if (!this.closed && Date.now() - this.lastWarning > 5000) {
          this.lastWarning = Date.now();
          process.emitWarning(`${this.opts.label} watch poll failed: ${String(err)}`);
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

  /** Reads after lastSeen and fans the batch out to live watchers; true if more rows wait. */
  private *pollOnce(): Steps<boolean> {
    const live = [...this.watchers].filter((w) => w.live && !w.closed);
    const wanted = (key: string, rev: number) => live.some((w) => !w.closed && rev > w.cursor && key.startsWith(w.prefix));
    const batch = yield* result(this.driver.readNew(this.lastSeen, wanted));
    if (batch.compacted !== undefined) {
      for (const w of live) if (w.cursor < batch.compacted) this.expire(w, batch.compacted);
    }
    if (batch.events.length > 0) {
      for (const w of live) {
        const mine = batch.events.filter((e) => e.kv.rev > w.cursor && e.key.startsWith(w.prefix));
        if (mine.length > 0) this.deliver(w, mine);
      }
    }
    if (batch.through > this.lastSeen) this.lastSeen = batch.through;
    for (const w of live) if (w.cursor < this.lastSeen) w.cursor = this.lastSeen;
    return batch.more;
  }

  /** Replays (cursor, lastSeen] for a watcher that starts behind the loop, then makes it live. */
  private *catchUp(w: Watcher): Steps {
    if (!w.checked) {
      const compacted = yield* result(this.driver.compactedRev());
      if (w.cursor < compacted) {
        this.expire(w, compacted);
        return;
      }
      w.checked = true;
    }
    while (!w.closed && !w.live) {
      if (w.cursor >= this.lastSeen) {
        w.live = true;
        return;
      }
      const page = yield* result(this.driver.readRange(w.prefix, w.cursor, this.lastSeen));
      if ('expiredAt' in page) {
        this.expire(w, page.expiredAt);
        return;
      }
      if (page.events.length > 0) this.deliver(w, page.events);
      w.cursor = page.through;
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

  /** Polls first (a synchronous driver finishes at once), so progress reports the newest revision. */
  private sendProgress(): void {
    this.pollNow();
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

/** Hands a driver result to the loop: `const x = yield* result(driver.call())`. */
function* result<T>(value: MaybePromise<T>): Generator<MaybePromise<T>, T, unknown> {
  return (yield value) as T;
}

/** Runs loop steps, synchronously as long as no step returns a promise; settles when they end. */
function drive(steps: Steps): Promise<void> | undefined {
  const run = (next: () => IteratorResult<unknown, void>): Promise<void> | undefined => {
    for (;;) {
      const r = next();
      if (r.done) return undefined;
      const value = r.value;
      if (value instanceof Promise) {
        return value.then(
          (v: unknown) => run(() => steps.next(v)),
          (err: unknown) => run(() => steps.throw(err)),
        );
      }
      next = () => steps.next(value);
    }
  };
  return run(() => steps.next());
}
