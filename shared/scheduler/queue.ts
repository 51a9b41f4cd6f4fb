// Which pending pod goes next, and when a pod that did not fit is tried again (kube-scheduler's
// activeQ / backoff / unschedulable pool, reduced to what a reconcile-driven scheduler needs):
// - active pods wait in a heap, highest priority first, then first come;
// - a pod that did not fit is parked; a cluster change that may help wakes it (after its
//   backoff of 1s doubling to 10s), and a fallback (5 minutes, as kube-scheduler's flush of
//   unschedulable pods) retries it even without one.

export interface QueueOptions {
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** A parked pod is retried after this long even if nothing woke it. */
  unschedulableRetryMs: number;
}

/** A change that may let parked pods fit: a node added or changed, an assigned pod gone (deleted or finished), added, or relabelled/terminating. */
export type WakeCause = 'node' | 'pod-removed' | 'pod-added' | 'pod-updated';

interface Entry {
  key: string;
  priority: number;
  seq: number;
}

interface Parked {
  /** The pod's resourceVersion when parked: any other change to it retries at once. */
  rv: string;
  priority: number;
  backoffUntil: number;
  retryAt: number;
  wakeOn: ReadonlySet<WakeCause>;
  woken: boolean;
}

const before = (a: Entry, b: Entry): boolean => (a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq);

export class SchedulingQueue {
  private heap: Entry[] = [];
  private seq = 0;
  private readonly active = new Map<string, Entry>();
  private readonly parked = new Map<string, Parked>();
  private readonly attempts = new Map<string, number>();
  private wakeKeys: string[] = [];
  /** Parked pods woken while still backing off: they become active once it ends. */
  private readonly wokenInBackoff = new Set<string>();

  constructor(private readonly opts: QueueOptions) {}

  get activeCount(): number {
    return this.active.size;
  }

  get parkedCount(): number {
    return this.parked.size;
  }

  isActive(key: string): boolean {
    return this.active.has(key);
  }

  isParked(key: string): boolean {
    return this.parked.has(key);
  }

  activate(key: string, priority: number): void {
    this.parked.delete(key);
    this.wokenInBackoff.delete(key);
    const existing = this.active.get(key);
    if (existing && existing.priority === priority) return;
    const e = { key, priority, seq: existing?.seq ?? this.seq++ };
    this.active.set(key, e);
    this.push(e);
  }

  /** The first active pod (without taking it). */
  peek(): Entry | undefined {
    while (this.heap.length && this.active.get(this.heap[0].key) !== this.heap[0]) this.popTop();
    return this.heap[0];
  }

  take(key: string): void {
    this.active.delete(key);
  }

  /** Forget a pod entirely (bound, deleted, or no longer ours). */
  remove(key: string): void {
    this.active.delete(key);
    this.parked.delete(key);
    this.wokenInBackoff.delete(key);
    this.attempts.delete(key);
  }

  succeeded(key: string): void {
    this.remove(key);
  }

  /** Park a pod that did not fit, backing off longer with each failed attempt. */
  park(key: string, rv: string, priority: number, wakeOn: ReadonlySet<WakeCause>, now: number): void {
    this.active.delete(key);
    this.wokenInBackoff.delete(key);
    const attempts = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempts);
    const backoff = Math.min(this.opts.maxBackoffMs, this.opts.initialBackoffMs * 2 ** Math.min(30, attempts - 1));
    this.parked.set(key, { rv, priority, backoffUntil: now + backoff, retryAt: now + Math.max(backoff, this.opts.unschedulableRetryMs), wakeOn, woken: false });
  }

  /** Record the resourceVersion our own status write gave the parked pod. */
  setParkedRv(key: string, rv: string): void {
    const p = this.parked.get(key);
    if (p) p.rv = rv;
  }

  /** 0 when the parked pod should be tried now (changed, woken past backoff, or retry due); else ms to wait. */
  dueIn(key: string, rv: string, now: number): number {
    const p = this.parked.get(key);
    if (!p || p.rv !== rv) return 0;
    const at = p.woken ? Math.min(p.backoffUntil, p.retryAt) : p.retryAt;
    return Math.max(0, at - now);
  }

  /**
   * Parked pods that `cause` may help become active (or will, once their backoff ends); their keys
   * come out of drainWake() so that each gets reconciled.
   */
  wake(cause: WakeCause, now: number): void {
    for (const [key, p] of this.parked) {
      if (p.woken || !p.wakeOn.has(cause)) continue;
      p.woken = true;
      this.wakeKeys.push(key);
      if (now >= p.backoffUntil) this.activate(key, p.priority);
      else this.wokenInBackoff.add(key);
    }
  }

  /** Woken pods whose backoff has ended join the active ones (so priority decides among them). */
  promoteDue(now: number): void {
    for (const key of this.wokenInBackoff) {
      const p = this.parked.get(key);
      if (!p) this.wokenInBackoff.delete(key);
      else if (now >= p.backoffUntil) {
        this.wokenInBackoff.delete(key);
        this.activate(key, p.priority);
      }
    }
  }

  drainWake(): string[] {
    if (!this.wakeKeys.length) return [];
    const keys = this.wakeKeys;
    this.wakeKeys = [];
    return keys;
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private popTop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (!h.length) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l], h[m])) m = l;
      if (r < h.length && before(h[r], h[m])) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}
