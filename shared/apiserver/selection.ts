// Label and field selectors compiled once per request, matched per object.
import type { KindDef, KubeObject } from '../api/kind.js';
import { matchesLabels, parseLabelSelector } from '../api/selectors/labels.js';
import { matchesFields, parseFieldSelector, unsupportedFieldMessage, unsupportedFields } from '../api/selectors/fields.js';
import { errors } from './errors.js';

export interface CompiledSelectors {
  /** Nothing to filter: every object matches. */
  matchAll: boolean;
  /** Matching needs the parsed object (always true unless matchAll). */
  needsObject: boolean;
  matches(obj: KubeObject): boolean;
}

const everything: CompiledSelectors = { matchAll: true, needsObject: false, matches: () => true };

/** The field getters a kind supports: metadata.name and metadata.namespace plus its own. */
export function fieldGetter(def: KindDef, obj: KubeObject): (field: string) => string | undefined {
  return (field) => {
    if (field === 'metadata.name') return obj.metadata.name ?? '';
    if (field === 'metadata.namespace') return obj.metadata.namespace ?? '';
    const get = def.fieldSelectors[field];
    return get ? (get(obj) ?? '') : undefined;
  };
}

export function supportedFieldSelectors(def: KindDef): string[] {
  return ['metadata.name', 'metadata.namespace', ...Object.keys(def.fieldSelectors)];
}

export function compileSelectors(def: KindDef, labelSelector?: string, fieldSelector?: string): CompiledSelectors {
  const labels = labelSelector?.trim() ? parseOrBadRequest(() => parseLabelSelector(labelSelector)) : undefined;
  const fields = fieldSelector?.trim() ? parseOrBadRequest(() => parseFieldSelector(fieldSelector)) : undefined;
  if (fields) {
    const bad = unsupportedFields(fields, supportedFieldSelectors(def));
    if (bad.length) {
      throw errors.badRequest(unsupportedFieldMessage(bad[0], Object.keys(def.fieldSelectors).length > 0));
    }
  }
  if (!labels && !fields) return everything;
  return {
    matchAll: false,
    needsObject: true,
    matches(obj) {
      if (labels && !matchesLabels(labels, obj.metadata.labels ?? {})) return false;
      if (fields && !matchesFields(fields, fieldGetter(def, obj))) return false;
      return true;
    },
  };
}

function parseOrBadRequest<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw errors.badRequest(e instanceof Error ? e.message : String(e));
  }
}
