// Strategic merge patch against the real Deployment schema from shared/api/types.
import { describe, expect, it } from 'vitest';
import { applyStrategicMergePatch } from '../../../shared/api/patch/strategic.js';
import { Deployment } from '../../../shared/api/types/apps.js';

describe('applyStrategicMergePatch with the real Deployment schema', () => {
  it('applies kubectl set image and merges env and ports by their merge keys', () => {
    const live = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x', finalizers: ['a'] },
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'app', image: 'nginx:1.27', env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 80, protocol: 'TCP' }] },
              { name: 'side', image: 'busybox' },
            ],
          },
        },
      },
    };
    const out = applyStrategicMergePatch(
      live,
      {
        metadata: { finalizers: ['b'] },
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'app' }, { name: 'side' }],
              containers: [{ image: 'nginx:1.29', name: 'app', env: [{ name: 'B', value: '2' }], ports: [{ containerPort: 80, name: 'http' }] }],
            },
          },
        },
      },
      Deployment,
    ) as any;
    const app = out.spec.template.spec.containers[0];
    expect(out.spec.template.spec.containers.map((c: { name: string }) => c.name)).toEqual(['app', 'side']);
    expect(app.image).toBe('nginx:1.29');
    // Without a $setElementOrder for them, new items go ahead of live-only ones (as in Kubernetes).
    expect(app.env).toEqual([{ name: 'B', value: '2' }, { name: 'A', value: '1' }]);
    expect(app.ports).toEqual([{ containerPort: 80, protocol: 'TCP', name: 'http' }]);
    expect(out.metadata.finalizers).toEqual(['b', 'a']);
  });
});
