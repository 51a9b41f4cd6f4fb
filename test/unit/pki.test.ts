// The serving certificate names this host (so a remote `stratus join` can verify it), and is issued
// again by the same CA when the names change.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BASE_SANS, canonicalSan, certificateSans, ensurePki, hostSans } from '../../cli/pki.js';

const dirs: string[] = [];
const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'stratus-pki-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Node's own X509 parser: does the certificate verify for this host name / IP? */
const validFor = (pem: string, host: string) => {
  const cert = new X509Certificate(pem);
  return host.includes(':') || /^[\d.]+$/.test(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host) !== undefined;
};

describe('serving certificate names', () => {
  it('covers loopback, the kubernetes service names, the host name and its non-loopback addresses', async () => {
    const pki = await ensurePki(freshDir());
    expect(pki.issued).toBe('new-ca');
    for (const h of [...BASE_SANS, ...hostSans()]) expect(validFor(pki.cert, h), h).toBe(true);
    expect(validFor(pki.cert, hostname().toLowerCase())).toBe(true);
    expect(validFor(pki.cert, '203.0.113.77')).toBe(false);
    // the certificate chains to the CA it came with
    expect(new X509Certificate(pki.cert).verify(new X509Certificate(pki.caCert).publicKey)).toBe(true);
  });

  it('leaves out loopback-only, link-local and pod bridge addresses from the host names', () => {
    for (const h of hostSans()) {
      expect(h).not.toMatch(/^127\./);
      expect(h).not.toBe('::1');
      expect(h).not.toMatch(/^fe80:/i);
      expect(h).not.toMatch(/^10\.88\./); // the CNI bridge scripts/setup-node.sh creates
    }
  });

  it('adds an advertise address, re-issuing only the serving certificate with the same CA', async () => {
    const dir = freshDir();
    const first = await ensurePki(dir);
    const again = await ensurePki(dir);
    expect(again.issued).toBe('loaded');
    expect(again.cert).toBe(first.cert);

    const moved = await ensurePki(dir, { advertiseAddress: '198.51.100.7' });
    expect(moved.issued).toBe('serving-cert');
    expect(moved.caCert).toBe(first.caCert);
    expect(moved.cert).not.toBe(first.cert);
    expect(validFor(moved.cert, '198.51.100.7')).toBe(true);
    expect(new X509Certificate(moved.cert).verify(new X509Certificate(first.caCert).publicKey)).toBe(true);

    // An IPv6 advertise address in any spelling is the same name.
    const v6 = await ensurePki(dir, { advertiseAddress: '2001:db8::10' });
    expect(v6.issued).toBe('serving-cert');
    expect(validFor(v6.cert, '2001:db8::10')).toBe(true);
    expect((await ensurePki(dir, { advertiseAddress: '2001:0DB8:0:0:0:0:0:10' })).issued).toBe('loaded');
  });

  it('issues for an explicit host list exactly', async () => {
    const pki = await ensurePki(freshDir(), { hosts: ['127.0.0.1', 'api.example.test'] });
    expect(certificateSans(pki.cert).sort()).toEqual(['127.0.0.1', 'api.example.test']);
  });

  it('replaces the CA of an old data directory without a CA key once its names no longer fit', async () => {
    const dir = freshDir();
    const old = await ensurePki(dir, { hosts: ['127.0.0.1'] });
    unlinkSync(join(dir, 'pki', 'ca.key'));
    expect((await ensurePki(dir, { hosts: ['127.0.0.1'] })).issued).toBe('loaded');
    const upgraded = await ensurePki(dir, { hosts: ['127.0.0.1', '192.0.2.10'] });
    expect(upgraded.issued).toBe('new-ca');
    expect(upgraded.caCert).not.toBe(old.caCert);
    expect(validFor(upgraded.cert, '192.0.2.10')).toBe(true);
  });
});

describe('canonicalSan', () => {
  it('spells IPv6 addresses one way and keeps IPv4 and DNS names', () => {
    expect(canonicalSan('2001:DB8::1')).toBe('2001:0db8:0000:0000:0000:0000:0000:0001');
    expect(canonicalSan('::1')).toBe(canonicalSan('0:0:0:0:0:0:0:1'));
    expect(canonicalSan('::ffff:192.0.2.1')).toBe(canonicalSan('::ffff:c000:201'));
    expect(canonicalSan('10.0.0.1')).toBe('10.0.0.1');
    expect(canonicalSan('Kubernetes.Default')).toBe('kubernetes.default');
  });
});
