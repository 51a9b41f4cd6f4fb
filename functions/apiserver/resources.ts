// The generic resource endpoint: parses /api/v1/... and /apis/<g>/<v>/... paths, decodes bodies
// and query options, calls the RestStorage, and encodes JSON, YAML, Table or watch streams.
import type { Context } from 'hono';
import { stringify as toYaml } from 'yaml';
import type { KindDef, KubeObject } from '../../shared/api/kind.js';
import type { Registry } from '../../shared/api/registry.js';
import { decodeKubernetesProtobuf } from '../../shared/api/protobuf/decode.js';
import { errors, successStatus } from '../../shared/apiserver/errors.js';
import type { Logger } from '../../shared/apiserver/logger.js';
import { jsonWithResourceVersion } from '../../shared/apiserver/codec.js';
import { decodeTextBody, mediaType, negotiate, OBJECT_MEDIA_TYPES, PATCH_MEDIA_TYPES, type ResponseForm } from '../../shared/apiserver/media.js';
import { apiVersion, type DeleteOptions, type PatchType, type RestStorage, type Scope, type WriteOptions } from '../../shared/apiserver/rest.js';
import { parseFieldValidation } from '../../shared/apiserver/structure.js';
import { parseIncludeObject, partialMetadata, partialObjectMetadataList, table } from '../../shared/apiserver/table.js';
import { patchScale, replicasFromScale, scaleOf } from '../../shared/apiserver/scale.js';
import { serveWatch } from './watch.js';
import { bindPod } from '../../shared/apiserver/binding.js';
import { deletionWarnings, validateDeleteOptions } from '../../shared/apiserver/deletion.js';
import { EvictionREST, type Eviction } from '../../shared/apiserver/eviction.js';
import { createTokenRequest } from '../../shared/apiserver/service-account-tokens.js';
import { decodeDeleteOptionsMessage, fieldBytes, protobufRaw } from '../../shared/apiserver/delete-options-protobuf.js';
import { DeleteOptions as DeleteOptionsSchema } from '../../shared/api/types/meta.js';
import { Eviction as EvictionSchema } from '../../shared/api/types/policy.js';
import { TokenRequest as TokenRequestSchema } from '../../shared/api/types/authentication.js';
import type { Store } from '../../shared/store/contract.js';

interface Deps {
  store: Store;
  registry: Registry;
  rest: RestStorage;
  log: Logger;
}

interface Target {
  scope: Scope;
  /** True for /<plural> (collection), false for /<plural>/<name>[/<sub>]. */
  collection: boolean;
  /** Legacy /watch/ path prefix. */
  legacyWatch: boolean;
}

const SUBRESOURCES = new Set(['status', 'scale', 'binding', 'eviction', 'token']);

function resolveTarget(registry: Registry, path: string): Target {
  let segs = path.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  if (segs[0] === 'api') {
    group = '';
    version = segs[1];
    segs = segs.slice(2);
  } else {
    group = segs[1];
    version = segs[2];
    segs = segs.slice(3);
  }
  let legacyWatch = false;
  if (segs[0] === 'watch') {
    legacyWatch = true;
    segs = segs.slice(1);
  }
  let namespace: string | undefined;
  // /namespaces/<ns>/<plural>/... addresses namespaced kinds; /namespaces/<name>[/status|finalize] the namespace itself.
  if (segs[0] === 'namespaces' && segs.length >= 3 && !(segs.length === 3 && (segs[2] === 'status' || segs[2] === 'finalize'))) {
    namespace = segs[1];
    segs = segs.slice(2);
  }
  const [plural, name, sub, ...rest] = segs;
  const def = plural ? registry.resource(group, version, plural) : undefined;
  if (!def || rest.length) throw errors.pathNotFound();
  if (namespace !== undefined && !def.namespaced) throw errors.pathNotFound();
  if (sub !== undefined) {
    if (
      !SUBRESOURCES.has(sub) ||
      (sub === 'status' && !def.subresources.status) ||
      (sub === 'scale' && !def.subresources.scale) ||
      ((sub === 'binding' || sub === 'eviction') && !(def.group === '' && def.plural === 'pods')) ||
      (sub === 'token' && !(def.group === '' && def.plural === 'serviceaccounts'))
    )
      throw errors.pathNotFound();
  }
  if (def.namespaced && name !== undefined && namespace === undefined) throw errors.pathNotFound();
  return {
    scope: { def, namespace, name, subresource: sub as Scope['subresource'] },
    collection: name === undefined,
    legacyWatch,
  };
}

export async function handleResource(c: Context, deps: Deps): Promise<Response> {
  const target = resolveTarget(deps.registry, c.req.path);
  const { scope } = target;
  const method = c.req.method;
  const q = (k: string) => c.req.query(k);

  if (target.collection) {
    if (method === 'GET') {
      if (target.legacyWatch || q('watch') === 'true' || q('watch') === '1') return serveWatch(c, deps.rest, scope);
      return listResponse(c, deps, scope);
    }
    if (method === 'POST') {
      if (!scope.namespace && scope.def.namespaced) throw errors.methodNotAllowed();
      const body = await readObjectBody(c, deps.registry, scope.def);
      const res = await deps.rest.create(scope, body.value, body.raw, writeOptions(c));
      return objectResponse(c, scope.def, res.object, 201, res.warnings);
    }
    if (method === 'DELETE') {
      const options = await readDeleteOptions(c);
      const deleted = await deps.rest.deleteCollection(scope, { labelSelector: q('labelSelector'), fieldSelector: q('fieldSelector') }, options, isDryRun(options));
      const list = { kind: scope.def.listKind, apiVersion: apiVersion(scope.def), metadata: {}, items: deleted };
      return c.body(JSON.stringify(list), 200, { 'Content-Type': 'application/json', ...warningHeaders(deletionWarnings(scope.def, options)) });
    }
    throw errors.methodNotAllowed();
  }

  if (scope.subresource === 'scale') return handleScale(c, deps, scope, method);
  if (scope.subresource === 'binding') return handleBinding(c, deps, scope, method);
  if (scope.subresource === 'eviction') return handleEviction(c, deps, scope, method);
  if ((scope.subresource as string) === 'token') return handleTokenRequest(c, deps, scope, method);

  switch (method) {
    case 'GET':
      return objectResponse(c, scope.def, await deps.rest.get(scope), 200, []);
    case 'PUT': {
      const body = await readObjectBody(c, deps.registry, scope.def);
      const res = await deps.rest.update(scope, body.value, body.raw, writeOptions(c));
      return objectResponse(c, scope.def, res.object, res.created ? 201 : 200, res.warnings);
    }
    case 'PATCH': {
      const { type, value } = await readPatchBody(c, scope.def);
      const res = await deps.rest.patch(scope, type, value, { ...writeOptions(c), force: q('force') === 'true' });
      return objectResponse(c, scope.def, res.object, res.created ? 201 : 200, res.warnings);
    }
    case 'DELETE': {
      if (scope.subresource) throw errors.methodNotAllowed();
      const options = await readDeleteOptions(c);
      const res = await deps.rest.delete(scope, options, isDryRun(options));
      const warnings = deletionWarnings(scope.def, options);
      // 202 when dependents are being deleted first (the deprecated orphanDependents=false), as kube-apiserver answers.
      if (!res.gone) return objectResponse(c, scope.def, res.object, options.orphanDependents === false ? 202 : 200, warnings);
      const def = scope.def;
      const status = successStatus({ name: res.object.metadata.name, ...(def.group ? { group: def.group } : {}), kind: def.plural, uid: res.object.metadata.uid });
      return c.body(JSON.stringify(status), 200, { 'Content-Type': 'application/json', ...warningHeaders(warnings) });
    }
    default:
      throw errors.methodNotAllowed();
  }
}

// ---- options ----------------------------------------------------------------------------------

function dryRun(c: Context): boolean {
  const values = c.req.queries('dryRun') ?? [];
  for (const v of values) if (v !== 'All') throw errors.badRequest(`Invalid dryRun value: ${JSON.stringify(v)}: supported values: "All"`);
  return values.length > 0;
}

function userAgentManager(c: Context): string {
  const ua = c.req.header('user-agent') ?? '';
  const prefix = ua.split('/')[0].trim();
  return prefix.length > 128 ? prefix.slice(0, 128) : prefix || 'unknown';
}

function writeOptions(c: Context): WriteOptions {
  return {
    dryRun: dryRun(c),
    fieldManager: c.req.query('fieldManager') || undefined,
    userAgentManager: userAgentManager(c),
    fieldValidation: parseFieldValidation(c.req.query('fieldValidation')),
  };
}

// ---- bodies -----------------------------------------------------------------------------------

async function readText(c: Context): Promise<string> {
  return await c.req.text();
}

async function readObjectBody(c: Context, registry: Registry, def: KindDef): Promise<{ value: unknown; raw?: string }> {
  const type = mediaType(c.req.header('content-type'));
  if (type === 'application/json' || type === '') {
    const raw = await readText(c);
    return { value: decodeTextBody(raw, 'json', def.kind), raw };
  }
  if (type === 'application/yaml') return { value: decodeTextBody(await readText(c), 'yaml', def.kind) };
  if (type === 'application/vnd.kubernetes.protobuf') {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    try {
      const decoded = decodeKubernetesProtobuf(bytes, (av, kind) => registry.kind(av, kind)?.schema);
      return { value: { apiVersion: decoded.apiVersion, kind: decoded.kind, ...decoded.object } };
    } catch (e) {
      throw errors.badRequest(e instanceof Error ? e.message : String(e));
    }
  }
  throw errors.unsupportedMediaType(OBJECT_MEDIA_TYPES);
}

async function readPatchBody(c: Context, def: KindDef): Promise<{ type: PatchType; value: unknown }> {
  const type = mediaType(c.req.header('content-type'));
  const kinds: Record<string, PatchType> = {
    'application/json-patch+json': 'json',
    'application/merge-patch+json': 'merge',
    'application/strategic-merge-patch+json': 'strategic',
    'application/apply-patch+yaml': 'apply',
    'application/apply-patch+json': 'apply',
  };
  const patchType = kinds[type];
  if (!patchType) throw errors.unsupportedMediaType(PATCH_MEDIA_TYPES);
  const raw = await readText(c);
  if (raw.trim() === '') throw errors.badRequest('empty patch body');
  let value: unknown;
  try {
    value = patchType === 'apply' ? decodeTextBody(raw, 'yaml', def.kind) : JSON.parse(raw);
  } catch (e) {
    if (patchType === 'apply') throw e;
    throw errors.badRequest(`error decoding patch: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (patchType !== 'json' && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    throw errors.badRequest(`error decoding patch: the patch must be a JSON object`);
  }
  if (patchType === 'json' && !Array.isArray(value)) throw errors.badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  return { type: patchType, value };
}

/**
 * DeleteOptions come from the body when there is one, else from the query (?gracePeriodSeconds=,
 * ?propagationPolicy=, ?orphanDependents=, ?dryRun=); they are validated before anything is read.
 */
async function readDeleteOptions(c: Context): Promise<DeleteOptions> {
  const type = mediaType(c.req.header('content-type'));
  let options: DeleteOptions | undefined;
  if (type === 'application/vnd.kubernetes.protobuf') {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.length) {
      try {
        decodeKubernetesProtobuf(bytes, (_av, kind) => (kind === 'DeleteOptions' ? DeleteOptionsSchema : undefined));
        // Decoded again with field presence: a gracePeriodSeconds of 0 means "now", not "unset".
        options = decodeDeleteOptionsMessage(protobufRaw(bytes)!);
      } catch (e) {
        throw errors.badRequest(e instanceof Error ? e.message : String(e));
      }
    }
  } else {
    const raw = (await readText(c)).trim();
    if (raw) {
      try {
        options = (type === 'application/yaml' ? decodeTextBody(raw, 'yaml', 'DeleteOptions') : JSON.parse(raw)) as DeleteOptions;
      } catch (e) {
        if (e instanceof Error && 'status' in e) throw e;
        throw errors.badRequest(`error decoding DeleteOptions: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (!options || typeof options !== 'object' || Array.isArray(options)) throw errors.badRequest('error decoding DeleteOptions: the body must be a JSON object');
    }
  }
  if (!options) options = deleteOptionsFromQuery(c);
  validateDeleteOptions(options);
  return options;
}

function deleteOptionsFromQuery(c: Context): DeleteOptions {
  const options: DeleteOptions = {};
  const grace = c.req.query('gracePeriodSeconds');
  if (grace !== undefined) {
    if (!/^-?\d+$/.test(grace)) throw errors.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(grace)}: invalid syntax`);
    options.gracePeriodSeconds = Number(grace);
  }
  const policy = c.req.query('propagationPolicy');
  if (policy !== undefined) options.propagationPolicy = policy;
  const orphan = c.req.query('orphanDependents');
  if (orphan !== undefined) {
    if (!['true', 'false', '1', '0', 't', 'f', 'TRUE', 'FALSE', 'True', 'False', 'T', 'F'].includes(orphan)) {
      throw errors.badRequest(`strconv.ParseBool: parsing ${JSON.stringify(orphan)}: invalid syntax`);
    }
    options.orphanDependents = ['true', '1', 't', 'TRUE', 'True', 'T'].includes(orphan);
  }
  const dry = c.req.queries('dryRun');
  if (dry?.length) options.dryRun = dry;
  return options;
}

const isDryRun = (options: DeleteOptions): boolean => (options.dryRun ?? []).includes('All');

// ---- responses --------------------------------------------------------------------------------

function warningHeaders(warnings: string[]): Record<string, string> {
  if (!warnings.length) return {};
  return { Warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ') };
}

function objectResponse(c: Context, def: KindDef, obj: KubeObject, code: 200 | 201 | 202, warnings: string[]): Response {
  const form = negotiate(c.req.header('accept'));
  const headers = { 'Content-Type': 'application/json', ...warningHeaders(warnings) };
  switch (form) {
    case 'table':
      return c.body(JSON.stringify(table(def, [obj], { include: parseIncludeObject(c.req.query('includeObject')), resourceVersion: obj.metadata.resourceVersion })), code, headers);
    case 'partial':
      return c.body(JSON.stringify(partialMetadata(obj)), code, headers);
    case 'yaml':
      return c.body(toYaml(obj), code, { ...headers, 'Content-Type': 'application/yaml' });
    default:
      return c.body(JSON.stringify(obj), code, headers);
  }
}

async function listResponse(c: Context, deps: Deps, scope: Scope): Promise<Response> {
  const q = (k: string) => c.req.query(k);
  const limitRaw = q('limit');
  const limit = limitRaw === undefined ? undefined : Number(limitRaw);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw errors.badRequest(`invalid limit: ${limitRaw}`);
  const form: ResponseForm = negotiate(c.req.header('accept'));
  const page = await deps.rest.list(scope, {
    labelSelector: q('labelSelector'),
    fieldSelector: q('fieldSelector'),
    limit,
    continue: q('continue') || undefined,
    resourceVersion: q('resourceVersion'),
    resourceVersionMatch: q('resourceVersionMatch'),
  });
  const rv = String(page.rev);
  const def = scope.def;
  const objects = () => page.items.map((kv) => page.parsed?.get(kv) ?? (JSON.parse(jsonWithResourceVersion(kv)) as KubeObject));
  if (form === 'table') {
    const t = table(def, objects(), { include: parseIncludeObject(q('includeObject')), resourceVersion: rv, continue: page.continue });
    return c.body(JSON.stringify(t), 200, { 'Content-Type': 'application/json' });
  }
  if (form === 'partial') return c.body(JSON.stringify(partialObjectMetadataList(objects(), rv, page.continue)), 200, { 'Content-Type': 'application/json' });
  if (form === 'yaml') {
    const list = { apiVersion: apiVersion(def), kind: def.listKind, metadata: { resourceVersion: rv, ...(page.continue ? { continue: page.continue } : {}) }, items: objects() };
    return c.body(toYaml(list), 200, { 'Content-Type': 'application/yaml' });
  }
  // Plain JSON lists are assembled from stored text without re-parsing each item.
  const meta = JSON.stringify({ resourceVersion: rv, ...(page.continue ? { continue: page.continue } : {}) });
  let body = `{"kind":"${def.listKind}","apiVersion":"${apiVersion(def)}","metadata":${meta},"items":[`;
  for (let i = 0; i < page.items.length; i++) {
    if (i) body += ',';
    body += jsonWithResourceVersion(page.items[i]);
  }
  body += ']}';
  return c.body(body, 200, { 'Content-Type': 'application/json' });
}

async function handleScale(c: Context, deps: Deps, scope: Scope, method: string): Promise<Response> {
  const spec = scope.def.subresources.scale!;
  const main: Scope = { ...scope, subresource: undefined };
  const respond = (obj: KubeObject) => c.body(JSON.stringify(scaleOf(obj, spec)), 200, { 'Content-Type': 'application/json' });
  if (method === 'GET') return respond(await deps.rest.get(main));
  if (method !== 'PUT' && method !== 'PATCH') throw errors.methodNotAllowed();
  const current = await deps.rest.get(main);
  const currentScale = scaleOf(current, spec);
  let desired: unknown;
  if (method === 'PUT') {
    const body = await readObjectBody(c, deps.registry, scope.def);
    desired = body.value;
  } else {
    const { type, value } = await readPatchBody(c, scope.def);
    desired = patchScale(currentScale, type, value);
  }
  const replicas = replicasFromScale(desired, scope.def, currentScale);
  const rv = (desired as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
  const patch = { metadata: rv ? { resourceVersion: rv } : {}, ...setPath(spec.specReplicasPath, replicas) };
  const res = await deps.rest.patch(main, 'merge', patch, { ...writeOptions(c), fieldValidation: 'Ignore', force: false });
  return respond(res.object);
}

/** POST pods/<name>/binding with a v1 Binding: bind the pod to Binding.target.name. */
async function handleBinding(c: Context, deps: Deps, scope: Scope, method: string): Promise<Response> {
  if (method !== 'POST') throw errors.methodNotAllowed();
  const type = mediaType(c.req.header('content-type'));
  if (type !== 'application/json' && type !== '') throw errors.unsupportedMediaType(['application/json']);
  const binding = decodeTextBody(await readText(c), 'json', 'Binding') as undefined | { metadata?: { name?: string; uid?: string; annotations?: Record<string, string> }; target?: { name?: string } };
  if (binding?.metadata?.name && binding.metadata.name !== scope.name) {
    throw errors.badRequest(`the name of the object (${binding.metadata.name}) does not match the name on the URL (${scope.name})`);
  }
  const created = JSON.stringify({ ...successStatus(), code: 201 });
  if (dryRun(c)) return c.body(created, 201, { 'Content-Type': 'application/json' });
  await bindPod(deps.store, scope.namespace!, scope.name!, { nodeName: binding?.target?.name ?? '', annotations: binding?.metadata?.annotations, uid: binding?.metadata?.uid });
  return c.body(created, 201, { 'Content-Type': 'application/json' });
}

/** POST pods/<name>/eviction with a policy/v1 (or v1beta1) Eviction: evict the pod if its disruption budget allows. */
async function handleEviction(c: Context, deps: Deps, scope: Scope, method: string): Promise<Response> {
  if (method !== 'POST') throw errors.methodNotAllowed();
  const eviction = await readEvictionBody(c);
  const status = await new EvictionREST(deps.rest, deps.registry).evict(scope.namespace!, scope.name!, eviction, dryRun(c) ? ['All'] : []);
  return c.body(JSON.stringify(status), 201, { 'Content-Type': 'application/json' });
}

/** POST serviceaccounts/<name>/token with an authentication.k8s.io/v1 TokenRequest: issue a token. */
async function handleTokenRequest(c: Context, deps: Deps, scope: Scope, method: string): Promise<Response> {
  if (method !== 'POST') throw errors.methodNotAllowed();
  const type = mediaType(c.req.header('content-type'));
  let body: unknown;
  if (type === 'application/vnd.kubernetes.protobuf') {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    try {
      const decoded = decodeKubernetesProtobuf(bytes, (av, kind) => (kind === 'TokenRequest' && av === 'authentication.k8s.io/v1' ? TokenRequestSchema : undefined));
      body = { apiVersion: decoded.apiVersion, kind: decoded.kind, ...decoded.object };
    } catch (e) {
      throw errors.badRequest(e instanceof Error ? e.message : String(e));
    }
  } else if (type === 'application/json' || type === '' || type === 'application/yaml') {
    body = decodeTextBody(await readText(c), type === 'application/yaml' ? 'yaml' : 'json', 'TokenRequest');
  } else {
    throw errors.unsupportedMediaType(OBJECT_MEDIA_TYPES);
  }
  dryRun(c);
  const issued = await createTokenRequest(deps, scope.namespace!, scope.name!, body);
  if (negotiate(c.req.header('accept')) === 'yaml') return c.body(toYaml(issued), 201, { 'Content-Type': 'application/yaml' });
  return c.body(JSON.stringify(issued), 201, { 'Content-Type': 'application/json' });
}

const EVICTION_VERSIONS = ['policy/v1', 'policy/v1beta1'];

async function readEvictionBody(c: Context): Promise<Eviction> {
  const type = mediaType(c.req.header('content-type'));
  let body: unknown;
  if (type === 'application/vnd.kubernetes.protobuf') {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    try {
      const decoded = decodeKubernetesProtobuf(bytes, (av, kind) => (kind === 'Eviction' && EVICTION_VERSIONS.includes(av) ? EvictionSchema : undefined)).object;
      const deleteOptions = fieldBytes(protobufRaw(bytes)!, 2);
      body = deleteOptions ? { ...decoded, deleteOptions: decodeDeleteOptionsMessage(deleteOptions) } : decoded;
    } catch (e) {
      throw errors.badRequest(e instanceof Error ? e.message : String(e));
    }
  } else if (type === 'application/json' || type === '' || type === 'application/yaml') {
    body = decodeTextBody(await readText(c), type === 'application/yaml' ? 'yaml' : 'json', 'Eviction');
  } else {
    throw errors.unsupportedMediaType(OBJECT_MEDIA_TYPES);
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('the object provided is unrecognized (must be of type Eviction)');
  const { apiVersion, kind } = body as { apiVersion?: unknown; kind?: unknown };
  if (apiVersion !== undefined && !EVICTION_VERSIONS.includes(String(apiVersion))) {
    throw errors.badRequest(`the API version in the data (${String(apiVersion)}) does not match the expected API version (policy/v1)`);
  }
  if (kind !== undefined && kind !== 'Eviction') throw errors.badRequest(`the object provided is unrecognized (must be of type Eviction): kind ${JSON.stringify(kind)}`);
  return body as Eviction;
}

function setPath(path: string, value: unknown): Record<string, unknown> {
  const parts = path.split('.');
  const root: Record<string, unknown> = {};
  let cur = root;
  for (let i = 0; i < parts.length - 1; i++) cur = cur[parts[i]] = {} as Record<string, unknown>;
  cur[parts[parts.length - 1]] = value;
  return root;
}
