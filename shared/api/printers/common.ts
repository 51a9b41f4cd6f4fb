// Cell formatting shared by every kind's printer, matching what kubectl users see from real
// Kubernetes tables (ages like "5m30s", "<none>" for empty values).
import type { TableColumn } from '../kind.js';

/** Kubernetes' human-readable duration (the AGE column). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24);
    const dy = days % 365;
    return dy === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** Age of an RFC 3339 timestamp relative to `now`; "<unknown>" when absent, as kubectl prints. */
export function age(timestamp: unknown, now: Date): string {
  if (typeof timestamp !== 'string' || !timestamp) return '<unknown>';
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return '<unknown>';
  return humanDuration(now.getTime() - t);
}

/** metav1.FormatLabelSelector: "app=x,tier in (a,b)" or "<none>". */
export function formatLabelSelector(selector: unknown): string {
  if (!selector || typeof selector !== 'object') return '<none>';
  const sel = selector as { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) parts.push(`${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort();
    switch (e.operator) {
      case 'In': parts.push(`${e.key} in (${values.join(',')})`); break;
      case 'NotIn': parts.push(`${e.key} notin (${values.join(',')})`); break;
      case 'Exists': parts.push(e.key); break;
      case 'DoesNotExist': parts.push(`!${e.key}`); break;
    }
  }
  const s = parts.join(',');
  return s === '' ? '<none>' : s;
}

/** labels.FormatLabels for a plain map (e.g. a Service selector): "a=1,b=2" or "<none>". */
export function formatLabels(labels: unknown): string {
  if (!labels || typeof labels !== 'object') return '<none>';
  const entries = Object.entries(labels as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
}

/** Comma-joined list or "<none>". */
export function joinOrNone(values: readonly unknown[] | undefined): string {
  return values && values.length ? values.join(',') : '<none>';
}

/** The Name column every kind's table starts with. */
export const nameColumn: TableColumn = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace. It is used when creating resources and may not be updated.',
  priority: 0,
};

/** The Age column most kinds end with. */
export const ageColumn: TableColumn = {
  name: 'Age',
  type: 'string',
  format: '',
  description: 'Time since the object was created (from metadata.creationTimestamp).',
  priority: 0,
};

/** Small helper to declare columns compactly: col('Ready', 'string', 'The ready count', 0). */
export function col(name: string, type: TableColumn['type'], description: string, priority = 0, format: TableColumn['format'] = ''): TableColumn {
  return { name, type, format, description, priority };
}

/** Safe nested read: get(obj, 'spec', 'replicas'). */
export function get(obj: unknown, ...path: string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}
