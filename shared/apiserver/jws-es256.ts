// Compact JWS with ES256 (ECDSA P-256 over SHA-256, signatures as raw r||s), the form
// kube-apiserver's service account tokens take: base64url(header).base64url(payload).base64url(sig).
import { sign, verify, type KeyObject } from 'node:crypto';

export interface JwsHeader {
  alg: string;
  kid?: string;
  typ?: string;
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Sign `payload` (a JSON object) with `key`, naming it `kid` in the header. */
export function signEs256(payload: Record<string, unknown>, key: KeyObject, kid: string): string {
  const signingInput = `${encode({ alg: 'ES256', kid })}.${encode(payload)}`;
  const signature = sign('sha256', Buffer.from(signingInput, 'ascii'), { key, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${signature.toString('base64url')}`;
}

export interface ParsedJws {
  header: JwsHeader;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

/** The parts of a compact JWS, or undefined when `token` is not one (no signature is checked). */
export function parseJws(token: string): ParsedJws | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => p.length > 0 && BASE64URL.test(p))) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as JwsHeader;
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<string, unknown>;
    if (!header || typeof header !== 'object' || !payload || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
    return { header, payload, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
  } catch {
    return undefined;
  }
}

/** Whether `jws` is an ES256 signature by `key`. */
export function verifyEs256(jws: ParsedJws, key: KeyObject): boolean {
  if (jws.header.alg !== 'ES256' || jws.signature.length !== 64) return false;
  return verify('sha256', Buffer.from(jws.signingInput, 'ascii'), { key, dsaEncoding: 'ieee-p1363' }, jws.signature);
}
