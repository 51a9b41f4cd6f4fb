// The apps/v1 kinds as KindDefs: Deployments, ReplicaSets, DaemonSets, StatefulSets and
// ControllerRevisions, with their scale subresources, update rules and kubectl table columns.
import { kindDef, type KindDef, type KubeObject, type Printer } from '../kind.js';
import { age, ageColumn, col, formatLabels, get, nameColumn } from '../printers/common.js';
import { applyDefaults } from '../schema/defaults.js';
import type { FieldError } from '../schema/dsl.js';
import { forbidden, invalid } from '../schema/errors.js';
import { labelSelectorFromStruct, selectorToString, type MetaLabelSelector } from '../selectors/labels.js';
import {
  ControllerRevision,
  DaemonSet,
  Deployment,
  FIELD_IMMUTABLE,
  ReplicaSet,
  StatefulSet,
  asObj,
  deepEqual,
  goLabelSelector,
  invalidGo,
  type Obj,
} from '../types/apps.js';

const apps = { group: 'apps', version: 'v1' } as const;

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

// ---- printer pieces shared by the workload kinds --------------------------------------------------

/** Comma-joined container names and images of a pod template (the wide CONTAINERS / IMAGES cells). */
export function containerCells(template: unknown): [string, string] {
  const containers = get(template, 'spec', 'containers');
  const list = Array.isArray(containers) ? containers.map((c) => asObj(c) ?? {}) : [];
  return [list.map((c) => String(c.name ?? '')).join(','), list.map((c) => String(c.image ?? '')).join(',')];
}

/** metav1.FormatLabelSelector: "<none>" when empty, "<error>" when the selector is invalid. */
export function formatSelector(selector: unknown): string {
  try {
    return selectorToString(labelSelectorFromStruct(selector as MetaLabelSelector | undefined)) || '<none>';
  } catch {
    return '<error>';
  }
}

export const containersColumn = col('Containers', 'string', 'Names of the containers in the pod template.', 1);
export const imagesColumn = col('Images', 'string', 'Images the pod template\'s containers run.', 1);

const deploymentPrinter: Printer = {
  columns: [
    nameColumn,
    col('Ready', 'string', 'Ready pods out of the desired number.'),
    col('Up-to-date', 'string', 'Pods already running the current template.'),
    col('Available', 'string', 'Pods that have been ready for at least minReadySeconds.'),
    ageColumn,
    containersColumn,
    imagesColumn,
    col('Selector', 'string', 'Label selector of the pods (and ReplicaSets) the Deployment manages.', 1),
  ],
  cells: (o, now) => {
    let selector: string;
    try {
      selector = selectorToString(labelSelectorFromStruct(get(o, 'spec', 'selector') as MetaLabelSelector | undefined));
    } catch {
      selector = '<invalid>';
    }
    return [
      o.metadata.name,
      `${num(get(o, 'status', 'readyReplicas'))}/${num(get(o, 'spec', 'replicas'))}`,
      num(get(o, 'status', 'updatedReplicas')),
      num(get(o, 'status', 'availableReplicas')),
      age(o.metadata.creationTimestamp, now),
      ...containerCells(get(o, 'spec', 'template')),
      selector,
    ];
  },
};

const replicaSetPrinter: Printer = {
  columns: [
    nameColumn,
    col('Desired', 'integer', 'Number of pods the ReplicaSet should run.'),
    col('Current', 'integer', 'Number of pods the ReplicaSet currently has.'),
    col('Ready', 'integer', 'Number of its pods that are ready.'),
    ageColumn,
    containersColumn,
    imagesColumn,
    col('Selector', 'string', 'Label selector of the pods the ReplicaSet counts.', 1),
  ],
  cells: (o, now) => [
    o.metadata.name,
    num(get(o, 'spec', 'replicas')),
    num(get(o, 'status', 'replicas')),
    num(get(o, 'status', 'readyReplicas')),
    age(o.metadata.creationTimestamp, now),
    ...containerCells(get(o, 'spec', 'template')),
    formatSelector(get(o, 'spec', 'selector')),
  ],
};

const daemonSetPrinter: Printer = {
  columns: [
    nameColumn,
    col('Desired', 'integer', 'Nodes that should run the daemon pod.'),
    col('Current', 'integer', 'Nodes running at least one daemon pod.'),
    col('Ready', 'integer', 'Nodes whose daemon pod is ready.'),
    col('Up-to-date', 'integer', 'Nodes running the current template.'),
    col('Available', 'integer', 'Nodes whose daemon pod has been ready for minReadySeconds.'),
    col('Node Selector', 'string', 'Node labels the daemon pods are restricted to.'),
    ageColumn,
    containersColumn,
    imagesColumn,
    col('Selector', 'string', 'Label selector of the daemon pods.', 1),
  ],
  cells: (o, now) => [
    o.metadata.name,
    num(get(o, 'status', 'desiredNumberScheduled')),
    num(get(o, 'status', 'currentNumberScheduled')),
    num(get(o, 'status', 'numberReady')),
    num(get(o, 'status', 'updatedNumberScheduled')),
    num(get(o, 'status', 'numberAvailable')),
    formatLabels(get(o, 'spec', 'template', 'spec', 'nodeSelector')),
    age(o.metadata.creationTimestamp, now),
    ...containerCells(get(o, 'spec', 'template')),
    formatSelector(get(o, 'spec', 'selector')),
  ],
};

const statefulSetPrinter: Printer = {
  columns: [
    nameColumn,
    col('Ready', 'string', 'Ready pods out of the desired number.'),
    ageColumn,
    containersColumn,
    imagesColumn,
  ],
  cells: (o, now) => [
    o.metadata.name,
    `${num(get(o, 'status', 'readyReplicas'))}/${num(get(o, 'spec', 'replicas'))}`,
    age(o.metadata.creationTimestamp, now),
    ...containerCells(get(o, 'spec', 'template')),
  ],
};

/** "daemonset.apps/web": the controlling owner as kubectl names it, or <none>. */
function controllerName(o: KubeObject): string {
  const owner = (o.metadata.ownerReferences ?? []).find((r) => r.controller === true);
  if (!owner) return '<none>';
  const apiVersion = String(owner.apiVersion ?? '');
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  const kind = String(owner.kind ?? '');
  const groupKind = group ? `${kind}.${group}` : kind;
  return groupKind ? `${groupKind.toLowerCase()}/${String(owner.name ?? '')}` : String(owner.name ?? '');
}

const controllerRevisionPrinter: Printer = {
  columns: [
    nameColumn,
    col('Controller', 'string', 'The object that owns this revision.'),
    col('Revision', 'string', 'Revision number of the recorded state.'),
    ageColumn,
  ],
  cells: (o, now) => [o.metadata.name, controllerName(o), num(o.revision), age(o.metadata.creationTimestamp, now)],
};

// ---- create / update rules --------------------------------------------------------------------------

/** apps/v1 forbids changing a controller's selector after creation. */
function selectorImmutable(o: KubeObject, old: KubeObject | undefined): FieldError[] {
  if (!old) return [];
  const selector = get(o, 'spec', 'selector');
  return deepEqual(selector, get(old, 'spec', 'selector')) ? [] : [invalidGo('spec.selector', goLabelSelector(selector), FIELD_IMMUTABLE)];
}

/** Only replicas, ordinals, template, updateStrategy, the PVC retention policy and minReadySeconds may change. */
const STATEFULSET_MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

function validateStatefulSetUpdate(o: KubeObject, old: KubeObject | undefined): FieldError[] {
  if (!old) return [];
  const strip = (spec: unknown): Obj => {
    const copy = { ...(asObj(spec) ?? {}) };
    for (const k of STATEFULSET_MUTABLE) delete copy[k];
    return copy;
  };
  if (deepEqual(strip(o.spec), strip(old.spec))) return [];
  return [
    forbidden(
      'spec',
      "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ),
  ];
}

/**
 * A DaemonSet's template generation (served as the deprecated.daemonset.template.generation
 * annotation) starts at 1 and grows by one whenever the pod template changes.
 */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

function setTemplateGeneration(o: KubeObject, generation: number): void {
  o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [TEMPLATE_GENERATION_ANNOTATION]: String(generation) };
}

function prepareDaemonSetUpdate(o: KubeObject, old: KubeObject): void {
  const previous = Number(old.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION] ?? 1) || 1;
  // Compare templates as they will be stored: the incoming object is not defaulted yet.
  const incoming = structuredClone(o) as KubeObject;
  applyDefaults(incoming, DaemonSet);
  const changed = !deepEqual(get(incoming, 'spec', 'template'), get(old, 'spec', 'template'));
  setTemplateGeneration(o, changed ? previous + 1 : previous);
}

const resetStatus = (o: KubeObject): void => {
  o.status = {};
};

const scale = (labelSelectorPath: string) => ({ specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath });

export const kinds: KindDef[] = [
  kindDef({
    ...apps,
    kind: 'ControllerRevision',
    plural: 'controllerrevisions',
    namespaced: true,
    schema: ControllerRevision,
    tracksGeneration: false,
    printer: controllerRevisionPrinter,
    validate: (o, old) => (old && !deepEqual(o.data, old.data) ? [invalid('data', o.data, FIELD_IMMUTABLE)] : []),
  }),
  kindDef({
    ...apps,
    kind: 'DaemonSet',
    plural: 'daemonsets',
    namespaced: true,
    shortNames: ['ds'],
    categories: ['all'],
    schema: DaemonSet,
    printer: daemonSetPrinter,
    validate: selectorImmutable,
    prepareForCreate: (o) => {
      resetStatus(o);
      setTemplateGeneration(o, 1);
    },
    prepareForUpdate: prepareDaemonSetUpdate,
  }),
  kindDef({
    ...apps,
    kind: 'Deployment',
    plural: 'deployments',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    schema: Deployment,
    subresources: { status: true, scale: scale('spec.selector') },
    printer: deploymentPrinter,
    validate: selectorImmutable,
    prepareForCreate: resetStatus,
  }),
  kindDef({
    ...apps,
    kind: 'ReplicaSet',
    plural: 'replicasets',
    namespaced: true,
    shortNames: ['rs'],
    categories: ['all'],
    schema: ReplicaSet,
    subresources: { status: true, scale: scale('spec.selector') },
    fieldSelectors: { 'status.replicas': (o) => String(num(get(o, 'status', 'replicas'))) },
    printer: replicaSetPrinter,
    validate: selectorImmutable,
    prepareForCreate: resetStatus,
  }),
  kindDef({
    ...apps,
    kind: 'StatefulSet',
    plural: 'statefulsets',
    namespaced: true,
    shortNames: ['sts'],
    categories: ['all'],
    schema: StatefulSet,
    nameRule: 'dns1123Label',
    subresources: { status: true, scale: scale('spec.selector') },
    printer: statefulSetPrinter,
    validate: validateStatefulSetUpdate,
    prepareForCreate: resetStatus,
  }),
];
