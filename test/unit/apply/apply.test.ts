import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../shared/api/kind.js';
import { serverSideApply, type ServerSideApplyOptions } from '../../../shared/api/apply/apply.js';
import { trackUpdate } from '../../../shared/api/apply/managed-fields.js';
import { PatchError } from '../../../shared/api/patch/errors.js';
import { Deployment } from '../patch/schemas.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const T0 = '2026-11-25T01:00:00Z';
const T1 = '2026-11-25T01:01:00Z';
const T2 = '2026-11-25T01:02:00Z';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

const clone = <T>(v: T): T => structuredClone(v);

const config = (over: { replicas?: number; image?: string; labels?: Record<string, string>; env?: Obj[] } = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'x', namespace: 'default', labels: over.labels ?? { app: 'x' } },
  spec: {
    ...(over.replicas !== undefined ? { replicas: over.replicas } : {}),
    selector: { matchLabels: { app: 'x' } },
    template: {
      metadata: { labels: { app: 'x' } },
      spec: { containers: [{ name: 'app', image: over.image ?? 'nginx:1.27', ...(over.env ? { env: over.env } : {}) }] },
    },
  },
});

const opts = (o: Partial<ServerSideApplyOptions> & { applied: KubeObject }): ServerSideApplyOptions => ({
  manager: 'kubectl',
  force: false,
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  schema: Deployment,
  now: T0,
  ignoredFields: ['status'],
  ...o,
});

/** Stands in for the API server storing the object (it assigns uid and friends). */
const stored = (obj: KubeObject): KubeObject => {
  const out = clone(obj);
  out.metadata = { ...out.metadata, uid: 'u-1', resourceVersion: '1', creationTimestamp: T0 };
  return out;
};

const entry = (obj: KubeObject, manager: string) => obj.metadata.managedFields!.find((e) => e.manager === manager)!;

function failure(fn: () => unknown): PatchError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PatchError) return e;
    throw e;
  }
  throw new Error('expected a PatchError');
}

/** A Deployment created by client-side apply (an Update entry owning everything it set). */
function createdByClientSideApply(replicas = 1): KubeObject {
  const obj = stored({ ...config({ replicas }) });
  obj.metadata.managedFields = trackUpdate({ updated: obj, manager: 'kubectl-client-side-apply', apiVersion: 'apps/v1', schema: Deployment, now: T0, ignoredFields: ['status'] });
  return obj;
}

describe('serverSideApply: create', () => {
  it('creates the object with an Apply entry holding exactly the applied fields', () => {
    const out = serverSideApply(opts({ applied: config({ replicas: 2 }) }));
    expect(out.spec).toEqual(config({ replicas: 2 }).spec);
    expect(out.metadata.managedFields).toEqual([
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: T0,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { 'f:app': {} } },
              'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
            },
          },
        },
      },
    ]);
  });

  it('does not record an entry when the config sets nothing but identity fields', () => {
    const out = serverSideApply(opts({ applied: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', namespace: 'default' } } }));
    expect(out.metadata.managedFields).toBeUndefined();
  });
});

describe('serverSideApply: re-apply', () => {
  it('removes fields the manager no longer applies', () => {
    const first = stored(serverSideApply(opts({ applied: config({ labels: { app: 'x', tier: 'web' }, env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }) })));
    const second = serverSideApply(opts({ live: first, applied: config({ env: [{ name: 'A', value: '1' }] }), now: T1 }));
    expect(second.metadata.labels).toEqual({ app: 'x' });
    expect((second.spec as Obj).template.spec.containers[0].env).toEqual([{ name: 'A', value: '1' }]);
    expect(entry(second, 'kubectl').time).toBe(T1);
    expect(second.metadata.uid).toBe('u-1');
  });

  it('removes a whole emptied field (a list item removed leaves no empty list behind)', () => {
    const first = stored(serverSideApply(opts({ applied: config({ env: [{ name: 'A', value: '1' }] }) })));
    const second = serverSideApply(opts({ live: first, applied: config(), now: T1 }));
    expect((second.spec as Obj).template.spec.containers[0]).toEqual({ name: 'app', image: 'nginx:1.27' });
  });

  it('keeps a no-longer-applied field another manager also owns', () => {
    const first = stored(serverSideApply(opts({ applied: config({ labels: { app: 'x', tier: 'web' } }) })));
    const touched = clone(first);
    touched.metadata.labels = { app: 'x', tier: 'web', extra: '1' };
    touched.metadata.managedFields = trackUpdate({ live: first, updated: touched, manager: 'labeler', apiVersion: 'apps/v1', schema: Deployment, now: T1 });
    // The labeler also rewrites tier to the same value it already has: it does not own tier yet.
    const second = serverSideApply(opts({ live: touched, applied: config(), now: T2 }));
    expect(second.metadata.labels).toEqual({ app: 'x', extra: '1' });

    const sharedTier = clone(touched);
    sharedTier.metadata.managedFields = [
      ...touched.metadata.managedFields!,
      { manager: 'other-applier', operation: 'Apply', apiVersion: 'apps/v1', time: T1, fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:tier': {} } } } },
    ];
    const third = serverSideApply(opts({ live: sharedTier, applied: config(), now: T2 }));
    expect(third.metadata.labels).toEqual({ app: 'x', tier: 'web', extra: '1' });
  });
});

describe('serverSideApply: conflicts and ownership', () => {
  it('changing a field another manager owns is a 409 with Kubernetes wording', () => {
    const err = failure(() => serverSideApply(opts({ live: createdByClientSideApply(1), applied: config({ replicas: 3 }), manager: 'm' })));
    expect(err.code).toBe(409);
    expect(err.reason).toBe('Conflict');
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
    expect(err.causes).toEqual([{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' }]);
  });

  it('lists several conflicts grouped by manager', () => {
    const err = failure(() => serverSideApply(opts({ live: createdByClientSideApply(1), applied: config({ replicas: 3, image: 'nginx:1.29' }), manager: 'm' })));
    expect(err.message).toBe(
      'Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name="app"].image',
    );
    expect(err.causes?.map((c) => c.field)).toEqual(['.spec.replicas', '.spec.template.spec.containers[name="app"].image']);
  });

  it('names an owner that wrote through a subresource', () => {
    const live = createdByClientSideApply(1);
    const scaled = clone(live);
    (scaled.spec as Obj).replicas = 2;
    scaled.metadata.managedFields = trackUpdate({ live, updated: scaled, manager: 'kubectl.1.27', apiVersion: 'apps/v1', schema: Deployment, now: T1, subresource: 'scale' });
    const err = failure(() => serverSideApply(opts({ live: scaled, applied: config({ replicas: 5 }), manager: 'm' })));
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "kubectl.1.27" with subresource "scale" using apps/v1: .spec.replicas');
  });

  it('keeps applies through a subresource in their own entry', () => {
    const live = stored(serverSideApply(opts({ applied: config({ replicas: 1 }) })));
    const status = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', namespace: 'default' }, status: { replicas: 1 } } as KubeObject;
    const out = serverSideApply(opts({ live, applied: status, subresource: 'status', ignoredFields: ['spec'], now: T1 }));
    expect(out.metadata.managedFields!.map((e) => [e.manager, e.subresource ?? ''])).toEqual([
      ['kubectl', ''],
      ['kubectl', 'status'],
    ]);
    expect(entry(out, 'kubectl').fieldsV1).toHaveProperty('f:spec');
  });

  it('names an Apply owner without an API version', () => {
    const owned = stored(serverSideApply(opts({ applied: config({ replicas: 1 }), manager: 'first' })));
    const err = failure(() => serverSideApply(opts({ live: owned, applied: config({ replicas: 2 }), manager: 'second' })));
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "first": .spec.replicas');
  });

  it('force moves ownership to the applier', () => {
    const out = serverSideApply(opts({ live: createdByClientSideApply(1), applied: config({ replicas: 3 }), manager: 'm', force: true, now: T1 }));
    expect((out.spec as Obj).replicas).toBe(3);
    expect((entry(out, 'm').fieldsV1['f:spec'] as Obj)['f:replicas']).toEqual({});
    expect((entry(out, 'kubectl-client-side-apply').fieldsV1['f:spec'] as Obj)['f:replicas']).toBeUndefined();
    expect(out.metadata.managedFields!.map((e) => e.operation)).toEqual(['Apply', 'Update']);
  });

  it('applying the value already there shares ownership without a conflict', () => {
    const out = serverSideApply(opts({ live: createdByClientSideApply(1), applied: config({ replicas: 1 }), manager: 'm', now: T1 }));
    expect((entry(out, 'm').fieldsV1['f:spec'] as Obj)['f:replicas']).toEqual({});
    expect((entry(out, 'kubectl-client-side-apply').fieldsV1['f:spec'] as Obj)['f:replicas']).toEqual({});
  });

  it('kubectl --server-side takes over fields recorded by client-side apply and rewrites its annotation', () => {
    const live = createdByClientSideApply(1);
    const lastApplied = { ...config({ replicas: 1 }) };
    live.metadata.annotations = { [LAST_APPLIED]: `${JSON.stringify(lastApplied)}\n` };
    const applied = config({ replicas: 3 });
    const out = serverSideApply(opts({ live, applied, manager: 'kubectl', now: T1 }));
    expect((out.spec as Obj).replicas).toBe(3);
    expect(out.metadata.annotations![LAST_APPLIED]).toBe(
      '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"labels":{"app":"x"},"name":"x","namespace":"default"},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"x"}},"template":{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"image":"nginx:1.27","name":"app"}]}}}}\n',
    );
    // Another manager name gets the plain conflict.
    expect(failure(() => serverSideApply(opts({ live, applied, manager: 'someone' }))).code).toBe(409);
  });

  it('gives a live object without managedFields a before-first-apply owner', () => {
    const live = stored(config({ replicas: 1 }));
    const err = failure(() => serverSideApply(opts({ live, applied: config({ replicas: 2 }), manager: 'm' })));
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas');
    const out = serverSideApply(opts({ live, applied: config({ replicas: 1 }), manager: 'm', now: T1 }));
    expect(out.metadata.managedFields!.map((e) => [e.manager, e.operation])).toEqual([
      ['m', 'Apply'],
      ['before-first-apply', 'Update'],
    ]);
  });
});

describe('serverSideApply: merging', () => {
  it('merges keyed lists by key, sets by value, and replaces atomic values', () => {
    const live = stored(serverSideApply(opts({ applied: config({ env: [{ name: 'A', value: '1' }] }), manager: 'one' })));
    (live.metadata as Obj).finalizers = ['a.io/f'];
    const applied = config({ env: [{ name: 'B', value: '2' }] }) as Obj;
    applied.metadata.finalizers = ['b.io/f'];
    applied.spec.selector = { matchLabels: { app: 'x', v: '2' } };
    applied.spec.template.spec.containers.push({ name: 'side', image: 'busybox' });
    const out = serverSideApply(opts({ live, applied: applied as KubeObject, manager: 'two', force: true, now: T1 })) as Obj;
    expect(out.spec.template.spec.containers[0].env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ]);
    expect(out.spec.template.spec.containers.map((c: Obj) => c.name)).toEqual(['app', 'side']);
    expect(out.metadata.finalizers).toEqual(['a.io/f', 'b.io/f']);
    expect(out.spec.selector).toEqual({ matchLabels: { app: 'x', v: '2' } });
  });

  it('puts shared list items in the applied order and keeps live-only items in place', () => {
    const live = stored(config()) as Obj;
    live.spec.template.spec.containers = [{ name: 'a' }, { name: 'live-only' }, { name: 'b' }];
    const applied = config() as Obj;
    applied.spec.template.spec.containers = [{ name: 'b' }, { name: 'new' }, { name: 'a' }];
    const out = serverSideApply(opts({ live: live as KubeObject, applied: applied as KubeObject, force: true })) as Obj;
    expect(out.spec.template.spec.containers.map((c: Obj) => c.name)).toEqual(['live-only', 'b', 'new', 'a']);
  });

  it('an applied null unsets the field but still records ownership', () => {
    const live = stored(serverSideApply(opts({ applied: config({ replicas: 2 }) })));
    const applied = config() as Obj;
    applied.spec.replicas = null;
    const out = serverSideApply(opts({ live, applied: applied as KubeObject, now: T1 })) as Obj;
    expect(out.spec).not.toHaveProperty('replicas');
    expect(entry(out as KubeObject, 'kubectl').fieldsV1['f:spec']).toHaveProperty('f:replicas');
  });
});

describe('serverSideApply: invalid requests', () => {
  it('refuses an object that cannot be typed (500, "failed to create typed patch object")', () => {
    const missingKey = config() as Obj;
    missingKey.spec.template.spec.containers = [{ image: 'nginx' }];
    expect(failure(() => serverSideApply(opts({ applied: missingKey as KubeObject }))).message).toBe(
      'failed to create typed patch object (default/x; apps/v1, Kind=Deployment): .spec.template.spec.containers: element 0: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)',
    );

    const several = config() as Obj;
    several.spec.bogus = 1;
    several.spec.template.spec.containers[0].env = [{ name: 'A' }, { name: 'A' }];
    const err = failure(() => serverSideApply(opts({ applied: several as KubeObject })));
    expect(err.code).toBe(500);
    expect(err.message).toBe(
      'failed to create typed patch object (default/x; apps/v1, Kind=Deployment): errors:\n  .spec.template.spec.containers[name="app"].env: duplicate entries for key [name="A"]\n  .spec.bogus: field not declared in schema',
    );
  });

  it('refuses managedFields in the body and a body of another kind (400)', () => {
    const withManaged = config();
    withManaged.metadata.managedFields = [];
    expect(failure(() => serverSideApply(opts({ applied: withManaged }))).message).toBe('metadata.managedFields must be nil');
    const wrongKind = { ...config(), kind: 'StatefulSet' };
    const err = failure(() => serverSideApply(opts({ applied: wrongKind })));
    expect([err.code, err.reason, err.message]).toEqual([400, 'BadRequest', 'invalid object type: apps/v1, Kind=StatefulSet']);
  });
});
