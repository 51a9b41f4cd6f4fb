// OpenAPI v3: one document per group-version, served at /openapi/v3/<gv>?hash=<HEX>.
import { createHash } from 'node:crypto';
import type { StructType } from '../schema/dsl.js';
import type { KindDef } from '../kind.js';
import { documentPaths, groupVersionKey, type OperationSpec, type ParamSpec, type PathSpec } from './operations.js';
import { buildRegistry, type TypeRegistry } from './registry.js';
import { SchemaRenderer, renderSchemas, type JsonSchema } from './schema-render.js';

export interface OpenApiBuildOptions {
  /** info.version of the documents (Kubernetes serves its git version, e.g. v1.26.3). */
  version?: string;
  /** Structs to prefer over same-named ones found elsewhere (e.g. the real meta/v1 types). */
  extraTypes?: readonly StructType[];
}

export interface OpenApiV3Build {
  index: { paths: Record<string, { serverRelativeURL: string }> };
  documents: Map<string, { json: string; hash: string }>;
}

export const OBJECT_CONTENT_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
export const WATCH_CONTENT_TYPES = ['application/json;stream=watch', 'application/vnd.kubernetes.protobuf;stream=watch'];
export const PATCH_CONTENT_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];

export const BEARER_TOKEN_SCHEME = {
  type: 'apiKey',
  in: 'header',
  name: 'authorization',
  description: 'Bearer token authentication.',
};

export function buildOpenApiV3(kinds: KindDef[], options: OpenApiBuildOptions = {}): OpenApiV3Build {
  const registry = buildRegistry(kinds, options.extraTypes);
  const byGroupVersion = new Map<string, KindDef[]>();
  for (const k of kinds) {
    const key = groupVersionKey(k.group, k.version);
    byGroupVersion.set(key, [...(byGroupVersion.get(key) ?? []), k]);
  }
  const index: OpenApiV3Build['index'] = { paths: {} };
  const documents: OpenApiV3Build['documents'] = new Map();
  for (const key of [...byGroupVersion.keys()].sort()) {
    const json = JSON.stringify(groupVersionDocument(byGroupVersion.get(key) as KindDef[], registry, options.version ?? 'unversioned'));
    const hash = createHash('sha512').update(json).digest('hex').toUpperCase();
    documents.set(key, { json, hash });
    index.paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
  }
  return { index, documents };
}

function groupVersionDocument(kinds: KindDef[], registry: TypeRegistry, version: string): Record<string, unknown> {
  const renderer = new SchemaRenderer('v3', registry);
  const { paths, roots } = documentPaths(kinds, renderer, renderPath);
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version },
    paths,
    components: {
      schemas: renderSchemas(renderer, registry, roots),
      securitySchemes: { BearerToken: BEARER_TOKEN_SCHEME },
    },
    security: [{ BearerToken: [] }],
  };
}

function renderPath(spec: PathSpec, renderer: SchemaRenderer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (spec.params.length > 0) out.parameters = spec.params.map(renderParam);
  for (const op of spec.operations) out[op.method] = renderOperation(op, renderer);
  return out;
}

function renderParam(p: ParamSpec): Record<string, unknown> {
  const out: Record<string, unknown> = { name: p.name, in: p.in, description: p.description };
  if (p.required) out.required = true;
  out.schema = { type: p.type, uniqueItems: true };
  return out;
}

function contentOf(types: readonly string[], schema: JsonSchema): Record<string, { schema: JsonSchema }> {
  return Object.fromEntries(types.map((t) => [t, { schema }]));
}

function renderOperation(op: OperationSpec, renderer: SchemaRenderer): Record<string, unknown> {
  const out: Record<string, unknown> = {
    description: op.description,
    operationId: op.operationId,
    tags: [op.tag],
  };
  if (op.params.length > 0) out.parameters = op.params.map(renderParam);
  if (op.body) {
    const schema = { $ref: renderer.refTo(op.body.schema) };
    const types = op.body.kind === 'patch' ? PATCH_CONTENT_TYPES : ['*/*'];
    out.requestBody = { content: contentOf(types, schema), ...(op.body.required ? { required: true } : {}) };
  }
  const responses: Record<string, unknown> = {};
  for (const r of op.responses) {
    const types = op.streams ? [...OBJECT_CONTENT_TYPES, ...WATCH_CONTENT_TYPES] : OBJECT_CONTENT_TYPES;
    responses[r.code] = r.schema ? { description: r.description, content: contentOf(types, { $ref: renderer.refTo(r.schema) }) } : { description: r.description };
  }
  out.responses = responses;
  out['x-kubernetes-action'] = op.action;
  out['x-kubernetes-group-version-kind'] = op.gvk;
  return out;
}
