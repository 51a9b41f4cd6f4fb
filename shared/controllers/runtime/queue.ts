// A work queue in client-go's shape: a key waits at most once, is never handed to two workers at
// once (a change during processing re-queues it after), failures back off exponentially per key,
// and requeueAfter schedules a key for later.

export interface WorkQueueOptions {
  /** First retry after a failure (default 5 ms), doubling per consecutive failure... */
  baseDelayMs?: number;
  /** ...up to this (default 5 minutes). */
  maxDelayMs?: number;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private head = 0;
  private readonly waiting = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly takers: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;
  private readonly base: number;
  private readonly max: number;

  constructor(opts: WorkQueueOptions = {}) {
    this.base = opts.baseDelayMs ?? 5;
    this.max = opts.maxDelayMs ?? 300_000;
  }

  get length(): number {
    return this.queue.length - this.head;
  }

  /** Nothing waiting, nothing in progress (timers for later requeues may still be set). */
  get idle(): boolean {
    return this.length === 0 && this.processing.size === 0;
  }

  /** Requeues scheduled for later. */
  get scheduled(): number {
    return this.timers.size;
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.waiting.has(key)) return;
    this.waiting.add(key);
    const taker = this.takers.shift();
    if (taker) {
      this.waiting.delete(key);
      this.processing.add(key);
      taker(key);
      return;
    }
    this.queue.push(key);
  }

  /** Add after `ms`; an earlier pending schedule of the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref?.();
    this.timers.set(key, { at, timer });
  }

  /** Add after this key's backoff (grows with each consecutive failure until forget()). */
  addRateLimited(key: string): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.addAfter(key, Math.min(this.max, this.base * 2 ** n));
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key (waits for one); undefined once the queue shuts down. Call done(key) after. */
  get(): Promise<string | undefined> {
    if (this.length > 0) {
      const key = this.queue[this.head++];
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.waiting.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.takers.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const t of this.takers.splice(0)) t(undefined);
  }
}
