import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../../../shared/api/schema/errors.js';
import { prepareObjectMetaForUpdate, validateObjectMeta, validateObjectMetaUpdate } from '../../../shared/api/validation/meta.js';

const ns = { namespaced: true, nameRule: 'dns1123Subdomain' as const, isCreate: true };
const cluster = { namespaced: false, nameRule: 'dns1123Subdomain' as const, isCreate: true };
const fmt = (errs: ReturnType<typeof validateObjectMeta>) => errs.map(formatFieldError);

describe('validateObjectMeta', () => {
  it('accepts a normal namespaced object', () => {
    expect(validateObjectMeta({ name: 'web', namespace: 'default', labels: { app: 'web' } }, ns)).toEqual([]);
  });

  it('requires name or generateName', () => {
    expect(fmt(validateObjectMeta({ namespace: 'default' }, ns))).toEqual(['metadata.name: Required value: name or generateName is required']);
    expect(validateObjectMeta({ generateName: 'web-', namespace: 'default' }, ns)).toEqual([]);
    expect(fmt(validateObjectMeta({ generateName: 'web-', namespace: 'default' }, { ...ns, isCreate: false }))).toEqual([
      'metadata.name: Required value: name or generateName is required',
    ]);
  });

  it('checks generateName as a prefix', () => {
    expect(fmt(validateObjectMeta({ generateName: 'Web-', namespace: 'default' }, ns))[0]).toMatch(
      /^metadata\.generateName: Invalid value: "Web-": a lowercase RFC 1123 subdomain/,
    );
  });

  it('applies the kind name rule', () => {
    expect(validateObjectMeta({ name: 'a.b', namespace: 'x' }, ns)).toEqual([]);
    expect(fmt(validateObjectMeta({ name: 'a.b', namespace: 'x' }, { ...ns, nameRule: 'dns1123Label' }))[0]).toMatch(
      /^metadata\.name: Invalid value: "a\.b": a lowercase RFC 1123 label/,
    );
    expect(fmt(validateObjectMeta({ name: '1a', namespace: 'x' }, { ...ns, nameRule: 'dns1035Label' }))[0]).toMatch(/a DNS-1035 label/);
    expect(fmt(validateObjectMeta({ name: 'system:node:a' }, { ...cluster, nameRule: 'pathSegment' }))).toEqual([]);
    expect(fmt(validateObjectMeta({ name: '..' }, { ...cluster, nameRule: 'pathSegment' }))).toEqual([
      `metadata.name: Invalid value: "..": may not be '..'`,
    ]);
  });

  it('enforces namespace scope', () => {
    expect(fmt(validateObjectMeta({ name: 'a' }, ns))).toEqual(['metadata.namespace: Required value']);
    expect(fmt(validateObjectMeta({ name: 'a', namespace: 'default' }, cluster))).toEqual(['metadata.namespace: Forbidden: not allowed on this type']);
    expect(fmt(validateObjectMeta({ name: 'a', namespace: 'Bad.NS' }, ns))[0]).toMatch(/^metadata\.namespace: Invalid value: "Bad\.NS": a lowercase RFC 1123 label/);
  });

  it('checks labels and annotation keys', () => {
    const errs = fmt(validateObjectMeta({ name: 'a', namespace: 'd', labels: { 'a b': 'x' }, annotations: { 'Example.COM/Key': 'fine', '-bad': 'v' } }, ns));
    expect(errs).toHaveLength(2);
    expect(errs[0]).toMatch(/^metadata\.labels: Invalid value: "a b": name part must consist/);
    expect(errs[1]).toMatch(/^metadata\.annotations: Invalid value: "-bad": name part must consist/);
  });

  it('limits total annotation size to 256 KiB', () => {
    const big = 'x'.repeat(262144);
    expect(fmt(validateObjectMeta({ name: 'a', namespace: 'd', annotations: { k: big } }, ns))).toEqual([
      'metadata.annotations: Too long: must have at most 262144 bytes',
    ]);
    expect(validateObjectMeta({ name: 'a', namespace: 'd', annotations: { k: big.slice(1) } }, ns)).toEqual([]);
  });

  it('validates owner references', () => {
    const errs = fmt(validateObjectMeta({ name: 'a', namespace: 'd', ownerReferences: [{ apiVersion: '', kind: '', name: '', uid: '' }] }, ns));
    expect(errs).toEqual([
      'metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty',
      'metadata.ownerReferences.kind: Invalid value: "": kind must not be empty',
      'metadata.ownerReferences.name: Invalid value: "": name must not be empty',
      'metadata.ownerReferences.uid: Invalid value: "": uid must not be empty',
    ]);
    const two = [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'a', uid: '1', controller: true },
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'b', uid: '2', controller: true },
    ];
    const e2 = fmt(validateObjectMeta({ name: 'a', namespace: 'd', ownerReferences: two }, ns));
    expect(e2).toHaveLength(1);
    expect(e2[0]).toMatch(/^metadata\.ownerReferences: Invalid value: .*: Only one reference can have Controller set to true\. Found "true" in references for ReplicaSet\/a and ReplicaSet\/b$/);
    const ev = fmt(validateObjectMeta({ name: 'a', namespace: 'd', ownerReferences: [{ apiVersion: 'v1', kind: 'Event', name: 'e', uid: '1' }] }, ns));
    expect(ev[0]).toMatch(/\/v1, Kind=Event is disallowed from being an owner$/);
  });

  it('validates finalizers', () => {
    expect(validateObjectMeta({ name: 'a', namespace: 'd', finalizers: ['kubernetes.io/pvc-protection', 'foregroundDeletion'] }, ns)).toEqual([]);
    expect(fmt(validateObjectMeta({ name: 'a', namespace: 'd', finalizers: ['a/b/c'] }, ns))[0]).toMatch(/^metadata\.finalizers: Invalid value: "a\/b\/c": a qualified name/);
    expect(fmt(validateObjectMeta({ name: 'a', namespace: 'd', finalizers: ['orphan', 'foregroundDeletion'] }, ns))).toEqual([
      'metadata.finalizers: Invalid value: []string{"orphan", "foregroundDeletion"}: finalizer orphan and foregroundDeletion cannot be both set',
    ]);
  });

  it('rejects a negative generation and bad managedFields operations', () => {
    expect(fmt(validateObjectMeta({ name: 'a', namespace: 'd', generation: -1 }, ns))).toEqual([
      'metadata.generation: Invalid value: -1: must be greater than or equal to 0',
    ]);
    expect(fmt(validateObjectMeta({ name: 'a', namespace: 'd', managedFields: [{ manager: 'm', operation: 'Patch' }] }, ns))).toEqual([
      'metadata.managedFields[0].operation: Invalid value: "Patch": must be `Apply` or `Update`',
    ]);
  });
});

describe('validateObjectMetaUpdate', () => {
  const old = { name: 'x', namespace: 'd', uid: 'u1', creationTimestamp: '2024-01-01T00:00:00Z', resourceVersion: '5' };

  it('accepts unchanged identity', () => {
    expect(validateObjectMetaUpdate({ ...old, labels: { a: 'b' } }, old)).toEqual([]);
  });

  it('reports immutable identity fields', () => {
    expect(fmt(validateObjectMetaUpdate({ ...old, name: 'y' }, old))).toEqual(['metadata.name: Invalid value: "y": field is immutable']);
    expect(fmt(validateObjectMetaUpdate({ ...old, uid: 'u2' }, old))).toEqual(['metadata.uid: Invalid value: "u2": field is immutable']);
    expect(fmt(validateObjectMetaUpdate({ ...old, namespace: 'other' }, old))).toEqual(['metadata.namespace: Invalid value: "other": field is immutable']);
    expect(fmt(validateObjectMetaUpdate({ ...old, creationTimestamp: '2025-01-01T00:00:00Z' }, old))).toEqual([
      'metadata.creationTimestamp: Invalid value: "2025-01-01T00:00:00Z": field is immutable',
    ]);
  });

  it('forbids new finalizers while deleting', () => {
    const deleting = { ...old, deletionTimestamp: '2024-02-01T00:00:00Z', finalizers: ['a/x'] };
    expect(fmt(validateObjectMetaUpdate({ ...deleting, finalizers: ['a/x', 'b/y'] }, deleting))).toEqual([
      'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"b/y"}',
    ]);
    expect(validateObjectMetaUpdate({ ...deleting, finalizers: [] }, deleting)).toEqual([]);
  });

  it('prepareObjectMetaForUpdate carries server-owned fields over', () => {
    const meta: Record<string, unknown> = { name: 'x', namespace: 'd', generation: 99 };
    prepareObjectMetaForUpdate(meta, { ...old, generation: 3 });
    expect(meta).toMatchObject({ uid: 'u1', generation: 3, creationTimestamp: '2024-01-01T00:00:00Z' });
    expect(validateObjectMetaUpdate(meta, old)).toEqual([]);
  });
});
