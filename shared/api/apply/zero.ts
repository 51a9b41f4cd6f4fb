// The "empty object" a create is compared against. Kubernetes compares a new object with the Go zero
// value of its type, in which non-pointer struct fields and fields without omitempty are present; so
// those parents are not recorded as added ("." in FieldsV1). The schema DSL does not record Go pointers
// or omitempty, so this approximates them: metadata/spec/status and a few well-known value-typed struct
// fields are present, and so is every required field.
import type { StructType } from '../schema/dsl.js';
import { shapeOf } from '../patch/type-shape.js';

/** Struct-typed fields that are Go values (not pointers) in k8s.io/api, so present in a zero object. */
const VALUE_STRUCT_FIELDS = new Set([
  'metadata',
  'spec',
  'status',
  'template',
  'jobTemplate',
  'strategy',
  'updateStrategy',
  'resources',
  'loadBalancer',
  'daemonEndpoints',
  'nodeInfo',
  'involvedObject',
  'source',
  'scaleTargetRef',
]);

export function zeroObject(schema: StructType): Record<string, unknown> {
  return zeroStruct(schema, new Set());
}

function zeroStruct(s: StructType, visiting: Set<StructType>): Record<string, unknown> {
  if (visiting.has(s)) return {};
  visiting.add(s);
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(s.fields)) {
    const shape = shapeOf(f.type);
    if (shape.kind === 'struct' && (VALUE_STRUCT_FIELDS.has(name) || f.required)) out[name] = zeroStruct(shape.struct, visiting);
    else if (f.required && shape.kind !== 'struct') out[name] = null;
  }
  visiting.delete(s);
  return out;
}
