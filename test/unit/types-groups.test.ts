import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { KindDef, KubeObject } from '../../shared/api/kind.js';
import { kinds as appsKinds } from '../../shared/api/kinds/apps.js';
import { kinds as autoscalingKinds } from '../../shared/api/kinds/autoscaling.js';
import { kinds as batchKinds } from '../../shared/api/kinds/batch.js';
import { kinds as coordinationKinds } from '../../shared/api/kinds/coordination.js';
import { kinds as discoveryKinds } from '../../shared/api/kinds/discovery.js';
import { kinds as eventsKinds } from '../../shared/api/kinds/events.js';
import { kinds as policyKinds } from '../../shared/api/kinds/policy.js';
import { kinds as rbacKinds } from '../../shared/api/kinds/rbac.js';
import { kinds as schedulingKinds } from '../../shared/api/kinds/scheduling.js';
import { applyDefaults } from '../../shared/api/schema/defaults.js';
import { formatFieldError } from '../../shared/api/schema/errors.js';
import { validateAgainstSchema } from '../../shared/api/schema/validate.js';
import { parseCronSchedule } from '../../shared/api/types/batch.js';

type Obj = Record<string, unknown>;

const allKinds: KindDef[] = [
  ...appsKinds,
  ...autoscalingKinds,
  ...batchKinds,
  ...coordinationKinds,
  ...discoveryKinds,
  ...eventsKinds,
  ...policyKinds,
  ...rbacKinds,
  ...schedulingKinds,
];

function kindOf(name: string, group?: string): KindDef {
  const def = allKinds.find((k) => k.kind === name && (group === undefined || k.group === group));
  if (!def) throw new Error(`no kind ${name}`);
  return def;
}

/** The kind's create preparation, then schema defaults, in the order the REST layer runs them. */
function created(kind: string, body: Obj): KubeObject {
  const def = kindOf(kind);
  const obj = structuredClone(body) as KubeObject;
  def.prepareForCreate?.(obj);
  applyDefaults(obj, def.schema);
  return obj;
}

function updated(kind: string, body: Obj, old: KubeObject): KubeObject {
  const def = kindOf(kind);
  const obj = structuredClone(body) as KubeObject;
  def.prepareForUpdate?.(obj, old);
  applyDefaults(obj, def.schema);
  return obj;
}

/** What a client is told: the schema's generic checks, then the kind's own validation. */
function messages(kind: string, obj: KubeObject, old?: KubeObject): string[] {
  const def = kindOf(kind);
  return [...validateAgainstSchema(obj, def.schema), ...(def.validate?.(obj, old) ?? [])].map(formatFieldError);
}

const NOW = new Date('2024-05-01T12:00:00Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const cells = (kind: string, obj: KubeObject, now = NOW) => kindOf(kind).printer.cells(obj, now);
const columnNames = (kind: string) => kindOf(kind).printer.columns.map((c) => `${c.name}${c.priority ? '*' : ''}`);

const podTemplate = (labels: Record<string, string>, extra: Obj = {}): Obj => ({
  metadata: { labels },
  spec: { containers: [{ name: 'busybox', image: 'busybox' }], ...extra },
});

const deployment = (spec: Obj, name = 'x'): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'default', uid: 'd-uid', creationTimestamp: ago(60) },
  spec,
});

describe('Deployment', () => {
  it('gets the defaults Kubernetes gives a minimal Deployment', () => {
    const d = created('Deployment', deployment({ selector: { matchLabels: { app: 'x' } }, template: podTemplate({ app: 'x' }) }));
    expect(d.spec).toMatchObject({
      replicas: 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
    });
    expect(d.status).toEqual({});
    expect(messages('Deployment', d)).toEqual([]);
  });

  it('keeps a Recreate strategy without rolling update parameters', () => {
    const d = created('Deployment', deployment({ selector: { matchLabels: { app: 'x' } }, template: podTemplate({ app: 'x' }), strategy: { type: 'Recreate' } }));
    expect(d.spec).toMatchObject({ strategy: { type: 'Recreate' } });
    expect((d.spec as Obj).strategy).not.toHaveProperty('rollingUpdate');
  });

  it('refuses a selector that does not select the template, in Kubernetes\' words', () => {
    const d = created('Deployment', deployment({ selector: { matchLabels: { app: 'x' } }, template: podTemplate({ app: 'y' }) }));
    expect(messages('Deployment', d)).toEqual([
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"y"}: `selector` does not match template `labels`',
    ]);
  });

  it('reports a missing selector as required and as not matching the template', () => {
    const d = created('Deployment', deployment({ template: podTemplate({ app: 'x' }) }));
    expect(messages('Deployment', d)).toEqual([
      'spec.selector: Required value',
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`',
    ]);
  });

  it('refuses negative replicas and a template that does not restart Always', () => {
    const d = created(
      'Deployment',
      deployment({ replicas: -1, selector: { matchLabels: { app: 'x' } }, template: podTemplate({ app: 'x' }, { restartPolicy: 'OnFailure' }) }),
    );
    expect(messages('Deployment', d)).toEqual([
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      'spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"',
    ]);
  });

  it('refuses a changed selector on update', () => {
    const old = created('Deployment', deployment({ selector: { matchLabels: { app: 'x' } }, template: podTemplate({ app: 'x' }) }));
    const next = updated('Deployment', deployment({ selector: { matchLabels: { app: 'y' } }, template: podTemplate({ app: 'y' }) }), old);
    expect(messages('Deployment', next, old)).toEqual([
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"y"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    ]);
  });

  it('prints the cells and columns a real kube-apiserver returns', () => {
    const golden = JSON.parse(readFileSync('/work/shared/reference/k8s-1.26-golden/deployments-table.json', 'utf8'));
    const d = created(
      'Deployment',
      deployment({ replicas: 10, selector: { matchLabels: { app: 'x' } }, template: podTemplate({ app: 'x' }) }),
    );
    d.metadata.creationTimestamp = '2026-11-25T01:36:35Z';
    d.status = { observedGeneration: 2, replicas: 10, updatedReplicas: 10, readyReplicas: 10, availableReplicas: 10 };
    const now = new Date('2026-11-25T01:38:44Z');
    expect(cells('Deployment', d, now)).toEqual(golden.rows[0].cells);
    const def = kindOf('Deployment');
    expect(def.printer.columns.map(({ name, type, format, priority }) => ({ name, type, format, priority }))).toEqual(
      golden.columnDefinitions.map(({ name, type, format, priority }: Obj) => ({ name, type, format, priority })),
    );
  });

  it('serves scale with the selector taken from spec.selector', () => {
    expect(kindOf('Deployment').subresources).toEqual({
      status: true,
      scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'spec.selector' },
    });
  });
});

describe('other apps/v1 kinds', () => {
  it('defaults a StatefulSet like Kubernetes', () => {
    const s = created('StatefulSet', {
      metadata: { name: 'db', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'db' } }, serviceName: 'db', template: podTemplate({ app: 'db' }) },
    });
    expect(s.spec).toMatchObject({
      replicas: 1,
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
    });
    expect(s.status).toEqual({ replicas: 0, availableReplicas: 0 });
  });

  it('defaults a DaemonSet and counts template generations in the deprecated annotation', () => {
    const body = { metadata: { name: 'agent', namespace: 'kube-system' }, spec: { selector: { matchLabels: { app: 'a' } }, template: podTemplate({ app: 'a' }) } };
    const ds = created('DaemonSet', body);
    expect(ds.spec).toMatchObject({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }, revisionHistoryLimit: 10 });
    expect(ds.status).toEqual({ currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 });
    expect(ds.metadata.annotations).toEqual({ 'deprecated.daemonset.template.generation': '1' });
    const same = updated('DaemonSet', { ...structuredClone(body), metadata: ds.metadata }, ds);
    expect(same.metadata.annotations?.['deprecated.daemonset.template.generation']).toBe('1');
    const changedBody = structuredClone(body) as Obj;
    ((changedBody.spec as Obj).template as Obj).spec = { containers: [{ name: 'busybox', image: 'busybox:2' }] };
    const changed = updated('DaemonSet', { ...changedBody, metadata: ds.metadata }, ds);
    expect(changed.metadata.annotations?.['deprecated.daemonset.template.generation']).toBe('2');
  });

  it('refuses StatefulSet spec changes outside the mutable fields', () => {
    const body = { metadata: { name: 'db', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'db' } }, serviceName: 'db', template: podTemplate({ app: 'db' }) } };
    const old = created('StatefulSet', body);
    const next = updated('StatefulSet', { ...body, spec: { ...body.spec, serviceName: 'other', replicas: 3 } }, old);
    expect(messages('StatefulSet', next, old)).toEqual([
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ]);
  });

  it('prints ReplicaSet, DaemonSet and StatefulSet rows', () => {
    const rs = created('ReplicaSet', {
      metadata: { name: 'x-864fd5d579', namespace: 'default', creationTimestamp: ago(132) },
      spec: { replicas: 10, selector: { matchLabels: { app: 'x', 'pod-template-hash': '864fd5d579' } }, template: podTemplate({ app: 'x', 'pod-template-hash': '864fd5d579' }) },
    });
    rs.status = { replicas: 10, readyReplicas: 10 };
    expect(cells('ReplicaSet', rs)).toEqual(['x-864fd5d579', 10, 10, 10, '2m12s', 'busybox', 'busybox', 'app=x,pod-template-hash=864fd5d579']);
    expect(columnNames('DaemonSet')).toEqual(['Name', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available', 'Node Selector', 'Age', 'Containers*', 'Images*', 'Selector*']);
    expect(columnNames('StatefulSet')).toEqual(['Name', 'Ready', 'Age', 'Containers*', 'Images*']);
  });
});

const job = (spec: Obj, name = 'pi'): Obj => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name, namespace: 'default', uid: '0b5c7d3e-1111-2222-3333-444455556666', creationTimestamp: ago(30) },
  spec,
});

describe('Job', () => {
  it('generates its selector and pod labels from the uid and name', () => {
    const j = created('Job', job({ template: podTemplate({}, { restartPolicy: 'Never' }) }));
    const uid = '0b5c7d3e-1111-2222-3333-444455556666';
    const spec = j.spec as Obj;
    expect(spec.selector).toEqual({ matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
    const generated = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': uid, 'job-name': 'pi' };
    expect((spec.template as Obj).metadata).toEqual({ labels: generated });
    expect(j.metadata.labels).toEqual(generated);
    expect(spec).toMatchObject({ parallelism: 1, completions: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false, podReplacementPolicy: 'TerminatingOrFailed' });
    expect(spec).not.toHaveProperty('manualSelector');
    expect(messages('Job', j)).toEqual([]);
  });

  it('leaves the selector alone when manualSelector is true', () => {
    const j = created('Job', job({ manualSelector: true, selector: { matchLabels: { app: 'batch' } }, template: podTemplate({ app: 'batch' }, { restartPolicy: 'OnFailure' }) }));
    expect((j.spec as Obj).selector).toEqual({ matchLabels: { app: 'batch' } });
    expect(messages('Job', j)).toEqual([]);
  });

  it('requires a restart policy other than Always', () => {
    const j = created('Job', job({ template: podTemplate({}) }));
    expect(messages('Job', j)).toEqual(['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"']);
  });

  it('prints a completed Job', () => {
    const j = created('Job', job({ template: podTemplate({}, { restartPolicy: 'Never' }) }));
    j.status = {
      startTime: ago(30),
      completionTime: ago(22),
      succeeded: 1,
      conditions: [{ type: 'Complete', status: 'True' }],
    };
    expect(columnNames('Job')).toEqual(['Name', 'Status', 'Completions', 'Duration', 'Age', 'Containers*', 'Images*', 'Selector*']);
    expect(cells('Job', j)).toEqual([
      'pi',
      'Complete',
      '1/1',
      '8s',
      '30s',
      'busybox',
      'busybox',
      'batch.kubernetes.io/controller-uid=0b5c7d3e-1111-2222-3333-444455556666',
    ]);
  });
});

const cronJob = (spec: Obj): Obj => ({
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name: 'hello', namespace: 'default', creationTimestamp: ago(10) },
  spec: { jobTemplate: { spec: { template: podTemplate({}, { restartPolicy: 'OnFailure' }) } }, ...spec },
});

describe('CronJob', () => {
  it('defaults the concurrency policy and history limits', () => {
    const c = created('CronJob', cronJob({ schedule: '*/1 * * * *' }));
    expect(c.spec).toMatchObject({ concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    expect(messages('CronJob', c)).toEqual([]);
  });

  it('refuses schedules the cron parser Kubernetes uses refuses', () => {
    const bad = (schedule: string) => messages('CronJob', created('CronJob', cronJob({ schedule })));
    expect(bad('bad')).toEqual(['spec.schedule: Invalid value: "bad": expected exactly 5 fields, found 1: [bad]']);
    expect(bad('61 * * * *')).toEqual(['spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61']);
    expect(bad('@fortnightly')).toEqual(['spec.schedule: Invalid value: "@fortnightly": unrecognized descriptor: @fortnightly']);
    expect(bad('* * * * x')).toEqual([
      'spec.schedule: Invalid value: "* * * * x": failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax',
    ]);
    expect(bad('TZ=UTC 0 * * * *')).toEqual(['spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead']);
    for (const ok of ['@hourly', '0 9 * * MON-FRI', '*/15 0-6 1,15 jan-mar ?', '@every 90s']) expect(bad(ok)).toEqual([]);
  });

  it('refuses unknown time zones and over-long names', () => {
    const c = created('CronJob', cronJob({ schedule: '@daily', timeZone: 'Mars/Olympus' }));
    c.metadata.name = 'a'.repeat(53);
    expect(messages('CronJob', c)).toEqual([
      'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
      `metadata.name: Invalid value: "${'a'.repeat(53)}": must be no more than 52 characters`,
    ]);
  });

  it('finds the next run time, in the schedule\'s time zone', () => {
    const every15 = parseCronSchedule('*/15 * * * *');
    expect(every15.next(new Date('2024-05-01T10:07:30Z'))?.toISOString()).toBe('2024-05-01T10:15:00.000Z');
    const nineOnWeekdays = parseCronSchedule('0 9 * * 1-5');
    // 2024-05-03 is a Friday; the next weekday 09:00 in New York (UTC-4 in May) is Monday 13:00 UTC.
    expect(nineOnWeekdays.next(new Date('2024-05-03T14:00:00Z'), 'America/New_York')?.toISOString()).toBe('2024-05-06T13:00:00.000Z');
  });

  it('prints schedule, time zone, suspension and last run', () => {
    const c = created('CronJob', cronJob({ schedule: '*/1 * * * *' }));
    expect(columnNames('CronJob')).toEqual(['Name', 'Schedule', 'Timezone', 'Suspend', 'Active', 'Last Schedule', 'Age', 'Containers*', 'Images*', 'Selector*']);
    expect(cells('CronJob', c)).toEqual(['hello', '*/1 * * * *', '<none>', 'False', 0, '<none>', '10s', 'busybox', 'busybox', '<none>']);
    c.status = { active: [{ kind: 'Job', name: 'hello-1' }], lastScheduleTime: ago(5) };
    expect(cells('CronJob', c).slice(3, 6)).toEqual(['False', 1, '5s']);
  });
});

describe('RBAC', () => {
  it('defaults apiGroups of the role reference and subjects', () => {
    const rb = created('RoleBinding', {
      metadata: { name: 'read-pods', namespace: 'default', creationTimestamp: ago(60) },
      roleRef: { kind: 'Role', name: 'pod-reader' },
      subjects: [
        { kind: 'User', name: 'jane' },
        { kind: 'ServiceAccount', name: 'robot', namespace: 'default' },
      ],
    });
    expect(rb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' });
    expect(rb.subjects).toEqual([
      { kind: 'User', name: 'jane', apiGroup: 'rbac.authorization.k8s.io' },
      { kind: 'ServiceAccount', name: 'robot', namespace: 'default', apiGroup: '' },
    ]);
    expect(messages('RoleBinding', rb)).toEqual([]);
  });

  it('prints a RoleBinding with its subjects in wide columns', () => {
    const rb = created('RoleBinding', {
      metadata: { name: 'read-pods', namespace: 'default', creationTimestamp: ago(60) },
      roleRef: { kind: 'Role', name: 'pod-reader' },
      subjects: [
        { kind: 'User', name: 'jane' },
        { kind: 'Group', name: 'devs' },
        { kind: 'ServiceAccount', name: 'robot', namespace: 'default' },
      ],
    });
    expect(columnNames('RoleBinding')).toEqual(['Name', 'Role', 'Age', 'Users*', 'Groups*', 'ServiceAccounts*']);
    expect(cells('RoleBinding', rb)).toEqual(['read-pods', 'Role/pod-reader', '60s', 'jane', 'devs', 'default/robot']);
  });

  it('refuses rules without verbs and a changed roleRef', () => {
    const role = created('Role', { metadata: { name: 'r', namespace: 'default' }, rules: [{ apiGroups: [''], resources: ['pods'] }] });
    expect(messages('Role', role)).toEqual(['rules[0].verbs: Required value: verbs must contain at least one value']);
    const body = { metadata: { name: 'b', namespace: 'default' }, roleRef: { kind: 'Role', name: 'a' } };
    const old = created('RoleBinding', body);
    const next = updated('RoleBinding', { ...body, roleRef: { kind: 'Role', name: 'b' } }, old);
    expect(messages('RoleBinding', next, old)).toEqual([
      'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"b"}: cannot change roleRef',
    ]);
  });

  it('prints roles with the default Created At table', () => {
    const role = created('ClusterRole', { metadata: { name: 'view', creationTimestamp: '2024-04-01T00:00:00Z' }, rules: [] });
    expect(columnNames('ClusterRole')).toEqual(['Name', 'Created At']);
    expect(cells('ClusterRole', role)).toEqual(['view', '2024-04-01T00:00:00Z']);
  });
});

describe('the smaller groups', () => {
  it('defaults an HPA to an 80% CPU target and prints its targets', () => {
    const hpa = created('HorizontalPodAutoscaler', {
      metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(120) },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5 },
    });
    expect(hpa.spec).toMatchObject({
      minReplicas: 1,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
    });
    expect(messages('HorizontalPodAutoscaler', hpa)).toEqual([]);
    expect(cells('HorizontalPodAutoscaler', hpa)).toEqual(['web', 'Deployment/web', 'cpu: <unknown>/80%', '1', 5, 0, '2m']);
  });

  it('refuses user priority classes above one billion', () => {
    const pc = created('PriorityClass', { metadata: { name: 'too-high' }, value: 1_000_000_001 });
    expect(pc.preemptionPolicy).toBe('PreemptLowerPriority');
    expect(messages('PriorityClass', pc)).toEqual(['value: Forbidden: maximum allowed value of a user defined priority is 1000000000']);
  });

  it('prints a PodDisruptionBudget with N/A for the unset bound', () => {
    const pdb = created('PodDisruptionBudget', { metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(5) }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } } });
    expect(cells('PodDisruptionBudget', pdb)).toEqual(['web', '2', 'N/A', 0, '5s']);
    expect(pdb.status).toEqual({ disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
  });

  it('refuses a Lease with a non-positive duration', () => {
    const lease = created('Lease', { metadata: { name: 'node-1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'node-1', leaseDurationSeconds: 0 } });
    expect(messages('Lease', lease)).toEqual(['spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0']);
    expect(cells('Lease', lease).slice(0, 2)).toEqual(['node-1', 'node-1']);
  });

  it('defaults EndpointSlice ports and prints addresses', () => {
    const slice = created('EndpointSlice', {
      metadata: { name: 'web-abc', namespace: 'default', creationTimestamp: ago(3) },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2'] }, { addresses: ['10.0.0.3'] }, { addresses: ['10.0.0.4'] }],
      ports: [{ port: 80 }],
    });
    expect(slice.ports).toEqual([{ port: 80, name: '', protocol: 'TCP' }]);
    expect(messages('EndpointSlice', slice)).toEqual([]);
    expect(cells('EndpointSlice', slice)).toEqual(['web-abc', 'IPv4', '80', '10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...', '3s']);
  });

  it('applies the strict events.k8s.io rules on create', () => {
    const ev = created('Event', {
      metadata: { name: 'e1', namespace: 'default' },
      eventTime: '2024-05-01T11:59:00.000000Z',
      reportingController: 'example.com/controller',
      reportingInstance: 'controller-1',
      action: 'Scaled',
      reason: 'ScalingUp',
      regarding: { kind: 'Deployment', name: 'web', namespace: 'default' },
      note: 'scaled up',
      type: 'Sideways',
    });
    expect(messages('Event', ev)).toEqual(['type: Invalid value: "": has invalid value: Sideways']);
    ev.type = 'Normal';
    expect(messages('Event', ev)).toEqual([]);
    expect(cells('Event', ev)).toEqual(['60s', 'Normal', 'ScalingUp', 'deployment/web', '', 'example.com/controller, controller-1', 'scaled up', '60s', 1, 'e1']);
  });

  it('carries kubectl\'s short names, categories and scopes', () => {
    const summary = (k: KindDef) => `${k.plural}:${k.shortNames.join(',')}:${k.categories.join(',')}:${k.namespaced}`;
    expect(allKinds.map(summary).sort()).toEqual(
      [
        'controllerrevisions:::true',
        'daemonsets:ds:all:true',
        'deployments:deploy:all:true',
        'replicasets:rs:all:true',
        'statefulsets:sts:all:true',
        'horizontalpodautoscalers:hpa:all:true',
        'cronjobs:cj:all:true',
        'jobs::all:true',
        'leases:::true',
        'endpointslices:::true',
        'events:ev::true',
        'poddisruptionbudgets:pdb::true',
        'clusterrolebindings:::false',
        'clusterroles:::false',
        'rolebindings:::true',
        'roles:::true',
        'priorityclasses:pc::false',
      ].sort(),
    );
  });
});
