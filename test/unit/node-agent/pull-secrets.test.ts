// Which registry credentials a pod's imagePullSecrets give for an image, following kubelet's
// keyring: secret formats, host/port/path/wildcard matching, Docker Hub defaults, missing secrets.
import { describe, expect, it } from 'vitest';
import { authFor, keyringKey, pullCredentials, pullSecretsMissingEvent, repositoryName, type PullSecret, type RegistryCredential } from '../../../node-agent/cri/pull-secrets.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const dockerConfigJson = (auths: Record<string, unknown>): PullSecret => ({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(JSON.stringify({ auths })) } });
const dockercfg = (cfg: Record<string, unknown>): PullSecret => ({ type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64(JSON.stringify(cfg)) } });
const cred = (registry: string, username = 'u', password = 'p'): RegistryCredential => ({ registry, username, password, secret: 's' });

function podWith(...names: (string | undefined)[]) {
  return { metadata: { namespace: 'team' }, spec: { imagePullSecrets: names.map((name) => ({ name })) } };
}

function store(secrets: Record<string, PullSecret>) {
  const asked: string[] = [];
  const get = async (ns: string, name: string) => {
    asked.push(`${ns}/${name}`);
    return secrets[name];
  };
  return { get, asked };
}

describe('pullCredentials', () => {
  it('reads dockerconfigjson secrets with username/password and with a base64 auth field', async () => {
    const { get, asked } = store({
      plain: dockerConfigJson({ 'registry.example.com': { username: 'alice', password: 'pw1' } }),
      encoded: dockerConfigJson({ 'https://other.example.com/v1/': { auth: b64('bob:pw:with:colons') } }),
    });
    const got = await pullCredentials(podWith('plain', 'encoded'), get);
    expect(asked).toEqual(['team/plain', 'team/encoded']);
    expect(got.missing).toEqual([]);
    expect(got.error).toBeUndefined();
    expect(got.credentials).toEqual([
      { registry: 'registry.example.com', username: 'alice', password: 'pw1', secret: 'plain' },
      { registry: 'other.example.com', username: 'bob', password: 'pw:with:colons', secret: 'encoded' },
    ]);
  });

  it('reads legacy dockercfg secrets and unpadded auth fields; auth wins over username/password', async () => {
    const unpadded = b64('carol:x').replace(/=+$/, '');
    const { get } = store({ legacy: dockercfg({ 'quay.io': { auth: unpadded, username: 'ignored', password: 'ignored' } }) });
    const got = await pullCredentials(podWith('legacy'), get);
    expect(got.credentials).toEqual([{ registry: 'quay.io', username: 'carol', password: 'x', secret: 'legacy' }]);
  });

  it('ignores secrets of other types and names that are empty; lists the ones that cannot be read', async () => {
    const { get, asked } = store({
      opaque: { type: 'Opaque', data: { '.dockerconfigjson': b64('{"auths":{"a.io":{"username":"x","password":"y"}}}') } },
      wrongKey: { type: 'kubernetes.io/dockerconfigjson', data: { '.dockercfg': b64('{"a.io":{}}') } },
    });
    const failing = async (ns: string, name: string) => {
      if (name === 'broken') throw new Error('forbidden');
      return get(ns, name);
    };
    const got = await pullCredentials(podWith('opaque', '', 'gone', 'wrongKey', undefined, 'broken'), failing);
    expect(got.credentials).toEqual([]);
    expect(got.missing).toEqual(['gone', 'broken']);
    expect(asked).not.toContain('team/');
    expect(pullSecretsMissingEvent(got.missing)).toEqual({
      type: 'Warning',
      reason: 'FailedToRetrieveImagePullSecret',
      message: 'Unable to retrieve some image pull secrets (gone, broken); attempting to pull the image may not succeed.',
    });
  });

  it('reports malformed secret content as an error instead of credentials', async () => {
    const { get } = store({
      good: dockerConfigJson({ 'a.io': { username: 'x', password: 'y' } }),
      notJson: { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('{nope') } },
    });
    const got = await pullCredentials(podWith('good', 'notJson'), get);
    expect(got.credentials).toHaveLength(1);
    expect(got.error).toMatch(/JSON/);

    const badAuth = await pullCredentials(podWith('x'), store({ x: dockerConfigJson({ 'a.io': { auth: b64('no-colon') } }) }).get);
    expect(badAuth.error).toBe('unable to parse auth field, must be formatted as base64(username:password)');
  });

  it('gives nothing for a pod without imagePullSecrets', async () => {
    const got = await pullCredentials({ metadata: { namespace: 'x' }, spec: {} }, store({}).get);
    expect(got).toEqual({ credentials: [], missing: [] });
  });
});

describe('keyringKey and repositoryName', () => {
  it('drops scheme and /v1/ or /v2/ suffixes but keeps other paths', () => {
    expect(keyringKey('https://index.docker.io/v1/')).toBe('index.docker.io');
    expect(keyringKey('http://127.0.0.1:5000/v2/')).toBe('127.0.0.1:5000');
    expect(keyringKey('registry.example.com/team')).toBe('registry.example.com/team');
    expect(keyringKey('registry.example.com/')).toBe('registry.example.com');
  });

  it('qualifies short Docker Hub names and strips tags and digests', () => {
    expect(repositoryName('busybox')).toBe('docker.io/library/busybox');
    expect(repositoryName('busybox:1.36')).toBe('docker.io/library/busybox');
    expect(repositoryName('someone/app:v1')).toBe('docker.io/someone/app');
    expect(repositoryName('index.docker.io/someone/app')).toBe('docker.io/someone/app');
    expect(repositoryName('127.0.0.1:5000/test/busybox:1.0')).toBe('127.0.0.1:5000/test/busybox');
    expect(repositoryName('localhost/app@sha256:' + 'a'.repeat(64))).toBe('localhost/app');
  });
});

describe('authFor', () => {
  it('matches the registry host including its port', () => {
    const creds = [cred('127.0.0.1:5000', 'five'), cred('127.0.0.1:6000', 'six'), cred('127.0.0.1', 'none')];
    expect(authFor('127.0.0.1:5000/test/busybox:1.0', creds)).toEqual([{ username: 'five', password: 'p' }]);
    expect(authFor('127.0.0.1/test/busybox', creds)).toEqual([{ username: 'none', password: 'p' }]);
    expect(authFor('127.0.0.1:7000/test/busybox', creds)).toEqual([]);
  });

  it('tries more specific paths first, then the host, and path keys only match under their path', () => {
    const creds = [cred('registry.example.com', 'host'), cred('registry.example.com/team', 'team'), cred('registry.example.com/other', 'other')];
    expect(authFor('registry.example.com/team/app:1', creds).map((a) => a.username)).toEqual(['team', 'host']);
    expect(authFor('registry.example.com/solo/app', creds).map((a) => a.username)).toEqual(['host']);
  });

  it('keeps every credential for one key in secret order (several secrets for one registry)', () => {
    const creds = [cred('r.example.com', 'first'), cred('r.example.com', 'second')];
    expect(authFor('r.example.com/app', creds).map((a) => a.username)).toEqual(['first', 'second']);
  });

  it('matches wildcard host labels only with the same number of labels', () => {
    const creds = [cred('*.example.com', 'wild')];
    expect(authFor('eu.example.com/app', creds)).toHaveLength(1);
    expect(authFor('example.com/app', creds)).toEqual([]);
    expect(authFor('a.b.example.com/app', creds)).toEqual([]);
    expect(authFor('eu.example.org/app', creds)).toEqual([]);
    expect(authFor('eu1.example.com/app', [cred('eu?.example.com')])).toHaveLength(1);
    expect(authFor('eub.example.com/app', [cred('eu[0-9].example.com')])).toEqual([]);
  });

  it('uses index.docker.io credentials for Docker Hub images in any spelling, and docker.io keys directly', () => {
    const hub = [cred(keyringKey('https://index.docker.io/v1/'), 'hub')];
    for (const image of ['busybox', 'library/busybox:1.36', 'docker.io/someone/app', 'index.docker.io/someone/app']) {
      expect(authFor(image, hub), image).toEqual([{ username: 'hub', password: 'p' }]);
    }
    expect(authFor('quay.io/someone/app', hub)).toEqual([]);
    expect(authFor('busybox', [cred('docker.io', 'direct')])).toEqual([{ username: 'direct', password: 'p' }]);
  });

  it('is empty (anonymous pull) without credentials', () => {
    expect(authFor('registry.example.com/app', [])).toEqual([]);
  });
});
