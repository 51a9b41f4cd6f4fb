import { describe, expect, it } from 'vitest';
import {
  SelectorError,
  fieldSelectorToString,
  matchesFields,
  parseFieldSelector,
  requiredFieldValue,
  unsupportedFieldMessage,
  unsupportedFields,
} from '../../../shared/api/selectors/fields.js';

const fields: Record<string, string> = { 'metadata.name': 'web', 'metadata.namespace': 'default', 'status.phase': 'Running' };
const get = (f: string) => fields[f];

describe('parseFieldSelector', () => {
  it('parses =, == and != and sorts terms', () => {
    const sel = parseFieldSelector('status.phase!=Pending,metadata.name==web,metadata.namespace=default');
    expect(sel.requirements).toEqual([
      { field: 'metadata.name', operator: '=', value: 'web' },
      { field: 'metadata.namespace', operator: '=', value: 'default' },
      { field: 'status.phase', operator: '!=', value: 'Pending' },
    ]);
    expect(matchesFields(sel, get)).toBe(true);
    expect(requiredFieldValue(sel, 'metadata.name')).toBe('web');
  });

  it('unescapes values and re-escapes them when printed', () => {
    const sel = parseFieldSelector('metadata.name=a\\,b\\=c\\\\d');
    expect(sel.requirements[0].value).toBe('a,b=c\\d');
    expect(fieldSelectorToString(sel)).toBe('metadata.name=a\\,b\\=c\\\\d');
  });

  it('treats missing fields as empty strings', () => {
    expect(matchesFields(parseFieldSelector('spec.nodeName='), get)).toBe(true);
    expect(matchesFields(parseFieldSelector('spec.nodeName!='), get)).toBe(false);
    expect(matchesFields(parseFieldSelector(''), get)).toBe(true);
  });

  it('reports errors with Kubernetes messages', () => {
    const err = (s: string) => {
      try {
        parseFieldSelector(s);
      } catch (e) {
        expect(e).toBeInstanceOf(SelectorError);
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err('metadata.name')).toBe("invalid selector: 'metadata.name'; can't understand 'metadata.name'");
    expect(err('a=b=c')).toBe('invalid field selector: unescaped character in value: 61');
    expect(err('a=b\\x')).toBe('invalid field selector: invalid escape sequence: \\x');
    expect(err('a=b\\')).toBe('invalid field selector: invalid escape sequence: \\');
  });
});

describe('unsupported fields', () => {
  it('lists fields the kind cannot select on', () => {
    const sel = parseFieldSelector('spec.foo=1,metadata.name=x');
    expect(unsupportedFields(sel, ['metadata.name', 'metadata.namespace'])).toEqual(['spec.foo']);
    expect(unsupportedFieldMessage('spec.foo', false)).toBe('"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"');
    expect(unsupportedFieldMessage('spec.foo', true)).toBe('field label not supported: spec.foo');
  });
});
