// Exponential back-off before a Job replaces failed pods: failures since the last success and
// the time of the newest one, kept per Job in memory (as kube-controller-manager keeps them).
import type { KubeObject } from '../../api/kind.js';
import { finishedTimeOf } from './job-pods.js';

export interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime?: number;
}

export class BackoffStore {
  private readonly records = new Map<string, BackoffRecord>();

  get(key: string): BackoffRecord {
    return this.records.get(key) ?? { failuresAfterLastSuccess: 0 };
  }

  set(key: string, record: BackoffRecord): void {
    if (record.failuresAfterLastSuccess === 0) this.records.delete(key);
    else this.records.set(key, record);
  }

  remove(key: string): void {
    this.records.delete(key);
  }

  /** The record after newly finished pods are counted: a success resets it unless failures came later. */
  next(key: string, newSucceeded: readonly KubeObject[], newFailed: readonly KubeObject[]): BackoffRecord {
    const prior = this.get(key);
    if (!newFailed.length && !newSucceeded.length) return prior;
    const failedTimes = newFailed.map(finishedTimeOf).sort((a, b) => a - b);
    if (!newSucceeded.length) {
      return { failuresAfterLastSuccess: prior.failuresAfterLastSuccess + failedTimes.length, lastFailureTime: failedTimes[failedTimes.length - 1] };
    }
    const lastSuccess = Math.max(...newSucceeded.map(finishedTimeOf));
    const later = failedTimes.filter((t) => t > lastSuccess);
    return later.length ? { failuresAfterLastSuccess: later.length, lastFailureTime: later[later.length - 1] } : { failuresAfterLastSuccess: 0 };
  }
}

/** Milliseconds still to wait before creating pods: base doubled per further failure, capped. */
export function remainingBackoff(record: BackoffRecord, now: number, baseMs: number, maxMs: number): number {
  if (record.failuresAfterLastSuccess === 0 || record.lastFailureTime === undefined) return 0;
  let delay = baseMs;
  for (let i = 1; i < record.failuresAfterLastSuccess; i++) {
    delay *= 2;
    if (delay >= maxMs) {
      delay = maxMs;
      break;
    }
  }
  const elapsed = now - record.lastFailureTime;
  return delay < elapsed ? 0 : delay - elapsed;
}
