// A throwaway HTTP server with just enough of the API for kubectl's OpenAPI paths: aggregated
// discovery (v2beta1), /openapi/v2 as gnostic protobuf, optionally /openapi/v3, and a naive object
// store (POST stores and echoes, GET returns, PATCH records the patch and returns the stored object).
// Non-JSON (protobuf) POSTs are recorded and answered with a placeholder JSON object.
import { execFile } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { apiVersionOf, type KindDef } from '../../../shared/api/kind.js';
import { OPENAPI_V2_PROTOBUF_CONTENT_TYPE, encodeOpenApiV2Protobuf } from '../../../shared/api/openapi/gnostic.js';
import type { OpenApiV3Build } from '../../../shared/api/openapi/v3.js';

export const KUBECTL_1_27 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.27';
export const KUBECTL_1_33 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';
const DISCOVERY_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

function aggregatedDiscovery(kinds: readonly KindDef[], core: boolean): object {
  const groups = new Map<string, Map<string, KindDef[]>>();
  for (const k of kinds) {
    if ((k.group === '') !== core) continue;
    const versions = groups.get(k.group) ?? new Map<string, KindDef[]>();
    versions.set(k.version, [...(versions.get(k.version) ?? []), k]);
    groups.set(k.group, versions);
  }
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2beta1',
    metadata: {},
    items: [...groups].map(([group, versions]) => ({
      metadata: { name: group },
      versions: [...versions].map(([version, ks]) => ({
        version,
        freshness: 'Current',
        resources: ks.map((k) => ({
          resource: k.plural,
          responseKind: { group: k.group, version: k.version, kind: k.kind },
          scope: k.namespaced ? 'Namespaced' : 'Cluster',
          singularResource: k.singular,
          verbs: k.verbs,
          shortNames: k.shortNames,
          categories: k.categories,
        })),
      })),
    })),
  };
}

export interface FakeApiServer {
  url: string;
  /** "METHOD url" of every request. */
  requests: string[];
  /** Bodies of PATCH requests, with their Content-Type. */
  patches: { contentType: string; body: string }[];
  /** Raw bodies of POST requests, with their path and Content-Type. */
  posts: { path: string; contentType: string; body: Buffer }[];
  close(): Promise<void>;
}

export async function startFakeApiServer(kinds: readonly KindDef[], v2: object, v3?: OpenApiV3Build): Promise<FakeApiServer> {
  const v2Protobuf = encodeOpenApiV2Protobuf(v2);
  const requests: string[] = [];
  const patches: FakeApiServer['patches'] = [];
  const posts: FakeApiServer['posts'] = [];
  const objects = new Map<string, string>();
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    requests.push(`${req.method} ${req.url}`);
    const send = (code: number, type: string, body: string | Uint8Array): void => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    if (path === '/api' || path === '/apis') return send(200, DISCOVERY_V2BETA1, JSON.stringify(aggregatedDiscovery(kinds, path === '/api')));
    if (path === '/openapi/v2') return send(200, OPENAPI_V2_PROTOBUF_CONTENT_TYPE, v2Protobuf);
    if (v3 && path === '/openapi/v3') return send(200, 'application/json', JSON.stringify(v3.index));
    const v3Doc = v3?.documents.get(path.replace(/^\/openapi\/v3\//, ''));
    if (v3Doc && path.startsWith('/openapi/v3/')) return send(200, 'application/json', v3Doc.json);
    if (req.method === 'POST' || req.method === 'PATCH') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const contentType = String(req.headers['content-type']);
        if (req.method === 'PATCH') {
          patches.push({ contentType, body: raw.toString('utf8') });
          const stored = objects.get(path);
          return stored ? send(200, 'application/json', stored) : send(404, 'application/json', '{}');
        }
        posts.push({ path, contentType, body: raw });
        if (!contentType.startsWith('application/json')) return send(201, 'application/json', JSON.stringify(placeholderFor(kinds, path)));
        const body = raw.toString('utf8');
        const name = (JSON.parse(body) as { metadata: { name: string } }).metadata.name;
        if (!new URLSearchParams((req.url ?? '').split('?')[1]).has('dryRun')) objects.set(`${path}/${name}`, body);
        send(201, 'application/json', body);
      });
      return;
    }
    const stored = req.method === 'GET' ? objects.get(path) : undefined;
    if (stored) return send(200, 'application/json', stored);
    send(404, 'application/json', JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', message: 'not found', code: 404 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, patches, posts, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A JSON answer to a non-JSON create: an object of the collection's kind named "created". */
function placeholderFor(kinds: readonly KindDef[], path: string): object {
  const plural = path.split('/').pop();
  const def = kinds.find((k) => k.plural === plural && path.startsWith(k.group ? `/apis/${k.group}/${k.version}/` : `/api/${k.version}/`));
  return { apiVersion: def ? apiVersionOf(def) : 'v1', kind: def?.kind ?? 'Unknown', metadata: { name: 'created' } };
}

/** Runs a kubectl binary against `server`, with its config and caches inside `dir`. */
export function runKubectl(binary: string, server: FakeApiServer, dir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const kubeconfig = join(dir, `kubeconfig-${server.url.split(':').pop()}`);
  // Written aside and renamed so concurrent runs never read a half-written file.
  const staging = `${kubeconfig}.${process.hrtime.bigint()}`;
  writeFileSync(
    staging,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: t, cluster: {server: "${server.url}"}}]`,
      'users: [{name: u, user: {token: test}}]',
      'contexts: [{name: t, context: {cluster: t, user: u, namespace: default}}]',
      'current-context: t',
    ].join('\n'),
  );
  renameSync(staging, kubeconfig);
  const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: dir, KUBECACHEDIR: join(dir, 'cache') };
  return new Promise((resolve) => {
    execFile(binary, args, { env, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
