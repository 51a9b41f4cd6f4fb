// The one schema language for API types. Every type is declared once with these builders; the
// same declaration drives structural decoding (type checks, unknown fields), defaulting,
// OpenAPI v2/v3, protobuf decoding, strategic-merge metadata and server-side-apply list semantics.

export type Scalar =
  | { t: 'string'; format?: 'byte' | 'date-time' | 'int-or-string'; enum?: readonly string[] }
  | { t: 'integer'; format: 'int32' | 'int64' }
  | { t: 'number'; format: 'double' }
  | { t: 'boolean' };

/** A reference to a named struct, resolved lazily so declarations may appear in any order. */
export interface StructRef {
  t: 'struct';
  ref: () => StructType;
}

export interface ListType {
  t: 'list';
  items: TypeNode;
  /** x-kubernetes-list-type: how server-side apply treats the list. */
  listType?: 'atomic' | 'set' | 'map';
  /** x-kubernetes-list-map-keys, for listType 'map'. */
  mapKeys?: readonly string[];
  /** Strategic merge patch: x-kubernetes-patch-strategy / x-kubernetes-patch-merge-key. */
  patchStrategy?: 'merge' | 'replace' | 'merge,retainKeys';
  patchMergeKey?: string;
}

export interface MapType {
  t: 'map';
  values: TypeNode;
}

/**
 * Special wire types: Quantity ("500m", 1), IntOrString (80 or "http"), Time (RFC 3339 seconds),
 * MicroTime (RFC 3339 microseconds), RawExtension / arbitrary JSON (free-form), FieldsV1.
 */
export type Special =
  | { t: 'quantity' }
  | { t: 'intOrString' }
  | { t: 'time' }
  | { t: 'microTime' }
  | { t: 'any' };

export type TypeNode = Scalar | StructRef | ListType | MapType | Special;

export interface FieldError {
  /** Kubernetes field.ErrorType reason, e.g. FieldValueRequired, FieldValueInvalid. */
  reason:
    | 'FieldValueRequired'
    | 'FieldValueInvalid'
    | 'FieldValueNotFound'
    | 'FieldValueNotSupported'
    | 'FieldValueDuplicate'
    | 'FieldValueForbidden'
    | 'FieldValueTooLong'
    | 'FieldValueTooMany'
    | 'FieldValueTypeInvalid'
    | 'InternalError';
  /** Path as Kubernetes prints it: spec.containers[0].image, metadata.labels[app]. */
  field: string;
  /** Message as Kubernetes words it, e.g. `Invalid value: "x": must be ...` or `Required value`. */
  message: string;
}

/** Per-field semantic check; `path` is the field's printed path. */
export type FieldValidator = (value: unknown, path: string) => FieldError[];

export interface Field {
  type: TypeNode;
  /** Protobuf field number in k8s.io/api generated.proto (absent: not decodable from protobuf). */
  proto?: number;
  description: string;
  /** Appears in the OpenAPI `required` list and is checked generically ("Required value"). */
  required?: boolean;
  /** Static default applied when the field is absent (deep-cloned). */
  default?: unknown;
  validate?: FieldValidator;
  /**
   * Strategic-merge strategy of a struct-valued field (Go's patchStrategy tag on a non-list field):
   * 'replace' swaps the whole value, 'retainKeys' makes clients send $retainKeys (e.g. a
   * Deployment's strategy, so switching type drops the other type's settings).
   */
  patchStrategy?: 'replace' | 'retainKeys';
}

export interface StructType {
  kind: 'struct';
  /** OpenAPI component name, e.g. io.k8s.api.core.v1.Pod. */
  name: string;
  description: string;
  fields: Record<string, Field>;
  /** Group-version-kinds served with this schema (x-kubernetes-group-version-kind). */
  gvk?: readonly { group: string; version: string; kind: string }[];
  /** Defaults that depend on sibling fields (e.g. imagePullPolicy from the image tag); runs after static defaults of children. */
  defaults?: (obj: Record<string, unknown>) => void;
  /** Cross-field semantic checks for this struct; `path` is the struct's printed path ('' at root). */
  validate?: (obj: Record<string, unknown>, path: string) => FieldError[];
  /** x-kubernetes-map-type: atomic (whole struct replaced by server-side apply). */
  mapType?: 'atomic' | 'granular';
  /** x-kubernetes-unions and similar are not modelled. */
}

// ---- builders ---------------------------------------------------------------------------------

export const str = (opts: { enum?: readonly string[]; format?: 'byte' | 'date-time' } = {}): Scalar => ({ t: 'string', ...opts });
export const int32 = (): Scalar => ({ t: 'integer', format: 'int32' });
export const int64 = (): Scalar => ({ t: 'integer', format: 'int64' });
export const double = (): Scalar => ({ t: 'number', format: 'double' });
export const bool = (): Scalar => ({ t: 'boolean' });
export const bytes = (): Scalar => ({ t: 'string', format: 'byte' });
export const quantity = (): Special => ({ t: 'quantity' });
export const intOrString = (): Special => ({ t: 'intOrString' });
export const time = (): Special => ({ t: 'time' });
export const microTime = (): Special => ({ t: 'microTime' });
export const any = (): Special => ({ t: 'any' });
export const ref = (target: () => StructType): StructRef => ({ t: 'struct', ref: target });
export const map = (values: TypeNode): MapType => ({ t: 'map', values });
export const list = (items: TypeNode, opts: Omit<ListType, 't' | 'items'> = {}): ListType => ({ t: 'list', items, ...opts });

/** field(type, protoNumber, description, extra) — the common case in one line. */
export function field(type: TypeNode, proto: number | undefined, description: string, extra: Omit<Field, 'type' | 'proto' | 'description'> = {}): Field {
  return { type, proto, description, ...extra };
}

export function struct(name: string, description: string, fields: Record<string, Field>, extra: Omit<StructType, 'kind' | 'name' | 'description' | 'fields'> = {}): StructType {
  return { kind: 'struct', name, description, fields, ...extra };
}

/** Go-style short type name used in decode error messages: io.k8s.api.core.v1.PodSpec -> PodSpec. */
export function shortName(t: StructType): string {
  return t.name.slice(t.name.lastIndexOf('.') + 1);
}
