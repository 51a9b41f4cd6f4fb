// io.k8s.api.core.v1.ConfigMap and Secret: schema, stringData merging, and the key, size,
// type and immutability rules of pkg/apis/core/validation.
import { bool, bytes, field, list, map, ref, str, struct, type FieldError, type StructType } from '../schema/dsl.js';
import { forbidden, invalid, required, tooLong } from '../schema/errors.js';
import { ListMeta, ObjectMeta } from './meta.js';
import { CORE, typeMeta } from './core-reference.js';
import { asObj, asStr, configKeyMessages, decodedLength, FIELD_IMMUTABLE, key, MAX_SECRET_SIZE, type Obj } from './core-validation.js';

// ---- schema ------------------------------------------------------------------------------------------

export const ConfigMap: StructType = struct(
  `${CORE}.ConfigMap`,
  'Configuration data, as text or binary values, for pods to consume.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    immutable: field(bool(), 4, 'When true, data and binaryData can no longer change.'),
    data: field(map(str()), 2, 'UTF-8 values by key; keys may not also appear in binaryData.'),
    binaryData: field(map(bytes()), 3, 'Arbitrary byte values by key (base64 in JSON); keys may not also appear in data.'),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'ConfigMap' }] },
);

export const ConfigMapList: StructType = struct(
  `${CORE}.ConfigMapList`,
  'A list of ConfigMaps.',
  {
    ...typeMeta,
    metadata: field(ref(() => ListMeta), 1, 'Standard list metadata.'),
    items: field(list(ref(() => ConfigMap)), 2, 'The ConfigMaps.', { required: true }),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'ConfigMapList' }] },
);

export const Secret: StructType = struct(
  `${CORE}.Secret`,
  'Sensitive data such as passwords, tokens or keys, of a given type.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    immutable: field(bool(), 5, 'When true, data can no longer change.'),
    data: field(map(bytes()), 2, 'Secret values by key (base64 in JSON).'),
    stringData: field(map(str()), 4, 'Write-only convenience: plain-text values merged into data when written.'),
    type: field(str(), 3, 'Kind of secret, e.g. Opaque or kubernetes.io/tls; fixes which keys must be present.', { default: 'Opaque' }),
  },
  {
    gvk: [{ group: '', version: 'v1', kind: 'Secret' }],
    defaults: (secret) => {
      if (!secret.type) secret.type = 'Opaque';
    },
  },
);

export const SecretList: StructType = struct(
  `${CORE}.SecretList`,
  'A list of Secrets.',
  {
    ...typeMeta,
    metadata: field(ref(() => ListMeta), 1, 'Standard list metadata.'),
    items: field(list(ref(() => Secret)), 2, 'The Secrets.', { required: true }),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'SecretList' }] },
);

// ---- writes ---------------------------------------------------------------------------------------------

/** stringData is merged into data (base64-encoded) and never stored, as Kubernetes' conversion does. */
export function mergeStringData(secret: Obj): void {
  const stringData = asObj(secret.stringData);
  delete secret.stringData;
  if (!stringData) return;
  const data = { ...(asObj(secret.data) ?? {}) };
  for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(asStr(v), 'utf8').toString('base64');
  secret.data = data;
}

// ---- validation -----------------------------------------------------------------------------------------

const IMMUTABLE_WHEN_SET = 'field is immutable when `immutable` is set';

function validateKeys(values: Obj | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const k of Object.keys(values ?? {})) for (const m of configKeyMessages(k)) errs.push(invalid(key(path, k), k, m));
  return errs;
}

export function validateConfigMap(cm: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const data = asObj(cm.data) ?? {};
  const binaryData = asObj(cm.binaryData) ?? {};
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    for (const m of configKeyMessages(k)) errs.push(invalid(key('data', k), k, m));
    if (k in binaryData) errs.push(invalid(key('data', k), k, 'duplicate of key present in binaryData'));
    total += Buffer.byteLength(asStr(v), 'utf8');
  }
  errs.push(...validateKeys(binaryData, 'binaryData'));
  for (const v of Object.values(binaryData)) total += decodedLength(v);
  // Kubernetes reports the size of a ConfigMap against the whole object (an empty path).
  if (total > MAX_SECRET_SIZE) errs.push(tooLong('', MAX_SECRET_SIZE));
  return errs;
}

export function validateConfigMapUpdate(cm: Obj, old: Obj): FieldError[] {
  const errs: FieldError[] = [];
  if (old.immutable === true) {
    if (cm.immutable !== true) errs.push(forbidden('immutable', IMMUTABLE_WHEN_SET));
    if (!sameMap(cm.data, old.data)) errs.push(forbidden('data', IMMUTABLE_WHEN_SET));
    if (!sameMap(cm.binaryData, old.binaryData)) errs.push(forbidden('binaryData', IMMUTABLE_WHEN_SET));
  }
  return [...errs, ...validateConfigMap(cm)];
}

/** Keys each built-in secret type must carry. */
export function validateSecret(secret: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const data = asObj(secret.data) ?? {};
  errs.push(...validateKeys(data, 'data'));
  const total = Object.values(data).reduce<number>((sum, v) => sum + decodedLength(v), 0);
  if (total > MAX_SECRET_SIZE) errs.push(tooLong('data', MAX_SECRET_SIZE));

  const annotations = asObj(asObj(secret.metadata)?.annotations) ?? {};
  const has = (k: string) => k in data;
  const requireKey = (k: string) => errs.push(required(key('data', k)));
  switch (asStr(secret.type)) {
    case 'kubernetes.io/service-account-token':
      if (!asStr(annotations['kubernetes.io/service-account.name'])) {
        errs.push(required(key('metadata.annotations', 'kubernetes.io/service-account.name')));
      }
      break;
    case 'kubernetes.io/dockercfg':
      if (!has('.dockercfg')) requireKey('.dockercfg');
      else errs.push(...validateJSONObject(data['.dockercfg'], key('data', '.dockercfg')));
      break;
    case 'kubernetes.io/dockerconfigjson':
      if (!has('.dockerconfigjson')) requireKey('.dockerconfigjson');
      else errs.push(...validateJSONObject(data['.dockerconfigjson'], key('data', '.dockerconfigjson')));
      break;
    case 'kubernetes.io/basic-auth':
      if (!has('username') && !has('password')) {
        requireKey('username');
        requireKey('password');
      }
      break;
    case 'kubernetes.io/ssh-auth':
      if (decodedLength(data['ssh-privatekey']) === 0) requireKey('ssh-privatekey');
      break;
    case 'kubernetes.io/tls':
      if (!has('tls.crt')) requireKey('tls.crt');
      if (!has('tls.key')) requireKey('tls.key');
      break;
  }
  return errs;
}

export function validateSecretUpdate(secret: Obj, old: Obj): FieldError[] {
  const errs: FieldError[] = [];
  if (asStr(secret.type) !== asStr(old.type)) errs.push(invalid('type', asStr(secret.type), FIELD_IMMUTABLE));
  if (old.immutable === true) {
    if (secret.immutable !== true) errs.push(forbidden('immutable', IMMUTABLE_WHEN_SET));
    if (!sameMap(secret.data, old.data)) errs.push(forbidden('data', IMMUTABLE_WHEN_SET));
  }
  return [...errs, ...validateSecret(secret)];
}

function sameMap(a: unknown, b: unknown): boolean {
  const x = asObj(a) ?? {};
  const y = asObj(b) ?? {};
  const keys = Object.keys(x);
  return keys.length === Object.keys(y).length && keys.every((k) => k in y && x[k] === y[k]);
}

/** Docker config payloads must decode to a JSON object; the value itself is never echoed back. */
function validateJSONObject(b64: unknown, path: string): FieldError[] {
  const text = Buffer.from(asStr(b64), 'base64').toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [invalid(path, '<secret contents redacted>', goJSONSyntaxError(text))];
  }
  if (parsed === null || (typeof parsed === 'object' && !Array.isArray(parsed))) return [];
  const kind = Array.isArray(parsed) ? 'array' : typeof parsed === 'string' ? 'string' : typeof parsed === 'number' ? 'number' : 'bool';
  return [invalid(path, '<secret contents redacted>', `json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`)];
}

/** The common shapes of Go's encoding/json syntax errors. */
function goJSONSyntaxError(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return 'unexpected end of JSON input';
  const first = trimmed[0];
  if (!'{["-0123456789tfn'.includes(first)) return `invalid character '${first}' looking for beginning of value`;
  return 'unexpected end of JSON input';
}
