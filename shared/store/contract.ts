// The store contract: what the API server needs from etcd, and so from every backend.
// Keys are strings such as "/registry/configmaps/default/x"; values are opaque strings (JSON
// without metadata.resourceVersion: the store's revision is the object's resourceVersion).
// Revisions are positive integers, strictly increasing in commit order across the whole store.

export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the write that produced this value (the object's resourceVersion). */
  rev: number;
  /** Revision at which the key was created (stable across updates). */
  createRev: number;
}

export interface ListOptions {
  /** Keys starting with this prefix. */
  prefix: string;
  /** Maximum number of items returned (after `filter`); 0 or absent = all. */
  limit?: number;
  /** Return keys strictly greater than this one (pagination cursor). */
  startAfter?: string;
  /**
   * Read at this revision (a consistent snapshot). Absent or 0: the latest revision.
   * A revision older than the compacted one fails with StoreError('Expired').
   * A revision newer than the current one fails with StoreError('TooLarge').
   */
  rev?: number;
  /** Keep only values for which this returns true; applied before `limit`. */
  filter?: (kv: KeyValue) => boolean;
}

export interface ListResult {
  items: KeyValue[];
  /** The snapshot revision the list was served at; a watch from here misses nothing. */
  rev: number;
  /** True when more matching keys exist after the last item. */
  more: boolean;
}

export type WatchEventType = 'PUT' | 'DELETE';

export interface WatchEvent {
  type: WatchEventType;
  key: string;
  /** For PUT the new value; for DELETE the last value before deletion. */
  kv: KeyValue;
  /** The previous value for updates and deletes (absent on create). */
  prev?: KeyValue;
  /** True when this PUT created the key. */
  created: boolean;
}

export interface WatchOptions {
  prefix: string;
  /** Deliver every change with revision > afterRev. 0 means "from now". */
  afterRev: number;
  /** Called with batches of events in revision order; never called concurrently. */
  onEvents: (events: WatchEvent[]) => void;
  /** Called when the watch cannot continue (e.g. history compacted under a slow reader). */
  onError?: (err: StoreError) => void;
  /** Periodic progress notification: all events up to `rev` have been delivered. */
  onProgress?: (rev: number) => void;
}

export interface Watch {
  close(): void;
}

export type StoreErrorCode = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Expired' | 'TooLarge' | 'Unavailable';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    /** For Conflict: the current stored value, so callers can report or retry. */
    readonly current?: KeyValue,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export interface Store {
  /** Backend name for logs and benchmarks ("sqlite", "dynamodb"). */
  readonly backend: string;
  get(key: string): Promise<KeyValue | undefined>;
  list(opts: ListOptions): Promise<ListResult>;
  /** Create if absent; StoreError('AlreadyExists') otherwise. Returns the new revision. */
  create(key: string, value: string): Promise<KeyValue>;
  /** Replace only if the stored revision equals expectedRev (Conflict / NotFound otherwise). */
  update(key: string, value: string, expectedRev: number): Promise<KeyValue>;
  /** Delete, optionally only if the stored revision equals expectedRev. Returns the deleted value and the deletion revision. */
  delete(key: string, expectedRev?: number): Promise<{ deleted: KeyValue; rev: number }>;
  /** Deliver changes under a prefix after a revision, in order, exactly once. */
  watch(opts: WatchOptions): Watch;
  /** The latest committed revision. */
  currentRev(): Promise<number>;
  /** The oldest revision a watch or snapshot read may start from (history before it is gone). */
  compactedRev(): Promise<number>;
  /** Drop history at and below `rev` (keeping each key's latest value). */
  compact(rev: number): Promise<void>;
  close(): Promise<void>;
}
