// Turning a decoded request body into an object of the endpoint's kind: type checks, unknown
// and duplicate fields per the fieldValidation mode, and pruning of unknown fields (typed
// Kubernetes objects never store fields their schema lacks).
import { apiVersionOf, type KindDef, type KubeObject } from '../api/kind.js';
import type { StructType, TypeNode } from '../api/schema/dsl.js';
import { checkStructure, decodeErrorMessage, findDuplicateKeys } from '../api/schema/decode.js';
import { normalizeWireValues } from '../api/schema/walk.js';
import { errors } from './errors.js';

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

export function parseFieldValidation(value: string | undefined): FieldValidation {
  if (value === undefined || value === '') return 'Warn';
  if (value === 'Ignore' || value === 'Warn' || value === 'Strict') return value;
  throw errors.badRequest(`fieldValidation must be one of "Ignore", "Warn", or "Strict", got ${JSON.stringify(value)}`);
}

export function checkBodyStructure(def: KindDef, body: unknown, raw: string | undefined, mode: FieldValidation, warnings: string[]): KubeObject {
  const gv = apiVersionOf(def);
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw errors.badRequest(`the object provided is unrecognized (must be of type ${def.kind}): couldn't get version/kind; json parse error: expected an object`);
  }
  const obj = body as KubeObject;
  if (obj.apiVersion !== undefined && obj.apiVersion !== gv) {
    throw errors.badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${gv})`);
  }
  if (obj.kind !== undefined && obj.kind !== def.kind) {
    throw errors.badRequest(`${String(obj.kind)} in version "${def.version}" cannot be handled as a ${def.kind}: the kind in the data (${String(obj.kind)}) does not match the expected kind (${def.kind})`);
  }
  obj.apiVersion = gv;
  obj.kind = def.kind;
  if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
  const report = checkStructure(obj, def.schema, { collectUnknown: mode !== 'Ignore' });
  const decodeError = decodeErrorMessage(report);
  if (decodeError) throw errors.badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: ${decodeError}`);
  if (mode !== 'Ignore') {
    const problems = report.unknownFields.map((f) => `unknown field "${f}"`);
    if (raw !== undefined) problems.push(...findDuplicateKeys(raw).map((f) => `duplicate field "${f}"`));
    if (problems.length) {
      if (mode === 'Strict') throw errors.badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: strict decoding error: ${problems.join(', ')}`);
      warnings.push(...problems);
    }
  }
  pruneUnknown(obj, def.schema);
  normalizeWireValues(obj, def.schema);
  return obj;
}

/** Remove every field the schema does not declare (root apiVersion/kind stay). */
export function pruneUnknown(obj: Record<string, unknown>, schema: StructType, root = true): void {
  for (const key of Object.keys(obj)) {
    const f = schema.fields[key];
    if (!f) {
      if (root && (key === 'apiVersion' || key === 'kind')) continue;
      delete obj[key];
      continue;
    }
    pruneValue(obj[key], f.type);
  }
}

function pruneValue(value: unknown, type: TypeNode): void {
  if (value === null || typeof value !== 'object') return;
  switch (type.t) {
    case 'struct':
      if (!Array.isArray(value)) pruneUnknown(value as Record<string, unknown>, type.ref(), false);
      return;
    case 'list':
      if (Array.isArray(value)) for (const item of value) pruneValue(item, type.items);
      return;
    case 'map':
      if (!Array.isArray(value)) for (const v of Object.values(value as Record<string, unknown>)) pruneValue(v, type.values);
      return;
    default:
      return;
  }
}
