// The garbage collector's view of the served kinds: which resources it watches for owner
// references, and where the owner named by an ownerReference (apiVersion + kind) lives.
import type { KindDef } from '../../api/kind.js';
import type { Registry } from '../../api/registry.js';
import type { Resource } from '../runtime/types.js';

export interface GcKind {
  resource: Resource;
  group: string;
  kind: string;
  namespaced: boolean;
}

/**
 * Resources left out of collection: Events are never owned, and node Leases are rewritten every
 * few seconds per node (watching them would cost far more than the rare orphaned Lease).
 */
const NOT_COLLECTED = new Set<Resource>(['core/events', 'events.k8s.io/events', 'coordination.k8s.io/leases']);

const resourceOf = (def: KindDef): Resource => `${def.group || 'core'}/${def.plural}`;

/** The group of an apiVersion ("apps/v1" -> "apps", "v1" -> ""). */
export const groupOfApiVersion = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');

export class GcKinds {
  /** Every served resource once (its first registered version). */
  readonly all: GcKind[] = [];
  /** The resources whose objects are collected (and so cached and reconciled). */
  readonly collected: GcKind[];
  private readonly byGroupKind = new Map<string, GcKind>();

  constructor(registry: Registry) {
    const seen = new Set<Resource>();
    for (const def of registry.kinds) {
      const resource = resourceOf(def);
      if (seen.has(resource)) continue;
      seen.add(resource);
      const k: GcKind = { resource, group: def.group, kind: def.kind, namespaced: def.namespaced };
      this.all.push(k);
      if (!this.byGroupKind.has(`${def.group}/${def.kind}`)) this.byGroupKind.set(`${def.group}/${def.kind}`, k);
    }
    this.collected = this.all.filter((k) => !NOT_COLLECTED.has(k.resource));
  }

  /** The kind an ownerReference names, matched by group and kind (any served version). */
  ofOwner(apiVersion: string, kind: string): GcKind | undefined {
    return this.byGroupKind.get(`${groupOfApiVersion(apiVersion)}/${kind}`);
  }

  isCollected(resource: Resource): boolean {
    return this.collected.some((k) => k.resource === resource);
  }
}
