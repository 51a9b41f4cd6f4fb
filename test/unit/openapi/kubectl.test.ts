// Real kubectl against a throwaway server: 1.27 (which needs OpenAPI v2 as gnostic protobuf for
// explain, create and apply) with only /openapi/v2, and 1.33 with /openapi/v3. The Widget kind is
// unknown to kubectl, so a strategic merge patch for it can only come from our schemas.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiV2 } from '../../../shared/api/openapi/v2.js';
import { buildOpenApiV3 } from '../../../shared/api/openapi/v3.js';
import { KUBECTL_1_27, KUBECTL_1_33, runKubectl, startFakeApiServer, type FakeApiServer } from './fake-apiserver.js';
import { testKinds } from './fixtures.js';

let dir: string;
const kubectl = (server: FakeApiServer, args: string[]) => runKubectl(KUBECTL_1_27, server, dir, args);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stratus-oa-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Applies WIDGET_YAML (named `name`) twice, the second time with another port; returns the patch sent. */
async function applyTwice(binary: string, server: FakeApiServer, name: string): Promise<{ contentType: string; body: Record<string, any>; stderr: string }> {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, WIDGET_YAML.replace('name: w1', `name: ${name}`) + '  target: 8080\n');
  const first = await runKubectl(binary, server, dir, ['apply', '-f', file]);
  expect(first.stdout.trim()).toBe(`widget.widgets.stratus.io/${name} created`);
  writeFileSync(file, WIDGET_YAML.replace('name: w1', `name: ${name}`).replace('[{containerPort: 80}]', '[{containerPort: 80}, {containerPort: 90}]'));
  const second = await runKubectl(binary, server, dir, ['apply', '-f', file]);
  expect(second.stdout.trim()).toBe(`widget.widgets.stratus.io/${name} configured`);
  const patch = server.patches.at(-1)!;
  return { contentType: patch.contentType, body: JSON.parse(patch.body), stderr: second.stderr };
}

const WIDGET_YAML = `apiVersion: widgets.stratus.io/v1
kind: Widget
metadata: {name: w1}
spec:
  image: nginx
  selector: {matchLabels: {app: w1}}
  ports: [{containerPort: 80}]
`;

describe('kubectl 1.27 against the gnostic OpenAPI v2', () => {
  let server: FakeApiServer;
  beforeAll(async () => {
    server = await startFakeApiServer(testKinds, buildOpenApiV2(testKinds));
  });
  afterAll(() => server.close());

  it('explains a kind and a nested list field', async () => {
    const top = await kubectl(server, ['explain', 'widgets']);
    expect(top.stderr).toBe('');
    expect(top.stdout).toMatch(/KIND:\s+Widget/);
    expect(top.stdout).toMatch(/VERSION:\s+widgets\.stratus\.io\/v1/);
    expect(top.stdout).toContain('A widget runs copies of an image.');
    expect(top.stdout).toMatch(/spec\t<Object>\n\s+Desired state\./);

    const ports = await kubectl(server, ['explain', 'wd.spec.ports']);
    expect(ports.stdout).toMatch(/RESOURCE: ports <\[\]Object>/);
    expect(ports.stdout).toMatch(/containerPort\t<integer> -required-/);

    const core = await kubectl(server, ['explain', 'gadgets', '--recursive']);
    expect(core.stdout).toMatch(/VERSION:\s+v1\n/);
    expect(core.stdout).toMatch(/data\t<map\[string\]string>/);
    expect(core.stdout).toMatch(/ownerReferences\t<\[\]Object>/);
  });

  it('finds fieldValidation on the patch operation and lets the server validate', async () => {
    const file = join(dir, 'widget.yaml');
    writeFileSync(file, WIDGET_YAML);
    const result = await kubectl(server, ['create', '-f', file, '--dry-run=server']);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('widget.widgets.stratus.io/w1 created (server dry run)');
    expect(server.requests).toContain('GET /openapi/v2?timeout=32s');
    expect(server.requests.find((r) => r.startsWith('POST '))).toMatch(/fieldValidation=Strict/);
  });

  it('validates client-side from the v2 schemas when the server does not advertise fieldValidation', async () => {
    const doc = buildOpenApiV2(testKinds) as { paths: Record<string, Record<string, { parameters?: { name: string }[] }>> };
    for (const item of Object.values(doc.paths)) {
      for (const op of Object.values(item)) {
        if (op && !Array.isArray(op) && op.parameters) op.parameters = op.parameters.filter((p) => p.name !== 'fieldValidation');
      }
    }
    const bare = await startFakeApiServer(testKinds, doc);
    try {
      const file = join(dir, 'bad.yaml');
      writeFileSync(file, `${WIDGET_YAML}  bogus: 1\n  replicas: "three"\n`);
      const result = await kubectl(bare, ['create', '-f', file, '--dry-run=server']);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('unknown field "bogus" in io.stratus.test.v1.WidgetSpec');
      expect(result.stderr).toContain('invalid type for io.stratus.test.v1.WidgetSpec.replicas: got "string", expected "integer"');
      expect(bare.requests.some((r) => r.startsWith('POST '))).toBe(false);
    } finally {
      await bare.close();
    }
  });

  it('computes a strategic merge patch for an unknown kind from the v2 schemas', async () => {
    const patch = await applyTwice(KUBECTL_1_27, server, 'w27');
    expect(patch.stderr).toBe('');
    expect(patch.contentType).toBe('application/strategic-merge-patch+json');
    expect(patch.body.spec).toEqual({
      '$setElementOrder/ports': [{ containerPort: 80 }, { containerPort: 90 }],
      ports: [{ containerPort: 90 }],
      target: null,
    });
  });
});

describe('kubectl 1.33 against the v3 documents', () => {
  let server: FakeApiServer;
  beforeAll(async () => {
    server = await startFakeApiServer(testKinds, buildOpenApiV2(testKinds), buildOpenApiV3(testKinds));
  });
  afterAll(() => server.close());

  it('explains a kind from the group-version document', async () => {
    const result = await runKubectl(KUBECTL_1_33, server, dir, ['explain', 'widgets.spec']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/FIELD: spec <WidgetSpec>/);
    expect(result.stdout).toMatch(/image\t<string> -required-\n\s+Image to run\./);
    expect(result.stdout).toMatch(/ports\t<\[\]WidgetPort>/);
  });

  it('computes a strategic merge patch for an unknown kind from the v3 schemas', async () => {
    const patch = await applyTwice(KUBECTL_1_33, server, 'w33');
    expect(patch.stderr).toBe('');
    expect(patch.contentType).toBe('application/strategic-merge-patch+json');
    expect(patch.body.spec).toEqual({
      '$setElementOrder/ports': [{ containerPort: 80 }, { containerPort: 90 }],
      ports: [{ containerPort: 90 }],
      target: null,
    });
    expect(server.requests.some((r) => r.startsWith('GET /openapi/v2'))).toBe(false);
  });
});
