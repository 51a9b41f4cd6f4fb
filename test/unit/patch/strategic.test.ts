import { describe, expect, it } from 'vitest';
import { applyStrategicMergePatch } from '../../../shared/api/patch/strategic.js';
import { PatchError } from '../../../shared/api/patch/errors.js';
import { ConfigMap, Deployment } from './schemas.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

const liveDeployment = (): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'x', namespace: 'default', labels: { app: 'x' }, annotations: { [LAST_APPLIED]: '{"old":true}\n' }, finalizers: ['a.io/one', 'b.io/two'] },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'x' } },
    template: {
      metadata: { labels: { app: 'x' } },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'nginx:1.25',
            args: ['-a', '-b'],
            ports: [{ containerPort: 80, protocol: 'TCP', name: 'http' }],
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
          },
          { name: 'side', image: 'busybox' },
        ],
        volumes: [{ name: 'cache', emptyDir: { medium: 'Memory' } }],
        nodeSelector: { disk: 'ssd', zone: 'a' },
        tolerations: [{ key: 'k1', operator: 'Exists' }],
      },
    },
  },
});

const apply = (patch: unknown, doc: Obj = liveDeployment()): Obj => applyStrategicMergePatch(doc, patch, Deployment) as Obj;
const podSpec = (o: Obj): Obj => o.spec.template.spec;

function failure(fn: () => unknown): PatchError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PatchError) return e;
    throw e;
  }
  throw new Error('expected a PatchError');
}

describe('applyStrategicMergePatch with the bodies kubectl sends', () => {
  it('kubectl set image: merges the container by name and keeps the others in place', () => {
    const out = apply({ spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'app' }, { name: 'side' }], containers: [{ image: 'nginx:1.29', name: 'app' }] } } } });
    expect(podSpec(out).containers.map((c: Obj) => [c.name, c.image])).toEqual([
      ['app', 'nginx:1.29'],
      ['side', 'busybox'],
    ]);
    expect(podSpec(out).containers[0].env).toEqual(liveDeployment().spec.template.spec.containers[0].env);
  });

  it('kubectl set image (§2.15 body, exactly) on a single-container deployment', () => {
    const live = liveDeployment();
    podSpec(live).containers = [{ name: 'app', image: 'nginx:1.27' }];
    const out = apply({ spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'app' }], containers: [{ image: 'nginx:1.29', name: 'app' }] } } } }, live);
    expect(podSpec(out).containers).toEqual([{ name: 'app', image: 'nginx:1.29' }]);
  });

  it('kubectl apply (second run, §2.8 body): replicas, annotation and container image', () => {
    const live = liveDeployment();
    podSpec(live).containers = [{ name: 'app', image: 'nginx:1.25' }];
    const out = apply(
      {
        metadata: { annotations: { [LAST_APPLIED]: '{"new":true}\n' } },
        spec: { replicas: 4, template: { spec: { '$setElementOrder/containers': [{ name: 'app' }], containers: [{ image: 'nginx:1.27', name: 'app' }] } } },
      },
      live,
    );
    expect(out.spec.replicas).toBe(4);
    expect(out.metadata.annotations[LAST_APPLIED]).toBe('{"new":true}\n');
    expect(podSpec(out).containers).toEqual([{ name: 'app', image: 'nginx:1.27' }]);
    expect(out.metadata.labels).toEqual({ app: 'x' });
  });

  it('kubectl apply on a ConfigMap: null deletes a key, others are set', () => {
    const live = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1', b: '2' } };
    const out = applyStrategicMergePatch(live, { data: { b: null, c: '3' } }, ConfigMap);
    expect(out).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1', c: '3' } });
  });

  it('kubectl diff: the resourceVersion precondition is just another field', () => {
    const out = apply({ metadata: { resourceVersion: '1028' }, spec: { replicas: 5 } });
    expect(out.metadata.resourceVersion).toBe('1028');
    expect(out.spec.replicas).toBe(5);
  });

  it('does not modify its inputs', () => {
    const live = liveDeployment();
    const patch = { spec: { template: { spec: { containers: [{ name: 'app', $patch: 'delete' }] } } } };
    apply(patch, live);
    expect(live).toEqual(liveDeployment());
    expect(patch).toEqual({ spec: { template: { spec: { containers: [{ name: 'app', $patch: 'delete' }] } } } });
  });
});

describe('applyStrategicMergePatch list strategies', () => {
  it('merges keyed lists by merge key: updates matches, appends new items', () => {
    const out = apply({ spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'B', value: 'two' }, { name: 'C', value: '3' }] }] } } } });
    expect(podSpec(out).containers[0].env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: 'two' },
      { name: 'C', value: '3' },
    ]);
    expect(podSpec(out).containers).toHaveLength(2);
  });

  it('merges ports by containerPort', () => {
    const out = apply({ spec: { template: { spec: { containers: [{ name: 'app', ports: [{ containerPort: 80, name: 'web' }, { containerPort: 443 }] }] } } } });
    expect(podSpec(out).containers[0].ports).toEqual([{ containerPort: 80, protocol: 'TCP', name: 'web' }, { containerPort: 443 }]);
  });

  it('merges scalar lists with a merge strategy as sets', () => {
    const out = apply({ metadata: { finalizers: ['b.io/two', 'c.io/three'] } });
    expect(out.metadata.finalizers).toEqual(['a.io/one', 'b.io/two', 'c.io/three']);
  });

  it('replaces lists without a merge strategy', () => {
    const out = apply({ spec: { template: { spec: { containers: [{ name: 'app', args: ['-c'] }], tolerations: [{ key: 'k2' }] } } } });
    expect(podSpec(out).containers[0].args).toEqual(['-c']);
    expect(podSpec(out).tolerations).toEqual([{ key: 'k2' }]);
  });

  it('null deletes a field at any depth', () => {
    const out = apply({ spec: { replicas: null, template: { spec: { containers: [{ name: 'app', args: null }] } } } });
    expect(out.spec).not.toHaveProperty('replicas');
    expect(podSpec(out).containers[0]).not.toHaveProperty('args');
  });

  it('treats free-form (any) fields like a JSON merge patch', () => {
    const live = liveDeployment();
    live.spec.config = { a: { b: 1, c: 2 }, list: [1, 2] };
    const out = apply({ spec: { config: { a: { c: null, d: 3 }, list: [3] } } }, live);
    expect(out.spec.config).toEqual({ a: { b: 1, d: 3 }, list: [3] });
  });
});

describe('applyStrategicMergePatch directives', () => {
  it('$patch: replace on a map replaces it', () => {
    const out = apply({ spec: { template: { spec: { nodeSelector: { $patch: 'replace', zone: 'b' } } } } });
    expect(podSpec(out).nodeSelector).toEqual({ zone: 'b' });
  });

  it('$patch: delete on a map empties it', () => {
    const out = apply({ spec: { template: { spec: { nodeSelector: { $patch: 'delete' } } } } });
    expect(podSpec(out).nodeSelector).toEqual({});
  });

  it('$patch: delete on a list item removes it by merge key', () => {
    const out = apply({ spec: { template: { spec: { containers: [{ name: 'side', $patch: 'delete' }] } } } });
    expect(podSpec(out).containers.map((c: Obj) => c.name)).toEqual(['app']);
  });

  it('$patch: replace on a list replaces the whole list', () => {
    const out = apply({ spec: { template: { spec: { containers: [{ name: 'only', image: 'x' }, { $patch: 'replace' }] } } } });
    expect(podSpec(out).containers).toEqual([{ name: 'only', image: 'x' }]);
  });

  it('$patch: merge on a list item is refused (500, as Kubernetes)', () => {
    const err = failure(() => apply({ spec: { template: { spec: { containers: [{ name: 'app', $patch: 'merge' }] } } } }));
    expect(err.code).toBe(500);
    expect(err.reason).toBe('');
    expect(err.message).toBe('merging lists cannot yet be specified in the patch');
  });

  it('an unknown $patch value on a map is refused with the map printed the Go way', () => {
    const err = failure(() => apply({ spec: { template: { spec: { nodeSelector: { $patch: 'frob', a: 'b' } } } } }));
    expect(err.code).toBe(500);
    expect(err.message).toBe('unknown patch type: frob in map: map[$patch:frob a:b]');
  });

  it('$retainKeys clears the live keys it does not list (volumes use merge,retainKeys)', () => {
    const out = apply({
      spec: { template: { spec: { volumes: [{ name: 'cache', configMap: { name: 'cm' }, $retainKeys: ['configMap', 'name'] }] } } },
    });
    expect(podSpec(out).volumes).toEqual([{ name: 'cache', configMap: { name: 'cm' } }]);
  });

  it('$retainKeys must list every key the patch sets, and must be a list (400)', () => {
    const missing = failure(() => apply({ spec: { template: { spec: { volumes: [{ name: 'cache', configMap: { name: 'cm' }, $retainKeys: ['name'] }] } } } }));
    expect([missing.code, missing.reason, missing.message]).toEqual([400, 'BadRequest', 'invalid patch format of retainKeys']);
    const notList = failure(() => apply({ spec: { $retainKeys: 'replicas', replicas: 1 } }));
    expect(notList.message).toBe('invalid patch format of retainKeys');
  });

  it('$setElementOrder orders the merged list: patch items by the order, live-only items keep their place', () => {
    const live = liveDeployment();
    podSpec(live).containers = [{ name: 'a' }, { name: 'b' }, { name: 'c' }];
    const out = apply({ spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'c' }, { name: 'new' }, { name: 'a' }], containers: [{ name: 'new' }] } } } }, live);
    expect(podSpec(out).containers.map((c: Obj) => c.name)).toEqual(['b', 'c', 'new', 'a']);
  });

  it('$setElementOrder alone reorders the live list', () => {
    const out = apply({ spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'side' }, { name: 'app' }] } } } });
    expect(podSpec(out).containers.map((c: Obj) => c.name)).toEqual(['side', 'app']);
  });

  it('$setElementOrder on a scalar set orders it', () => {
    const out = apply({ metadata: { '$setElementOrder/finalizers': ['b.io/two', 'c.io/three', 'a.io/one'], finalizers: ['c.io/three'] } });
    expect(out.metadata.finalizers).toEqual(['b.io/two', 'c.io/three', 'a.io/one']);
  });

  it('$deleteFromPrimitiveList removes values from a scalar set', () => {
    const out = apply({ metadata: { '$deleteFromPrimitiveList/finalizers': ['a.io/one'], finalizers: ['c.io/three'] } });
    expect(out.metadata.finalizers).toEqual(['c.io/three', 'b.io/two']);
  });

  it('a patch list that does not follow $setElementOrder is refused', () => {
    const err = failure(() =>
      apply({ spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'app' }], containers: [{ name: 'side', image: 'x' }] } } } }),
    );
    expect(err.code).toBe(500);
    expect(err.message).toBe("The order in patch list:\n[map[image:x name:side]]\n doesn't match $setElementOrder list:\n[map[name:app]]\n");
  });

  it('malformed directive keys are 400', () => {
    expect(failure(() => apply({ metadata: { $setElementOrder: [] } })).message).toBe('invalid patch format of setElementOrder list');
    expect(failure(() => apply({ metadata: { $deleteFromPrimitiveListX: ['a'] } })).message).toBe('invalid patch format of primitive list');
  });

  it('a keyed list item without its merge key is refused with the Go message', () => {
    const err = failure(() => apply({ spec: { template: { spec: { containers: [{ image: 'x' }] } } } }));
    expect(err.code).toBe(500);
    expect(err.message).toBe('map: map[image:x] does not contain declared merge key: name');
  });

  it('lists of lists are 422', () => {
    const live = liveDeployment();
    live.metadata.finalizers = [['a']];
    const err = failure(() => apply({ metadata: { finalizers: [['b']] } }, live));
    expect(err.code).toBe(422);
    expect(err.reason).toBe('Invalid');
  });

  it('a patch body that is not an object is 400', () => {
    const err = failure(() => apply([{ op: 'add' }]));
    expect([err.code, err.message]).toEqual([400, 'json: cannot unmarshal array into Go value of type map[string]interface {}']);
  });

  it('without $setElementOrder, new items go ahead of live-only items (Kubernetes ordering)', () => {
    const out = apply({ spec: { template: { spec: { containers: [{ name: 'z' }] } } } });
    expect(podSpec(out).containers.map((c: Obj) => c.name)).toEqual(['z', 'app', 'side']);
  });

  it('directives in values with nothing to merge into are dropped', () => {
    const live = liveDeployment();
    delete podSpec(live).nodeSelector;
    const out = apply({ spec: { template: { spec: { volumes: [{ name: 'new', emptyDir: {} }], containers: [{ name: 'side', $patch: 'delete' }, { name: 'z', env: [{ name: 'E', value: null }] }] } } } }, live);
    expect(podSpec(out).containers.map((c: Obj) => c.name)).toEqual(['z', 'app']);
    expect(podSpec(out).containers[0]).toEqual({ name: 'z', env: [{ name: 'E' }] });
    expect(podSpec(out).volumes).toEqual([{ name: 'new', emptyDir: {} }, { name: 'cache', emptyDir: { medium: 'Memory' } }]);
  });
});
