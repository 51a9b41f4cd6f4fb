// Turns dsl types into OpenAPI schema objects, in the shapes Kubernetes publishes:
// v3 wraps property references as {allOf:[{$ref}]} so siblings like description stay valid,
// v2 puts description next to a bare $ref.
import type { Field, StructType, TypeNode } from '../schema/dsl.js';
import type { TypeRegistry } from './registry.js';

export type Flavor = 'v2' | 'v3';
export type JsonSchema = Record<string, unknown>;

/** Named schemas for the special wire types, as Kubernetes names them. */
export const SPECIAL_SCHEMAS = {
  quantity: 'io.k8s.apimachinery.pkg.api.resource.Quantity',
  intOrString: 'io.k8s.apimachinery.pkg.util.intstr.IntOrString',
  time: 'io.k8s.apimachinery.pkg.apis.meta.v1.Time',
  microTime: 'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime',
} as const;

type SpecialName = keyof typeof SPECIAL_SCHEMAS;

function specialSchema(kind: SpecialName, flavor: Flavor): JsonSchema {
  switch (kind) {
    case 'quantity':
      return {
        description: 'A fixed-point decimal with an optional SI or binary suffix, such as 500m, 1.5Gi or 2.',
        ...(flavor === 'v3' ? { oneOf: [{ type: 'string' }, { type: 'number' }] } : { type: 'string' }),
      };
    case 'intOrString':
      return {
        description: 'Either an integer or a string, such as a port number or a percentage.',
        format: 'int-or-string',
        ...(flavor === 'v3' ? { oneOf: [{ type: 'integer' }, { type: 'string' }] } : { type: 'string' }),
      };
    case 'time':
      return { description: 'A timestamp in RFC 3339 form with second precision.', type: 'string', format: 'date-time' };
    case 'microTime':
      return { description: 'A timestamp in RFC 3339 form with microsecond precision.', type: 'string', format: 'date-time' };
  }
}

/**
 * Renders structs of one document. Every struct and special type a rendered schema refers to is
 * recorded in `referenced`, so the caller can make sure the document defines it.
 */
export class SchemaRenderer {
  readonly referenced = new Set<string>();
  private fresh: string[] = [];

  constructor(
    private readonly flavor: Flavor,
    private readonly registry: TypeRegistry,
  ) {}

  refTo(name: string): string {
    if (!this.referenced.has(name)) {
      this.referenced.add(name);
      this.fresh.push(name);
    }
    return this.flavor === 'v3' ? `#/components/schemas/${name}` : `#/definitions/${name}`;
  }

  renderStruct(t: StructType): JsonSchema {
    const out: JsonSchema = {};
    if (t.description) out.description = t.description;
    out.type = 'object';
    const names = Object.keys(t.fields);
    if (names.length > 0) {
      const props: Record<string, JsonSchema> = {};
      for (const name of names) props[name] = this.renderField(t.fields[name]);
      out.properties = props;
      const required = names.filter((n) => t.fields[n].required);
      if (required.length > 0) out.required = required;
    }
    const gvks = this.registry.gvks(t.name);
    if (gvks.length > 0) out['x-kubernetes-group-version-kind'] = gvks;
    if (t.mapType) out['x-kubernetes-map-type'] = t.mapType;
    return out;
  }

  /** Names referenced for the first time since the last call. */
  takeNewReferences(): string[] {
    const out = this.fresh;
    this.fresh = [];
    return out;
  }

  renderSpecial(name: string): JsonSchema | undefined {
    const entry = (Object.entries(SPECIAL_SCHEMAS) as [SpecialName, string][]).find(([, n]) => n === name);
    return entry ? specialSchema(entry[0], this.flavor) : undefined;
  }

  private renderField(f: Field): JsonSchema {
    const node = f.type;
    if (node.t === 'struct' || isNamedSpecial(node)) {
      const name = node.t === 'struct' ? node.ref().name : SPECIAL_SCHEMAS[node.t];
      const out: JsonSchema = this.flavor === 'v3' ? { allOf: [{ $ref: this.refTo(name) }] } : { $ref: this.refTo(name) };
      if (f.description) out.description = f.description;
      // Kubernetes marks embedded (non-pointer) structs with an empty-object default in v3.
      if (this.flavor === 'v3' && (f.default !== undefined || node.t === 'struct')) out.default = f.default ?? {};
      if (f.patchStrategy) out['x-kubernetes-patch-strategy'] = f.patchStrategy;
      return out;
    }
    const out = this.renderNode(node);
    const withDoc: JsonSchema = f.description ? { description: f.description, ...out } : out;
    if (f.default !== undefined) withDoc.default = f.default;
    return withDoc;
  }

  /** Schema of a value that is not a struct property: list items, map values, scalars. */
  private renderNode(node: TypeNode): JsonSchema {
    switch (node.t) {
      case 'string': {
        const out: JsonSchema = { type: 'string' };
        if (node.format) out.format = node.format;
        if (node.enum) out.enum = [...node.enum];
        return out;
      }
      case 'integer':
      case 'number':
        return { type: node.t, format: node.format };
      case 'boolean':
        return { type: 'boolean' };
      case 'struct': {
        const $ref = this.refTo(node.ref().name);
        return this.flavor === 'v3' ? { allOf: [{ $ref }], default: {} } : { $ref };
      }
      case 'quantity':
      case 'intOrString':
      case 'time':
      case 'microTime':
        return { $ref: this.refTo(SPECIAL_SCHEMAS[node.t]) };
      case 'any':
        // RawExtension, FieldsV1 and free-form JSON all publish as a bare object.
        return { type: 'object' };
      case 'list': {
        const out: JsonSchema = { type: 'array', items: this.renderNode(node.items) };
        if (node.listType) out['x-kubernetes-list-type'] = node.listType;
        if (node.mapKeys) out['x-kubernetes-list-map-keys'] = [...node.mapKeys];
        if (node.patchMergeKey) out['x-kubernetes-patch-merge-key'] = node.patchMergeKey;
        if (node.patchStrategy) out['x-kubernetes-patch-strategy'] = node.patchStrategy;
        return out;
      }
      case 'map':
        return { type: 'object', additionalProperties: this.renderNode(node.values) };
    }
  }
}

function isNamedSpecial(node: TypeNode): node is { t: SpecialName } {
  return node.t === 'quantity' || node.t === 'intOrString' || node.t === 'time' || node.t === 'microTime';
}

/**
 * Renders the named schemas `roots` and everything they refer to, returning name -> schema sorted
 * by name, so every $ref in the result resolves inside it.
 */
export function renderSchemas(renderer: SchemaRenderer, registry: TypeRegistry, roots: Iterable<string>): Record<string, JsonSchema> {
  const out = new Map<string, JsonSchema>();
  const pending = [...roots, ...renderer.takeNewReferences()];
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (out.has(name)) continue;
    const t = registry.get(name);
    const schema = t ? renderer.renderStruct(t) : renderer.renderSpecial(name);
    if (!schema) throw new Error(`openapi: no schema named ${name}`);
    out.set(name, schema);
    pending.push(...renderer.takeNewReferences());
  }
  return Object.fromEntries([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
