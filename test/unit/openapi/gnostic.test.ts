import { describe, expect, it } from 'vitest';
import { decodeOpenApiV2Protobuf, encodeOpenApiV2Protobuf } from '../../../shared/api/openapi/gnostic.js';
import { buildOpenApiV2 } from '../../../shared/api/openapi/v2.js';
import { testKinds } from './fixtures.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ascii = (s: string): string => Buffer.from(s).toString('hex');

type Named<T> = { name: string; value: T };
const byName = <T>(list: Named<T>[] | undefined, name: string): T | undefined => list?.find((e) => e.name === name)?.value;
const extension = (list: Named<{ yaml: string }>[] | undefined, name: string): unknown => {
  const v = byName(list, name);
  return v ? JSON.parse(v.yaml) : undefined;
};

describe('encodeOpenApiV2Protobuf', () => {
  it('uses gnostic field numbers (Document.swagger=1, info=2, definitions=9; Schema._ref=1, type=22)', () => {
    const bytes = encodeOpenApiV2Protobuf({
      swagger: '2.0',
      info: { title: 'K', version: 'v' },
      definitions: { A: { $ref: '#/definitions/B' }, B: { type: 'string' } },
    });
    // NamedSchema{1 name, 2 Schema{1 _ref}}: 3 + 2 + 17 bytes.
    const namedA = `0a01${ascii('A')}` + `1211` + `0a0f${ascii('#/definitions/B')}`;
    // Schema.type is field 22 (tag 0xb2 0x01) holding TypeItem{1 "string"}.
    const namedB = `0a01${ascii('B')}` + `120b` + `b20108` + `0a06${ascii('string')}`;
    const definitions = `0a16${namedA}` + `0a10${namedB}`;
    expect(hex(bytes)).toBe(`0a03${ascii('2.0')}` + `1206` + `0a01${ascii('K')}1201${ascii('v')}` + `4a2a${definitions}`);
  });

  it('encodes vendor extensions as NamedAny with the value as YAML-readable text', () => {
    const bytes = encodeOpenApiV2Protobuf({ swagger: '2.0', 'x-kubernetes-group-version-kind': { group: '', kind: 'Pod', version: 'v1' } });
    const decoded = decodeOpenApiV2Protobuf(bytes) as { vendorExtension: Named<{ yaml: string }>[] };
    expect(decoded.vendorExtension).toEqual([{ name: 'x-kubernetes-group-version-kind', value: { yaml: '{"group":"","kind":"Pod","version":"v1"}' } }]);
  });

  it('round-trips the generated Swagger document through the descriptor', () => {
    const doc = buildOpenApiV2(testKinds) as any;
    const decoded = decodeOpenApiV2Protobuf(encodeOpenApiV2Protobuf(doc)) as any;
    expect(decoded.swagger).toBe('2.0');
    expect(decoded.info).toEqual({ title: 'Kubernetes', version: 'unversioned' });

    const definitions: Named<any>[] = decoded.definitions.additionalProperties;
    expect(definitions.map((d) => d.name)).toEqual(Object.keys(doc.definitions));
    const widget = byName(definitions, 'io.stratus.test.v1.Widget');
    expect(widget.type).toEqual({ value: ['object'] });
    expect(extension(widget.vendorExtension, 'x-kubernetes-group-version-kind')).toEqual([{ group: 'widgets.stratus.io', version: 'v1', kind: 'Widget' }]);
    const spec = byName<any>(widget.properties.additionalProperties, 'spec');
    expect(spec).toEqual({ xRef: '#/definitions/io.stratus.test.v1.WidgetSpec', description: 'Desired state.' });

    const widgetSpec = byName(definitions, 'io.stratus.test.v1.WidgetSpec');
    expect(widgetSpec.required).toEqual(['image', 'selector']);
    const ports = byName<any>(widgetSpec.properties.additionalProperties, 'ports');
    expect(ports.type).toEqual({ value: ['array'] });
    expect(ports.items).toEqual({ schema: [{ xRef: '#/definitions/io.stratus.test.v1.WidgetPort' }] });
    expect(extension(ports.vendorExtension, 'x-kubernetes-patch-merge-key')).toBe('containerPort');
    expect(extension(ports.vendorExtension, 'x-kubernetes-list-map-keys')).toEqual(['containerPort', 'protocol']);
    const limits = byName<any>(widgetSpec.properties.additionalProperties, 'limits');
    expect(limits.additionalProperties).toEqual({ schema: { xRef: '#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity' } });
    const replicas = byName<any>(widgetSpec.properties.additionalProperties, 'replicas');
    expect(replicas).toMatchObject({ format: 'int32', type: { value: ['integer'] }, default: { yaml: '1' } });
    const protocol = byName<any>(byName(definitions, 'io.stratus.test.v1.WidgetPort').properties.additionalProperties, 'protocol');
    expect(protocol.enum).toEqual([{ yaml: '"TCP"' }, { yaml: '"UDP"' }]);

    const item = byName<any>(decoded.paths.path, '/apis/widgets.stratus.io/v1/namespaces/{namespace}/widgets/{name}');
    expect(item.parameters.map((p: any) => p.parameter.nonBodyParameter.pathParameterSubSchema?.name ?? p.parameter.nonBodyParameter.queryParameterSubSchema.name)).toEqual([
      'name',
      'namespace',
      'pretty',
    ]);
    expect(extension(item.patch.vendorExtension, 'x-kubernetes-group-version-kind')).toEqual({ group: 'widgets.stratus.io', version: 'v1', kind: 'Widget' });
    const queryNames = item.patch.parameters.flatMap((p: any) => p.parameter.nonBodyParameter?.queryParameterSubSchema?.name ?? []);
    expect(queryNames).toContain('fieldValidation');
    expect(item.patch.parameters[0].parameter.bodyParameter).toEqual({
      name: 'body',
      in: 'body',
      required: true,
      schema: { xRef: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' },
    });
    expect(item.patch.consumes).toEqual(doc.paths['/apis/widgets.stratus.io/v1/namespaces/{namespace}/widgets/{name}'].patch.consumes);
    const ok = byName<any>(item.get.responses.responseCode, '200');
    expect(ok.response).toEqual({ description: 'OK', schema: { schema: { xRef: '#/definitions/io.stratus.test.v1.Widget' } } });

    expect(decoded.securityDefinitions.additionalProperties[0]).toEqual({
      name: 'BearerToken',
      value: { apiKeySecurity: { type: 'apiKey', name: 'authorization', in: 'header', description: 'Bearer token authentication.' } },
    });
    expect(decoded.security).toEqual([{ additionalProperties: [{ name: 'BearerToken', value: {} }] }]);
  });

  it('keeps boolean additionalProperties and typed query parameters', () => {
    const decoded = decodeOpenApiV2Protobuf(
      encodeOpenApiV2Protobuf({
        swagger: '2.0',
        definitions: { Free: { type: 'object', additionalProperties: false } },
        paths: { '/x': { get: { parameters: [{ name: 'limit', in: 'query', type: 'integer', uniqueItems: true }, { $ref: '#/parameters/p' }] } } },
      }),
    ) as any;
    expect(decoded.definitions.additionalProperties[0].value.additionalProperties).toEqual({ boolean: false });
    const [limit, ref] = decoded.paths.path[0].value.get.parameters;
    expect(limit.parameter.nonBodyParameter.queryParameterSubSchema).toEqual({ name: 'limit', in: 'query', type: 'integer', uniqueItems: true });
    expect(ref).toEqual({ jsonReference: { xRef: '#/parameters/p' } });
  });
});
