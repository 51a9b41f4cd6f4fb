import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FieldSet, fieldSetOf } from '../../../shared/api/apply/fieldset.js';
import { compareElements, keyElement, printPath, valueElement } from '../../../shared/api/apply/path-element.js';
import { structNode } from '../../../shared/api/patch/type-shape.js';
import { Deployment } from '../patch/schemas.js';

const GOLDEN = '/work/shared/reference/k8s-1.26-golden';

describe('FieldsV1 parsing and serialisation', () => {
  it('round-trips every managedFields entry of the golden pod list byte for byte (ordering included)', () => {
    const pods = JSON.parse(readFileSync(`${GOLDEN}/pods-list.json`, 'utf8')) as { items: { metadata: { managedFields: { fieldsV1: unknown }[] } }[] };
    const entries = pods.items.flatMap((p) => p.metadata.managedFields);
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) expect(JSON.stringify(FieldSet.fromFieldsV1(e.fieldsV1).toFieldsV1())).toBe(JSON.stringify(e.fieldsV1));
  });

  it('reads "." as membership of the parent and {} as a leaf', () => {
    const s = FieldSet.fromFieldsV1({ 'f:data': { '.': {}, 'f:a': {} }, 'f:spec': { 'f:replicas': {} } });
    expect(s.has(['f:data'])).toBe(true);
    expect(s.has(['f:data', 'f:a'])).toBe(true);
    expect(s.has(['f:spec'])).toBe(false);
    expect(s.has(['f:spec', 'f:replicas'])).toBe(true);
  });

  it('canonicalises key and value elements so equal paths compare equal', () => {
    const s = FieldSet.fromFieldsV1({ 'k:{"protocol":"TCP","containerPort":80}': {}, 'v:"a"': {} });
    expect(s.has([keyElement({ containerPort: 80, protocol: 'TCP' })])).toBe(true);
    expect(s.toFieldsV1()).toEqual({ 'k:{"containerPort":80,"protocol":"TCP"}': {}, 'v:"a"': {} });
  });

  it('rejects malformed input', () => {
    expect(() => FieldSet.fromFieldsV1({ 'x:y': {} })).toThrow();
    expect(() => FieldSet.fromFieldsV1({ 'f:a': 1 })).toThrow();
  });

  it('orders elements fields < keys < values < indices, keys and values by their contents', () => {
    const sorted = ['i:0', 'v:"b"', 'k:{"n":"b"}', 'f:b', 'v:1', 'k:{"n":"a"}', 'f:B', 'f:a'].sort(compareElements);
    expect(sorted).toEqual(['f:B', 'f:a', 'f:b', 'k:{"n":"a"}', 'k:{"n":"b"}', 'v:1', 'v:"b"', 'i:0']);
  });
});

describe('set operations', () => {
  const a = FieldSet.of(['f:spec', 'f:replicas'], ['f:spec', 'f:template'], ['f:spec', 'f:template', 'f:spec'], ['f:metadata', 'f:labels', 'f:app']);
  const b = FieldSet.of(['f:spec', 'f:replicas'], ['f:spec', 'f:template'], ['f:status']);

  it('union, intersection, difference', () => {
    expect(a.union(b).paths().map(printPath)).toEqual(['.status', '.metadata.labels.app', '.spec.replicas', '.spec.template', '.spec.template.spec']);
    expect(a.intersection(b).paths().map(printPath)).toEqual(['.spec.replicas', '.spec.template']);
    expect(a.difference(b).paths().map(printPath)).toEqual(['.metadata.labels.app', '.spec.template.spec']);
  });

  it('recursive difference also removes what is below a removed member', () => {
    expect(a.recursiveDifference(b).paths().map(printPath)).toEqual(['.metadata.labels.app']);
  });

  it('emptiness ignores empty child nodes', () => {
    expect(a.difference(a).isEmpty()).toBe(true);
    expect(a.difference(a).toFieldsV1()).toEqual({});
  });
});

describe('fieldSetOf (the fields an applied configuration sets)', () => {
  const type = structNode(Deployment);

  it('encodes struct fields, map entries, keyed items (defaulted keys), set values and atomic leaves', () => {
    const config = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x', labels: { app: 'x' }, finalizers: ['a.io/f'] },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'x' } },
        template: {
          metadata: { labels: { app: 'x' } },
          spec: { containers: [{ name: 'app', image: 'nginx', ports: [{ containerPort: 80 }], args: ['-v'], resources: {} }] },
        },
      },
    };
    expect(fieldSetOf(config, type).toFieldsV1()).toEqual({
      'f:apiVersion': {},
      'f:kind': {},
      'f:metadata': { 'f:finalizers': { 'v:"a.io/f"': {} }, 'f:labels': { 'f:app': {} }, 'f:name': {} },
      'f:spec': {
        'f:replicas': {},
        'f:selector': {},
        'f:template': {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:containers': {
              'k:{"name":"app"}': {
                '.': {},
                'f:args': {},
                'f:image': {},
                'f:name': {},
                'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
                'f:resources': {},
              },
            },
          },
        },
      },
    });
  });

  it('treats free-form objects as granular maps and free-form lists as atomic', () => {
    const s = fieldSetOf({ spec: { config: { a: { b: 1 }, list: [1, 2] } } }, type);
    expect(s.toFieldsV1()).toEqual({ 'f:spec': { 'f:config': { 'f:a': { '.': {}, 'f:b': {} }, 'f:list': {} } } });
  });

  it('records an explicit null as a leaf', () => {
    expect(fieldSetOf({ spec: { replicas: null, strategy: null } }, type).toFieldsV1()).toEqual({ 'f:spec': { 'f:replicas': {}, 'f:strategy': {} } });
  });

  it('prints paths as Kubernetes does in conflict messages', () => {
    expect(printPath(['f:spec', 'f:template', 'f:spec', 'f:containers', keyElement({ name: 'app' }), 'f:image'])).toBe('.spec.template.spec.containers[name="app"].image');
    expect(printPath(['f:spec', 'f:ports', keyElement({ protocol: 'TCP', port: 80 })])).toBe('.spec.ports[port=80,protocol="TCP"]');
    expect(printPath(['f:metadata', 'f:finalizers', valueElement('a')])).toBe('.metadata.finalizers[="a"]');
  });
});
