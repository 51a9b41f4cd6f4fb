// What this store instance knows about keys' current revisions, and one write at a time per key.
//
// Concurrent updates of one key from one process all read the same revision, and all but one
// are doomed; without coordination each doomed one still takes a revision, runs a cancelled
// transaction and writes a filler. Writes to one key are therefore queued per process, and each
// checks what the previous one learned: a key's revision only ever grows (a re-created key gets
// a new, larger one), so once any revision above `expectedRev` was seen, the write is a Conflict
// without asking DynamoDB. A known head at exactly `expectedRev` spares the read before the
// transaction (whose condition still checks it).
import type { KvHead } from './items.js';

export interface KnownKey {
  /** The highest revision this key was seen at (a deletion's revision included). */
  maxRev: number;
  /** The head at maxRev, unless maxRev is a deletion. */
  head?: KvHead;
}

export class KeyHeads {
  private readonly known = new Map<string, KnownKey>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly capacity = 10_000) {}

  get(key: string): KnownKey | undefined {
    return this.known.get(key);
  }

  seen(key: string, head: KvHead): void {
    this.raise(key, { maxRev: head.rev, head });
  }

  deleted(key: string, rev: number): void {
    this.raise(key, { maxRev: rev });
  }

  /** Runs fn after every earlier write of this key in this process has finished. */
  async serialize<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.queues.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    }
  }

  private raise(key: string, next: KnownKey): void {
    const current = this.known.get(key);
    if (current && current.maxRev >= next.maxRev) return;
    this.known.delete(key);
    this.known.set(key, next);
    if (this.known.size > this.capacity) this.known.delete(this.known.keys().next().value!);
  }
}
