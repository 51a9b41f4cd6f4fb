// DeleteOptions in protobuf bodies (kubectl >= 1.32 typed clients: drain's evictions and deletes),
// decoded with field presence: gracePeriodSeconds 0 ("now") must survive, where the generic
// decoder drops zero values as Go's JSON omitempty would.
import protobuf from 'protobufjs';
import { KUBERNETES_PROTOBUF_MAGIC } from '../api/protobuf/decode.js';
import type { DeleteOptions } from './deletion.js';

const WIRE_VARINT = 0;
const WIRE_BYTES = 2;

/** The `raw` message inside the "k8s\0" + runtime.Unknown envelope (undefined when the body is not one). */
export function protobufRaw(body: Uint8Array): Uint8Array | undefined {
  if (body.length < KUBERNETES_PROTOBUF_MAGIC.length || !KUBERNETES_PROTOBUF_MAGIC.every((b, i) => body[i] === b)) return undefined;
  return fieldBytes(body.subarray(KUBERNETES_PROTOBUF_MAGIC.length), 2);
}

/** The last occurrence of a length-delimited field of a message. */
export function fieldBytes(message: Uint8Array, number: number): Uint8Array | undefined {
  const r = protobuf.Reader.create(message);
  let found: Uint8Array | undefined;
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === number && (tag & 7) === WIRE_BYTES) found = r.bytes();
    else r.skipType(tag & 7);
  }
  return found;
}

/** meta.v1.DeleteOptions: 1 gracePeriodSeconds, 2 preconditions{1 uid, 2 resourceVersion}, 3 orphanDependents, 4 propagationPolicy, 5 dryRun. */
export function decodeDeleteOptionsMessage(message: Uint8Array): DeleteOptions {
  const out: DeleteOptions = {};
  const r = protobuf.Reader.create(message);
  while (r.pos < r.len) {
    const tag = r.uint32();
    const wire = tag & 7;
    switch (tag >>> 3) {
      case 1:
        if (wire !== WIRE_VARINT) throw new Error('failed to decode DeleteOptions: wrong wire type for gracePeriodSeconds');
        out.gracePeriodSeconds = toNumber(r.int64());
        break;
      case 2:
        out.preconditions = decodePreconditions(r.bytes());
        break;
      case 3:
        out.orphanDependents = r.bool();
        break;
      case 4:
        out.propagationPolicy = r.string();
        break;
      case 5:
        (out.dryRun ??= []).push(r.string());
        break;
      default:
        r.skipType(wire);
    }
  }
  return out;
}

function toNumber(v: number | { low: number; high: number; unsigned?: boolean }): number {
  return typeof v === 'number' ? v : new protobuf.util.LongBits(v.low >>> 0, v.high >>> 0).toNumber(false);
}

function decodePreconditions(message: Uint8Array): { uid?: string; resourceVersion?: string } {
  const out: { uid?: string; resourceVersion?: string } = {};
  const r = protobuf.Reader.create(message);
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) out.uid = r.string();
    else if (tag >>> 3 === 2) out.resourceVersion = r.string();
    else r.skipType(tag & 7);
  }
  return out;
}
