import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildOpenApiV3 } from '../../../shared/api/openapi/v3.js';
import { kindDef } from '../../../shared/api/kind.js';
import { field, str, struct } from '../../../shared/api/schema/dsl.js';
import { collectRefs, gadgetKind, testKinds, widgetKind } from './fixtures.js';

type Doc = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, any> };
};

function documents(kinds = testKinds) {
  const built = buildOpenApiV3(kinds);
  const parsed = new Map<string, Doc>();
  for (const [gv, d] of built.documents) parsed.set(gv, JSON.parse(d.json));
  return { built, parsed };
}

const WIDGETS = 'apis/widgets.stratus.io/v1';
const NS_ITEM = '/apis/widgets.stratus.io/v1/namespaces/{namespace}/widgets/{name}';

describe('buildOpenApiV3', () => {
  it('indexes one document per group-version under its sha512 hash', () => {
    const { built } = documents();
    expect(Object.keys(built.index.paths).sort()).toEqual(['api/v1', WIDGETS]);
    for (const [gv, doc] of built.documents) {
      const hash = createHash('sha512').update(doc.json).digest('hex').toUpperCase();
      expect(doc.hash).toBe(hash);
      expect(doc.hash).toMatch(/^[0-9A-F]{128}$/);
      expect(built.index.paths[gv].serverRelativeURL).toBe(`/openapi/v3/${gv}?hash=${hash}`);
    }
  });

  it('is deterministic, and the hash follows the content', () => {
    const a = buildOpenApiV3(testKinds).documents.get(WIDGETS)!.hash;
    expect(buildOpenApiV3(testKinds).documents.get(WIDGETS)!.hash).toBe(a);
    const renamed = { ...widgetKind, shortNames: [], schema: { ...widgetKind.schema, description: 'Changed.' } };
    expect(buildOpenApiV3([renamed, gadgetKind]).documents.get(WIDGETS)!.hash).not.toBe(a);
  });

  it('resolves every $ref inside the same document', () => {
    const { parsed } = documents();
    for (const [, doc] of parsed) {
      const refs = collectRefs(doc);
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) {
        expect(ref.startsWith('#/components/schemas/')).toBe(true);
        expect(doc.components.schemas[ref.slice('#/components/schemas/'.length)], ref).toBeDefined();
      }
    }
  });

  it('describes the kind the way kubectl explain and strategic merge read it', () => {
    const doc = documents().parsed.get(WIDGETS)!;
    expect(doc.openapi).toBe('3.0.0');
    expect(doc.info.title).toBe('Kubernetes');
    const widget = doc.components.schemas['io.stratus.test.v1.Widget'];
    expect(widget['x-kubernetes-group-version-kind']).toEqual([{ group: 'widgets.stratus.io', version: 'v1', kind: 'Widget' }]);
    expect(widget.type).toBe('object');
    expect(widget.properties.spec).toEqual({
      allOf: [{ $ref: '#/components/schemas/io.stratus.test.v1.WidgetSpec' }],
      description: 'Desired state.',
      default: {},
    });
    expect(widget.properties.apiVersion).toEqual({ description: 'Schema version of this object.', type: 'string' });

    const spec = doc.components.schemas['io.stratus.test.v1.WidgetSpec'];
    expect(spec.required).toEqual(['image', 'selector']);
    expect(spec.properties.replicas).toEqual({ description: 'Number of copies.', type: 'integer', format: 'int32', default: 1 });
    expect(spec.properties.ports).toMatchObject({
      type: 'array',
      items: { allOf: [{ $ref: '#/components/schemas/io.stratus.test.v1.WidgetPort' }], default: {} },
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
      'x-kubernetes-patch-merge-key': 'containerPort',
      'x-kubernetes-patch-strategy': 'merge',
    });
    expect(spec.properties.limits).toEqual({
      description: 'Resource limits.',
      type: 'object',
      additionalProperties: { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity' },
    });
    expect(spec.properties.target.allOf).toEqual([{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString' }]);
    expect(doc.components.schemas['io.stratus.test.v1.WidgetPort'].properties.protocol).toMatchObject({ enum: ['TCP', 'UDP'], default: 'TCP' });

    expect(doc.components.schemas['io.k8s.apimachinery.pkg.api.resource.Quantity'].oneOf).toEqual([{ type: 'string' }, { type: 'number' }]);
    expect(doc.components.schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString']).toMatchObject({ format: 'int-or-string' });
    expect(doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.Time']).toMatchObject({ type: 'string', format: 'date-time' });
    expect(doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector']['x-kubernetes-map-type']).toBe('atomic');
  });

  it('includes the list kind and the meta types operations use', () => {
    const schemas = documents().parsed.get(WIDGETS)!.components.schemas;
    const list = schemas['io.stratus.test.v1.WidgetList'];
    expect(list['x-kubernetes-group-version-kind']).toEqual([{ group: 'widgets.stratus.io', version: 'v1', kind: 'WidgetList' }]);
    expect(list.required).toEqual(['items']);
    expect(list.properties.items.items.allOf[0].$ref).toBe('#/components/schemas/io.stratus.test.v1.Widget');
    expect(list.properties.metadata.allOf[0].$ref).toBe('#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta');
    for (const name of ['Status', 'DeleteOptions', 'WatchEvent', 'Patch', 'ObjectMeta', 'ListMeta']) {
      expect(schemas[`io.k8s.apimachinery.pkg.apis.meta.v1.${name}`], name).toBeDefined();
    }
    expect(schemas['io.k8s.api.autoscaling.v1.Scale']['x-kubernetes-group-version-kind']).toEqual([{ group: 'autoscaling', version: 'v1', kind: 'Scale' }]);
  });

  it('serves namespaced, cluster-wide, status and scale paths with Kubernetes operation ids', () => {
    const doc = documents().parsed.get(WIDGETS)!;
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/apis/widgets.stratus.io/v1/namespaces/{namespace}/widgets',
      NS_ITEM,
      `${NS_ITEM}/scale`,
      `${NS_ITEM}/status`,
      '/apis/widgets.stratus.io/v1/widgets',
    ]);
    const item = doc.paths[NS_ITEM];
    expect(Object.keys(item).sort()).toEqual(['delete', 'get', 'parameters', 'patch', 'put']);
    expect(item.parameters.map((p: any) => p.name)).toEqual(['name', 'namespace', 'pretty']);
    expect(item.get.operationId).toBe('readWidgetsStratusIoV1NamespacedWidget');
    expect(item.get['x-kubernetes-action']).toBe('get');
    const collection = doc.paths['/apis/widgets.stratus.io/v1/namespaces/{namespace}/widgets'];
    expect(collection.get.operationId).toBe('listWidgetsStratusIoV1NamespacedWidget');
    expect(collection.post.operationId).toBe('createWidgetsStratusIoV1NamespacedWidget');
    expect(collection.delete['x-kubernetes-action']).toBe('deletecollection');
    expect(collection.get.parameters.map((p: any) => p.name)).toEqual(
      expect.arrayContaining(['labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'watch', 'timeoutSeconds', 'allowWatchBookmarks']),
    );
    expect(collection.get.responses['200'].content['application/json'].schema.$ref).toBe('#/components/schemas/io.stratus.test.v1.WidgetList');
    expect(collection.post.requestBody.content['*/*'].schema.$ref).toBe('#/components/schemas/io.stratus.test.v1.Widget');
    const all = doc.paths['/apis/widgets.stratus.io/v1/widgets'];
    expect(all.get.operationId).toBe('listWidgetsStratusIoV1WidgetForAllNamespaces');
    expect(all.parameters.map((p: any) => p.name)).toContain('labelSelector');
    expect(doc.paths[`${NS_ITEM}/status`].patch.operationId).toBe('patchWidgetsStratusIoV1NamespacedWidgetStatus');
  });

  it('marks every patch operation with its GVK and a fieldValidation parameter (kubectl probes this)', () => {
    const doc = documents().parsed.get(WIDGETS)!;
    const patch = doc.paths[NS_ITEM].patch;
    expect(patch['x-kubernetes-group-version-kind']).toEqual({ group: 'widgets.stratus.io', version: 'v1', kind: 'Widget' });
    expect(patch.parameters.map((p: any) => p.name)).toEqual(['dryRun', 'fieldManager', 'fieldValidation', 'force']);
    expect(patch.parameters[2]).toMatchObject({ in: 'query', schema: { type: 'string' } });
    expect(Object.keys(patch.requestBody.content)).toEqual([
      'application/json-patch+json',
      'application/merge-patch+json',
      'application/strategic-merge-patch+json',
      'application/apply-patch+yaml',
    ]);
    expect(patch.requestBody.content['application/apply-patch+yaml'].schema.$ref).toBe('#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch');
    const scalePatch = doc.paths[`${NS_ITEM}/scale`].patch;
    expect(scalePatch['x-kubernetes-group-version-kind']).toEqual({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    expect(scalePatch.responses['200'].content['application/json'].schema.$ref).toBe('#/components/schemas/io.k8s.api.autoscaling.v1.Scale');
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of ['post', 'put', 'patch']) {
        if (item[method]) expect(item[method].parameters.map((p: any) => p.name), `${method} ${path}`).toContain('fieldValidation');
      }
    }
  });

  it('serves cluster-scoped kinds without namespace paths', () => {
    const doc = documents().parsed.get('api/v1')!;
    expect(Object.keys(doc.paths).sort()).toEqual(['/api/v1/gadgets', '/api/v1/gadgets/{name}']);
    expect(doc.paths['/api/v1/gadgets/{name}'].patch.operationId).toBe('patchCoreV1Gadget');
    expect(doc.paths['/api/v1/gadgets'].delete.operationId).toBe('deleteCoreV1CollectionGadget');
    expect(doc.components.schemas['io.stratus.test.core.v1.Gadget']['x-kubernetes-group-version-kind']).toEqual([{ group: '', version: 'v1', kind: 'Gadget' }]);
  });

  it('offers only the operations a kind supports', () => {
    const review = struct('io.stratus.test.v1.Review', 'A question asked of the server.', {
      apiVersion: field(str(), undefined, 'Version.'),
      kind: field(str(), undefined, 'Kind.'),
      question: field(str(), 1, 'The question.'),
    });
    const kind = kindDef({
      group: 'reviews.stratus.io',
      version: 'v1',
      kind: 'Review',
      plural: 'reviews',
      namespaced: false,
      schema: review,
      verbs: ['create'],
      printer: { columns: [], cells: () => [] },
    });
    const doc = documents([kind]).parsed.get('apis/reviews.stratus.io/v1')!;
    expect(Object.keys(doc.paths)).toEqual(['/apis/reviews.stratus.io/v1/reviews']);
    expect(Object.keys(doc.paths['/apis/reviews.stratus.io/v1/reviews']).sort()).toEqual(['parameters', 'post']);
    for (const ref of collectRefs(doc)) expect(doc.components.schemas[ref.split('/').pop()!]).toBeDefined();
  });
});
