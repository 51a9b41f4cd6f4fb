// Sets of field paths (the FieldsV1 model of metadata.managedFields): a trie whose nodes hold the
// path elements that are members of the set and the child sets below them.
import type { TypeNode } from '../schema/dsl.js';
import { isObject } from '../patch/go-format.js';
import { childType, isDeclaredField, listSemantics, shapeOf } from '../patch/type-shape.js';
import { listItemElement } from './list-items.js';
import { canonicalElement, compareElements, fieldElement, type FieldPath, type PathElement } from './path-element.js';

export class FieldSet {
  readonly members = new Set<PathElement>();
  readonly children = new Map<PathElement, FieldSet>();

  static of(...paths: FieldPath[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  insert(path: FieldPath): void {
    if (path.length === 0) return;
    let node: FieldSet = this;
    for (let i = 0; i < path.length - 1; i++) node = node.child(path[i]);
    node.members.add(path[path.length - 1]);
  }

  /** The child set under `pe`, created when absent. */
  child(pe: PathElement): FieldSet {
    let c = this.children.get(pe);
    if (!c) {
      c = new FieldSet();
      this.children.set(pe, c);
    }
    return c;
  }

  has(path: FieldPath): boolean {
    if (path.length === 0) return false;
    let node: FieldSet | undefined = this;
    for (let i = 0; i < path.length - 1 && node; i++) node = node.children.get(path[i]);
    return !!node && node.members.has(path[path.length - 1]);
  }

  /** The set below `pe` (paths relative to it); empty when nothing is there. */
  withPrefix(pe: PathElement): FieldSet {
    return this.children.get(pe) ?? new FieldSet();
  }

  isEmpty(): boolean {
    if (this.members.size) return false;
    for (const c of this.children.values()) if (!c.isEmpty()) return false;
    return true;
  }

  union(other: FieldSet): FieldSet {
    const out = this.clone();
    for (const m of other.members) out.members.add(m);
    for (const [pe, c] of other.children) {
      const mine = out.children.get(pe);
      out.children.set(pe, mine ? mine.union(c) : c.clone());
    }
    return out;
  }

  /** Members of this set that are not members of `other` (children are compared level by level). */
  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) if (!other.members.has(m)) out.members.add(m);
    for (const [pe, c] of this.children) {
      const theirs = other.children.get(pe);
      const d = theirs ? c.difference(theirs) : c.clone();
      if (!d.isEmpty()) out.children.set(pe, d);
    }
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) if (other.members.has(m)) out.members.add(m);
    for (const [pe, c] of this.children) {
      const theirs = other.children.get(pe);
      if (!theirs) continue;
      const i = c.intersection(theirs);
      if (!i.isEmpty()) out.children.set(pe, i);
    }
    return out;
  }

  /** Like difference, but a member of `other` also removes everything below it from this set. */
  recursiveDifference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) if (!other.members.has(m)) out.members.add(m);
    for (const [pe, c] of this.children) {
      if (other.members.has(pe)) continue;
      const theirs = other.children.get(pe);
      const d = theirs ? c.recursiveDifference(theirs) : c.clone();
      if (!d.isEmpty()) out.children.set(pe, d);
    }
    return out;
  }

  clone(): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) out.members.add(m);
    for (const [pe, c] of this.children) out.children.set(pe, c.clone());
    return out;
  }

  equals(other: FieldSet): boolean {
    return this.difference(other).isEmpty() && other.difference(this).isEmpty();
  }

  /** Every member path, in structured-merge-diff's iteration order (members, then children, each sorted). */
  paths(prefix: FieldPath = []): PathElement[][] {
    const out: PathElement[][] = [];
    for (const m of [...this.members].sort(compareElements)) out.push([...prefix, m]);
    for (const pe of [...this.children.keys()].sort(compareElements)) out.push(...this.children.get(pe)!.paths([...prefix, pe]));
    return out;
  }

  /** FieldsV1 JSON: one key per element in sorted order, "." marking a node that is itself a member. */
  toFieldsV1(): Record<string, unknown> {
    return this.emit(false);
  }

  private emit(selfIsMember: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (selfIsMember) out['.'] = {};
    const keys = new Set<PathElement>([...this.members]);
    for (const [pe, c] of this.children) if (!c.isEmpty()) keys.add(pe);
    for (const pe of [...keys].sort(compareElements)) {
      const c = this.children.get(pe);
      out[pe] = c && !c.isEmpty() ? c.emit(this.members.has(pe)) : {};
    }
    return out;
  }

  /** Parses a FieldsV1 object; throws Error on malformed input. */
  static fromFieldsV1(v: unknown): FieldSet {
    if (!isObject(v)) throw new Error('FieldsV1 must be a JSON object');
    const out = new FieldSet();
    for (const [key, sub] of Object.entries(v)) {
      if (key === '.') continue;
      if (!isObject(sub)) throw new Error(`FieldsV1 entry ${JSON.stringify(key)} must be an object`);
      const pe = canonicalElement(key);
      const entries = Object.keys(sub);
      if (entries.length === 0 || entries.includes('.')) out.members.add(pe);
      const childSet = FieldSet.fromFieldsV1(sub);
      if (!childSet.isEmpty()) out.children.set(pe, childSet);
    }
    return out;
  }
}

// ---- field sets of objects -------------------------------------------------------------------------

/**
 * The fields an object sets (structured-merge-diff's ToFieldSet): every scalar and atomic value, every
 * list item, and a map entry itself when it is null, an empty object, or an entry of a map-typed field.
 */
export function fieldSetOf(value: unknown, type: TypeNode): FieldSet {
  const set = new FieldSet();
  collectFields(value, type, [], set);
  return set;
}

function collectFields(value: unknown, type: TypeNode | undefined, path: PathElement[], set: FieldSet): void {
  const shape = shapeOf(type);
  if (shape.kind === 'scalar') {
    set.insert(path);
    return;
  }
  if (shape.kind === 'list') {
    if (listSemantics(shape.list).kind === 'atomic') {
      set.insert(path);
      return;
    }
    if (!Array.isArray(value)) {
      if (value !== null && value !== undefined) set.insert(path);
      return;
    }
    for (const item of value) {
      const itemPath = [...path, listItemElement(shape.list, item)];
      collectFields(item, shape.list.items, itemPath, set);
      set.insert(itemPath);
    }
    return;
  }
  if (shape.kind === 'struct' && shape.struct.mapType === 'atomic') {
    set.insert(path);
    return;
  }
  if (!isObject(value)) {
    if (value !== null && value !== undefined) set.insert(path);
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    const childPath = [...path, fieldElement(key)];
    collectFields(child, childType(type, key), childPath, set);
    if (child === null || (isObject(child) && Object.keys(child).length === 0) || !isDeclaredField(type, key)) set.insert(childPath);
  }
}

/**
 * Marks every declared struct field that has children in the set as a member itself, so removing
 * "everything a manager owns" also removes the emptied parent fields (EnsureNamedFieldsAreMembers).
 */
export function withNamedFieldsAsMembers(set: FieldSet, type: TypeNode | undefined): FieldSet {
  const out = new FieldSet();
  for (const m of set.members) out.members.add(m);
  for (const [pe, child] of set.children) {
    let sub: TypeNode | undefined;
    if (pe.startsWith('f:')) {
      const name = pe.slice(2);
      if (isDeclaredField(type, name)) out.members.add(pe);
      sub = childType(type, name);
    } else {
      const shape = shapeOf(type);
      sub = shape.kind === 'list' ? shape.list.items : undefined;
    }
    out.children.set(pe, withNamedFieldsAsMembers(child, sub));
  }
  return out;
}
