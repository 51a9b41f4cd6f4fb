// `stratus admin-token`: the AWS tenant's admin token stays in a private local file; only its digest is printed for the stack.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureAdminTokenFile } from '../../../cli/admin-token.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'stratus-admin-token-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('ensureAdminTokenFile', () => {
  it('writes a random token readable only by the owner and returns its SHA-256 digest', () => {
    const dir = tempDir();
    const first = ensureAdminTokenFile('acme', dir);
    expect(first.created).toBe(true);
    expect(first.file).toBe(join(dir, 'stratus-acme-admin.token'));
    const token = readFileSync(first.file, 'utf8').trim();
    expect(token.length).toBeGreaterThanOrEqual(40);
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    expect(first.digest).toBe(createHash('sha256').update(token).digest('hex'));
    expect(ensureAdminTokenFile('beta', dir).digest).not.toBe(first.digest);
  });

  it('reuses an existing token file instead of replacing the credential', () => {
    const dir = tempDir();
    const first = ensureAdminTokenFile('acme', dir);
    const again = ensureAdminTokenFile('acme', dir);
    expect(again).toEqual({ ...first, created: false });
  });

  it('refuses a token file too short to be a credential, and bad tenant names', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'stratus-acme-admin.token'), 'short\n');
    expect(() => ensureAdminTokenFile('acme', dir)).toThrow(/no usable token/);
    expect(() => ensureAdminTokenFile('Not_Valid', dir)).toThrow(/Invalid tenant name/);
  });
});
