// meta.k8s.io/v1 Table responses built from a kind's printer, as kubectl get asks for them.
import type { KindDef, KubeObject } from '../api/kind.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function parseIncludeObject(v: string | undefined): IncludeObject {
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

function partialMetadata(obj: KubeObject) {
  const { managedFields: _mf, ...metadata } = obj.metadata;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata };
}

export function tableRow(def: KindDef, obj: KubeObject, include: IncludeObject, now: Date) {
  const row: Record<string, unknown> = { cells: def.printer.cells(obj, now) };
  if (include === 'Object') row.object = obj;
  else if (include === 'Metadata') row.object = partialMetadata(obj);
  return row;
}

export function table(def: KindDef, objects: KubeObject[], opts: { include: IncludeObject; resourceVersion?: string; continue?: string; withColumns?: boolean }) {
  const now = new Date();
  const metadata: Record<string, unknown> = {};
  if (opts.resourceVersion) metadata.resourceVersion = opts.resourceVersion;
  if (opts.continue) metadata.continue = opts.continue;
  const t: Record<string, unknown> = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata };
  if (opts.withColumns !== false) t.columnDefinitions = def.printer.columns;
  t.rows = objects.map((o) => tableRow(def, o, opts.include, now));
  return t;
}

export function partialObjectMetadataList(objects: KubeObject[], resourceVersion: string, cont?: string) {
  return {
    kind: 'PartialObjectMetadataList',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion, ...(cont ? { continue: cont } : {}) },
    items: objects.map(partialMetadata),
  };
}

export { partialMetadata };
