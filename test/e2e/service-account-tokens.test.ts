// Service account tokens with real processes: `stratus start`, real kubectl 1.27 and 1.33
// `create token` (plain, with audience/duration, bound to a pod), using the token with
// `kubectl --token` (stratus stores RBAC but does not enforce it, so a valid token may do what any
// authenticated user may), the 401 for bad or invalidated tokens, the kube-api-access volume in
// `kubectl get pod -o yaml`, and the node agent's token request over HTTPS.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, kubectl, removeDir, startServer, type RunningServer } from './harness.js';
import { KubeClient } from '../../shared/client/kube-client.js';
import { requestPodServiceAccountToken, tokenRefreshAt } from '../../node-agent/service-account-token.js';

const VERSIONS = ['1.27', '1.33'];
const NS = 'sa-e2e';
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));

describe('service account tokens with real kubectl', () => {
  let server: RunningServer;
  let cache: string;
  const k = (version: string, args: string[]) => kubectl(server, version, args, { cacheDir: cache });

  beforeAll(async () => {
    server = await startServer();
    cache = mkdtempSync(join(tmpdir(), 'stratus-sa-kcache-'));
    expect((await k('1.33', ['create', 'namespace', NS])).code).toBe(0);
    // The serviceaccount controller creates "default" in the new namespace.
    const deadline = Date.now() + 30_000;
    while ((await api(server, 'GET', `/api/v1/namespaces/${NS}/serviceaccounts/default`)).status !== 200) {
      if (Date.now() > deadline) throw new Error('no default ServiceAccount');
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    if (server) removeDir(server.dataDir);
    if (cache) removeDir(cache);
  });

  for (const version of VERSIONS) {
    it(`kubectl ${version} create token prints a token that authenticates kubectl --token`, async () => {
      const created = await k(version, ['-n', NS, 'create', 'token', 'default']);
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
      const token = created.stdout.trim();
      expect(claimsOf(token)).toMatchObject({ sub: `system:serviceaccount:${NS}:default`, aud: ['https://kubernetes.default.svc.cluster.local'], 'kubernetes.io': { namespace: NS } });
      const pods = await k(version, ['--token', token, '-n', NS, 'get', 'pods']);
      expect(pods.code).toBe(0);
      expect(pods.stderr).toContain('No resources found');
      const bad = await k(version, ['--token', `${token.slice(0, -4)}AAAA`, '-n', NS, 'get', 'pods']);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain('error: You must be logged in to the server (Unauthorized)');
    }, 60_000);
  }

  it('create token -o yaml honours --audience and --duration', async () => {
    const r = await k('1.33', ['-n', NS, 'create', 'token', 'default', '--audience', 'vault', '--duration', '20m', '-o', 'yaml']);
    expect(r.code).toBe(0);
    const tr = parseYaml(r.stdout);
    expect(tr).toMatchObject({ kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', spec: { audiences: ['vault'], expirationSeconds: 1200 } });
    const c = claimsOf(tr.status.token);
    expect(c.exp - c.iat).toBe(1200);
    // Not for the API server's audience: refused.
    const use = await k('1.33', ['--token', tr.status.token, '-n', NS, 'get', 'pods']);
    expect(use.stderr).toContain('Unauthorized');
    const short = await k('1.33', ['-n', NS, 'create', 'token', 'default', '--duration', '1m']);
    expect(short.code).not.toBe(0);
    expect(short.stderr).toContain('may not specify a duration less than 10 minutes');
  }, 60_000);

  it('a token bound to a pod stops working when the pod is deleted; the pod shows its kube-api-access volume', async () => {
    expect((await k('1.33', ['-n', NS, 'run', 'holder', '--image', 'busybox', '--restart', 'Never'])).code).toBe(0);
    const pod = parseYaml((await k('1.33', ['-n', NS, 'get', 'pod', 'holder', '-o', 'yaml'])).stdout);
    const volume = pod.spec.volumes.find((v: { name: string }) => v.name.startsWith('kube-api-access-'));
    expect(volume.projected.sources[0]).toEqual({ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } });
    expect(pod.spec.containers[0].volumeMounts).toContainEqual({ name: volume.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' });

    const r = await k('1.33', ['-n', NS, 'create', 'token', 'default', '--bound-object-kind', 'Pod', '--bound-object-name', 'holder']);
    expect(r.code).toBe(0);
    const token = r.stdout.trim();
    expect(claimsOf(token)['kubernetes.io'].pod).toEqual({ name: 'holder', uid: pod.metadata.uid });
    expect((await k('1.33', ['--token', token, '-n', NS, 'get', 'pods'])).code).toBe(0);
    expect((await k('1.33', ['-n', NS, 'delete', 'pod', 'holder', '--grace-period=0', '--force'])).code).toBe(0);
    const after = await k('1.33', ['--token', token, '-n', NS, 'get', 'pods']);
    expect(after.stderr).toContain('Unauthorized');
  }, 60_000);

  it('a node credential gets tokens only for pods bound to its node (kubectl sends protobuf)', async () => {
    const exchanged = await api(server, 'POST', '/stratus/v1/nodecredentialrequests', {
      body: JSON.stringify({ apiVersion: 'stratus.dev/v1', kind: 'NodeCredentialRequest', spec: { nodeName: 'sa-e2e-node' } }),
    });
    expect(exchanged.status).toBe(201);
    const nodeToken = exchanged.json.status.token;
    const pod = await api(server, 'POST', `/api/v1/namespaces/${NS}/pods`, {
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'on-node' }, spec: { nodeName: 'sa-e2e-node', containers: [{ name: 'c', image: 'busybox' }] } }),
    });
    expect(pod.status).toBe(201);
    const bound = ['--token', nodeToken, '-n', NS, 'create', 'token', 'default', '--bound-object-kind', 'Pod', '--bound-object-name', 'on-node'];
    const ok = await k('1.33', [...bound, '--bound-object-uid', pod.json.metadata.uid]);
    expect(ok.stderr).toBe('');
    expect(claimsOf(ok.stdout.trim())['kubernetes.io'].pod).toEqual({ name: 'on-node', uid: pod.json.metadata.uid });
    const noUid = await k('1.33', bound);
    expect(noUid.stderr).toContain('serviceaccounts "default" is forbidden: node requested token with a pod binding without a uid');
  }, 60_000);

  it("the node agent's requestPodServiceAccountToken gets a pod-bound token", async () => {
    const created = await api(server, 'POST', `/api/v1/namespaces/${NS}/pods`, {
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'agent-pod' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }),
    });
    expect(created.status).toBe(201);
    const client = new KubeClient({ server: server.url, token: server.token, caCert: server.ca });
    try {
      const issuedAt = new Date();
      const got = await requestPodServiceAccountToken(client, created.json, { expirationSeconds: 3607 });
      const c = claimsOf(got.token);
      expect(c['kubernetes.io'].pod).toEqual({ name: 'agent-pod', uid: created.json.metadata.uid });
      expect(Date.parse(got.expirationTimestamp) / 1000).toBe(c.iat + 3607);
      const refresh = tokenRefreshAt(issuedAt, got.expirationTimestamp).getTime() - issuedAt.getTime();
      expect(refresh).toBeGreaterThan(0.79 * 3607_000);
      expect(refresh).toBeLessThan(0.81 * 3607_000);
      const withToken = new KubeClient({ server: server.url, token: got.token, caCert: server.ca });
      try {
        expect((await withToken.get<{ metadata: { name: string } }>(`/api/v1/namespaces/${NS}/pods/agent-pod`)).metadata.name).toBe('agent-pod');
      } finally {
        withToken.close();
      }
    } finally {
      client.close();
    }
  }, 60_000);
});
