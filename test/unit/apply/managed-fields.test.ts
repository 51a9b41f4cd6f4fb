import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { KubeObject, ManagedFieldsEntry } from '../../../shared/api/kind.js';
import { revertTimestampOnlyChanges, trackUpdate } from '../../../shared/api/apply/managed-fields.js';
import { ConfigMap, Deployment } from '../patch/schemas.js';

const GOLDEN = '/work/shared/reference/k8s-1.26-golden';
const T0 = '2026-11-25T01:36:35Z';
const T1 = '2026-11-25T01:37:00Z';
const T2 = '2026-11-25T01:38:00Z';

const clone = <T>(v: T): T => structuredClone(v);

/** The Deployment `kubectl create deployment x --image=busybox` stores, after defaulting. */
const createdDeployment = (): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'x', namespace: 'default', uid: 'c2385317', resourceVersion: '300', generation: 1, creationTimestamp: T0, labels: { app: 'x' } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'x' } },
    template: {
      metadata: { labels: { app: 'x' } },
      spec: {
        containers: [
          { name: 'busybox', image: 'busybox', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'Always' },
        ],
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 30,
        dnsPolicy: 'ClusterFirst',
        securityContext: {},
        schedulerName: 'default-scheduler',
      },
    },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
    revisionHistoryLimit: 10,
    progressDeadlineSeconds: 600,
  },
  status: {},
});

const base = { apiVersion: 'apps/v1', schema: Deployment, ignoredFields: ['status'] };

function withEntries(obj: KubeObject, entries: ManagedFieldsEntry[]): KubeObject {
  const out = clone(obj);
  out.metadata.managedFields = entries;
  return out;
}

describe('trackUpdate on create', () => {
  it('matches the golden ConfigMap created by a POST (data map marked with ".")', () => {
    const golden = JSON.parse(readFileSync(`${GOLDEN}/create-201.json`, 'utf8')) as KubeObject;
    const stored = clone(golden);
    delete stored.metadata.managedFields;
    const entries = trackUpdate({ updated: stored, manager: 'k8s-anchor-golden', apiVersion: 'v1', schema: ConfigMap, now: '2026-11-25T01:38:44Z' });
    expect(entries).toEqual(golden.metadata.managedFields);
  });

  it('matches the golden Deployment entry of kubectl create (zero-value parents carry no ".")', () => {
    const golden = JSON.parse(readFileSync(`${GOLDEN}/deployments-table.json`, 'utf8')) as { rows: { object: KubeObject }[] };
    const goldenEntries = golden.rows[0].object.metadata.managedFields!;
    const created = trackUpdate({ ...base, updated: createdDeployment(), manager: 'kubectl-create', now: T0 });
    expect(created).toHaveLength(1);

    // Then `kubectl scale` takes spec.replicas through the scale subresource.
    const scaled = clone(createdDeployment());
    (scaled.spec as { replicas: number }).replicas = 2;
    const after = trackUpdate({ ...base, live: withEntries(createdDeployment(), created), updated: scaled, manager: 'kubectl.1.27', now: T1, subresource: 'scale' });
    const byManager = Object.fromEntries(after.map((e) => [e.manager, e]));
    const goldenByManager = Object.fromEntries(goldenEntries.map((e) => [e.manager, e]));
    expect(byManager['kubectl-create']).toEqual(goldenByManager['kubectl-create']);
    expect(byManager['kubectl.1.27'].fieldsV1).toEqual(goldenByManager['kubectl.1.27'].fieldsV1);
    expect(byManager['kubectl.1.27'].subresource).toBe('scale');
  });
});

describe('trackUpdate on update', () => {
  const created = () => withEntries(createdDeployment(), trackUpdate({ ...base, updated: createdDeployment(), manager: 'kubectl-create', now: T0 }));

  it('gives the writer only the fields whose values changed and takes them from their owner', () => {
    const updated = clone(created());
    (updated.spec as { replicas: number }).replicas = 3;
    const entries = trackUpdate({ ...base, live: created(), updated, manager: 'hpa', now: T1 });
    expect(entries.map((e) => e.manager)).toEqual(['kubectl-create', 'hpa']);
    expect(entries[1]).toEqual({ manager: 'hpa', operation: 'Update', apiVersion: 'apps/v1', time: T1, fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } });
    expect(entries[0].fieldsV1).not.toHaveProperty(['f:spec', 'f:replicas']);
    expect((entries[0].fieldsV1['f:spec'] as Record<string, unknown>)['f:replicas']).toBeUndefined();
  });

  it('removed fields leave every entry, and entries left empty are dropped', () => {
    const live = created();
    const updated = clone(live);
    (updated.spec as { replicas: number }).replicas = 3;
    const withHpa = withEntries(updated, trackUpdate({ ...base, live, updated, manager: 'hpa', now: T1 }));
    const noReplicas = clone(withHpa);
    delete (noReplicas.spec as { replicas?: number }).replicas;
    const entries = trackUpdate({ ...base, live: withHpa, updated: noReplicas, manager: 'cleaner', now: T2 });
    expect(entries.map((e) => e.manager)).toEqual(['kubectl-create']);
  });

  it('merges writes of the same manager into one entry and refreshes its time only when it took fields', () => {
    const live = created();
    const one = clone(live);
    one.metadata.labels = { app: 'x', tier: 'web' };
    const afterOne = withEntries(one, trackUpdate({ ...base, live, updated: one, manager: 'labeler', now: T1 }));
    const two = clone(afterOne);
    two.metadata.labels = { app: 'x', tier: 'web', env: 'prod' };
    const entries = trackUpdate({ ...base, live: afterOne, updated: two, manager: 'labeler', now: T2 });
    const labeler = entries.find((e) => e.manager === 'labeler')!;
    expect(labeler.time).toBe(T2);
    expect(labeler.fieldsV1).toEqual({ 'f:metadata': { 'f:labels': { 'f:env': {}, 'f:tier': {} } } });

    const unchanged = trackUpdate({ ...base, live: afterOne, updated: clone(afterOne), manager: 'labeler', now: T2 });
    expect(unchanged.find((e) => e.manager === 'labeler')!.time).toBe(T1);
  });

  it('keeps Update entries per API version and subresource', () => {
    const live = created();
    const updated = clone(live);
    (updated.spec as { minReadySeconds?: number }).minReadySeconds = 5;
    const v1 = withEntries(updated, trackUpdate({ ...base, live, updated, manager: 'tool', now: T1 }));
    const again = clone(v1);
    (again.spec as { minReadySeconds?: number }).minReadySeconds = 6;
    const entries = trackUpdate({ ...base, apiVersion: 'apps/v1beta2', live: v1, updated: again, manager: 'tool', now: T2 });
    expect(entries.filter((e) => e.manager === 'tool').map((e) => e.apiVersion)).toEqual(['apps/v1beta2']);
    expect(entries.filter((e) => e.manager === 'tool')[0].fieldsV1).toEqual({ 'f:spec': { 'f:minReadySeconds': {} } });
  });

  it('does not start tracking on an update of an object without managedFields', () => {
    const live = createdDeployment();
    const updated = clone(live);
    (updated.spec as { replicas: number }).replicas = 4;
    expect(trackUpdate({ ...base, live, updated, manager: 'm', now: T1 })).toEqual([]);
  });

  it('clears tracking when the request sets managedFields to [] or [{}]', () => {
    for (const reset of [[], [{}]]) {
      const updated = clone(created());
      updated.metadata.managedFields = reset as ManagedFieldsEntry[];
      expect(trackUpdate({ ...base, live: created(), updated, manager: 'm', now: T1 })).toEqual([]);
    }
  });

  it('starts from managedFields the request supplies', () => {
    const updated = clone(created());
    updated.metadata.managedFields = [{ manager: 'imported', operation: 'Update', apiVersion: 'apps/v1', time: T0, fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }];
    expect(trackUpdate({ ...base, live: created(), updated, manager: 'm', now: T1 }).map((e) => e.manager)).toEqual(['imported']);
  });

  it('does not track status through the main resource (ignored fields)', () => {
    const live = created();
    const updated = clone(live);
    updated.status = { replicas: 1 };
    expect(trackUpdate({ ...base, live, updated, manager: 'm', now: T1 }).map((e) => e.manager)).toEqual(['kubectl-create']);
  });

  it('records status writes under the status subresource', () => {
    const live = created();
    const updated = clone(live);
    updated.status = { replicas: 1, conditions: [{ type: 'Available', status: 'True' }] };
    const entries = trackUpdate({ ...base, ignoredFields: ['spec'], live, updated, manager: 'kube-controller-manager', now: T1, subresource: 'status' });
    expect(entries[1]).toEqual({
      manager: 'kube-controller-manager',
      operation: 'Update',
      apiVersion: 'apps/v1',
      time: T1,
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:status': { 'f:conditions': { '.': {}, 'k:{"type":"Available"}': { '.': {}, 'f:status': {}, 'f:type': {} } }, 'f:replicas': {} } },
      subresource: 'status',
    });
  });

  it('caps Update entries at 10, folding the oldest into ancient-changes', () => {
    let obj = created();
    for (let i = 0; i < 11; i++) {
      const updated = clone(obj);
      updated.metadata.labels = { ...updated.metadata.labels, [`l${i}`]: 'v' };
      obj = withEntries(updated, trackUpdate({ ...base, live: obj, updated, manager: `m${i}`, now: `2026-11-25T02:00:${String(10 + i)}Z` }));
    }
    const managers = obj.metadata.managedFields!.map((e) => e.manager);
    expect(managers).toHaveLength(10);
    expect(managers[0]).toBe('ancient-changes');
    expect(managers).not.toContain('kubectl-create');
    expect(managers).not.toContain('m0');
    const ancient = obj.metadata.managedFields![0];
    expect(ancient.time).toBe('2026-11-25T02:00:11Z');
    expect(managers).not.toContain('m1');
    expect((ancient.fieldsV1['f:metadata'] as Record<string, Record<string, unknown>>)['f:labels']).toHaveProperty('f:l0');
  });
});

describe('revertTimestampOnlyChanges', () => {
  it('keeps the old managedFields when only their times differ', () => {
    const old = withEntries(createdDeployment(), [{ manager: 'a', operation: 'Apply', apiVersion: 'apps/v1', time: T0, fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } }]);
    const updated = clone(old);
    updated.metadata.managedFields![0].time = T1;
    expect(revertTimestampOnlyChanges(old, updated).metadata.managedFields![0].time).toBe(T0);
    (updated.spec as { replicas: number }).replicas = 9;
    expect(revertTimestampOnlyChanges(old, updated).metadata.managedFields![0].time).toBe(T1);
  });
});
