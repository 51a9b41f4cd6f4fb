// Small kinds built with the dsl, standing in for the real ones in OpenAPI tests, and a loader
// for the real ones.
import { readdirSync } from 'node:fs';
import { bool, field, int32, intOrString, list, map, quantity, ref, str, struct, time, type StructType } from '../../../shared/api/schema/dsl.js';
import { kindDef, type KindDef } from '../../../shared/api/kind.js';
import { LabelSelector, ObjectMeta } from '../../../shared/api/types/meta.js';

const typeMeta = {
  apiVersion: field(str(), undefined, 'Schema version of this object.'),
  kind: field(str(), undefined, 'Kind of this object.'),
};

export const WidgetPort: StructType = struct('io.stratus.test.v1.WidgetPort', 'A port a widget listens on.', {
  name: field(str(), 1, 'Port name.'),
  containerPort: field(int32(), 2, 'Port number.', { required: true }),
  protocol: field(str({ enum: ['TCP', 'UDP'] }), 3, 'Transport protocol.', { default: 'TCP' }),
});

export const WidgetSpec: StructType = struct('io.stratus.test.v1.WidgetSpec', 'Desired state of a widget.', {
  replicas: field(int32(), 1, 'Number of copies.', { default: 1 }),
  image: field(str(), 2, 'Image to run.', { required: true }),
  selector: field(ref(() => LabelSelector), 3, 'Which pods belong to the widget.', { required: true }),
  ports: field(list(ref(() => WidgetPort), { listType: 'map', mapKeys: ['containerPort', 'protocol'], patchStrategy: 'merge', patchMergeKey: 'containerPort' }), 4, 'Ports to expose.'),
  limits: field(map(quantity()), 5, 'Resource limits.'),
  target: field(intOrString(), 6, 'Target port by number or name.'),
  paused: field(bool(), 7, 'Stop reconciling.'),
});

export const WidgetStatus: StructType = struct('io.stratus.test.v1.WidgetStatus', 'Observed state of a widget.', {
  readyReplicas: field(int32(), 1, 'Ready copies.'),
  lastUpdate: field(time(), 2, 'Last status change.'),
});

export const Widget: StructType = struct('io.stratus.test.v1.Widget', 'A widget runs copies of an image.', {
  ...typeMeta,
  metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
  spec: field(ref(() => WidgetSpec), 2, 'Desired state.'),
  status: field(ref(() => WidgetStatus), 3, 'Observed state.'),
});

export const Gadget: StructType = struct('io.stratus.test.core.v1.Gadget', 'A cluster-wide gadget.', {
  ...typeMeta,
  metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
  data: field(map(str()), 2, 'Arbitrary settings.'),
});

const printer = { columns: [{ name: 'Name', type: 'string' as const, format: 'name' as const, description: 'Name.', priority: 0 }], cells: () => [] };

export const widgetKind: KindDef = kindDef({
  group: 'widgets.stratus.io',
  version: 'v1',
  kind: 'Widget',
  plural: 'widgets',
  namespaced: true,
  schema: Widget,
  printer,
  shortNames: ['wd'],
  subresources: { status: true, scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.readyReplicas' } },
});

export const gadgetKind: KindDef = kindDef({
  group: '',
  version: 'v1',
  kind: 'Gadget',
  plural: 'gadgets',
  namespaced: false,
  schema: Gadget,
  printer,
});

export const testKinds: KindDef[] = [widgetKind, gadgetKind];

/** Every "$ref" string anywhere inside `doc`. */
export function collectRefs(doc: unknown, out: string[] = []): string[] {
  if (Array.isArray(doc)) for (const v of doc) collectRefs(v, out);
  else if (doc && typeof doc === 'object') {
    for (const [k, v] of Object.entries(doc)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else collectRefs(v, out);
    }
  }
  return out;
}

/** The rules kube-openapi's proto parser (kubectl <= 1.28) enforces on every schema. */
export function structuralProblems(schema: any, path: string, out: string[] = []): string[] {
  if (schema.$ref !== undefined) {
    if (schema.type !== undefined || schema.properties !== undefined) out.push(`${path}: $ref with type or properties`);
    return out;
  }
  const type = schema.type;
  if (type === 'array') {
    if (!schema.items || Array.isArray(schema.items)) out.push(`${path}: array needs exactly one items schema`);
    else structuralProblems(schema.items, `${path}[]`, out);
  } else if (type === 'object') {
    for (const [name, prop] of Object.entries(schema.properties ?? {})) structuralProblems(prop, `${path}.${name}`, out);
    if (schema.properties && schema.additionalProperties) out.push(`${path}: properties and additionalProperties together`);
    if (schema.additionalProperties) structuralProblems(schema.additionalProperties, `${path}{}`, out);
  } else if (type !== undefined && !['string', 'integer', 'number', 'boolean'].includes(type)) {
    out.push(`${path}: unknown type ${type}`);
  }
  if (schema.allOf || schema.oneOf || schema.anyOf) out.push(`${path}: composition keywords are v3-only here`);
  return out;
}

const KINDS_DIR = new URL('../../../shared/api/kinds/', import.meta.url);

/** Every KindDef exported as `kinds` by shared/api/kinds/*.ts. */
export async function loadRealKinds(): Promise<KindDef[]> {
  const out: KindDef[] = [];
  for (const file of readdirSync(KINDS_DIR).filter((f) => f.endsWith('.ts')).sort()) {
    const mod = (await import(new URL(file, KINDS_DIR).href)) as { kinds: KindDef[] };
    out.push(...mod.kinds);
  }
  return out;
}
