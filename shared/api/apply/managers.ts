// metadata.managedFields as a table of managers: decoding and encoding the entries, the identity that
// decides which writes share an entry, and the cap on the number of Update entries.
import type { ManagedFieldsEntry } from '../kind.js';
import { isObject } from '../patch/go-format.js';
import { FieldSet } from './fieldset.js';

export interface ManagerRecord {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource?: string;
  time?: string;
  set: FieldSet;
}

/** Manager identity -> record; an Apply identity ignores the API version, an Update identity includes it. */
export type Managers = Map<string, ManagerRecord>;

/** BuildManagerIdentifier: the entry's JSON without fieldsType, fieldsV1, time (and apiVersion for Apply). */
export function managerIdentity(e: { manager: string; operation: string; apiVersion?: string; subresource?: string }): string {
  const parts = [`"manager":${JSON.stringify(e.manager)}`, `"operation":${JSON.stringify(e.operation)}`];
  if (e.operation !== 'Apply' && e.apiVersion) parts.push(`"apiVersion":${JSON.stringify(e.apiVersion)}`);
  if (e.subresource) parts.push(`"subresource":${JSON.stringify(e.subresource)}`);
  return `{${parts.join(',')}}`;
}

export const identityOf = (r: ManagerRecord): string => managerIdentity(r);

/** Parses managedFields entries; throws Error with Kubernetes' wording when one is invalid. */
export function decodeManagedFields(entries: unknown): Managers {
  const out: Managers = new Map();
  if (entries === undefined || entries === null) return out;
  if (!Array.isArray(entries)) throw new Error('managedFields must be a list');
  entries.forEach((raw, i) => {
    const e = isObject(raw) ? raw : {};
    if (e.operation !== 'Apply' && e.operation !== 'Update') throw new Error('operation must be `Apply` or `Update`');
    if (typeof e.apiVersion !== 'string' || e.apiVersion.length < 1) throw new Error('apiVersion must not be empty');
    if (e.fieldsType === undefined || e.fieldsType === '') throw new Error(`missing fieldsType in managed fields entry ${i}`);
    if (e.fieldsType !== 'FieldsV1') throw new Error(`invalid fieldsType ${JSON.stringify(e.fieldsType)} in managed fields entry ${i}`);
    const record: ManagerRecord = {
      manager: typeof e.manager === 'string' ? e.manager : '',
      operation: e.operation,
      apiVersion: e.apiVersion,
      set: e.fieldsV1 === undefined || e.fieldsV1 === null ? new FieldSet() : FieldSet.fromFieldsV1(e.fieldsV1),
    };
    if (typeof e.subresource === 'string' && e.subresource) record.subresource = e.subresource;
    if (typeof e.time === 'string') record.time = e.time;
    out.set(identityOf(record), record);
  });
  return out;
}

const seconds = (t: string | undefined): number => (t ? Math.floor(Date.parse(t) / 1000) || 0 : 0);

const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Entries in Kubernetes' order: operation, time, manager, apiVersion, subresource; empty sets dropped. */
export function encodeManagedFields(managers: Managers): ManagedFieldsEntry[] {
  const records = [...managers.values()].filter((r) => !r.set.isEmpty());
  records.sort(
    (p, q) =>
      byteOrder(p.operation, q.operation) ||
      seconds(p.time) - seconds(q.time) ||
      byteOrder(p.manager, q.manager) ||
      byteOrder(p.apiVersion, q.apiVersion) ||
      byteOrder(p.subresource ?? '', q.subresource ?? ''),
  );
  return records.map((r) => {
    const entry: ManagedFieldsEntry = { manager: r.manager, operation: r.operation, apiVersion: r.apiVersion } as ManagedFieldsEntry;
    if (r.time) entry.time = r.time;
    entry.fieldsType = 'FieldsV1';
    entry.fieldsV1 = r.set.toFieldsV1();
    if (r.subresource) entry.subresource = r.subresource;
    return entry;
  });
}

/** Kubernetes keeps at most this many Update entries; older ones merge into "ancient-changes". */
export const MAX_UPDATE_MANAGERS = 10;
export const ANCIENT_CHANGES_MANAGER = 'ancient-changes';

export function capUpdateManagers(managers: Managers, max = MAX_UPDATE_MANAGERS): void {
  const updaters = [...managers.entries()].filter(([, r]) => r.operation === 'Update').map(([id]) => id);
  if (updaters.length <= max) return;
  updaters.sort((a, b) => seconds(managers.get(a)!.time) - seconds(managers.get(b)!.time) || byteOrder(a, b));
  const firstOfVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > max; i++) {
    const id = updaters[i];
    const record = managers.get(id)!;
    const bucketId = managerIdentity({ manager: ANCIENT_CHANGES_MANAGER, operation: 'Update', apiVersion: record.apiVersion });
    const first = firstOfVersion.get(record.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(record.apiVersion, id);
      continue;
    }
    if (!managers.has(bucketId)) {
      const firstRecord = managers.get(first)!;
      managers.delete(first);
      managers.set(bucketId, { ...firstRecord, manager: ANCIENT_CHANGES_MANAGER, subresource: undefined });
    }
    const bucket = managers.get(bucketId)!;
    managers.set(bucketId, { ...bucket, set: record.set.union(bucket.set), time: record.time });
    managers.delete(id);
    length--;
  }
}

/** How a conflict message names a manager: "name" [with subresource "s"] [using apiVersion]. */
export function describeManager(r: Pick<ManagerRecord, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  let s = JSON.stringify(r.manager);
  if (r.subresource) s += ` with subresource ${JSON.stringify(r.subresource)}`;
  if (r.operation === 'Update') s += ` using ${r.apiVersion}`;
  return s;
}
