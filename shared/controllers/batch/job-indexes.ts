// Completion indexes of Indexed Jobs: the compressed interval form of status.completedIndexes
// ("0,2-4"), and the index a pod carries in its batch.kubernetes.io/job-completion-index annotation.
import type { KubeObject } from '../../api/kind.js';

export const COMPLETION_INDEX_KEY = 'batch.kubernetes.io/job-completion-index';
export const NO_INDEX = -1;

export interface Interval {
  first: number;
  last: number;
}

/** Sorted, non-overlapping, non-adjacent intervals. */
export type Intervals = readonly Interval[];

/** The pod's completion index, or NO_INDEX when absent or not a non-negative integer. */
export function completionIndexOf(pod: KubeObject): number {
  const v = pod.metadata.annotations?.[COMPLETION_INDEX_KEY];
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return NO_INDEX;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : NO_INDEX;
}

/** Reads "1,3-5" keeping only indexes below `completions`; unreadable pieces are skipped. */
export function parseIndexes(text: string | undefined, completions: number): Interval[] {
  const out: Interval[] = [];
  if (!text) return out;
  for (const piece of text.split(',')) {
    const [lo, hi] = piece.split('-');
    if (!/^\d+$/.test(lo)) continue;
    const first = Number(lo);
    if (first >= completions) break;
    let last = first;
    if (hi !== undefined) {
      if (!/^\d+$/.test(hi)) continue;
      last = Math.min(Number(hi), completions - 1);
    }
    const prev = out[out.length - 1];
    if (prev && prev.last === first - 1) prev.last = last;
    else out.push({ first, last });
  }
  return out;
}

/** Union of two interval lists. */
export function mergeIntervals(a: Intervals, b: Intervals): Interval[] {
  const all = [...a, ...b].sort((x, y) => x.first - y.first);
  const out: Interval[] = [];
  for (const iv of all) {
    const prev = out[out.length - 1];
    if (!prev || iv.first > prev.last + 1) out.push({ ...iv });
    else if (iv.last > prev.last) prev.last = iv.last;
  }
  return out;
}

export function withIndexes(a: Intervals, indexes: Iterable<number>): Interval[] {
  return mergeIntervals(
    a,
    [...indexes].map((i) => ({ first: i, last: i })),
  );
}

export function countIndexes(a: Intervals): number {
  return a.reduce((n, iv) => n + iv.last - iv.first + 1, 0);
}

export function hasIndex(a: Intervals, ix: number): boolean {
  return a.some((iv) => iv.first <= ix && ix <= iv.last);
}

/** "0,2-4" (two neighbours are written "5,6", as Kubernetes does). */
export function formatIndexes(a: Intervals): string {
  return a.map((iv) => (iv.last === iv.first ? `${iv.first}` : `${iv.first}${iv.last === iv.first + 1 ? ',' : '-'}${iv.last}`)).join(',');
}

/** The lowest `count` indexes below `completions` not covered by `taken`. */
export function firstPendingIndexes(taken: Intervals, count: number, completions: number): number[] {
  const out: number[] = [];
  let candidate = 0;
  for (const iv of taken) {
    for (; candidate < completions && out.length < count && candidate < iv.first; candidate++) out.push(candidate);
    if (candidate < iv.last + 1) candidate = iv.last + 1;
  }
  for (; candidate < completions && out.length < count; candidate++) out.push(candidate);
  return out;
}
