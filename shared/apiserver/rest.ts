// The generic REST storage: one implementation of create/get/list/update/patch/delete/watch for
// every kind, driven by its KindDef (Kubernetes' generic registry + per-kind strategy).
// Transport-free: the HTTP layer (functions/apiserver) decodes requests and encodes responses.
import type { KindDef, KubeObject } from '../api/kind.js';
import type { FieldError } from '../api/schema/dsl.js';
import { applyDefaults } from '../api/schema/defaults.js';
import { validateAgainstSchema } from '../api/schema/validate.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../api/validation/meta.js';
import { trackUpdate } from '../api/apply/managed-fields.js';
import { serverSideApply } from '../api/apply/apply.js';
import { applyJsonPatch } from '../api/patch/json.js';
import { applyMergePatch } from '../api/patch/merge.js';
import { applyStrategicMergePatch } from '../api/patch/strategic.js';
import { PatchError } from '../api/patch/errors.js';
import { StoreError, type KeyValue, type Store, type WatchEvent } from '../store/contract.js';
import { ApiError, errors, successStatus, type Status } from './errors.js';
import { collectionPrefix, objectKey } from './keys.js';
import { decodeFromStore, encodeForStore } from './codec.js';
import { bumpGenerationIfSpecChanged, carryOverMetadata, clone, deepEqual, initCreateMetadata, rfc3339 } from './metadata.js';
import { checkBodyStructure, type FieldValidation } from './structure.js';
import { compileSelectors, type CompiledSelectors } from './selection.js';
import { continueToken, parseContinueToken } from './continue.js';
import type { NamespaceLifecycle } from './namespace-lifecycle.js';
import { planDeletion, shouldDeleteDuringUpdate, validateDeleteOptions, type DeleteOptions } from './deletion.js';
import { Admission } from './admission.js';

export type { DeleteOptions } from './deletion.js';

export interface Scope {
  def: KindDef;
  /** Namespace from the URL (absent for cluster-scoped kinds and all-namespace lists). */
  namespace?: string;
  name?: string;
  subresource?: 'status' | 'scale' | 'binding' | 'eviction';
}

export interface WriteOptions {
  dryRun: boolean;
  fieldManager?: string;
  /** Fallback manager name: the user agent's program name, as Kubernetes derives it. */
  userAgentManager: string;
  fieldValidation: FieldValidation;
}

export interface WriteResult {
  object: KubeObject;
  warnings: string[];
  created: boolean;
}

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListPage {
  items: KeyValue[];
  /** Parsed objects, present when selection required parsing (reuse them instead of re-parsing). */
  parsed?: Map<KeyValue, KubeObject>;
  rev: number;
  continue?: string;
  remainingItemCount?: number;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export interface WatchQuery {
  resourceVersion?: string;
  labelSelector?: string;
  fieldSelector?: string;
  allowWatchBookmarks: boolean;
}

export interface WatchSink {
  event(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject): void;
  bookmark(rev: number): void;
  error(status: Status): void;
}

const MAX_CONFLICT_RETRIES = 16;

/**
 * Storage extensions of one kind, like kube-apiserver's per-resource REST wrappers: allocate
 * before a write (returning an undo for when the write fails) and release after one.
 */
export interface StorageHooks {
  beforeWrite?(obj: KubeObject, old: KubeObject | undefined, dryRun: boolean): Promise<() => Promise<void>>;
  /** `obj` is undefined when the object was deleted. */
  afterWrite?(old: KubeObject, obj: KubeObject | undefined): Promise<void>;
}

export const hooksKey = (def: Pick<KindDef, 'group' | 'plural'>) => `${def.group}/${def.plural}`;

export class RestStorage {
  private readonly admission: Admission;

  constructor(
    private readonly store: Store,
    private readonly namespaces: NamespaceLifecycle,
    private readonly hooks: ReadonlyMap<string, StorageHooks> = new Map(),
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.admission = new Admission(store);
  }

  // ---- reads ---------------------------------------------------------------------------------

  async get(scope: Scope): Promise<KubeObject> {
    const kv = await this.store.get(objectKey(scope.def, scope.namespace, scope.name!));
    if (!kv) throw errors.notFound(resourceName(scope.def), scope.name!);
    return decodeFromStore(kv);
  }

  async getRaw(scope: Scope): Promise<KeyValue> {
    const kv = await this.store.get(objectKey(scope.def, scope.namespace, scope.name!));
    if (!kv) throw errors.notFound(resourceName(scope.def), scope.name!);
    return kv;
  }

  async list(scope: Scope, q: ListQuery): Promise<ListPage> {
    const selectors = compileSelectors(scope.def, q.labelSelector, q.fieldSelector);
    const prefix = collectionPrefix(scope.def, scope.namespace);
    let rev: number | undefined;
    let startAfter: string | undefined;
    if (q.continue) {
      const token = parseContinueToken(q.continue, prefix);
      rev = token.rev;
      startAfter = token.startAfter;
    } else if (q.resourceVersion && q.resourceVersion !== '0') {
      const wanted = parseResourceVersion(q.resourceVersion);
      if (q.resourceVersionMatch === 'Exact') rev = wanted;
      else {
        const current = await this.store.currentRev();
        if (wanted > current) throw errors.timeout(`Too large resource version: ${wanted}, current: ${current}`);
      }
    }
    const parsed = selectors.needsObject ? new Map<KeyValue, KubeObject>() : undefined;
    const filter = selectors.matchAll
      ? undefined
      : (kv: KeyValue) => {
          const obj = decodeFromStore(kv);
          if (!selectors.matches(obj)) return false;
          parsed?.set(kv, obj);
          return true;
        };
    try {
      const limit = q.limit && q.limit > 0 ? q.limit : undefined;
      const res = await this.store.list({ prefix, limit, startAfter, rev, filter });
      const page: ListPage = { items: res.items, rev: res.rev, parsed };
      if (res.more && res.items.length) page.continue = continueToken(res.rev, res.items[res.items.length - 1].key);
      return page;
    } catch (e) {
      throw translateStoreError(e, scope, q.continue !== undefined);
    }
  }

  // ---- create / update ----------------------------------------------------------------------

  async create(scope: Scope, body: unknown, raw: string | undefined, opts: WriteOptions): Promise<WriteResult> {
    const { def } = scope;
    const warnings: string[] = [];
    const obj = this.coerceBody(scope, body, raw, opts, warnings);
    if (obj.metadata.resourceVersion) throw errors.badRequest('resourceVersion should not be set on objects to be created');
    await this.admission.admitCreate(scope, obj);
    const now = this.clock();
    initCreateMetadata(def, obj, now);
    def.prepareForCreate?.(obj);
    applyDefaults(obj, def.schema);
    this.validate(scope, obj, undefined);
    setManagedFields(obj, trackUpdate({ updated: obj, manager: this.manager(opts), apiVersion: apiVersion(def), schema: def.schema, now: rfc3339(now), ignoredFields: ignoredFields(scope) }));
    try {
      await this.storeNew(def, obj, opts.dryRun);
      return { object: obj, warnings, created: true };
    } catch (e) {
      throw translateStoreError(e, { ...scope, name: obj.metadata.name });
    }
  }

  /** Admission, allocation hooks and the create-if-absent write of a new object (skipped for dryRun). */
  private async storeNew(def: KindDef, obj: KubeObject, dryRun: boolean): Promise<void> {
    if (def.namespaced) await this.namespaces.admitCreate(def, obj);
    const hooks = this.hooks.get(hooksKey(def));
    const key = objectKey(def, obj.metadata.namespace, obj.metadata.name!);
    // An existing object is AlreadyExists, not a clash over what it already holds.
    if (hooks?.beforeWrite && (await this.store.get(key))) throw new StoreError('AlreadyExists', key);
    const undo = hooks?.beforeWrite ? await hooks.beforeWrite(obj, undefined, dryRun) : undefined;
    if (dryRun) return;
    try {
      const kv = await this.store.create(key, encodeForStore(obj));
      obj.metadata.resourceVersion = String(kv.rev);
    } catch (e) {
      await undo?.();
      throw e;
    }
  }

  /** The conditional update of an existing object, with the kind's allocation hooks. */
  private async storeUpdate(def: KindDef, kv: KeyValue, current: KubeObject, next: KubeObject): Promise<void> {
    const hooks = this.hooks.get(hooksKey(def));
    const undo = hooks?.beforeWrite ? await hooks.beforeWrite(next, current, false) : undefined;
    try {
      const written = await this.store.update(kv.key, encodeForStore(next), kv.rev);
      next.metadata.resourceVersion = String(written.rev);
    } catch (e) {
      await undo?.();
      throw e;
    }
    await hooks?.afterWrite?.(current, next);
  }

  /** The conditional delete of an object, releasing what it held. */
  private async storeDelete(def: KindDef, kv: KeyValue, current: KubeObject): Promise<number> {
    const { rev } = await this.store.delete(kv.key, kv.rev);
    await this.hooks.get(hooksKey(def))?.afterWrite?.(current, undefined);
    return rev;
  }

  /** PUT: replace the object (or its status) with the body; honours metadata.resourceVersion as a precondition. */
  async update(scope: Scope, body: unknown, raw: string | undefined, opts: WriteOptions): Promise<WriteResult> {
    const warnings: string[] = [];
    const incoming = this.coerceBody(scope, body, raw, opts, warnings);
    if (incoming.metadata.name !== scope.name) {
      throw errors.badRequest(`the name of the object (${incoming.metadata.name ?? ''}) does not match the name on the URL (${scope.name})`);
    }
    const precondition = incoming.metadata.resourceVersion ? parseResourceVersion(incoming.metadata.resourceVersion, true) : undefined;
    return this.guaranteedUpdate(scope, opts, warnings, precondition, () => clone(incoming));
  }

  async patch(scope: Scope, type: PatchType, patch: unknown, opts: WriteOptions & { force: boolean }): Promise<WriteResult> {
    const { def } = scope;
    const warnings: string[] = [];
    if (type === 'apply') return this.apply(scope, patch, opts, warnings);
    const precondition = patchPrecondition(patch);
    return this.guaranteedUpdate(scope, opts, warnings, precondition, (current) => {
      const original = clone(current);
      let patched: unknown;
      try {
        if (type === 'json') patched = applyJsonPatch(original, patch);
        else if (type === 'merge') patched = applyMergePatch(original, patch);
        else patched = applyStrategicMergePatch(original, patch, def.schema);
      } catch (e) {
        throw patchErrorToApi(e);
      }
      return this.coerceBody(scope, patched, undefined, opts, warnings);
    });
  }

  private async apply(scope: Scope, patch: unknown, opts: WriteOptions & { force: boolean }, warnings: string[]): Promise<WriteResult> {
    const { def } = scope;
    if (!opts.fieldManager) throw errors.badRequest('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    const applied = this.coerceBody(scope, patch, undefined, opts, warnings);
    if (applied.metadata.name !== scope.name) {
      throw errors.badRequest(`the name of the object (${applied.metadata.name ?? ''}) does not match the name on the URL (${scope.name})`);
    }
    for (let attempt = 0; ; attempt++) {
      const key = objectKey(def, scope.namespace, scope.name!);
      const kv = await this.store.get(key);
      const now = this.clock();
      if (!kv) {
        if (scope.subresource) throw errors.notFound(resourceName(def), scope.name!);
        const obj = this.serverSideApply(scope, undefined, applied, opts, now);
        await this.admission.admitCreate(scope, obj);
        initCreateMetadata(def, obj, now);
        def.prepareForCreate?.(obj);
        applyDefaults(obj, def.schema);
        this.validate(scope, obj, undefined);
        try {
          await this.storeNew(def, obj, opts.dryRun);
          return { object: obj, warnings, created: true };
        } catch (e) {
          if (e instanceof StoreError && e.code === 'AlreadyExists' && attempt < MAX_CONFLICT_RETRIES) continue;
          throw translateStoreError(e, scope);
        }
      }
      const current = decodeFromStore(kv);
      const merged = this.serverSideApply(scope, current, applied, opts, now);
      try {
        return await this.finishUpdate(scope, opts, warnings, kv, current, merged, now, false);
      } catch (e) {
        if (e instanceof StoreError && e.code === 'Conflict' && attempt < MAX_CONFLICT_RETRIES) continue;
        throw translateStoreError(e, scope);
      }
    }
  }

  private serverSideApply(scope: Scope, live: KubeObject | undefined, applied: KubeObject, opts: WriteOptions & { force: boolean }, now: Date): KubeObject {
    try {
      return serverSideApply({
        live,
        applied,
        manager: opts.fieldManager!,
        force: opts.force,
        apiVersion: apiVersion(scope.def),
        schema: scope.def.schema,
        now: rfc3339(now),
        kind: scope.def.kind,
        subresource: scope.subresource,
        ignoredFields: ignoredFields(scope),
      });
    } catch (e) {
      throw patchErrorToApi(e);
    }
  }

  /**
   * Read-modify-write with optimistic concurrency: `mutate` computes the new object from the
   * current one; on a revision conflict we re-read and retry unless the caller pinned a revision.
   */
  private async guaranteedUpdate(
    scope: Scope,
    opts: WriteOptions,
    warnings: string[],
    precondition: number | undefined,
    mutate: (current: KubeObject) => KubeObject,
  ): Promise<WriteResult> {
    const key = objectKey(scope.def, scope.namespace, scope.name!);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) throw errors.notFound(resourceName(scope.def), scope.name!);
      if (precondition !== undefined && precondition !== kv.rev) throw errors.conflict(resourceName(scope.def), scope.name!);
      const current = decodeFromStore(kv);
      const next = mutate(current);
      try {
        return await this.finishUpdate(scope, opts, warnings, kv, current, next, this.clock(), true);
      } catch (e) {
        if (e instanceof StoreError && e.code === 'Conflict' && precondition === undefined && attempt < MAX_CONFLICT_RETRIES) continue;
        throw translateStoreError(e, scope);
      }
    }
  }

  private async finishUpdate(
    scope: Scope,
    opts: WriteOptions,
    warnings: string[],
    kv: KeyValue,
    current: KubeObject,
    incoming: KubeObject,
    now: Date,
    trackManagedFields: boolean,
  ): Promise<WriteResult> {
    const { def } = scope;
    let next: KubeObject;
    if (scope.subresource === 'status') {
      // The status subresource changes status only (and nothing in spec or metadata).
      next = clone(current);
      for (const f of def.statusFields) {
        if (incoming[f] === undefined) delete next[f];
        else next[f] = incoming[f];
      }
      next.metadata.managedFields = incoming.metadata.managedFields ?? current.metadata.managedFields;
    } else {
      next = incoming;
      next.metadata.namespace = current.metadata.namespace;
      carryOverMetadata(def, next, current);
      for (const f of def.statusFields) {
        if (current[f] === undefined) delete next[f];
        else next[f] = clone(current[f]);
      }
      await this.admission.admitUpdate(scope, next, current);
      def.prepareForUpdate?.(next, current);
      applyDefaults(next, def.schema);
      bumpGenerationIfSpecChanged(def, next, current);
    }
    next.metadata.resourceVersion = current.metadata.resourceVersion;
    this.validate(scope, next, current);
    if (trackManagedFields) {
      setManagedFields(
        next,
        trackUpdate({
          live: current,
          updated: next,
          manager: this.manager(opts),
          apiVersion: apiVersion(def),
          schema: def.schema,
          now: rfc3339(now),
          subresource: scope.subresource,
          ignoredFields: ignoredFields(scope),
        }),
      );
    }
    // An object being deleted whose last finalizer was just removed is deleted now.
    const finalizing = shouldDeleteDuringUpdate(def, next, current);
    if (deepEqual(next, current) && !finalizing) return { object: current, warnings, created: false };
    if (opts.dryRun) {
      if (!finalizing) await this.hooks.get(hooksKey(def))?.beforeWrite?.(next, current, true);
      return { object: next, warnings, created: false };
    }
    if (finalizing) await this.storeDelete(def, kv, current);
    else await this.storeUpdate(def, kv, current, next);
    return { object: next, warnings, created: false };
  }

  // ---- delete -------------------------------------------------------------------------------

  /**
   * Returns the object as deleted (or as marked for deletion), whether it is gone, and the
   * revision of the write (0 if none). Follows kube-apiserver's generic registry: see deletion.ts.
   */
  async delete(scope: Scope, options: DeleteOptions, dryRun: boolean): Promise<{ object: KubeObject; gone: boolean; rev: number }> {
    const { def } = scope;
    const key = objectKey(def, scope.namespace, scope.name!);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) throw errors.notFound(resourceName(def), scope.name!);
      validateDeleteOptions(options);
      const current = decodeFromStore(kv);
      checkDeletePreconditions(scope, current, options);
      const plan = planDeletion(def, current, options, this.clock());
      try {
        if (plan.action === 'pending') return { object: current, gone: false, rev: 0 };
        if (plan.action === 'delete') {
          if (dryRun) return { object: current, gone: true, rev: 0 };
          return { object: current, gone: true, rev: await this.storeDelete(def, kv, current) };
        }
        const marked = plan.object;
        if (dryRun) return { object: marked, gone: plan.thenDelete, rev: 0 };
        if (!plan.thenDelete && deepEqual(marked, current)) return { object: current, gone: false, rev: 0 };
        const written = await this.store.update(key, encodeForStore(marked), kv.rev);
        marked.metadata.resourceVersion = String(written.rev);
        if (def.group === '' && def.plural === 'namespaces') this.namespaces.startFinalizing(marked.metadata.name!);
        if (!plan.thenDelete) return { object: marked, gone: false, rev: written.rev };
        return { object: marked, gone: true, rev: await this.deleteMarked(def, written, marked) };
      } catch (e) {
        if (e instanceof StoreError && e.code === 'Conflict' && attempt < MAX_CONFLICT_RETRIES) continue;
        throw translateStoreError(e, scope);
      }
    }
  }

  /** Remove an object just marked with a grace period of 0; someone else removing it first is fine. */
  private async deleteMarked(def: KindDef, written: KeyValue, marked: KubeObject): Promise<number> {
    try {
      return await this.storeDelete(def, written, marked);
    } catch (e) {
      if (e instanceof StoreError && e.code === 'NotFound') return written.rev;
      throw e;
    }
  }

  async deleteCollection(scope: Scope, q: ListQuery, options: DeleteOptions, dryRun: boolean): Promise<KubeObject[]> {
    const page = await this.list(scope, { labelSelector: q.labelSelector, fieldSelector: q.fieldSelector });
    const deleted: KubeObject[] = [];
    for (const kv of page.items) {
      const obj = page.parsed?.get(kv) ?? decodeFromStore(kv);
      try {
        const res = await this.delete({ ...scope, namespace: obj.metadata.namespace, name: obj.metadata.name }, options, dryRun);
        deleted.push(res.object);
      } catch (e) {
        if (e instanceof ApiError && e.code === 404) continue;
        throw e;
      }
    }
    return deleted;
  }

  // ---- watch --------------------------------------------------------------------------------

  /** Start a watch; returns a function that stops it. */
  async watch(scope: Scope, q: WatchQuery, sink: WatchSink): Promise<() => void> {
    const selectors = compileSelectors(scope.def, q.labelSelector, q.fieldSelector);
    const prefix = collectionPrefix(scope.def, scope.namespace);
    let afterRev: number;
    if (!q.resourceVersion || q.resourceVersion === '0') {
      // "Start at most recent": current state as synthetic ADDED events, then changes.
      const res = await this.store.list({ prefix });
      for (const kv of res.items) {
        const obj = decodeFromStore(kv);
        if (selectors.matches(obj)) sink.event('ADDED', obj);
      }
      afterRev = res.rev;
    } else {
      afterRev = parseResourceVersion(q.resourceVersion);
    }
    const deliver = (events: WatchEvent[]) => {
      for (const ev of events) deliverWatchEvent(ev, selectors, sink);
    };
    try {
      const w = this.store.watch({
        prefix,
        afterRev,
        onEvents: deliver,
        onError: (err) => sink.error(watchErrorStatus(err, afterRev)),
        onProgress: q.allowWatchBookmarks ? (rev) => sink.bookmark(rev) : undefined,
      });
      return () => w.close();
    } catch (e) {
      if (e instanceof StoreError) {
        sink.error(watchErrorStatus(e, afterRev));
        return () => {};
      }
      throw e;
    }
  }

  // ---- shared steps -------------------------------------------------------------------------

  /** Check the body is an object of this kind, strip unknown fields (per fieldValidation), fill namespace. */
  private coerceBody(scope: Scope, body: unknown, raw: string | undefined, opts: WriteOptions, warnings: string[]): KubeObject {
    const { def } = scope;
    if (scope.subresource === 'scale') throw errors.methodNotAllowed();
    const obj = checkBodyStructure(def, body, raw, opts.fieldValidation, warnings);
    const urlNs = scope.namespace;
    if (def.namespaced) {
      if (obj.metadata.namespace && urlNs && obj.metadata.namespace !== urlNs) {
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      if (urlNs) obj.metadata.namespace = urlNs;
    } else {
      delete obj.metadata.namespace;
    }
    return obj;
  }

  private validate(scope: Scope, obj: KubeObject, old: KubeObject | undefined): void {
    const { def } = scope;
    const errs: FieldError[] = [];
    errs.push(...validateObjectMeta(obj.metadata, { namespaced: def.namespaced, nameRule: def.nameRule, isCreate: !old }));
    if (old) errs.push(...validateObjectMetaUpdate(obj.metadata, old.metadata));
    if (!errs.length) {
      errs.push(...validateAgainstSchema(obj, def.schema, ''));
      if (def.validate) errs.push(...def.validate(obj, old));
    }
    if (errs.length) throw errors.invalid(def.group, def.kind, obj.metadata.name ?? obj.metadata.generateName ?? '', errs);
  }

  private manager(opts: WriteOptions): string {
    return opts.fieldManager || opts.userAgentManager;
  }
}

// ---- helpers --------------------------------------------------------------------------------

export const resourceName = (def: KindDef) => ({ group: def.group, resource: def.plural });
export const apiVersion = (def: KindDef) => (def.group ? `${def.group}/${def.version}` : def.version);

export function parseResourceVersion(rv: string, forUpdate = false): number {
  const n = Number(rv);
  if (!/^\d+$/.test(rv) || !Number.isSafeInteger(n)) {
    if (forUpdate) throw errors.badRequest(`metadata.resourceVersion: Invalid value: "${rv}": must be a valid resource version`);
    throw errors.badRequest(`invalid resource version: ${rv}`);
  }
  return n;
}

function patchPrecondition(patch: unknown): number | undefined {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return undefined;
  const rv = (patch as { metadata?: { resourceVersion?: unknown } }).metadata?.resourceVersion;
  return typeof rv === 'string' && rv !== '' ? parseResourceVersion(rv, true) : undefined;
}

function checkDeletePreconditions(scope: Scope, current: KubeObject, options: DeleteOptions): void {
  const pre = options.preconditions;
  if (pre?.uid && pre.uid !== current.metadata.uid) {
    throw errors.conflict(resourceName(scope.def), scope.name!, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
  }
  if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
    throw errors.conflict(
      resourceName(scope.def),
      scope.name!,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
    );
  }
}

/**
 * The store hands every watcher of a prefix the same event objects, so each stored value is parsed
 * once per change, not once per watcher. Sinks only read what they are given.
 */
const parsedForWatchers = new WeakMap<KeyValue, KubeObject>();
function decodeShared(kv: KeyValue): KubeObject {
  let obj = parsedForWatchers.get(kv);
  if (!obj) parsedForWatchers.set(kv, (obj = decodeFromStore(kv)));
  return obj;
}

function deliverWatchEvent(ev: WatchEvent, selectors: CompiledSelectors, sink: WatchSink): void {
  if (selectors.matchAll) {
    sink.event(ev.type === 'DELETE' ? 'DELETED' : ev.created ? 'ADDED' : 'MODIFIED', decodeShared(ev.kv));
    return;
  }
  const now = decodeShared(ev.kv);
  if (ev.type === 'DELETE') {
    if (selectors.matches(now)) sink.event('DELETED', now);
    return;
  }
  const matchesNow = selectors.matches(now);
  const matchedBefore = ev.prev ? selectors.matches(decodeShared(ev.prev)) : false;
  if (matchesNow && matchedBefore) sink.event('MODIFIED', now);
  else if (matchesNow) sink.event('ADDED', now);
  else if (matchedBefore) sink.event('DELETED', now);
}

function watchErrorStatus(err: StoreError, afterRev: number): Status {
  if (err.code === 'Expired') return errors.expired(`too old resource version: ${afterRev} (${err.message.match(/\d+/g)?.pop() ?? afterRev})`).status;
  return errors.internal(err.message).status;
}

export function translateStoreError(e: unknown, scope: Scope, fromContinue = false): unknown {
  if (!(e instanceof StoreError)) return e;
  const r = resourceName(scope.def);
  switch (e.code) {
    case 'NotFound':
      return errors.notFound(r, scope.name ?? '');
    case 'AlreadyExists':
      return errors.alreadyExists(r, scope.name ?? '');
    case 'Conflict':
      return errors.conflict(r, scope.name ?? '');
    case 'Expired':
      return fromContinue
        ? errors.expired(
            'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
          )
        : errors.expired(`too old resource version: ${e.message}`);
    case 'TooLarge':
      return errors.timeout(`Too large resource version: ${e.message}`);
    default:
      return errors.internal(e.message);
  }
}

function patchErrorToApi(e: unknown): unknown {
  if (e instanceof ApiError) return e;
  if (e instanceof PatchError) {
    const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: e.message } as Status;
    if (e.reason) status.reason = e.reason;
    if (e.causes?.length) status.details = { causes: e.causes.map((c) => (c.field ? c : { reason: c.reason, message: c.message })) };
    status.code = e.code;
    return new ApiError(status);
  }
  return e;
}

/** Fields a write through this endpoint does not own: status for the main resource, the rest for /status. */
function ignoredFields(scope: Scope): string[] {
  const { def } = scope;
  if (scope.subresource === 'status') return Object.keys(def.schema.fields).filter((f) => !def.statusFields.includes(f) && f !== 'metadata' && f !== 'apiVersion' && f !== 'kind');
  return def.statusFields;
}

/** An empty managedFields list means "track nothing": drop the field. */
function setManagedFields(obj: KubeObject, entries: KubeObject['metadata']['managedFields']): void {
  if (entries && entries.length) obj.metadata.managedFields = entries;
  else delete obj.metadata.managedFields;
}

export { successStatus };
