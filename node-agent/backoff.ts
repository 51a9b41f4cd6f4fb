// Per-key exponential back-off as kubelet uses it for image pulls and container restarts: the first
// delay is 10 s, each further failure doubles it up to 5 min, and a key that stayed quiet for twice
// the maximum starts over.
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  now?: () => number;
}

interface Entry {
  delayMs: number;
  lastUpdate: number;
}

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry>();

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 10_000;
    this.maxMs = opts.maxMs ?? 300_000;
    this.now = opts.now ?? Date.now;
  }

  /** Record a failure for `key` at `at` (default now) and return the delay before the next attempt. */
  next(key: string, at = this.now()): number {
    const entry = this.entries.get(key);
    if (!entry || this.expired(entry, at)) {
      this.entries.set(key, { delayMs: this.initialMs, lastUpdate: at });
      return this.initialMs;
    }
    entry.delayMs = Math.min(entry.delayMs * 2, this.maxMs);
    entry.lastUpdate = at;
    return entry.delayMs;
  }

  /** The current delay of `key` (0 when it has none). */
  get(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  /** Whether an attempt triggered by an event at `eventTime` must still wait. */
  inBackOffSince(key: string, eventTime: number): boolean {
    const entry = this.entries.get(key);
    if (!entry || this.expired(entry, this.now())) return false;
    return this.now() - eventTime < entry.delayMs;
  }

  /** Milliseconds left until an event at `eventTime` is out of back-off. */
  remaining(key: string, eventTime: number): number {
    const entry = this.entries.get(key);
    return entry ? Math.max(0, eventTime + entry.delayMs - this.now()) : 0;
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Forget every key starting with `prefix` (e.g. all containers of a deleted pod). */
  resetPrefix(prefix: string): void {
    for (const key of [...this.entries.keys()]) if (key.startsWith(prefix)) this.entries.delete(key);
  }

  private expired(entry: Entry, at: number): boolean {
    return at - entry.lastUpdate > 2 * this.maxMs;
  }
}

/** Kubelet prints durations the Go way: 10s, 1m20s, 5m0s. */
export function goDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return `${m}m${s % 60}s`;
}
