import { describe, expect, it } from 'vitest';
import { buildOpenApiV2 } from '../../../shared/api/openapi/v2.js';
import { collectRefs, structuralProblems, testKinds } from './fixtures.js';

type Swagger = {
  swagger: string;
  paths: Record<string, Record<string, any>>;
  definitions: Record<string, any>;
};

const doc = (): Swagger => buildOpenApiV2(testKinds) as Swagger;

describe('buildOpenApiV2', () => {
  it('is one Swagger 2.0 document whose $refs all resolve to definitions', () => {
    const d = doc();
    expect(d.swagger).toBe('2.0');
    expect(Object.keys(d.paths)).toEqual(expect.arrayContaining(['/api/v1/gadgets/{name}', '/apis/widgets.stratus.io/v1/namespaces/{namespace}/widgets/{name}']));
    for (const ref of collectRefs(d)) {
      expect(ref.startsWith('#/definitions/')).toBe(true);
      expect(d.definitions[ref.slice('#/definitions/'.length)], ref).toBeDefined();
    }
  });

  it('only contains schemas kube-openapi can parse', () => {
    const d = doc();
    const problems = Object.entries(d.definitions).flatMap(([name, schema]) => structuralProblems(schema, name));
    expect(problems).toEqual([]);
  });

  it('publishes the special types the way Kubernetes v2 does', () => {
    const defs = doc().definitions;
    expect(defs['io.k8s.apimachinery.pkg.api.resource.Quantity']).toMatchObject({ type: 'string' });
    expect(defs['io.k8s.apimachinery.pkg.util.intstr.IntOrString']).toMatchObject({ type: 'string', format: 'int-or-string' });
    expect(defs['io.k8s.apimachinery.pkg.apis.meta.v1.Time']).toMatchObject({ type: 'string', format: 'date-time' });
    expect(defs['io.stratus.test.v1.WidgetSpec'].properties.target).toEqual({
      $ref: '#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString',
      description: 'Target port by number or name.',
    });
    expect(defs['io.stratus.test.v1.Widget']['x-kubernetes-group-version-kind']).toEqual([{ group: 'widgets.stratus.io', version: 'v1', kind: 'Widget' }]);
    expect(defs['io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry'].properties.fieldsV1).toMatchObject({ type: 'object' });
  });

  it('carries GVK on operations and fieldValidation inline on every post, put and patch', () => {
    const d = doc();
    const item = d.paths['/apis/widgets.stratus.io/v1/namespaces/{namespace}/widgets/{name}'];
    expect(item.patch['x-kubernetes-group-version-kind']).toEqual({ group: 'widgets.stratus.io', version: 'v1', kind: 'Widget' });
    expect(item.patch['x-kubernetes-action']).toBe('patch');
    expect(item.patch.consumes).toEqual([
      'application/json-patch+json',
      'application/merge-patch+json',
      'application/strategic-merge-patch+json',
      'application/apply-patch+yaml',
    ]);
    expect(item.patch.parameters[0]).toEqual({ name: 'body', in: 'body', required: true, schema: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } });
    expect(item.put.parameters[0].schema).toEqual({ $ref: '#/definitions/io.stratus.test.v1.Widget' });
    let writes = 0;
    for (const [path, pathItem] of Object.entries(d.paths)) {
      for (const method of ['post', 'put', 'patch']) {
        const op = pathItem[method];
        if (!op) continue;
        writes++;
        const fieldValidation = op.parameters.find((p: any) => p.name === 'fieldValidation');
        expect(fieldValidation, `${method} ${path}`).toMatchObject({ in: 'query', type: 'string' });
        expect(op['x-kubernetes-group-version-kind'], `${method} ${path}`).toBeDefined();
      }
    }
    expect(writes).toBeGreaterThanOrEqual(9);
    const list = d.paths['/apis/widgets.stratus.io/v1/namespaces/{namespace}/widgets'].get;
    expect(list.produces).toContain('application/json;stream=watch');
    expect(list.responses['200'].schema.$ref).toBe('#/definitions/io.stratus.test.v1.WidgetList');
  });
});
