// Pulling from a private registry: Debian's docker-registry with htpasswd auth on 127.0.0.1, the
// node's real containerd pulling through CRI with credentials from imagePullSecrets, and the
// pull policies (Always pulls a changed tag again, IfNotPresent keeps what is there, Never refuses).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CriClient } from '../../node-agent/cri/client.js';
import { ensureImage, ImagePullError, type EnsureImageOptions } from '../../node-agent/cri/images.js';
import { pullCredentials, type PullSecret } from '../../node-agent/cri/pull-secrets.js';
import { freePort } from '../e2e/harness.js';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '../..');
const NODE_DIR = process.env.STRATUS_NODE_DIR ?? join(REPO, '.cluster/node');
const SOCKET = join(NODE_DIR, 'containerd.sock');
const START_REGISTRY = join(REPO, 'scripts/start-registry.sh');
const USER = 'puller';
const PASSWORD = 's3cret-pw';

let dir: string;
let registry: string;
let cri: CriClient;

const b64 = (s: string) => Buffer.from(s).toString('base64');
function dockerConfigSecret(auths: Record<string, { username?: string; password?: string; auth?: string }>): PullSecret {
  return { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(JSON.stringify({ auths })) } };
}

/** The pod's pull secrets as the agent would resolve them, from an in-memory namespace. */
async function secretsFor(names: string[], secrets: Record<string, PullSecret>) {
  const pod = { metadata: { namespace: 'registry-test' }, spec: { imagePullSecrets: names.map((name) => ({ name })) } };
  return pullCredentials(pod, async (_ns, name) => secrets[name]);
}

async function pushImage(archive: string, ref: string): Promise<void> {
  await run('bash', [START_REGISTRY, '--dir', dir, '--port', registry.split(':')[1], '--user', USER, '--password', PASSWORD, '--push', `${join(NODE_DIR, 'images', archive)}=${ref}`], { timeout: 60_000 });
}

async function pullError(opts: EnsureImageOptions): Promise<ImagePullError> {
  const e = await ensureImage(cri, opts).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ImagePullError);
  return e as ImagePullError;
}

function unauthorized(ref: string): RegExp {
  const quoted = ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^rpc error: code = Unknown desc = failed to pull and unpack image "${quoted}": .*401 Unauthorized$`);
}

beforeAll(async () => {
  try {
    await run('bash', [join(REPO, 'scripts/setup-node.sh'), '--data-dir', NODE_DIR], { timeout: 170_000 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`scripts/setup-node.sh could not prepare containerd:\n${err.stderr || err.stdout || err.message}`);
  }
  dir = mkdtempSync(join(tmpdir(), 'stratus-registry-'));
  registry = `127.0.0.1:${await freePort()}`;
  const port = registry.split(':')[1];
  const pushes = ['test/busybox:1.0', 'test/denied:1.0', 'test/wrong:1.0', 'test/rotated:1.0', 'test/moving:1.0'].flatMap((ref) => ['--push', `${join(NODE_DIR, 'images/busybox.tar')}=${ref}`]);
  const { stdout } = await run('bash', [START_REGISTRY, '--dir', dir, '--port', port, '--user', USER, '--password', PASSWORD, ...pushes], { timeout: 120_000 });
  expect(stdout).toContain(`registry ${registry} ready`);
  cri = new CriClient(SOCKET);
}, 180_000);

afterAll(async () => {
  cri?.close();
  if (registry) {
    // Remove only the names pulled from this registry: removing by image id would also drop the
    // node's busybox tags, which share the image.
    const ctr = ['--address', SOCKET, '--namespace', 'k8s.io', 'images'];
    const { stdout } = await run('ctr', [...ctr, 'ls', '-q']);
    const ours = stdout.split('\n').filter((name) => name.startsWith(`${registry}/`));
    if (ours.length > 0) await run('ctr', [...ctr, 'rm', ...ours]);
  }
  if (dir) {
    await run('bash', [START_REGISTRY, '--dir', dir, '--stop']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('private registry pulls through CRI', () => {
  it('pulls with the credentials of a matching dockerconfigjson secret', async () => {
    const image = `${registry}/test/busybox:1.0`;
    const pullSecrets = await secretsFor(['regcred'], { regcred: dockerConfigSecret({ [registry]: { username: USER, password: PASSWORD } }) });
    expect(await cri.imageStatus({ image })).toBeNull();
    const ref = await ensureImage(cri, { container: 'app', image, pullPolicy: 'IfNotPresent', pullSecrets });
    expect(ref).toMatch(/^sha256:[0-9a-f]{64}$/);
    const status = await cri.imageStatus({ image });
    expect(status?.id).toBe(ref);
    expect(status?.repo_tags).toContain(image);
    expect(status?.repo_digests.some((d) => d.startsWith(`${registry}/test/busybox@sha256:`))).toBe(true);
  });

  it('fails with ErrImagePull and the runtime\'s unauthorized message without credentials', async () => {
    const image = `${registry}/test/denied:1.0`;
    const e = await pullError({ container: 'app', image, pullPolicy: 'IfNotPresent' });
    expect(e.reason).toBe('ErrImagePull');
    expect(e.message).toMatch(unauthorized(image));
    expect(e.container).toBe('app');
    expect(await cri.imageStatus({ image })).toBeNull();
  });

  it('fails the same way when a missing secret leaves the pull anonymous, and reports the missing name', async () => {
    const image = `${registry}/test/denied:1.0`;
    const pullSecrets = await secretsFor(['not-there'], {});
    expect(pullSecrets.missing).toEqual(['not-there']);
    const e = await pullError({ container: 'app', image, pullPolicy: 'IfNotPresent', pullSecrets });
    expect(e.reason).toBe('ErrImagePull');
    expect(e.message).toMatch(unauthorized(image));
  });

  it('fails with ErrImagePull when the only matching credentials are wrong; credentials for another port are not sent', async () => {
    const image = `${registry}/test/wrong:1.0`;
    const otherPort = `127.0.0.1:${Number(registry.split(':')[1]) + 1}`;
    const pullSecrets = await secretsFor(['bad', 'elsewhere'], {
      bad: dockerConfigSecret({ [`http://${registry}/v2/`]: { auth: b64(`${USER}:not-the-password`) } }),
      elsewhere: dockerConfigSecret({ [otherPort]: { username: USER, password: PASSWORD } }),
    });
    const e = await pullError({ container: 'app', image, pullPolicy: 'Always', pullSecrets });
    expect(e.reason).toBe('ErrImagePull');
    expect(e.message).toMatch(unauthorized(image));
    expect(await cri.imageStatus({ image })).toBeNull();
  });

  it('tries each matching credential in turn until one works', async () => {
    const image = `${registry}/test/rotated:1.0`;
    const pullSecrets = await secretsFor(['old', 'new'], {
      old: dockerConfigSecret({ [registry]: { username: USER, password: 'rotated-away' } }),
      new: dockerConfigSecret({ [`${registry}/test`]: { username: USER, password: 'also-wrong' }, [registry]: { username: USER, password: PASSWORD } }),
    });
    // The path-specific key comes first, then both host credentials in secret order.
    expect(pullSecrets.credentials.map((c) => c.password)).toEqual(['rotated-away', 'also-wrong', PASSWORD]);
    const ref = await ensureImage(cri, { container: 'app', image, pullPolicy: 'IfNotPresent', pullSecrets });
    expect((await cri.imageStatus({ image }))?.id).toBe(ref);
  });

  it('fails without pulling when a referenced secret is malformed, as kubelet does', async () => {
    const image = `${registry}/test/denied:1.0`;
    const pullSecrets = await secretsFor(['good', 'broken'], {
      good: dockerConfigSecret({ [registry]: { username: USER, password: PASSWORD } }),
      broken: dockerConfigSecret({ [registry]: { auth: b64('no separator') } }),
    });
    const e = await pullError({ container: 'app', image, pullPolicy: 'IfNotPresent', pullSecrets });
    expect(e.reason).toBe('ErrImagePull');
    expect(e.message).toBe('unable to parse auth field, must be formatted as base64(username:password)');
    expect(await cri.imageStatus({ image })).toBeNull();
  });
});

describe('imagePullPolicy against a registry', () => {
  it('Always pulls a tag that moved to another image; IfNotPresent keeps the local one', async () => {
    const image = `${registry}/test/moving:1.0`;
    const pullSecrets = await secretsFor(['regcred'], { regcred: dockerConfigSecret({ [registry]: { username: USER, password: PASSWORD } }) });
    const first = await ensureImage(cri, { container: 'app', image, pullPolicy: 'IfNotPresent', pullSecrets });
    const firstDigests = (await cri.imageStatus({ image }))?.repo_digests;

    await pushImage('pause.tar', 'test/moving:1.0');
    const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', '--creds', `${USER}:${PASSWORD}`, '--format', '{{.Digest}}', `docker://${image}`]);
    const movedDigest = stdout.trim();

    expect(await ensureImage(cri, { container: 'app', image, pullPolicy: 'IfNotPresent', pullSecrets })).toBe(first);
    expect((await cri.imageStatus({ image }))?.repo_digests).toEqual(firstDigests);

    const second = await ensureImage(cri, { container: 'app', image, pullPolicy: 'Always', pullSecrets });
    expect(second).not.toBe(first);
    const status = await cri.imageStatus({ image });
    expect(status?.id).toBe(second);
    expect(status?.repo_digests).toContain(`${registry}/test/moving@${movedDigest}`);
    expect(firstDigests).not.toContain(`${registry}/test/moving@${movedDigest}`);
  });

  it('Never uses a present image and refuses a missing one with ErrImageNeverPull', async () => {
    const present = `${registry}/test/busybox:1.0`;
    const id = (await cri.imageStatus({ image: present }))?.id;
    expect(id).toBeTruthy();
    expect(await ensureImage(cri, { container: 'app', image: present, pullPolicy: 'Never' })).toBe(id);

    const missing = `${registry}/test/busybox:2.0`;
    const pullSecrets = await secretsFor(['regcred'], { regcred: dockerConfigSecret({ [registry]: { username: USER, password: PASSWORD } }) });
    const e = await pullError({ container: 'sidecar', image: missing, pullPolicy: 'Never', pullSecrets });
    expect(e.reason).toBe('ErrImageNeverPull');
    expect(e.message).toBe(`Container image "${missing}" is not present with pull policy of Never`);
    expect(e.container).toBe('sidecar');
  });
});
