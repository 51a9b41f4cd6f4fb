// The protobuf bodies real kubectl 1.33 sends for typed-client creates, decoded with the real
// schemas, must equal the JSON bodies kubectl 1.31 sends for the same commands (minus the nulls
// and empty objects Go's JSON encoder writes and a server ignores).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiVersionOf, type KindDef } from '../../../shared/api/kind.js';
import { buildOpenApiV2 } from '../../../shared/api/openapi/v2.js';
import { buildOpenApiV3 } from '../../../shared/api/openapi/v3.js';
import { decodeKubernetesProtobuf } from '../../../shared/api/protobuf/decode.js';
import { KUBECTL_1_33, runKubectl, startFakeApiServer, type FakeApiServer } from '../openapi/fake-apiserver.js';
import { loadRealKinds } from '../openapi/fixtures.js';

const KUBECTL_1_31 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.31';

/** Drops null values and empty objects, recursively, the way omitted Go zero values look. */
function withoutEmpties(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmpties);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const cleaned = withoutEmpties(v);
    if (cleaned === null) continue;
    if (typeof cleaned === 'object' && !Array.isArray(cleaned) && Object.keys(cleaned as object).length === 0) continue;
    out[k] = cleaned;
  }
  return out;
}

const COMMANDS: [string, string[]][] = [
  ['deployment', ['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=3', '--port=8080']],
  ['deployment with zero replicas', ['create', 'deployment', 'idle', '--image=busybox', '--replicas=0', '--', 'sleep', '3600']],
  ['configmap', ['create', 'configmap', 'settings', '--from-literal=mode=fast', '--from-literal=empty=']],
  ['secret', ['create', 'secret', 'generic', 'creds', '--from-literal=password=hunter2', '--from-literal=blank=']],
  ['namespace', ['create', 'namespace', 'team-a']],
];

describe('protobuf bodies from kubectl 1.33', () => {
  let kinds: KindDef[];
  let server: FakeApiServer;
  let dir: string;
  beforeAll(async () => {
    kinds = await loadRealKinds();
    server = await startFakeApiServer(kinds, buildOpenApiV2(kinds), buildOpenApiV3(kinds));
    dir = mkdtempSync(join(tmpdir(), 'stratus-pb-'));
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const resolve = (apiVersion: string, kind: string) => kinds.find((k) => apiVersionOf(k) === apiVersion && k.kind === kind)?.schema;

  for (const [what, args] of COMMANDS) {
    it(`decode to the JSON kubectl 1.31 sends: ${what}`, async () => {
      const before = server.posts.length;
      const old = await runKubectl(KUBECTL_1_31, server, dir, args);
      expect(old.stderr).toBe('');
      const recent = await runKubectl(KUBECTL_1_33, server, dir, args);
      expect(recent.stderr).toBe('');
      const [jsonPost, protobufPost] = server.posts.slice(before);
      expect(jsonPost.contentType).toBe('application/json');
      expect(protobufPost.contentType).toBe('application/vnd.kubernetes.protobuf');
      expect(protobufPost.path).toBe(jsonPost.path);

      const decoded = decodeKubernetesProtobuf(new Uint8Array(protobufPost.body), resolve);
      expect(decoded.object).toEqual(withoutEmpties(JSON.parse(jsonPost.body.toString('utf8'))));
    });
  }
});
