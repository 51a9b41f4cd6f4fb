// A kind is data: one KindDef per served resource. Generic REST handlers, discovery, OpenAPI,
// tables, selectors and validation all read from these entries (the Kubernetes "strategy" idea).
import type { FieldError, StructType } from './schema/dsl.js';

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
};

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Record<string, unknown>[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
  [key: string]: unknown;
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: 'name' | '';
  description: string;
  /** 0: always shown; >0: only with -o wide. */
  priority: number;
}

export interface Printer {
  /** All columns including Name (first) and the kind's usual Age. */
  columns: TableColumn[];
  /** One cell per column, in order; `now` is used for Age-like columns. */
  cells(obj: KubeObject, now: Date): unknown[];
}

export interface ScaleSpec {
  specReplicasPath: string; // e.g. 'spec.replicas'
  statusReplicasPath: string; // e.g. 'status.replicas'
  /** Path of a metav1.LabelSelector whose string form goes into status.selector. */
  labelSelectorPath?: string;
}

export type NameRule = 'dns1123Subdomain' | 'dns1123Label' | 'dns1035Label' | 'pathSegment';

export interface KindDef {
  group: string; // '' for core
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  schema: StructType;
  /** Name format enforced on metadata.name (Kubernetes' per-kind ValidateXName). */
  nameRule: NameRule;
  /** Top-level fields only writable through the status subresource (usually ['status']). */
  statusFields: string[];
  subresources: { status: boolean; scale?: ScaleSpec };
  /** Bump metadata.generation when anything but metadata/status changes (spec-bearing kinds). */
  tracksGeneration: boolean;
  /** Extra field selectors beyond metadata.name / metadata.namespace: name -> value getter. */
  fieldSelectors: Record<string, (obj: KubeObject) => string | undefined>;
  printer: Printer;
  /** Semantic validation beyond the schema's per-field checks. */
  validate?: (obj: KubeObject, old: KubeObject | undefined) => FieldError[];
  /** Mutations on create before validation (e.g. clear status, set phase). */
  prepareForCreate?: (obj: KubeObject) => void;
  /** Mutations on update before validation; `old` is the stored object. */
  prepareForUpdate?: (obj: KubeObject, old: KubeObject) => void;
}

/** The fields a KindDef may omit; kindDef() fills them with Kubernetes' usual values. */
export type KindInput = Omit<KindDef, 'listKind' | 'singular' | 'shortNames' | 'categories' | 'verbs' | 'nameRule' | 'statusFields' | 'subresources' | 'tracksGeneration' | 'fieldSelectors'> &
  Partial<KindDef>;

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function kindDef(input: KindInput): KindDef {
  const hasStatus = 'status' in input.schema.fields;
  return {
    listKind: `${input.kind}List`,
    singular: input.kind.toLowerCase(),
    shortNames: [],
    categories: [],
    verbs: ALL_VERBS,
    nameRule: 'dns1123Subdomain',
    statusFields: hasStatus ? ['status'] : [],
    subresources: { status: hasStatus },
    tracksGeneration: 'spec' in input.schema.fields,
    fieldSelectors: {},
    ...input,
  };
}

export function apiVersionOf(def: Pick<KindDef, 'group' | 'version'>): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}
