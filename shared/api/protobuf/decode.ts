// Request bodies in application/vnd.kubernetes.protobuf: the magic "k8s\0", then a runtime.Unknown
// envelope {1 typeMeta{1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding, 4 contentType} whose `raw`
// is the object's message. kubectl >= 1.32 sends these from its typed clients (auth can-i,
// create deployment/namespace/configmap/secret/token).
import protobuf from 'protobufjs';
import { shortName, type StructType } from '../schema/dsl.js';
import { ProtobufDecodeError, decodeMessage } from './decode-struct.js';

export { ProtobufDecodeError } from './decode-struct.js';

export const KUBERNETES_PROTOBUF_MAGIC = new Uint8Array([0x6b, 0x38, 0x73, 0x00]);

export interface DecodedProtobufObject {
  apiVersion: string;
  kind: string;
  /** The object as JSON, apiVersion and kind first. */
  object: Record<string, unknown>;
}

interface UnknownEnvelope {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
  contentEncoding: string;
  contentType: string;
}

export function decodeKubernetesProtobuf(
  body: Uint8Array,
  resolve: (apiVersion: string, kind: string) => StructType | undefined,
): DecodedProtobufObject {
  if (body.length < KUBERNETES_PROTOBUF_MAGIC.length || !KUBERNETES_PROTOBUF_MAGIC.every((b, i) => body[i] === b)) {
    throw new ProtobufDecodeError('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  }
  const envelope = guard('runtime.Unknown', () => decodeUnknown(body.subarray(KUBERNETES_PROTOBUF_MAGIC.length)));
  if (envelope.contentEncoding !== '') {
    throw new ProtobufDecodeError(`failed to decode ${envelope.kind}: unsupported content encoding "${envelope.contentEncoding}"`);
  }
  if (envelope.contentType !== '' && envelope.contentType !== 'application/vnd.kubernetes.protobuf') {
    throw new ProtobufDecodeError(`failed to decode ${envelope.kind}: unsupported content type "${envelope.contentType}"`);
  }
  const schema = resolve(envelope.apiVersion, envelope.kind);
  if (!schema) throw new ProtobufDecodeError(`no kind "${envelope.kind}" is registered for version "${envelope.apiVersion}"`);
  const fields = guard(shortName(schema), () => decodeMessage(envelope.raw, schema, ''));
  const { apiVersion, kind } = envelope;
  const object: Record<string, unknown> = { apiVersion, kind };
  for (const name of Object.keys(schema.fields)) {
    // Clients always send metadata (Go renders an empty ObjectMeta as {}), and the server expects it.
    if (name === 'metadata') object.metadata = fields.metadata ?? {};
    else if (name in fields) object[name] = fields[name];
  }
  return { apiVersion, kind, object };
}

/** Runs a decode step, turning reader failures (truncation, bad wire types) into ProtobufDecodeError. */
function guard<T>(what: string, step: () => T): T {
  try {
    return step();
  } catch (e) {
    if (e instanceof ProtobufDecodeError) throw e;
    const detail = e instanceof RangeError ? 'unexpected EOF' : e instanceof Error ? e.message : String(e);
    throw new ProtobufDecodeError(`failed to decode ${what}: ${detail}`);
  }
}

function decodeUnknown(bytes: Uint8Array): UnknownEnvelope {
  const out: UnknownEnvelope = { apiVersion: '', kind: '', raw: new Uint8Array(), contentEncoding: '', contentType: '' };
  const r = protobuf.Reader.create(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    const wire = tag & 7;
    const number = tag >>> 3;
    if (number >= 1 && number <= 4 && wire !== 2) throw new ProtobufDecodeError(`failed to decode runtime.Unknown: wrong wire type ${wire} for field ${number}`);
    switch (number) {
      case 1:
        Object.assign(out, decodeTypeMeta(r.bytes()));
        break;
      case 2:
        out.raw = r.bytes();
        break;
      case 3:
        out.contentEncoding = r.string();
        break;
      case 4:
        out.contentType = r.string();
        break;
      default:
        r.skipType(wire);
    }
  }
  return out;
}

function decodeTypeMeta(bytes: Uint8Array): { apiVersion: string; kind: string } {
  const out = { apiVersion: '', kind: '' };
  const r = protobuf.Reader.create(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    const number = tag >>> 3;
    if ((number === 1 || number === 2) && (tag & 7) === 2) {
      if (number === 1) out.apiVersion = r.string();
      else out.kind = r.string();
    } else {
      r.skipType(tag & 7);
    }
  }
  return out;
}
