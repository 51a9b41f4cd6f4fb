// Server-owned metadata rules: uid, creationTimestamp, generateName, generation, and what an
// update may not change.
import { randomUUID, randomInt } from 'node:crypto';
import type { KindDef, KubeObject } from '../api/kind.js';

/** RFC 3339 with second precision, the format of metav1.Time. */
export const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

const NAME_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** generateName + 5 random characters from Kubernetes' alphabet (no vowels, no ambiguous digits). */
export function generatedName(prefix: string): string {
  let base = prefix;
  if (base.length > 58) base = base.slice(0, 58);
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += NAME_SUFFIX_ALPHABET[randomInt(NAME_SUFFIX_ALPHABET.length)];
  return base + suffix;
}

/** Fill server-set metadata on create. */
export function initCreateMetadata(def: KindDef, obj: KubeObject, now: Date): void {
  const meta = obj.metadata;
  if (!meta.name && meta.generateName) meta.name = generatedName(meta.generateName);
  meta.uid = randomUUID();
  meta.creationTimestamp = rfc3339(now);
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  delete meta.selfLink;
  if (def.tracksGeneration) meta.generation = 1;
  else delete meta.generation;
}

/** Carry over what the client may not change on update. */
export function carryOverMetadata(def: KindDef, obj: KubeObject, old: KubeObject): void {
  const meta = obj.metadata;
  const was = old.metadata;
  meta.uid = was.uid;
  meta.creationTimestamp = was.creationTimestamp;
  if (was.deletionTimestamp) meta.deletionTimestamp = was.deletionTimestamp;
  else delete meta.deletionTimestamp;
  if (was.deletionGracePeriodSeconds !== undefined) meta.deletionGracePeriodSeconds = was.deletionGracePeriodSeconds;
  else delete meta.deletionGracePeriodSeconds;
  if (!meta.generateName && was.generateName) meta.generateName = was.generateName;
  delete meta.selfLink;
  if (def.tracksGeneration) meta.generation = was.generation ?? 1;
  else delete meta.generation;
}

/** Kubernetes bumps generation when anything outside metadata and status changes. */
export function bumpGenerationIfSpecChanged(def: KindDef, obj: KubeObject, old: KubeObject): void {
  if (!def.tracksGeneration) return;
  const skip = new Set(['apiVersion', 'kind', 'metadata', ...def.statusFields]);
  const keys = new Set([...Object.keys(obj), ...Object.keys(old)]);
  for (const k of keys) {
    if (skip.has(k)) continue;
    if (!deepEqual(obj[k], old[k])) {
      obj.metadata.generation = (old.metadata.generation ?? 1) + 1;
      return;
    }
  }
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], bb[i])) return false;
    return true;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  if (ak.length !== bk.length) return false;
  for (const k of ak) if (!deepEqual(ao[k], bo[k])) return false;
  return true;
}

export const clone = <T>(v: T): T => structuredClone(v);
