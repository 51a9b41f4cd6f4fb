// Swagger 2.0 JSON -> gnostic openapi_v2.Document protobuf, the body of /openapi/v2 when the
// client accepts com.github.proto-openapi.spec.v2 protobuf. kubectl <= 1.28 reads it for
// validation, explain and the fieldValidation probe.
//
// Values that JSON schema leaves free-form (default, enum, example, x-* extensions) travel as
// Any{yaml}; we write JSON text there, which every YAML parser reads.
import protobuf from 'protobufjs';
import { GNOSTIC_OPENAPI_V2_DESCRIPTOR } from './gnostic-descriptor.js';

/** What kubectl asks for in Accept (with '@', which Go's mime parser rejects in a Content-Type). */
export const OPENAPI_V2_PROTOBUF_ACCEPT = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
/** Content-Type to answer with, as kube-openapi does; kubectl fails on the '@' form ("mime: unexpected content after media subtype"). */
export const OPENAPI_V2_PROTOBUF_CONTENT_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

type Json = Record<string, unknown>;
type Msg = Record<string, unknown>;

let documentType: protobuf.Type | undefined;

/** The openapi.v2.Document message type (loaded once). */
export function gnosticDocumentType(): protobuf.Type {
  documentType ??= protobuf.Root.fromJSON(GNOSTIC_OPENAPI_V2_DESCRIPTOR).lookupType('openapi.v2.Document');
  return documentType;
}

export function encodeOpenApiV2Protobuf(doc: object): Uint8Array {
  const type = gnosticDocumentType();
  return type.encode(type.fromObject(document(doc as Json))).finish();
}

/** Decodes the protobuf back to the message shape (field names as in gnostic-descriptor.ts). */
export function decodeOpenApiV2Protobuf(bytes: Uint8Array): Msg {
  const type = gnosticDocumentType();
  return type.toObject(type.decode(bytes), { longs: Number, arrays: false, defaults: false }) as Msg;
}

// ---- JSON -> message objects -------------------------------------------------------------------

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const anyOf = (v: unknown): Msg => ({ yaml: JSON.stringify(v) });

function vendorExtensions(obj: Json): Msg[] | undefined {
  const out = Object.entries(obj)
    .filter(([k]) => k.startsWith('x-'))
    .map(([name, value]) => ({ name, value: anyOf(value) }));
  return out.length > 0 ? out : undefined;
}

/** Copies the listed plain (string/number/boolean/string[]) keys that are present. */
function copy(from: Json, keys: readonly string[], into: Msg = {}): Msg {
  for (const k of keys) if (from[k] !== undefined) into[k] = from[k];
  return into;
}

function compact(m: Msg): Msg {
  for (const k of Object.keys(m)) if (m[k] === undefined) delete m[k];
  return m;
}

function document(d: Json): Msg {
  const m = copy(d, ['swagger', 'host', 'basePath', 'schemes', 'consumes', 'produces']);
  if (isObject(d.info)) m.info = info(d.info);
  if (isObject(d.paths)) m.paths = paths(d.paths);
  if (isObject(d.definitions)) m.definitions = { additionalProperties: namedMap(d.definitions, schema) };
  if (isObject(d.parameters)) m.parameters = { additionalProperties: namedMap(d.parameters, parameter) };
  if (isObject(d.responses)) m.responses = { additionalProperties: namedMap(d.responses, response) };
  if (Array.isArray(d.security)) m.security = d.security.map(securityRequirement);
  if (isObject(d.securityDefinitions)) m.securityDefinitions = { additionalProperties: namedMap(d.securityDefinitions, securityDefinition) };
  if (Array.isArray(d.tags)) m.tags = d.tags.map((t: Json) => compact({ ...copy(t, ['name', 'description']), externalDocs: externalDocs(t.externalDocs), vendorExtension: vendorExtensions(t) }));
  m.externalDocs = externalDocs(d.externalDocs);
  m.vendorExtension = vendorExtensions(d);
  return compact(m);
}

function namedMap(obj: Json, convert: (v: Json) => Msg): Msg[] {
  return Object.entries(obj)
    .filter(([k, v]) => !k.startsWith('x-') && isObject(v))
    .map(([name, value]) => ({ name, value: convert(value as Json) }));
}

function info(i: Json): Msg {
  const m = copy(i, ['title', 'version', 'description', 'termsOfService']);
  if (isObject(i.contact)) m.contact = compact({ ...copy(i.contact, ['name', 'url', 'email']), vendorExtension: vendorExtensions(i.contact) });
  if (isObject(i.license)) m.license = compact({ ...copy(i.license, ['name', 'url']), vendorExtension: vendorExtensions(i.license) });
  m.vendorExtension = vendorExtensions(i);
  return compact(m);
}

function externalDocs(e: unknown): Msg | undefined {
  return isObject(e) ? compact({ ...copy(e, ['description', 'url']), vendorExtension: vendorExtensions(e) }) : undefined;
}

function paths(p: Json): Msg {
  return compact({ path: namedMap(p, pathItem), vendorExtension: vendorExtensions(p) });
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;

function pathItem(p: Json): Msg {
  const m: Msg = {};
  if (typeof p.$ref === 'string') m.xRef = p.$ref;
  for (const method of METHODS) if (isObject(p[method])) m[method] = operation(p[method] as Json);
  if (Array.isArray(p.parameters)) m.parameters = p.parameters.map(parametersItem);
  m.vendorExtension = vendorExtensions(p);
  return compact(m);
}

function operation(o: Json): Msg {
  const m = copy(o, ['tags', 'summary', 'description', 'operationId', 'produces', 'consumes', 'schemes', 'deprecated']);
  m.externalDocs = externalDocs(o.externalDocs);
  if (Array.isArray(o.parameters)) m.parameters = o.parameters.map(parametersItem);
  if (isObject(o.responses)) m.responses = responses(o.responses);
  if (Array.isArray(o.security)) m.security = o.security.map(securityRequirement);
  m.vendorExtension = vendorExtensions(o);
  return compact(m);
}

function jsonReference(r: Json): Msg {
  return compact({ xRef: r.$ref, description: r.description });
}

function parametersItem(p: Json): Msg {
  return typeof p.$ref === 'string' ? { jsonReference: jsonReference(p) } : { parameter: parameter(p) };
}

const PRIMITIVE_KEYS = [
  'type',
  'format',
  'collectionFormat',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'multipleOf',
] as const;

/** Shared by parameter sub-schemas, headers and items: the primitive keys plus items/default/enum. */
function primitive(p: Json, extraKeys: readonly string[] = []): Msg {
  const m = copy(p, [...extraKeys, ...PRIMITIVE_KEYS]);
  if (isObject(p.items)) m.items = primitive(p.items);
  if (p.default !== undefined) m.default = anyOf(p.default);
  if (Array.isArray(p.enum)) m.enum = p.enum.map(anyOf);
  m.vendorExtension = vendorExtensions(p);
  return compact(m);
}

const SUB_SCHEMA_BY_LOCATION: Record<string, string> = {
  header: 'headerParameterSubSchema',
  formData: 'formDataParameterSubSchema',
  query: 'queryParameterSubSchema',
  path: 'pathParameterSubSchema',
};

function parameter(p: Json): Msg {
  if (p.in === 'body') {
    const body = copy(p, ['description', 'name', 'in', 'required']);
    if (isObject(p.schema)) body.schema = schema(p.schema);
    body.vendorExtension = vendorExtensions(p);
    return { bodyParameter: compact(body) };
  }
  const location = SUB_SCHEMA_BY_LOCATION[String(p.in)];
  if (!location) throw new Error(`openapi v2: parameter ${String(p.name)} has unsupported location ${String(p.in)}`);
  const keys = ['required', 'in', 'description', 'name', ...(p.in === 'query' || p.in === 'formData' ? ['allowEmptyValue'] : [])];
  return { nonBodyParameter: { [location]: primitive(p, keys) } };
}

function responses(r: Json): Msg {
  const responseCode = Object.entries(r)
    .filter(([k, v]) => !k.startsWith('x-') && isObject(v))
    .map(([name, v]) => ({ name, value: typeof (v as Json).$ref === 'string' ? { jsonReference: jsonReference(v as Json) } : { response: response(v as Json) } }));
  return compact({ responseCode, vendorExtension: vendorExtensions(r) });
}

function response(r: Json): Msg {
  const m = copy(r, ['description']);
  if (isObject(r.schema)) {
    m.schema = r.schema.type === 'file' ? { fileSchema: fileSchema(r.schema) } : { schema: schema(r.schema) };
  }
  if (isObject(r.headers)) m.headers = { additionalProperties: namedMap(r.headers, (h) => primitive(h, ['description'])) };
  if (isObject(r.examples)) m.examples = { additionalProperties: Object.entries(r.examples).map(([name, v]) => ({ name, value: anyOf(v) })) };
  m.vendorExtension = vendorExtensions(r);
  return compact(m);
}

function fileSchema(s: Json): Msg {
  const m = copy(s, ['format', 'title', 'description', 'required', 'type', 'readOnly']);
  if (s.default !== undefined) m.default = anyOf(s.default);
  if (s.example !== undefined) m.example = anyOf(s.example);
  m.externalDocs = externalDocs(s.externalDocs);
  m.vendorExtension = vendorExtensions(s);
  return compact(m);
}

function schema(s: Json): Msg {
  const m = copy(s, [
    'format',
    'title',
    'description',
    'multipleOf',
    'maximum',
    'exclusiveMaximum',
    'minimum',
    'exclusiveMinimum',
    'maxLength',
    'minLength',
    'pattern',
    'maxItems',
    'minItems',
    'uniqueItems',
    'maxProperties',
    'minProperties',
    'required',
    'discriminator',
    'readOnly',
  ]);
  if (typeof s.$ref === 'string') m.xRef = s.$ref;
  if (s.default !== undefined) m.default = anyOf(s.default);
  if (s.example !== undefined) m.example = anyOf(s.example);
  if (Array.isArray(s.enum)) m.enum = s.enum.map(anyOf);
  if (typeof s.additionalProperties === 'boolean') m.additionalProperties = { boolean: s.additionalProperties };
  else if (isObject(s.additionalProperties)) m.additionalProperties = { schema: schema(s.additionalProperties) };
  if (typeof s.type === 'string') m.type = { value: [s.type] };
  else if (Array.isArray(s.type)) m.type = { value: s.type };
  if (Array.isArray(s.items)) m.items = { schema: s.items.map(schema) };
  else if (isObject(s.items)) m.items = { schema: [schema(s.items)] };
  if (Array.isArray(s.allOf)) m.allOf = s.allOf.map(schema);
  if (isObject(s.properties)) m.properties = { additionalProperties: Object.entries(s.properties).map(([name, v]) => ({ name, value: schema(v as Json) })) };
  if (isObject(s.xml)) m.xml = compact({ ...copy(s.xml, ['name', 'namespace', 'prefix', 'attribute', 'wrapped']), vendorExtension: vendorExtensions(s.xml) });
  m.externalDocs = externalDocs(s.externalDocs);
  m.vendorExtension = vendorExtensions(s);
  return compact(m);
}

function securityRequirement(r: Json): Msg {
  return { additionalProperties: Object.entries(r).map(([name, scopes]) => ({ name, value: { value: Array.isArray(scopes) ? scopes : [] } })) };
}

function securityDefinition(d: Json): Msg {
  const ext = vendorExtensions(d);
  if (d.type === 'basic') return { basicAuthenticationSecurity: compact({ ...copy(d, ['type', 'description']), vendorExtension: ext }) };
  if (d.type === 'apiKey') return { apiKeySecurity: compact({ ...copy(d, ['type', 'name', 'in', 'description']), vendorExtension: ext }) };
  if (d.type === 'oauth2') {
    const scopes = isObject(d.scopes) ? { additionalProperties: Object.entries(d.scopes).map(([name, value]) => ({ name, value: String(value) })) } : undefined;
    const base = compact({ ...copy(d, ['type', 'flow', 'authorizationUrl', 'tokenUrl', 'description']), scopes, vendorExtension: ext });
    const byFlow: Record<string, string> = {
      implicit: 'oauth2ImplicitSecurity',
      password: 'oauth2PasswordSecurity',
      application: 'oauth2ApplicationSecurity',
      accessCode: 'oauth2AccessCodeSecurity',
    };
    const key = byFlow[String(d.flow)];
    if (key) return { [key]: base };
  }
  throw new Error(`openapi v2: unsupported security definition type ${String(d.type)}`);
}
