// Which controllers a store change wakes, with the in-process manager's rules
// (shared/controllers/manager.ts): a change of a controller's primary resource reconciles that
// object; a change of a watched resource reconciles whatever the watch maps the new and the old
// object onto.
import type { KubeObject } from '../../shared/api/kind.js';
import type { ObjectReader } from '../../shared/controllers/runtime/reader.js';
import type { ControllerDef, ObjectRef, Resource } from '../../shared/controllers/runtime/types.js';

/** Resources whose changes wake at least one of `controllers` (primaries and watched), sorted. */
export function wakeResources(controllers: readonly ControllerDef[]): string[] {
  const set = new Set<Resource>();
  for (const c of controllers) {
    for (const r of c.resources) set.add(r);
    for (const w of c.watches ?? []) set.add(w.resource);
  }
  return [...set].sort();
}

/** True when some controller watches `resource` (so its objects are needed to route a change). */
export function isWatched(controllers: readonly ControllerDef[], resource: Resource): boolean {
  return controllers.some((c) => c.watches?.some((w) => w.resource === resource));
}

export interface WorkTarget {
  controller: string;
  ref: ObjectRef;
}

export interface MappingFailure {
  controller: string;
  err: unknown;
}

/**
 * The (controller, object) pairs a change of `ref` wakes. `objects` are the changed object's
 * states to map (the new and the old one; the last one for a deletion); mapping errors are
 * collected, not thrown, so one broken watch does not hide the others' work.
 */
export async function targetsOfChange(
  controllers: readonly ControllerDef[],
  ref: ObjectRef,
  objects: readonly KubeObject[],
  reader: ObjectReader,
): Promise<{ targets: WorkTarget[]; failures: MappingFailure[] }> {
  const targets: WorkTarget[] = [];
  const failures: MappingFailure[] = [];
  for (const c of controllers) {
    if (c.resources.includes(ref.resource)) targets.push({ controller: c.name, ref });
    for (const w of c.watches ?? []) {
      if (w.resource !== ref.resource) continue;
      for (const obj of objects) {
        try {
          for (const mapped of await w.map(obj, reader)) targets.push({ controller: c.name, ref: mapped });
        } catch (err) {
          failures.push({ controller: c.name, err });
        }
      }
    }
  }
  return { targets, failures };
}
