// The write side controllers use: calls into the API server's RestStorage in the same process, so
// controller writes get the same defaulting, validation, admission and managedFields as kubectl's.
// It remembers the newest revision it wrote, so the driver can let the cache catch up before the
// next reconcile reads (read-your-writes without client-go's "expectations" bookkeeping).
import type { KindDef, KubeObject } from '../../api/kind.js';
import type { Registry } from '../../api/registry.js';
import { ApiError } from '../../apiserver/errors.js';
import type { DeleteOptions, RestStorage, Scope, WriteOptions } from '../../apiserver/rest.js';
import { clone } from '../../apiserver/metadata.js';
import type { Resource } from './types.js';
import { bindPod } from '../../apiserver/binding.js';
import type { Store } from '../../store/contract.js';

export type ClientPatchType = 'json' | 'merge' | 'strategic';

export interface ApiClient {
  create(resource: Resource, obj: KubeObject): Promise<KubeObject>;
  /** PUT; conflicts (409) when obj.metadata.resourceVersion is stale. */
  update(resource: Resource, obj: KubeObject): Promise<KubeObject>;
  /** PUT on the status subresource. */
  updateStatus(resource: Resource, obj: KubeObject): Promise<KubeObject>;
  patch(resource: Resource, namespace: string | undefined, name: string, type: ClientPatchType, patch: unknown, opts?: { subresource?: 'status' }): Promise<KubeObject>;
  /** Returns the object as deleted or marked for deletion; undefined when it was already gone. */
  delete(resource: Resource, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<KubeObject | undefined>;
  /** POST pods/<name>/binding: assign an unbound pod to a node (409 when already bound). */
  bind(namespace: string, name: string, nodeName: string, uid?: string): Promise<KubeObject>;
  /** The newest revision this client wrote. */
  readonly lastWriteRev: number;
}

export const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.code === 404;
export const isConflict = (e: unknown): boolean => e instanceof ApiError && e.code === 409 && e.status.reason === 'Conflict';
export const isAlreadyExists = (e: unknown): boolean => e instanceof ApiError && e.code === 409 && e.status.reason === 'AlreadyExists';

/** KindDefs by store resource name ("core/pods"): the served version of each group/plural. */
export function kindsByResource(registry: Registry): Map<Resource, KindDef> {
  const map = new Map<Resource, KindDef>();
  for (const def of registry.kinds) {
    const r = `${def.group || 'core'}/${def.plural}`;
    if (!map.has(r)) map.set(r, def);
  }
  return map;
}

export class RestClient implements ApiClient {
  private readonly defs: Map<Resource, KindDef>;
  private rev = 0;

  constructor(
    private readonly rest: RestStorage,
    registry: Registry,
    private readonly store: Store,
    /** Field manager of this client's writes, as kube-controller-manager or kube-scheduler name theirs. */
    private readonly manager = 'kube-controller-manager',
  ) {
    this.defs = kindsByResource(registry);
  }

  get lastWriteRev(): number {
    return this.rev;
  }

  def(resource: Resource): KindDef {
    const def = this.defs.get(resource);
    if (!def) throw new Error(`unknown resource ${resource}`);
    return def;
  }

  async create(resource: Resource, obj: KubeObject): Promise<KubeObject> {
    const def = this.def(resource);
    const body = this.withType(def, obj);
    const res = await this.rest.create(this.scope(def, body.metadata.namespace), body, undefined, this.opts());
    return this.written(res.object);
  }

  async update(resource: Resource, obj: KubeObject): Promise<KubeObject> {
    const def = this.def(resource);
    const body = this.withType(def, obj);
    const res = await this.rest.update(this.scope(def, body.metadata.namespace, body.metadata.name), body, undefined, this.opts());
    return this.written(res.object);
  }

  async updateStatus(resource: Resource, obj: KubeObject): Promise<KubeObject> {
    const def = this.def(resource);
    const body = this.withType(def, obj);
    const res = await this.rest.update({ ...this.scope(def, body.metadata.namespace, body.metadata.name), subresource: 'status' }, body, undefined, this.opts());
    return this.written(res.object);
  }

  async patch(resource: Resource, namespace: string | undefined, name: string, type: ClientPatchType, patch: unknown, opts: { subresource?: 'status' } = {}): Promise<KubeObject> {
    const def = this.def(resource);
    const scope = { ...this.scope(def, namespace, name), ...(opts.subresource ? { subresource: opts.subresource } : {}) };
    const res = await this.rest.patch(scope, type, clone(patch as KubeObject), { ...this.opts(), force: false });
    return this.written(res.object);
  }

  async delete(resource: Resource, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<KubeObject | undefined> {
    const def = this.def(resource);
    try {
      const res = await this.rest.delete(this.scope(def, namespace, name), opts, false);
      if (res.rev > this.rev) this.rev = res.rev;
      return res.object;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async bind(namespace: string, name: string, nodeName: string, uid?: string): Promise<KubeObject> {
    return this.written(await bindPod(this.store, namespace, name, { nodeName, ...(uid ? { uid } : {}) }));
  }

  private scope(def: KindDef, namespace: string | undefined, name?: string): Scope {
    return { def, ...(def.namespaced ? { namespace } : {}), ...(name !== undefined ? { name } : {}) };
  }

  private withType(def: KindDef, obj: KubeObject): KubeObject {
    const body = clone(obj);
    body.apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
    body.kind = def.kind;
    return body;
  }

  private opts(): WriteOptions {
    return { dryRun: false, fieldManager: this.manager, userAgentManager: this.manager, fieldValidation: 'Ignore' };
  }

  private written(obj: KubeObject): KubeObject {
    const rev = Number(obj.metadata.resourceVersion);
    if (rev > this.rev) this.rev = rev;
    return obj;
  }
}
