// Stored values are the object's JSON without metadata.resourceVersion: the store's revision is
// the resourceVersion. Objects are always serialised apiVersion, kind, metadata first, so the
// first `"metadata":{` in the text is the top-level one (JSON strings escape their quotes), and the
// resourceVersion can be spliced in without parsing — lists and watches stay cheap.
import type { KubeObject } from '../api/kind.js';
import type { KeyValue } from '../store/contract.js';

const META = '"metadata":{';

/** Serialise for storage: apiVersion, kind, metadata first; resourceVersion dropped. */
export function encodeForStore(obj: KubeObject): string {
  const { apiVersion, kind, metadata, ...rest } = obj;
  const { resourceVersion: _rv, ...meta } = metadata;
  return JSON.stringify({ apiVersion, kind, metadata: meta, ...rest });
}

/** The stored JSON with metadata.resourceVersion set to the value's revision. */
export function jsonWithResourceVersion(kv: KeyValue): string {
  const v = kv.value;
  const at = v.indexOf(META);
  if (at < 0) return v;
  const insertAt = at + META.length;
  const sep = v.charCodeAt(insertAt) === 0x7d /* } */ ? '' : ',';
  return `${v.slice(0, insertAt)}"resourceVersion":"${kv.rev}"${sep}${v.slice(insertAt)}`;
}

/** Parse a stored value into an object carrying its resourceVersion. */
export function decodeFromStore(kv: KeyValue): KubeObject {
  const obj = JSON.parse(kv.value) as KubeObject;
  obj.metadata.resourceVersion = String(kv.rev);
  return obj;
}
