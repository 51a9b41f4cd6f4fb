// Swagger 2.0 document of every group, the shape served at /openapi/v2 (kubectl <= 1.28 needs it,
// encoded as gnostic protobuf by gnostic.ts).
import type { KindDef } from '../kind.js';
import { documentPaths, type OperationSpec, type ParamSpec, type PathSpec } from './operations.js';
import { buildRegistry } from './registry.js';
import { SchemaRenderer, renderSchemas } from './schema-render.js';
import { BEARER_TOKEN_SCHEME, OBJECT_CONTENT_TYPES, PATCH_CONTENT_TYPES, WATCH_CONTENT_TYPES, type OpenApiBuildOptions } from './v3.js';

export function buildOpenApiV2(kinds: KindDef[], options: OpenApiBuildOptions = {}): Record<string, unknown> {
  const registry = buildRegistry(kinds, options.extraTypes);
  const renderer = new SchemaRenderer('v2', registry);
  const { paths, roots } = documentPaths(kinds, renderer, renderPath);
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: options.version ?? 'unversioned' },
    paths,
    definitions: renderSchemas(renderer, registry, roots),
    securityDefinitions: { BearerToken: BEARER_TOKEN_SCHEME },
    security: [{ BearerToken: [] }],
  };
}

function renderPath(spec: PathSpec, renderer: SchemaRenderer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const op of spec.operations) out[op.method] = renderOperation(op, renderer);
  if (spec.params.length > 0) out.parameters = spec.params.map(renderParam);
  return out;
}

function renderParam(p: ParamSpec): Record<string, unknown> {
  const out: Record<string, unknown> = { uniqueItems: true, type: p.type, description: p.description, name: p.name, in: p.in };
  if (p.required) out.required = true;
  return out;
}

function renderOperation(op: OperationSpec, renderer: SchemaRenderer): Record<string, unknown> {
  const out: Record<string, unknown> = { description: op.description };
  if (op.body) out.consumes = op.body.kind === 'patch' ? PATCH_CONTENT_TYPES : ['*/*'];
  out.produces = op.streams ? [...OBJECT_CONTENT_TYPES, ...WATCH_CONTENT_TYPES] : OBJECT_CONTENT_TYPES;
  out.schemes = ['https'];
  out.tags = [op.tag];
  out.operationId = op.operationId;
  const params: Record<string, unknown>[] = [];
  if (op.body) params.push({ name: 'body', in: 'body', required: op.body.required, schema: { $ref: renderer.refTo(op.body.schema) } });
  params.push(...op.params.map(renderParam));
  if (params.length > 0) out.parameters = params;
  const responses: Record<string, unknown> = {};
  for (const r of op.responses) {
    responses[r.code] = r.schema ? { description: r.description, schema: { $ref: renderer.refTo(r.schema) } } : { description: r.description };
  }
  out.responses = responses;
  out['x-kubernetes-action'] = op.action;
  out['x-kubernetes-group-version-kind'] = op.gvk;
  return out;
}
