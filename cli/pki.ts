// First-start PKI: a self-signed CA and a serving certificate, kept in the data directory (ECDSA
// P-256: fast to generate, accepted by Go's TLS stack). The serving certificate names loopback,
// the in-cluster service names, this host's name and its non-loopback addresses (and an optional
// advertise address), so a `stratus join` from another machine can verify it. When that set
// changes (a new address, another advertise address) the serving certificate is issued again by
// the same CA, so kubeconfigs and --ca-cert-hash pins stay valid.
import { webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import 'reflect-metadata'; // @peculiar/x509's dependency injection (tsyringe) needs the Reflect metadata API
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

/** Names every serving certificate carries: loopback and the `kubernetes` Service's DNS names. */
export const BASE_SANS = ['127.0.0.1', 'localhost', '::1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'];

export interface ServingPki {
  caCert: string;
  cert: string;
  key: string;
  /** What ensurePki did: loaded as is, issued a new serving certificate (same CA), or created a new CA. */
  issued: 'loaded' | 'serving-cert' | 'new-ca';
  /** The serving certificate's subject alternative names. */
  sans: string[];
}

export interface PkiOptions {
  /** Subject alternative names (default: BASE_SANS plus hostSans()). */
  hosts?: string[];
  /** An extra address or DNS name clients use to reach the API server (e.g. a load balancer). */
  advertiseAddress?: string;
}

// Bridges and veths created for pods are not addresses anyone reaches the API server on.
const POD_INTERFACE = /^(cni|cbr|docker|veth|virbr|flannel|cali|stratus|kube|lxc|cilium|tun|tap)/;

/** This host's name (lower-cased) and its non-loopback, non-link-local IPv4 and IPv6 addresses. */
export function hostSans(): string[] {
  const out: string[] = [];
  const name = hostname().toLowerCase();
  if (name && name !== 'localhost') out.push(name);
  for (const [iface, addrs] of Object.entries(networkInterfaces())) {
    if (POD_INTERFACE.test(iface)) continue;
    for (const a of addrs ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv6' && /^fe[89ab]/i.test(a.address)) continue; // link-local: only meaningful with a zone
      out.push(a.address);
    }
  }
  return out;
}

/** An IP in one canonical spelling (IPv6 fully expanded, lower case); DNS names lower-cased. */
export function canonicalSan(value: string): string {
  const v = value.trim().toLowerCase();
  if (isIP(v) !== 6) return v;
  const [head, tail] = v.includes('::') ? v.split('::') : [v, undefined];
  const toGroups = (s: string | undefined) => {
    if (!s) return [] as string[];
    return s.split(':').flatMap((g) => {
      if (!g.includes('.')) return [g];
      const [a, b, c, d] = g.split('.').map(Number); // trailing dotted IPv4 (::ffff:1.2.3.4)
      return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
    });
  };
  const h = toGroups(head);
  const t = toGroups(tail);
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

const uniqueSans = (names: string[]) => {
  const seen = new Set<string>();
  return names.filter((n) => {
    const k = canonicalSan(n);
    if (!n || seen.has(k)) return false;
    seen.add(k);
    return true;
  });
};

/** The desired subject alternative names for these options. */
export function desiredSans(opts: PkiOptions = {}): string[] {
  return uniqueSans([...(opts.hosts ?? [...BASE_SANS, ...hostSans()]), ...(opts.advertiseAddress ? [opts.advertiseAddress] : [])]);
}

/** The subject alternative names (DNS names and IPs) of a PEM certificate. */
export function certificateSans(pem: string): string[] {
  const ext = new x509.X509Certificate(pem).getExtension(x509.SubjectAlternativeNameExtension);
  return (ext?.names.toJSON() ?? []).filter((n) => n.type === 'dns' || n.type === 'ip').map((n) => n.value);
}

const sameSet = (a: string[], b: string[]) => {
  const x = new Set(a.map(canonicalSan));
  const y = new Set(b.map(canonicalSan));
  return x.size === y.size && [...x].every((v) => y.has(v));
};

async function toPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END PRIVATE KEY-----\n`;
}

async function fromPem(pem: string, usages: KeyUsage[]): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, ALG, true, usages) as Promise<CryptoKey>;
}

const serial = () => Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1');

interface Ca {
  cert: x509.X509Certificate;
  key: CryptoKey;
}

async function generateCa(): Promise<Ca> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=stratus-ca',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + TEN_YEARS_MS),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, key: keys.privateKey };
}

async function issueServingCert(ca: Ca, hosts: string[]): Promise<{ cert: string; key: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const ips = hosts.filter((h) => isIP(h) !== 0);
  const dns = hosts.filter((h) => isIP(h) === 0);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=stratus-apiserver',
    issuer: ca.cert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + TEN_YEARS_MS),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension([...dns.map((value) => ({ type: 'dns' as const, value })), ...ips.map((value) => ({ type: 'ip' as const, value }))]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return { cert: cert.toString('pem'), key: await toPem(keys.privateKey) };
}

/**
 * Load the PKI from `dir/pki`, generating it on first start. The serving certificate is issued
 * again (same CA) when its names differ from the desired ones. A data directory from before the
 * CA key was kept (no ca.key) keeps its certificates while they still fit; when they do not, a
 * new CA has to be made (issued: 'new-ca'), and nodes joined with the old pin must join again.
 */
export async function ensurePki(dir: string, opts: PkiOptions = {}): Promise<ServingPki> {
  const pkiDir = join(dir, 'pki');
  const files = { caCert: join(pkiDir, 'ca.crt'), caKey: join(pkiDir, 'ca.key'), cert: join(pkiDir, 'apiserver.crt'), key: join(pkiDir, 'apiserver.key') };
  const sans = desiredSans(opts);
  mkdirSync(pkiDir, { recursive: true, mode: 0o700 });

  const haveServing = existsSync(files.caCert) && existsSync(files.cert) && existsSync(files.key);
  if (haveServing) {
    const loaded = { caCert: readFileSync(files.caCert, 'utf8'), cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8') };
    const current = certificateSans(loaded.cert);
    if (sameSet(current, sans)) return { ...loaded, issued: 'loaded', sans: current };
    if (existsSync(files.caKey)) {
      const ca = { cert: new x509.X509Certificate(loaded.caCert), key: await fromPem(readFileSync(files.caKey, 'utf8'), ['sign']) };
      const serving = await issueServingCert(ca, sans);
      writeFileSync(files.cert, serving.cert);
      writeFileSync(files.key, serving.key, { mode: 0o600 });
      return { caCert: loaded.caCert, ...serving, issued: 'serving-cert', sans };
    }
  }
  const ca = await generateCa();
  const serving = await issueServingCert(ca, sans);
  const caCert = ca.cert.toString('pem');
  writeFileSync(files.caKey, await toPem(ca.key), { mode: 0o600 });
  writeFileSync(files.caCert, caCert);
  writeFileSync(files.cert, serving.cert);
  writeFileSync(files.key, serving.key, { mode: 0o600 });
  return { caCert, ...serving, issued: 'new-ca', sans };
}
