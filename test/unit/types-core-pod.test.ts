import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { KindDef, KubeObject } from '../../shared/api/kind.js';
import { kinds } from '../../shared/api/kinds/core-pod.js';
import { applyDefaults } from '../../shared/api/schema/defaults.js';
import type { ListType, StructType, TypeNode } from '../../shared/api/schema/dsl.js';
import { formatFieldError } from '../../shared/api/schema/errors.js';
import { validateAgainstSchema } from '../../shared/api/schema/validate.js';
import * as podTypes from '../../shared/api/types/core-pod.js';
import { Container, ContainerPort, Pod, PodSpec, PodStatus, PodTemplateSpec, Volume } from '../../shared/api/types/core-pod.js';
import * as metaTypes from '../../shared/api/types/meta.js';
import { ObjectMeta } from '../../shared/api/types/meta.js';

type Obj = Record<string, unknown>;

const GOLDEN = '/work/shared/reference/k8s-1.26-golden';

function kindOf(kind: string): KindDef {
  const def = kinds.find((k) => k.kind === kind);
  if (!def) throw new Error(`no kind ${kind}`);
  return def;
}

function listOf(s: StructType, field: string): ListType {
  const t = s.fields[field].type;
  if (t.t !== 'list') throw new Error(`${s.name}.${field} is not a list`);
  return t;
}

/** What a create request goes through: prepareForCreate, defaulting, schema checks, the kind's checks. */
function createErrors(kind: string, body: Obj): string[] {
  const def = kindOf(kind);
  const obj = structuredClone(body) as KubeObject;
  def.prepareForCreate?.(obj);
  applyDefaults(obj, def.schema);
  return [...validateAgainstSchema(obj, def.schema, ''), ...(def.validate?.(obj, undefined) ?? [])].map(formatFieldError);
}

function created(kind: string, body: Obj): KubeObject {
  const def = kindOf(kind);
  const obj = structuredClone(body) as KubeObject;
  def.prepareForCreate?.(obj);
  applyDefaults(obj, def.schema);
  return obj;
}

function updateErrors(kind: string, old: KubeObject, next: Obj): string[] {
  const def = kindOf(kind);
  const obj = structuredClone(next) as KubeObject;
  def.prepareForUpdate?.(obj, old);
  applyDefaults(obj, def.schema);
  return [...validateAgainstSchema(obj, def.schema, ''), ...(def.validate?.(obj, old) ?? [])].map(formatFieldError);
}

const pod = (spec: Obj, name = 'web'): Obj => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec });
const app = (extra: Obj = {}): Obj => ({ name: 'app', image: 'nginx:1.25', ...extra });

describe('schema facts kubectl and server-side apply rely on', () => {
  it('declares Kubernetes list semantics and patch metadata on the pod spec', () => {
    expect(listOf(PodSpec, 'containers')).toMatchObject({ listType: 'map', mapKeys: ['name'], patchStrategy: 'merge', patchMergeKey: 'name' });
    expect(listOf(PodSpec, 'volumes')).toMatchObject({ listType: 'map', mapKeys: ['name'], patchStrategy: 'merge,retainKeys', patchMergeKey: 'name' });
    expect(listOf(PodSpec, 'tolerations')).toMatchObject({ listType: 'atomic' });
    expect(listOf(PodSpec, 'tolerations').patchMergeKey).toBeUndefined();
    expect(listOf(PodSpec, 'imagePullSecrets')).toMatchObject({ patchMergeKey: 'name', patchStrategy: 'merge' });
    expect(listOf(Container, 'ports')).toMatchObject({ listType: 'map', mapKeys: ['containerPort', 'protocol'], patchMergeKey: 'containerPort' });
    expect(listOf(Container, 'env')).toMatchObject({ listType: 'map', mapKeys: ['name'], patchMergeKey: 'name' });
    expect(listOf(Container, 'volumeMounts')).toMatchObject({ mapKeys: ['mountPath'], patchMergeKey: 'mountPath' });
    expect(listOf(PodStatus, 'conditions')).toMatchObject({ mapKeys: ['type'], patchMergeKey: 'type' });
    expect(listOf(ObjectMeta, 'ownerReferences')).toMatchObject({ listType: 'map', mapKeys: ['uid'], patchStrategy: 'merge', patchMergeKey: 'uid' });
    expect(listOf(ObjectMeta, 'finalizers')).toMatchObject({ listType: 'set', patchStrategy: 'merge' });
  });

  it('uses the protobuf field numbers of generated.proto', () => {
    expect(ObjectMeta.fields.creationTimestamp.proto).toBe(8);
    expect(ObjectMeta.fields.managedFields.proto).toBe(17);
    expect(Pod.fields.spec.proto).toBe(2);
    expect(PodSpec.fields.containers.proto).toBe(2);
    expect(PodSpec.fields.initContainers.proto).toBe(20);
    expect(PodSpec.fields.ephemeralContainers.proto).toBe(34);
    expect(PodSpec.fields.nodeName.proto).toBe(10);
    expect(Container.fields.envFrom.proto).toBe(19);
    expect(Container.fields.terminationMessagePolicy.proto).toBe(20);
    expect(ContainerPort.fields.containerPort.proto).toBe(3);
    expect(PodStatus.fields.podIPs.proto).toBe(12);
  });

  it('never reuses a protobuf number within one message', () => {
    const structs = [...Object.values(podTypes), ...Object.values(metaTypes)].filter((v): v is StructType => (v as StructType)?.kind === 'struct');
    expect(structs.length).toBeGreaterThan(60);
    for (const s of structs) {
      const numbers = Object.values(s.fields).map((f) => f.proto).filter((n) => n !== undefined);
      expect(new Set(numbers).size, s.name).toBe(numbers.length);
    }
  });

  it('names every struct after its OpenAPI component and resolves every reference', () => {
    const seen = new Set<StructType>();
    const visit = (t: TypeNode): void => {
      if (t.t === 'list') return visit(t.items);
      if (t.t === 'map') return visit(t.values);
      if (t.t !== 'struct') return;
      const s = t.ref();
      if (seen.has(s)) return;
      seen.add(s);
      expect(s.name).toMatch(/^io\.k8s\.(api\.core\.v1|apimachinery\.pkg\.apis\.meta\.v1)\.[A-Z][A-Za-z]+$/);
      Object.values(s.fields).forEach((f) => visit(f.type));
    };
    for (const def of kinds) visit({ t: 'struct', ref: () => def.schema });
    expect(seen.size).toBeGreaterThan(80);
  });
});

describe('defaulting a minimal pod', () => {
  it('fills in what kube-apiserver fills in', () => {
    const obj = created('Pod', pod({ containers: [app({ image: 'nginx', ports: [{ containerPort: 80 }] })] }));
    const spec = obj.spec as Obj;
    expect(spec).toMatchObject({
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      terminationGracePeriodSeconds: 30,
      schedulerName: 'default-scheduler',
      securityContext: {},
      enableServiceLinks: true,
    });
    expect((spec.containers as Obj[])[0]).toEqual({
      name: 'app',
      image: 'nginx',
      ports: [{ containerPort: 80, protocol: 'TCP' }],
      resources: {},
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      imagePullPolicy: 'Always',
    });
    expect(obj.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });
  });

  it('derives imagePullPolicy from the tag', () => {
    const policies = ['busybox', 'busybox:latest', 'busybox:1.36', 'localhost:5000/busybox', 'busybox@sha256:' + 'a'.repeat(64)].map((image) => {
      const c: Obj = { name: 'c', image };
      applyDefaults(c, Container);
      return c.imagePullPolicy;
    });
    expect(policies).toEqual(['Always', 'Always', 'IfNotPresent', 'Always', 'IfNotPresent']);
  });

  it('defaults probes, empty volumes, and requests from limits', () => {
    const obj = created(
      'Pod',
      pod({
        volumes: [{ name: 'scratch' }, { name: 'cfg', configMap: { name: 'settings' } }],
        containers: [app({ resources: { limits: { cpu: '500m', memory: '128Mi' } }, livenessProbe: { httpGet: { port: 8080 } } })],
      }),
    );
    const spec = obj.spec as Obj;
    expect(spec.volumes).toEqual([{ name: 'scratch', emptyDir: {} }, { name: 'cfg', configMap: { name: 'settings', defaultMode: 420 } }]);
    const ctr = (spec.containers as Obj[])[0];
    expect(ctr.livenessProbe).toEqual({ httpGet: { port: 8080, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
    expect(ctr.resources).toEqual({ limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '500m', memory: '128Mi' } });
    expect(obj.status).toMatchObject({ qosClass: 'Guaranteed' });
  });

  it('computes Burstable when requests and limits differ', () => {
    const obj = created('Pod', pod({ containers: [app({ resources: { requests: { cpu: '100m' }, limits: { cpu: '200m', memory: '64Mi' } } })] }));
    expect(obj.status).toMatchObject({ qosClass: 'Burstable' });
  });

  it('does not give pod templates the pod-only defaults', () => {
    const template: Obj = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'busybox', resources: { limits: { cpu: '1' } } }] } };
    applyDefaults(template, PodTemplateSpec);
    const spec = template.spec as Obj;
    expect(spec.restartPolicy).toBe('Always');
    expect(spec.enableServiceLinks).toBeUndefined();
    expect((spec.containers as Obj[])[0].resources).toEqual({ limits: { cpu: '1' } });
  });

  it('leaves a pod exactly as kube-apiserver 1.26 returned it unchanged, and valid', () => {
    const golden = JSON.parse(readFileSync(`${GOLDEN}/pods-list.json`, 'utf8')).items[0] as KubeObject;
    const copy = structuredClone(golden);
    applyDefaults(copy, Pod);
    expect(copy).toEqual(golden);
    expect(validateAgainstSchema(copy, Pod, '').map(formatFieldError)).toEqual([]);
    expect(kindOf('Pod').validate?.(copy, undefined)).toEqual([]);
  });

  it('gives a volume without a source an emptyDir', () => {
    const v: Obj = { name: 'tmp' };
    applyDefaults(v, Volume);
    expect(v).toEqual({ name: 'tmp', emptyDir: {} });
  });
});

describe('pod validation wording', () => {
  it('requires containers', () => {
    expect(createErrors('Pod', pod({ containers: [] }))).toEqual(['spec.containers: Required value']);
    expect(createErrors('Pod', pod({}))).toEqual(['spec.containers: Required value']);
  });

  it('checks container names and images', () => {
    const errs = createErrors('Pod', pod({ containers: [app({ name: 'Web_1' }), app({ name: 'side', image: undefined }), app({ name: 'side' })] }));
    expect(errs).toContain(
      'spec.containers[0].name: Invalid value: "Web_1": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character (e.g. \'my-name\',  or \'123-abc\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?\')',
    );
    expect(errs).toContain('spec.containers[1].image: Required value');
    expect(errs).toContain('spec.containers[2].name: Duplicate value: "side"');
  });

  it('checks port numbers and protocols', () => {
    const errs = createErrors('Pod', pod({ containers: [app({ ports: [{ containerPort: 70000 }, { containerPort: 53, protocol: 'HTTP' }] })] }));
    expect(errs).toEqual([
      'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
      'spec.containers[0].ports[1].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    ]);
  });

  it('lists supported values the way Kubernetes orders them', () => {
    const errs = createErrors('Pod', pod({ restartPolicy: 'Sometimes', dnsPolicy: 'Google', containers: [app({ imagePullPolicy: 'Maybe' })] }));
    expect(errs).toEqual([
      'spec.containers[0].imagePullPolicy: Unsupported value: "Maybe": supported values: "Always", "IfNotPresent", "Never"',
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
      'spec.dnsPolicy: Unsupported value: "Google": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
    ]);
  });

  it('keeps requests within limits, printing canonical quantities', () => {
    const errs = createErrors('Pod', pod({ containers: [app({ resources: { requests: { cpu: '2000m' }, limits: { cpu: '1' } } })] }));
    expect(errs).toEqual(['spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1']);
  });

  it('checks volume names, sources and mounts', () => {
    const errs = createErrors(
      'Pod',
      pod({
        volumes: [{ name: 'data', emptyDir: {}, secret: { secretName: 's' } }, { name: 'cache', emptyDir: {} }, { name: 'cache', emptyDir: {} }],
        containers: [app({ volumeMounts: [{ name: 'x', mountPath: '/x' }, { name: 'cache', mountPath: '/x' }] })],
      }),
    );
    expect(errs).toEqual([
      'spec.volumes[0].secret: Forbidden: may not specify more than 1 volume type',
      'spec.volumes[2].name: Duplicate value: "cache"',
      'spec.containers[0].volumeMounts[0].name: Not found: "x"',
      'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/x": must be unique',
    ]);
  });

  it('requires the identifying fields of common volume sources', () => {
    const errs = createErrors('Pod', pod({ volumes: [{ name: 's', secret: {} }, { name: 'c', configMap: {} }], containers: [app()] }));
    expect(errs).toEqual(['spec.volumes[0].secret.secretName: Required value', 'spec.volumes[1].configMap.name: Required value']);
  });

  it('checks tolerations and probes', () => {
    const errs = createErrors(
      'Pod',
      pod({ tolerations: [{ operator: 'Equal', value: 'x' }], containers: [app({ readinessProbe: { periodSeconds: 5 } })] }),
    );
    expect(errs).toEqual([
      'spec.containers[0].readinessProbe: Required value: must specify a handler type',
      'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"',
    ]);
  });
});

describe('pod updates', () => {
  const stored = created('Pod', pod({ containers: [app({ ports: [{ containerPort: 80 }] })], tolerations: [{ key: 'a', operator: 'Exists' }] }));

  it('allows image changes, added tolerations and metadata changes', () => {
    const next = structuredClone(stored) as Obj;
    (next.metadata as Obj).labels = { tier: 'web' };
    const spec = next.spec as Obj;
    (spec.containers as Obj[])[0].image = 'nginx:1.26';
    spec.tolerations = [{ key: 'a', operator: 'Exists' }, { key: 'b', operator: 'Exists', effect: 'NoSchedule' }];
    expect(updateErrors('Pod', stored, next)).toEqual([]);
  });

  it('refuses other spec changes with Kubernetes\' message', () => {
    const next = structuredClone(stored) as Obj;
    ((next.spec as Obj).containers as Obj[])[0].ports = [{ containerPort: 8080, protocol: 'TCP' }];
    const errs = updateErrors('Pod', stored, next);
    expect(errs).toHaveLength(1);
    expect(errs[0].split('\n')[0]).toBe(
      'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    );
    expect(errs[0]).toContain('containers[0].ports[0].containerPort');
  });

  it('refuses adding containers and removing tolerations', () => {
    const more = structuredClone(stored) as Obj;
    (more.spec as Obj).containers = [...((more.spec as Obj).containers as Obj[]), { name: 'extra', image: 'busybox' }];
    expect(updateErrors('Pod', stored, more)).toEqual(['spec.containers: Forbidden: pod updates may not add or remove containers']);
    const fewer = structuredClone(stored) as Obj;
    (fewer.spec as Obj).tolerations = [];
    expect(updateErrors('Pod', stored, fewer)).toContain('spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds');
  });

  it('keeps the stored status on a spec update', () => {
    const withStatus = { ...structuredClone(stored), status: { phase: 'Running', qosClass: 'BestEffort' } } as KubeObject;
    const next = { ...structuredClone(withStatus), status: { phase: 'Failed' } } as KubeObject;
    kindOf('Pod').prepareForUpdate?.(next, withStatus);
    expect(next.status).toEqual({ phase: 'Running', qosClass: 'BestEffort' });
  });
});

describe('pod table', () => {
  const printer = kindOf('Pod').printer;
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const at = (seconds: number) => new Date(t0 + seconds * 1000).toISOString().replace('.000Z', 'Z');
  const now = new Date(t0 + 3600 * 1000);
  const cells = (status: Obj, extra: { spec?: Obj; deletionTimestamp?: string } = {}) =>
    printer.cells(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p', creationTimestamp: at(0), deletionTimestamp: extra.deletionTimestamp },
        spec: extra.spec ?? { containers: [{ name: 'app', image: 'busybox' }] },
        status,
      } as KubeObject,
      now,
    );
  const ctrStatus = (state: Obj, extra: Obj = {}): Obj => ({ name: 'app', ready: false, restartCount: 0, image: 'busybox', imageID: '', state, ...extra });

  it('has kubectl\'s columns', () => {
    expect(printer.columns.map((c) => `${c.name}/${c.priority}`)).toEqual([
      'Name/0', 'Ready/0', 'Status/0', 'Restarts/0', 'Age/0', 'IP/1', 'Node/1', 'Nominated Node/1', 'Readiness Gates/1',
    ]);
  });

  it('matches the cells kube-apiserver 1.26 served for the same pods', () => {
    const list = JSON.parse(readFileSync(`${GOLDEN}/pods-list.json`, 'utf8')).items as KubeObject[];
    const table = JSON.parse(readFileSync(`${GOLDEN}/pods-table.json`, 'utf8')) as { rows: { cells: unknown[] }[] };
    const capturedAt = new Date('2026-11-25T01:38:44Z');
    expect(list.map((p) => printer.cells(p, capturedAt))).toEqual(table.rows.map((r) => r.cells));
  });

  it('shows a running pod', () => {
    const status = {
      phase: 'Running',
      podIPs: [{ ip: '10.0.0.5' }],
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [ctrStatus({ running: { startedAt: at(5) } }, { ready: true })],
    };
    const row = cells(status, { spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'busybox' }] } });
    expect(row).toEqual(['p', '1/1', 'Running', '0', '60m', '10.0.0.5', 'node-1', '<none>', '<none>']);
  });

  it('shows a completed pod', () => {
    const status = { phase: 'Succeeded', containerStatuses: [ctrStatus({ terminated: { exitCode: 0, reason: 'Completed' } })] };
    expect(cells(status).slice(0, 4)).toEqual(['p', '0/1', 'Completed', '0']);
  });

  it('shows a terminating pod', () => {
    const status = { phase: 'Running', containerStatuses: [ctrStatus({ running: {} }, { ready: true })] };
    expect(cells(status, { deletionTimestamp: at(3590) }).slice(0, 3)).toEqual(['p', '1/1', 'Terminating']);
  });

  it('shows waiting reasons, restarts with their age, and init progress', () => {
    expect(cells({ phase: 'Pending' }).slice(1, 4)).toEqual(['0/1', 'Pending', '0']);
    expect(cells({ phase: 'Pending', containerStatuses: [ctrStatus({ waiting: { reason: 'ContainerCreating' } })] })[2]).toBe('ContainerCreating');
    const crashing = ctrStatus({ waiting: { reason: 'CrashLoopBackOff' } }, { restartCount: 3, lastState: { terminated: { exitCode: 1, finishedAt: at(3300) } } });
    expect(cells({ phase: 'Running', containerStatuses: [crashing] }).slice(2, 4)).toEqual(['CrashLoopBackOff', '3 (5m ago)']);
    const initSpec = { initContainers: [{ name: 'init', image: 'busybox' }], containers: [{ name: 'app', image: 'busybox' }] };
    const initStatus = {
      phase: 'Pending',
      initContainerStatuses: [{ name: 'init', ready: false, restartCount: 0, image: 'busybox', imageID: '', state: { running: {} } }],
      containerStatuses: [ctrStatus({ waiting: { reason: 'PodInitializing' } })],
    };
    expect(cells(initStatus, { spec: initSpec }).slice(1, 3)).toEqual(['0/1', 'Init:0/1']);
  });

  it('answers Kubernetes\' pod field selectors', () => {
    const def = kindOf('Pod');
    const p = { metadata: { name: 'p' }, spec: { containers: [] }, status: { phase: 'Running', podIPs: [{ ip: '10.0.0.9' }] } } as unknown as KubeObject;
    const values = Object.fromEntries(Object.entries(def.fieldSelectors).map(([k, get]) => [k, get(p)]));
    expect(values).toEqual({
      'spec.nodeName': '',
      'spec.restartPolicy': '',
      'spec.schedulerName': '',
      'spec.serviceAccountName': '',
      'spec.hostNetwork': 'false',
      'status.phase': 'Running',
      'status.podIP': '10.0.0.9',
      'status.nominatedNodeName': '',
    });
  });
});

describe('persistent volumes and claims', () => {
  it('registers the kinds as Kubernetes serves them', () => {
    expect(kinds.map((k) => [k.plural, k.namespaced, k.shortNames, k.categories])).toEqual([
      ['pods', true, ['po'], ['all']],
      ['persistentvolumes', false, ['pv'], []],
      ['persistentvolumeclaims', true, ['pvc'], []],
    ]);
  });

  it('defaults and validates a claim', () => {
    const pvc = created('PersistentVolumeClaim', { metadata: { name: 'data', namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
    expect(pvc.spec).toMatchObject({ volumeMode: 'Filesystem' });
    expect(pvc.status).toEqual({ phase: 'Pending' });
    expect(createErrors('PersistentVolumeClaim', { metadata: { name: 'data', namespace: 'default' }, spec: {} })).toEqual([
      'spec.accessModes: Required value: at least 1 access mode is required',
      'spec.resources[storage]: Required value',
    ]);
  });

  it('defaults and validates a volume', () => {
    const body = { metadata: { name: 'pv1' }, spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data' } } };
    const pv = created('PersistentVolume', body);
    expect(pv.spec).toMatchObject({ persistentVolumeReclaimPolicy: 'Retain', volumeMode: 'Filesystem', hostPath: { path: '/data', type: '' } });
    expect(pv.status).toMatchObject({ phase: 'Pending' });
    expect(createErrors('PersistentVolume', body)).toEqual([]);
    expect(createErrors('PersistentVolume', { metadata: { name: 'pv2' }, spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'] } })).toEqual([
      'spec: Required value: must specify a volume type',
    ]);
  });

  it('prints volumes and claims with kubectl\'s columns', () => {
    const now = new Date('2026-01-01T01:00:00Z');
    const pv = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'pv1', creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteMany', 'ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', claimRef: { namespace: 'default', name: 'data' }, storageClassName: 'local', volumeMode: 'Filesystem' },
      status: { phase: 'Bound' },
    } as KubeObject;
    const pvPrinter = kindOf('PersistentVolume').printer;
    expect(pvPrinter.columns.map((c) => c.name)).toEqual(['Name', 'Capacity', 'Access Modes', 'Reclaim Policy', 'Status', 'Claim', 'StorageClass', 'VolumeAttributesClass', 'Reason', 'Age', 'VolumeMode']);
    expect(pvPrinter.cells(pv, now)).toEqual(['pv1', '5Gi', 'RWO,RWX', 'Retain', 'Bound', 'default/data', 'local', '<unset>', '', '60m', 'Filesystem']);

    const pvcPrinter = kindOf('PersistentVolumeClaim').printer;
    const pvc = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data', creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeName: 'pv1', volumeMode: 'Filesystem' },
      status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '5Gi' } },
    } as KubeObject;
    expect(pvcPrinter.cells(pvc, now)).toEqual(['data', 'Bound', 'pv1', '5Gi', 'RWO', '', '<unset>', '60m', 'Filesystem']);
    const pending = { ...pvc, spec: { ...(pvc.spec as Obj), volumeName: undefined }, status: { phase: 'Pending' } } as KubeObject;
    expect(pvcPrinter.cells(pending, now).slice(1, 5)).toEqual(['Pending', '', '', '']);
  });
});
