// The engines against the real schemas from shared/api/types, checked with responses captured from
// kube-apiserver 1.26.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../shared/api/kind.js';
import { serverSideApply } from '../../../shared/api/apply/apply.js';
import { trackUpdate } from '../../../shared/api/apply/managed-fields.js';
import { Deployment } from '../../../shared/api/types/apps.js';
import { Pod } from '../../../shared/api/types/core-pod.js';

const GOLDEN = '/work/shared/reference/k8s-1.26-golden';
const read = (file: string): any => JSON.parse(readFileSync(`${GOLDEN}/${file}`, 'utf8'));

describe('managedFields with the real Pod and Deployment schemas', () => {
  it('reproduces the controller-manager entry of a golden Pod', () => {
    const pod = structuredClone(read('pods-list.json').items[0]);
    const golden = pod.metadata.managedFields[0];
    delete pod.metadata.managedFields;
    delete pod.status;
    // Fields added by admission after the field manager ran on create.
    for (const f of ['volumes', 'serviceAccountName', 'serviceAccount', 'nodeName', 'tolerations', 'priority', 'preemptionPolicy']) delete pod.spec[f];
    delete pod.spec.containers[0].volumeMounts;
    const entries = trackUpdate({ updated: { apiVersion: 'v1', kind: 'Pod', ...pod }, manager: golden.manager, apiVersion: 'v1', schema: Pod, now: golden.time, ignoredFields: ['status'] });
    expect(entries).toEqual([golden]);
  });

  it('reproduces the kubectl-create entry of the golden Deployment after a scale', () => {
    const golden = read('deployments-table.json').rows[0].object.metadata.managedFields.find((e: { manager: string }) => e.manager === 'kubectl-create');
    const created: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x', namespace: 'default', uid: 'u', creationTimestamp: golden.time, labels: { app: 'x' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'x' } },
        template: {
          metadata: { labels: { app: 'x' } },
          spec: {
            containers: [{ name: 'busybox', image: 'busybox', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'Always' }],
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
    };
    const base = { apiVersion: 'apps/v1', schema: Deployment, ignoredFields: ['status'] };
    created.metadata.managedFields = trackUpdate({ ...base, updated: created, manager: 'kubectl-create', now: golden.time });
    const scaled = structuredClone(created);
    (scaled.spec as { replicas: number }).replicas = 2;
    const entries = trackUpdate({ ...base, live: created, updated: scaled, manager: 'kubectl.1.27', now: golden.time, subresource: 'scale' });
    expect(entries.find((e) => e.manager === 'kubectl-create')).toEqual(golden);
  });

  it('reports an apply conflict on the real Deployment the way kube-apiserver words it', () => {
    const config = (replicas: number): KubeObject => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x', namespace: 'default' },
      spec: { replicas, selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } },
    });
    const live = config(1);
    live.metadata.uid = 'u';
    live.metadata.managedFields = trackUpdate({ updated: live, manager: 'kubectl-client-side-apply', apiVersion: 'apps/v1', schema: Deployment, now: '2026-11-25T01:00:00Z' });
    const opts = { live, applied: config(2), manager: 'm', force: false, apiVersion: 'apps/v1', kind: 'Deployment', schema: Deployment, now: '2026-11-25T01:01:00Z' };
    expect(() => serverSideApply(opts)).toThrow('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
    expect((serverSideApply({ ...opts, force: true }).spec as { replicas: number }).replicas).toBe(2);
  });
});
