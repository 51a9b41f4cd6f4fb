// The pod-template-hash: a stable FNV-1a (32 bit) hash of a pod template, salted with the
// Deployment's collisionCount, printed in decimal and mapped onto Kubernetes' vowel-free
// alphabet (rand.SafeEncodeString), e.g. "7c5ddbdf54". It names the new ReplicaSet
// (<deployment>-<hash>) and labels its selector, template and pods.
import { POD_TEMPLATE_HASH_LABEL, type PodTemplate } from './model.js';

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnv1a(bytes: Uint8Array, seed = FNV_OFFSET): number {
  let h = seed;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, FNV_PRIME) >>> 0;
  }
  return h >>> 0;
}

/** JSON with object keys sorted at every level, so equal templates always hash alike. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Maps each character onto the safe alphabet by its byte value, as rand.SafeEncodeString does. */
export function safeEncode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += SAFE_ALPHABET[b % SAFE_ALPHABET.length];
  return out;
}

/** A template as compared and hashed: without the pod-template-hash label and empty label/annotation maps. */
export function comparableTemplate(template: PodTemplate | undefined): PodTemplate {
  const t: PodTemplate = structuredClone(template ?? {});
  const meta = t.metadata;
  if (meta) {
    if (meta.labels) {
      delete meta.labels[POD_TEMPLATE_HASH_LABEL];
      if (!Object.keys(meta.labels).length) delete meta.labels;
    }
    if (meta.annotations && !Object.keys(meta.annotations).length) delete meta.annotations;
    if (meta.creationTimestamp === null) delete meta.creationTimestamp;
    if (!Object.keys(meta).length) delete t.metadata;
  }
  return t;
}

/** controller.ComputeHash: the hash of `template`, salted with collisionCount when it is set. */
export function computeTemplateHash(template: PodTemplate | undefined, collisionCount?: number): string {
  let h = fnv1a(Buffer.from(canonicalJson(comparableTemplate(template)), 'utf8'));
  if (collisionCount !== undefined && collisionCount !== null) {
    const salt = new Uint8Array(8);
    new DataView(salt.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv1a(salt, h);
  }
  return safeEncode(String(h));
}

/** EqualIgnoreHash: two pod templates are equal apart from their pod-template-hash label. */
export function equalIgnoreHash(a: PodTemplate | undefined, b: PodTemplate | undefined): boolean {
  return canonicalJson(comparableTemplate(a)) === canonicalJson(comparableTemplate(b));
}
