// The admin credentials: a random bearer token kept in the data directory and a kubeconfig
// that points kubectl at the server with the CA inline.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export function ensureAdminToken(dir: string): string {
  const file = join(dir, 'admin.token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

export function writeKubeconfig(dir: string, server: string, caCertPem: string, token: string): string {
  const file = join(dir, 'kubeconfig');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'stratus', cluster: { server, 'certificate-authority-data': Buffer.from(caCertPem).toString('base64') } }],
    users: [{ name: 'admin', user: { token } }],
    contexts: [{ name: 'stratus', context: { cluster: 'stratus', user: 'admin', namespace: 'default' } }],
    'current-context': 'stratus',
    preferences: {},
  };
  writeFileSync(file, stringify(config), { mode: 0o600 });
  return file;
}
