// The OpenAPI builders fed with the real KindDefs (every shared/api/kinds/*.ts), checked by
// structure and by real kubectl 1.27 (v2 protobuf) and 1.33 (v3).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KindDef } from '../../../shared/api/kind.js';
import { decodeOpenApiV2Protobuf, encodeOpenApiV2Protobuf } from '../../../shared/api/openapi/gnostic.js';
import { buildOpenApiV2 } from '../../../shared/api/openapi/v2.js';
import { buildOpenApiV3 } from '../../../shared/api/openapi/v3.js';
import { groupVersionKey } from '../../../shared/api/openapi/operations.js';
import { KUBECTL_1_27, KUBECTL_1_33, runKubectl, startFakeApiServer, type FakeApiServer } from './fake-apiserver.js';
import { collectRefs, loadRealKinds, structuralProblems } from './fixtures.js';

const SERVICE_YAML = (port: number): string => `apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}, {name: extra, port: ${port}}]
`;

describe('OpenAPI from the real kinds', () => {
  let kinds: KindDef[];
  let dir: string;
  beforeAll(async () => {
    kinds = await loadRealKinds();
    dir = mkdtempSync(join(tmpdir(), 'stratus-oa-real-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds v3 documents whose refs resolve and whose kinds carry their GVK and fieldValidation', () => {
    expect(kinds.length).toBeGreaterThan(0);
    const built = buildOpenApiV3(kinds);
    for (const def of kinds) {
      const doc = JSON.parse(built.documents.get(groupVersionKey(def.group, def.version))!.json);
      expect(doc.components.schemas[def.schema.name]['x-kubernetes-group-version-kind'], def.kind).toContainEqual({ group: def.group, version: def.version, kind: def.kind });
      if (def.verbs.includes('patch')) {
        const patches = Object.values(doc.paths as Record<string, any>)
          .map((item) => item.patch)
          .filter((op) => op && op['x-kubernetes-group-version-kind'].kind === def.kind && op['x-kubernetes-group-version-kind'].group === def.group);
        expect(patches.length, def.kind).toBeGreaterThan(0);
        for (const op of patches) expect(op.parameters.map((p: any) => p.name)).toContain('fieldValidation');
      }
    }
    for (const [gv, { json }] of built.documents) {
      const doc = JSON.parse(json);
      for (const ref of collectRefs(doc)) expect(doc.components.schemas[ref.replace('#/components/schemas/', '')], `${gv}: ${ref}`).toBeDefined();
    }
  });

  it('builds a v2 document kube-openapi can parse and gnostic protobuf that decodes back', () => {
    const doc = buildOpenApiV2(kinds) as { definitions: Record<string, unknown>; paths: Record<string, unknown> };
    const problems = Object.entries(doc.definitions).flatMap(([name, schema]) => structuralProblems(schema, name));
    expect(problems).toEqual([]);
    for (const ref of collectRefs(doc)) expect(doc.definitions[ref.replace('#/definitions/', '')], ref).toBeDefined();
    const decoded = decodeOpenApiV2Protobuf(encodeOpenApiV2Protobuf(doc)) as any;
    expect(decoded.definitions.additionalProperties.length).toBe(Object.keys(doc.definitions).length);
    expect(decoded.paths.path.length).toBe(Object.keys(doc.paths).length);
  });

  describe('kubectl 1.27 with only OpenAPI v2', () => {
    let server: FakeApiServer;
    beforeAll(async () => {
      server = await startFakeApiServer(kinds, buildOpenApiV2(kinds));
    });
    afterAll(() => server.close());

    it('explains every kind', async () => {
      const explain = async (def: KindDef): Promise<void> => {
        const result = await runKubectl(KUBECTL_1_27, server, dir, ['explain', def.plural, `--api-version=${def.group ? `${def.group}/` : ''}${def.version}`]);
        expect(result.stderr, def.kind).toBe('');
        expect(result.stdout, def.kind).toMatch(new RegExp(`KIND:\\s+${def.kind}\\n`));
      };
      const queue = [...kinds];
      await Promise.all([1, 2, 3].map(async () => {
        for (let def = queue.shift(); def; def = queue.shift()) await explain(def);
      }));
    });

    it('computes a strategic merge patch from the v2 schemas on the second apply', async () => {
      const file = join(dir, 'svc-v2.yaml');
      writeFileSync(file, SERVICE_YAML(81));
      expect((await runKubectl(KUBECTL_1_27, server, dir, ['apply', '-f', file])).stdout.trim()).toBe('service/web created');
      writeFileSync(file, SERVICE_YAML(82));
      const second = await runKubectl(KUBECTL_1_27, server, dir, ['apply', '-f', file]);
      expect(second.stderr).toBe('');
      expect(second.stdout.trim()).toBe('service/web configured');
      const patch = server.patches.at(-1)!;
      expect(patch.contentType).toBe('application/strategic-merge-patch+json');
      expect(JSON.parse(patch.body).spec).toEqual({
        '$setElementOrder/ports': [{ port: 80 }, { port: 82 }],
        ports: [{ name: 'extra', port: 82 }, { $patch: 'delete', port: 81 }],
      });
    });
  });

  describe('kubectl 1.33 with OpenAPI v3', () => {
    let server: FakeApiServer;
    beforeAll(async () => {
      server = await startFakeApiServer(kinds, buildOpenApiV2(kinds), buildOpenApiV3(kinds));
    });
    afterAll(() => server.close());

    it('explains a nested field through the v3 document', async () => {
      const result = await runKubectl(KUBECTL_1_33, server, dir, ['explain', 'services.spec.ports']);
      expect(result.stderr).toBe('');
      expect(result.stdout).toMatch(/FIELD: ports <\[\]ServicePort>/);
      expect(result.stdout).toMatch(/port\t<integer> -required-/);
      expect(server.requests.some((r) => r.startsWith('GET /openapi/v3/api/v1?hash='))).toBe(true);
      expect(server.requests.some((r) => r.startsWith('GET /openapi/v2'))).toBe(false);
    });

    it('sends fieldValidation=Strict and patches lists by their merge key', async () => {
      const file = join(dir, 'svc-v3.yaml');
      writeFileSync(file, SERVICE_YAML(81).replace('name: web', 'name: web3'));
      const created = await runKubectl(KUBECTL_1_33, server, dir, ['apply', '-f', file]);
      expect(created.stdout.trim()).toBe('service/web3 created');
      expect(server.requests.find((r) => r.startsWith('POST '))).toMatch(/fieldValidation=Strict/);
      writeFileSync(file, SERVICE_YAML(83).replace('name: web', 'name: web3'));
      const second = await runKubectl(KUBECTL_1_33, server, dir, ['apply', '-f', file]);
      expect(second.stderr).toBe('');
      const patch = JSON.parse(server.patches.at(-1)!.body);
      expect(patch.spec['$setElementOrder/ports']).toEqual([{ port: 80 }, { port: 83 }]);
      expect(patch.spec.ports).toEqual([{ name: 'extra', port: 83 }, { $patch: 'delete', port: 81 }]);
    });
  });
});
