import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  isDNS1123Label,
  isDNS1123Subdomain,
  validateDNS1035Label,
  validateDNS1123Label,
  validateDNS1123Subdomain,
  validateLabels,
  validateLabelValue,
  validatePathSegmentName,
  validateQualifiedName,
} from '../../../shared/api/validation/names.js';
import { formatFieldError } from '../../../shared/api/schema/errors.js';

const golden = (name: string) =>
  JSON.parse(readFileSync(`/work/shared/reference/k8s-1.26-golden/${name}.json`, 'utf8')) as {
    details: { causes: { reason: string; message: string; field: string }[] };
  };

const QNAME_RULE =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

describe('DNS names', () => {
  it('matches the cause a real kube-apiserver returned for an invalid pod name', () => {
    const cause = golden('status-422-invalid-pod-name').details.causes[0];
    expect(validateDNS1123Subdomain('Invalid_Name', 'metadata.name')).toEqual([cause]);
  });

  it('matches the configmap golden too', () => {
    const cause = golden('status-422-invalid-cm-name').details.causes[0];
    expect(validateDNS1123Subdomain('Invalid_Name', 'metadata.name')).toEqual([cause]);
  });

  it('accepts valid names', () => {
    expect(validateDNS1123Subdomain('web-1.example.com', 'metadata.name')).toEqual([]);
    expect(validateDNS1123Label('web-1', 'metadata.name')).toEqual([]);
    expect(validateDNS1035Label('web-1', 'metadata.name')).toEqual([]);
    expect(isDNS1123Label('a')).toBe(true);
    expect(isDNS1123Subdomain('a.b')).toBe(true);
  });

  it('words RFC 1123 label errors like apimachinery', () => {
    expect(validateDNS1123Label('a.b', 'metadata.name').map(formatFieldError)).toEqual([
      `metadata.name: Invalid value: "a.b": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
    ]);
    expect(isDNS1123Label('a.b')).toBe(false);
  });

  it('reports length before format and both when both fail', () => {
    const long = 'a'.repeat(64);
    expect(validateDNS1123Label(long, 'x').map((e) => e.message)).toEqual([`Invalid value: "${long}": must be no more than 63 characters`]);
    const longBad = 'A'.repeat(254);
    const msgs = validateDNS1123Subdomain(longBad, 'x').map((e) => e.message);
    expect(msgs).toHaveLength(2);
    expect(msgs[0]).toBe(`Invalid value: "${longBad}": must be no more than 253 characters`);
    expect(isDNS1123Subdomain('a'.repeat(254))).toBe(false);
  });

  it('words DNS-1035 errors', () => {
    expect(validateDNS1035Label('1abc', 'metadata.name')[0].message).toBe(
      `Invalid value: "1abc": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
    );
  });
});

describe('qualified names and label values', () => {
  it('accepts prefixed and plain keys', () => {
    expect(validateQualifiedName('app.kubernetes.io/name', 'k')).toEqual([]);
    expect(validateQualifiedName('My_Key.1', 'k')).toEqual([]);
  });

  it('reports name-part problems', () => {
    expect(validateQualifiedName('-bad', 'metadata.labels')[0].message).toBe(`Invalid value: "-bad": name part ${QNAME_RULE}`);
    expect(validateQualifiedName('example.com/', 'k').map((e) => e.message)).toEqual([
      'Invalid value: "example.com/": name part must be non-empty',
      `Invalid value: "example.com/": name part ${QNAME_RULE}`,
    ]);
    expect(validateQualifiedName('x'.repeat(64), 'k')[0].message).toContain('name part must be no more than 63 characters');
  });

  it('reports prefix problems', () => {
    expect(validateQualifiedName('/a', 'k')[0].message).toBe('Invalid value: "/a": prefix part must be non-empty');
    expect(validateQualifiedName('Bad_Prefix/a', 'k')[0].message).toMatch(/^Invalid value: "Bad_Prefix\/a": prefix part a lowercase RFC 1123 subdomain must/);
  });

  it('rejects more than one slash', () => {
    expect(validateQualifiedName('a/b/c', 'k')[0].message).toBe(
      `Invalid value: "a/b/c": a qualified name ${QNAME_RULE} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    );
  });

  it('checks label values', () => {
    expect(validateLabelValue('', 'v')).toEqual([]);
    expect(validateLabelValue('a_b.c-d', 'v')).toEqual([]);
    expect(validateLabelValue('bad value', 'v')[0].message).toBe(
      `Invalid value: "bad value": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
    );
  });

  it('reports labels at the map path', () => {
    const errs = validateLabels({ ok: 'fine', 'bad key': 'v', k: '-x' }, 'metadata.labels');
    expect(errs.map((e) => e.field)).toEqual(['metadata.labels', 'metadata.labels']);
    expect(errs[0].message).toMatch(/^Invalid value: "bad key": name part/);
    expect(errs[1].message).toMatch(/^Invalid value: "-x": a valid label/);
  });
});

describe('path segment names', () => {
  it('rejects dot names and slashes/percents', () => {
    expect(validatePathSegmentName('..', 'metadata.name')[0].message).toBe(`Invalid value: "..": may not be '..'`);
    expect(validatePathSegmentName('a/b%c', 'metadata.name').map((e) => e.message)).toEqual([
      `Invalid value: "a/b%c": may not contain '/'`,
      `Invalid value: "a/b%c": may not contain '%'`,
    ]);
    expect(validatePathSegmentName('system:admin', 'metadata.name')).toEqual([]);
  });
});
