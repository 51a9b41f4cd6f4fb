// Server-side apply's merge of an applied configuration into the live object: objects merge member by
// member, associative lists and sets merge item by item, and everything else (scalars, atomic values)
// takes the applied value.
import type { TypeNode } from '../schema/dsl.js';
import { deepClone, hasOwn, isObject, setOwn } from '../patch/go-format.js';
import { childType } from '../patch/type-shape.js';
import type { PathElement } from './path-element.js';
import { granularityOf, isEmptyContainer, tryIndexItems } from './walk.js';

/** Merges `applied` into `live` (either may be undefined); neither input is modified. */
export function mergeObjects(live: unknown, applied: unknown, type: TypeNode): unknown {
  return merge(live, applied, type);
}

function merge(live: unknown, applied: unknown, type: TypeNode | undefined): unknown {
  const g = granularityOf(type, live, applied);
  const takeApplied = (): unknown => deepClone(applied !== undefined ? applied : live);
  if (g.kind === 'leaf' || (isEmptyContainer(live) && isEmptyContainer(applied))) return takeApplied();

  if (g.kind === 'fields') {
    const l = isObject(live) ? live : {};
    const a = isObject(applied) ? applied : {};
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(l)) setOwn(out, key, merge(l[key], hasOwn(a, key) ? a[key] : undefined, childType(type, key)));
    for (const key of Object.keys(a)) if (!hasOwn(l, key)) setOwn(out, key, merge(undefined, a[key], childType(type, key)));
    return out;
  }

  const l = tryIndexItems(g.list, live);
  const a = tryIndexItems(g.list, applied);
  if (!l || !a) return takeApplied();
  const item = (pe: PathElement): unknown => merge(l.byElement.get(pe), a.byElement.get(pe), g.list.items);
  return orderMergedItems(l.order, a.order, (pe) => a.byElement.has(pe), item);
}

/**
 * Orders merged list items like structured-merge-diff: items present on both sides follow the applied
 * order, live-only items keep their place relative to them, applied-only items come in applied order.
 */
function orderMergedItems(liveOrder: PathElement[], appliedOrder: PathElement[], inApplied: (pe: PathElement) => boolean, item: (pe: PathElement) => unknown): unknown[] {
  const inLive = new Set(liveOrder);
  const shared = appliedOrder.filter((pe) => inLive.has(pe));
  let nextShared = shared.shift();
  const out: unknown[] = [];
  let li = 0;
  let ri = 0;
  while (li < liveOrder.length || ri < appliedOrder.length) {
    if (li < liveOrder.length && ri < appliedOrder.length) {
      const pe = liveOrder[li];
      if (pe === appliedOrder[ri]) {
        out.push(item(pe));
        li++;
        ri++;
        nextShared = shared.shift();
        continue;
      }
      if (inApplied(pe) && nextShared !== undefined && nextShared !== pe) {
        li++;
        continue;
      }
    }
    if (li < liveOrder.length && !inApplied(liveOrder[li])) {
      out.push(item(liveOrder[li]));
      li++;
      continue;
    }
    if (ri < appliedOrder.length) {
      const pe = appliedOrder[ri];
      out.push(item(pe));
      ri++;
      if (nextShared === pe) nextShared = shared.shift();
      continue;
    }
    li++; // a live item already emitted through the applied side
  }
  return out;
}
