// The cluster's service account signing key: one EC P-256 key pair (ES256), created on first use
// and kept in the Secret kube-system/stratus-service-account-key, so every API server instance on
// the same store (local processes, Lambda invocations) signs and verifies with the same key.
// kube-apiserver reads its key from files (--service-account-key-file); stratus has no shared
// filesystem between instances, the store is the only shared state.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { KubeObject } from '../api/kind.js';
import type { Registry } from '../api/registry.js';
import { ApiError } from './errors.js';
import type { RestStorage, WriteOptions } from './rest.js';

export const SIGNING_KEY_NAMESPACE = 'kube-system';
export const SIGNING_KEY_SECRET_NAME = 'stratus-service-account-key';
export const SIGNING_KEY_SECRET_TYPE = 'stratus.dev/service-account-key';

const WRITE: WriteOptions = { dryRun: false, fieldManager: 'stratus-service-account-keys', userAgentManager: 'stratus', fieldValidation: 'Strict' };
/** A key id we do not know triggers at most one reload from the store per this interval. */
const RELOAD_INTERVAL_MS = 5_000;

export interface SigningKey {
  /** The JWS "kid": base64url SHA-256 of the DER public key, as kube-apiserver derives it. */
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** The key id kube-apiserver derives from a public key. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
}

function fromPem(privatePem: string): SigningKey {
  const privateKey = createPrivateKey(privatePem);
  const publicKey = createPublicKey(privateKey);
  return { kid: keyIdOf(publicKey), privateKey, publicKey };
}

function newKeySecret(): { secret: KubeObject; key: SigningKey } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const key = fromPem(pem);
  const publicPem = key.publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: SIGNING_KEY_SECRET_NAME, namespace: SIGNING_KEY_NAMESPACE, annotations: { 'stratus.dev/key-id': key.kid } },
    type: SIGNING_KEY_SECRET_TYPE,
    data: { 'key.pem': Buffer.from(pem).toString('base64'), 'pub.pem': Buffer.from(publicPem).toString('base64') },
  } as KubeObject;
  return { secret, key };
}

function keyFromSecret(secret: KubeObject): SigningKey {
  const pem = (secret.data as Record<string, string> | undefined)?.['key.pem'];
  if ((secret as { type?: string }).type !== SIGNING_KEY_SECRET_TYPE || !pem) throw new Error(`Secret ${SIGNING_KEY_NAMESPACE}/${SIGNING_KEY_SECRET_NAME} holds no signing key`);
  return fromPem(Buffer.from(pem, 'base64').toString('utf8'));
}

/** Loads (or creates) the signing key once and keeps it; `reload` re-reads it when a token names a key id we do not hold. */
export class ServiceAccountKeys {
  private current?: Promise<SigningKey>;
  private lastReload = 0;

  constructor(
    private readonly rest: RestStorage,
    private readonly registry: Registry,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The key to sign with. */
  signingKey(): Promise<SigningKey> {
    this.current ??= this.loadOrCreate().catch((e: unknown) => {
      this.current = undefined;
      throw e;
    });
    return this.current;
  }

  /** The key whose id is `kid`, reloading from the store (rate-limited) if it is not the one held. */
  async verificationKey(kid: string | undefined): Promise<SigningKey | undefined> {
    const key = await this.signingKey();
    if (kid === undefined || key.kid === kid) return key;
    const now = this.clock();
    if (now - this.lastReload < RELOAD_INTERVAL_MS) return undefined;
    this.lastReload = now;
    this.current = undefined;
    const fresh = await this.signingKey();
    return fresh.kid === kid ? fresh : undefined;
  }

  private async loadOrCreate(): Promise<SigningKey> {
    const def = this.registry.resource('', 'v1', 'secrets')!;
    const scope = { def, namespace: SIGNING_KEY_NAMESPACE };
    for (let attempt = 0; ; attempt++) {
      try {
        return keyFromSecret(await this.rest.get({ ...scope, name: SIGNING_KEY_SECRET_NAME }));
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
      const { secret, key } = newKeySecret();
      try {
        await this.rest.create(scope, secret, undefined, WRITE);
        return key;
      } catch (e) {
        // Another instance created it first: use theirs.
        if (!(e instanceof ApiError && e.code === 409) || attempt > 3) throw e;
      }
    }
  }
}

const perStorage = new WeakMap<RestStorage, ServiceAccountKeys>();

/** The one key holder of an API server (its RestStorage). */
export function serviceAccountKeys(rest: RestStorage, registry: Registry): ServiceAccountKeys {
  let keys = perStorage.get(rest);
  if (!keys) perStorage.set(rest, (keys = new ServiceAccountKeys(rest, registry)));
  return keys;
}
