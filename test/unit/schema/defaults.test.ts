import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../../../shared/api/schema/defaults.js';
import { field, ref, str, struct } from '../../../shared/api/schema/dsl.js';
import type { StructType } from '../../../shared/api/schema/dsl.js';
import { Deployment, sampleDeployment } from './fixtures.js';

describe('applyDefaults', () => {
  it('fills static defaults at every level and runs hooks', () => {
    const d = sampleDeployment() as any;
    applyDefaults(d, Deployment);
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy).toEqual({ type: 'RollingUpdate' });
    expect(d.spec.template.spec.restartPolicy).toBe('Always');
    expect(d.spec.template.spec.terminationGracePeriodSeconds).toBe(30);
    expect(d.spec.template.spec.containers[0].ports[0].protocol).toBe('TCP');
    expect(d.spec.template.spec.containers[0].imagePullPolicy).toBe('IfNotPresent');
    expect(d.status).toBeUndefined();
  });

  it('keeps values that are present and replaces nulls', () => {
    const d = sampleDeployment() as any;
    d.spec.replicas = 0;
    d.spec.template.spec.restartPolicy = null;
    d.spec.template.spec.containers.push({ name: 'b', image: 'busybox' });
    applyDefaults(d, Deployment);
    expect(d.spec.replicas).toBe(0);
    expect(d.spec.template.spec.restartPolicy).toBe('Always');
    expect(d.spec.template.spec.containers[1].imagePullPolicy).toBe('Always');
  });

  it('deep-clones object defaults', () => {
    const a = sampleDeployment() as any;
    const b = sampleDeployment() as any;
    applyDefaults(a, Deployment);
    applyDefaults(b, Deployment);
    a.spec.strategy.type = 'Recreate';
    expect(b.spec.strategy.type).toBe('RollingUpdate');
    applyDefaults(sampleDeployment(), Deployment);
    expect((sampleDeployment() as any).spec.strategy).toBeUndefined();
  });

  it('runs a parent hook after its children were defaulted', () => {
    const seen: unknown[] = [];
    const Child: StructType = struct('x.v1.Child', 'c', { mode: field(str(), 1, 'm', { default: 'auto' }) });
    const Parent: StructType = struct('x.v1.Parent', 'p', { child: field(ref(() => Child), 1, 'c') }, { defaults: (o) => seen.push((o.child as any)?.mode) });
    applyDefaults({ child: {} }, Parent);
    expect(seen).toEqual(['auto']);
  });

  it('handles recursive schemas', () => {
    const Node: StructType = struct('x.v1.Node', 'n', {
      kind: field(str(), 1, 'k', { default: 'leaf' }),
      child: field(ref(() => Node), 2, 'c'),
    });
    const tree: any = { child: { child: {} } };
    applyDefaults(tree, Node);
    expect(tree).toEqual({ kind: 'leaf', child: { kind: 'leaf', child: { kind: 'leaf' } } });
  });
});
