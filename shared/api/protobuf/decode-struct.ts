// Schema-driven decoding of one protobuf message (k8s.io/api generated.proto wire format) into the
// JSON object a client would have sent for the same Go value.
//
// Kubernetes marshals with proto2 semantics: non-pointer scalars are always on the wire, so an empty
// ObjectMeta arrives as name "", generation 0, creationTimestamp {}. Go's JSON encoder would drop
// most of those through `omitempty`, which the schemas do not record. The rule used here:
//   * a struct field whose value is "", 0, false, an empty list/map, an empty struct, or an empty
//     Time/RawExtension is omitted;
//   * except 0/false when the field declares a different static default (an explicit `replicas: 0`
//     must not turn into the default 1), and an empty struct when the field is required;
//   * Quantity, IntOrString and non-empty RawExtension/FieldsV1 values are always kept (Go emits
//     them even when zero);
//   * list items and map values are kept as they are ("" in a ConfigMap's data stays "").
import protobuf from 'protobufjs';
import { shortName, type Field, type StructType, type TypeNode } from '../schema/dsl.js';

export class ProtobufDecodeError extends Error {
  override name = 'ProtobufDecodeError';
}

type Reader = protobuf.Reader;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

interface Slot {
  name: string;
  field: Field;
}

const slotCache = new WeakMap<StructType, Map<number, Slot>>();

function slotsOf(t: StructType): Map<number, Slot> {
  let slots = slotCache.get(t);
  if (!slots) {
    slots = new Map();
    for (const [name, field] of Object.entries(t.fields)) if (field.proto !== undefined) slots.set(field.proto, { name, field });
    slotCache.set(t, slots);
  }
  return slots;
}

/** Marker for values that decode to JSON null / absent (an empty Time or RawExtension). */
const ABSENT = Symbol('absent');

/** Decodes `bytes` as the message of struct `t`; `path` is the printed field path for errors. */
export function decodeMessage(bytes: Uint8Array, t: StructType, path: string): Record<string, unknown> {
  const slots = slotsOf(t);
  const values = new Map<string, unknown>();
  const r = protobuf.Reader.create(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    const number = tag >>> 3;
    const wire = tag & 7;
    if (number === 0) throw new ProtobufDecodeError(`failed to decode ${shortName(t)}: illegal tag 0 at ${path || 'top level'}`);
    const slot = slots.get(number);
    if (!slot) {
      r.skipType(wire);
      continue;
    }
    readField(r, wire, slot, values, join(path, slot.name));
  }
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(t.fields)) {
    if (!values.has(name)) continue;
    const value = values.get(name);
    if (keepFieldValue(value, field)) out[name] = value;
  }
  return out;
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

function readField(r: Reader, wire: number, slot: Slot, values: Map<string, unknown>, path: string): void {
  const node = slot.field.type;
  if (node.t === 'list') {
    const items = (values.get(slot.name) as unknown[] | undefined) ?? [];
    values.set(slot.name, items);
    if (wire === WIRE_BYTES && isPackable(node.items)) {
      const end = r.uint32() + r.pos;
      while (r.pos < end) items.push(readValue(r, scalarWire(node.items), node.items, `${path}[${items.length}]`));
      return;
    }
    const item = readValue(r, wire, node.items, `${path}[${items.length}]`);
    items.push(item === ABSENT ? null : item);
    return;
  }
  if (node.t === 'map') {
    expectWire(wire, WIRE_BYTES, path);
    const entries = (values.get(slot.name) as Record<string, unknown> | undefined) ?? {};
    values.set(slot.name, entries);
    const [key, value] = readMapEntry(r.bytes(), node.values, path);
    entries[key] = value;
    return;
  }
  values.set(slot.name, readValue(r, wire, node, path));
}

function readMapEntry(bytes: Uint8Array, valueType: TypeNode, path: string): [string, unknown] {
  const r = protobuf.Reader.create(bytes);
  let key = '';
  let value: unknown = undefined;
  while (r.pos < r.len) {
    const tag = r.uint32();
    const wire = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expectWire(wire, WIRE_BYTES, path);
        key = r.string();
        break;
      case 2:
        value = readValue(r, wire, valueType, `${path}[${key}]`);
        break;
      default:
        r.skipType(wire);
    }
  }
  if (value === undefined) value = zeroValue(valueType);
  return [key, value === ABSENT ? null : value];
}

/** Value Go would hold for a map entry whose value field is missing from the wire. */
function zeroValue(node: TypeNode): unknown {
  switch (node.t) {
    case 'string':
      return '';
    case 'integer':
    case 'number':
    case 'intOrString':
      return 0;
    case 'boolean':
      return false;
    case 'quantity':
      return '0';
    case 'struct':
    case 'map':
      return {};
    case 'list':
      return [];
    default:
      return null;
  }
}

function isPackable(node: TypeNode): boolean {
  return node.t === 'integer' || node.t === 'number' || node.t === 'boolean';
}

function scalarWire(node: TypeNode): number {
  return node.t === 'number' ? WIRE_FIXED64 : WIRE_VARINT;
}

function expectWire(actual: number, expected: number, path: string): void {
  if (actual !== expected) throw new ProtobufDecodeError(`failed to decode field ${path}: wrong wire type ${actual}, expected ${expected}`);
}

/** int64 values come back as Long objects when long.js is installed; JSON wants numbers. */
function toNumber(v: number | protobuf.Long): number {
  return typeof v === 'number' ? v : new protobuf.util.LongBits(v.low >>> 0, v.high >>> 0).toNumber(v.unsigned);
}

function readValue(r: Reader, wire: number, node: TypeNode, path: string): unknown {
  switch (node.t) {
    case 'string':
      expectWire(wire, WIRE_BYTES, path);
      return node.format === 'byte' ? Buffer.from(r.bytes()).toString('base64') : r.string();
    case 'integer':
      expectWire(wire, WIRE_VARINT, path);
      return node.format === 'int32' ? r.int32() : toNumber(r.int64());
    case 'number':
      if (wire === WIRE_FIXED32) return r.float();
      expectWire(wire, WIRE_FIXED64, path);
      return r.double();
    case 'boolean':
      expectWire(wire, WIRE_VARINT, path);
      return r.bool();
    case 'struct':
      expectWire(wire, WIRE_BYTES, path);
      return decodeMessage(r.bytes(), node.ref(), path);
    case 'quantity':
      expectWire(wire, WIRE_BYTES, path);
      return readQuantity(r.bytes(), path);
    case 'intOrString':
      expectWire(wire, WIRE_BYTES, path);
      return readIntOrString(r.bytes(), path);
    case 'time':
      expectWire(wire, WIRE_BYTES, path);
      return readTime(r.bytes(), false, path);
    case 'microTime':
      expectWire(wire, WIRE_BYTES, path);
      return readTime(r.bytes(), true, path);
    case 'any':
      expectWire(wire, WIRE_BYTES, path);
      return readRawJson(r.bytes(), path);
    case 'list':
    case 'map':
      throw new ProtobufDecodeError(`failed to decode field ${path}: nested lists and maps have no protobuf form`);
  }
}

/** Iterates the fields of a small fixed message (Quantity, IntOrString, Time, RawExtension). */
function eachField(bytes: Uint8Array, visit: (number: number, wire: number, r: Reader) => boolean): void {
  const r = protobuf.Reader.create(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (!visit(tag >>> 3, tag & 7, r)) r.skipType(tag & 7);
  }
}

function readQuantity(bytes: Uint8Array, path: string): string {
  let text = '';
  eachField(bytes, (n, wire, r) => {
    if (n !== 1) return false;
    expectWire(wire, WIRE_BYTES, path);
    text = r.string();
    return true;
  });
  return text === '' ? '0' : text;
}

function readIntOrString(bytes: Uint8Array, path: string): number | string {
  let type = 0;
  let intVal = 0;
  let strVal = '';
  eachField(bytes, (n, wire, r) => {
    if (n < 1 || n > 3) return false;
    expectWire(wire, n === 3 ? WIRE_BYTES : WIRE_VARINT, path);
    if (n === 1) type = toNumber(r.int64());
    else if (n === 2) intVal = r.int32();
    else strVal = r.string();
    return true;
  });
  return type === 1 ? strVal : intVal;
}

function readTime(bytes: Uint8Array, micro: boolean, path: string): string | typeof ABSENT {
  // An empty message is Go's zero time, which JSON renders as null.
  if (bytes.length === 0) return ABSENT;
  let seconds = 0;
  let nanos = 0;
  eachField(bytes, (n, wire, r) => {
    if (n !== 1 && n !== 2) return false;
    expectWire(wire, WIRE_VARINT, path);
    if (n === 1) seconds = toNumber(r.int64());
    else nanos = r.int32();
    return true;
  });
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) throw new ProtobufDecodeError(`failed to decode field ${path}: timestamp ${seconds} out of range`);
  const base = date.toISOString().slice(0, 19);
  // metav1.Time keeps whole seconds only; MicroTime keeps microseconds.
  return micro ? `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${base}Z`;
}

function readRawJson(bytes: Uint8Array, path: string): unknown {
  let raw: Uint8Array | undefined;
  eachField(bytes, (n, wire, r) => {
    if (n !== 1) return false;
    expectWire(wire, WIRE_BYTES, path);
    raw = r.bytes();
    return true;
  });
  if (!raw || raw.length === 0) return ABSENT;
  const text = Buffer.from(raw).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new ProtobufDecodeError(`failed to decode field ${path}: embedded object is not JSON`);
  }
}

function keepFieldValue(value: unknown, field: Field): boolean {
  if (value === ABSENT || value === undefined) return false;
  const node = field.type;
  if (node.t === 'quantity' || node.t === 'intOrString' || node.t === 'any') return true;
  if (value === '') return false;
  if (value === 0 || value === false) return field.default !== undefined && field.default !== value;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object' && value !== null && Object.keys(value).length === 0) {
    return node.t === 'struct' && field.required === true;
  }
  return true;
}
