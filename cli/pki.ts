// First-start PKI: a self-signed CA and a serving certificate for 127.0.0.1/localhost, kept in
// the data directory (ECDSA P-256: fast to generate, accepted by Go's TLS stack).
import { webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import 'reflect-metadata'; // @peculiar/x509's dependency injection (tsyringe) needs the Reflect metadata API
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

export interface ServingPki {
  caCert: string;
  cert: string;
  key: string;
}

async function toPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END PRIVATE KEY-----\n`;
}

const serial = () => Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1');

async function generate(hosts: string[]): Promise<ServingPki> {
  const now = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + TEN_YEARS_MS);
  const caKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=stratus-ca',
    notBefore: now,
    notAfter,
    signingAlgorithm: ALG,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const serverKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const ips = hosts.filter((h) => /^[\d.]+$/.test(h) || h.includes(':'));
  const dns = hosts.filter((h) => !ips.includes(h));
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=stratus-apiserver',
    issuer: ca.subject,
    notBefore: now,
    notAfter,
    signingAlgorithm: ALG,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension([...dns.map((value) => ({ type: 'dns' as const, value })), ...ips.map((value) => ({ type: 'ip' as const, value }))]),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  });
  return { caCert: ca.toString('pem'), cert: server.toString('pem'), key: await toPem(serverKeys.privateKey) };
}

/** Load the PKI from `dir/pki`, generating it on first start. */
export async function ensurePki(dir: string, hosts = ['127.0.0.1', 'localhost', '::1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc']): Promise<ServingPki> {
  const pkiDir = join(dir, 'pki');
  const files = { caCert: join(pkiDir, 'ca.crt'), cert: join(pkiDir, 'apiserver.crt'), key: join(pkiDir, 'apiserver.key') };
  if (existsSync(files.caCert) && existsSync(files.cert) && existsSync(files.key)) {
    return { caCert: readFileSync(files.caCert, 'utf8'), cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8') };
  }
  mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
  const pki = await generate(hosts);
  writeFileSync(files.caCert, pki.caCert);
  writeFileSync(files.cert, pki.cert);
  writeFileSync(files.key, pki.key, { mode: 0o600 });
  return pki;
}
