import { describe, expect, it } from 'vitest';
import { canonicalQuantity, parseQuantity, quantityError, validateQuantity } from '../../../shared/api/validation/quantity.js';

const FORMAT = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

describe('parseQuantity', () => {
  it('parses the three formats', () => {
    expect(parseQuantity('500m')).toMatchObject({ value: 0.5, format: 'DecimalSI' });
    expect(parseQuantity('1Gi')).toMatchObject({ value: 2 ** 30, format: 'BinarySI' });
    expect(parseQuantity('1e3')).toMatchObject({ value: 1000, format: 'DecimalExponent' });
    expect(parseQuantity(0.25)).toMatchObject({ value: 0.25, format: 'DecimalSI' });
    expect(parseQuantity(' 2 ')).toMatchObject({ value: 2 });
  });

  it('rejects malformed strings with Kubernetes messages', () => {
    for (const bad of ['', 'abc', '1.2.3', '1 Gi']) {
      expect(parseQuantity(bad)).toBeUndefined();
      expect(quantityError(bad)).toBe(FORMAT);
    }
    expect(quantityError('1i')).toBe("unable to parse quantity's suffix");
    expect(quantityError('1Ki2')).toBe("unable to parse quantity's suffix");
    expect(quantityError(true)).toBe(FORMAT);
  });

  it('rounds below a nano up and caps binary values at int64', () => {
    expect(canonicalQuantity('0.9n')).toBe('1n');
    expect(canonicalQuantity('1e-20')).toBe('1e-9');
    expect(canonicalQuantity('8Ei')).toBe('9223372036854775807');
  });
});

describe('canonicalQuantity', () => {
  const cases: [string | number, string][] = [
    ['0.5', '500m'],
    ['1000m', '1'],
    ['1024Mi', '1Gi'],
    ['1e3', '1e3'],
    ['1.5', '1500m'],
    ['1.5Gi', '1536Mi'],
    ['1000', '1k'],
    ['100m', '100m'],
    ['0', '0'],
    ['-0', '0'],
    ['.5', '500m'],
    ['5e-1', '500e-3'],
    ['0.1Ki', '102400m'],
    ['0.5Ki', '512'],
    ['1Ki', '1Ki'],
    ['2048Ki', '2Mi'],
    ['12e6', '12e6'],
    ['1000E', '1e21'],
    [0.5, '500m'],
    [2, '2'],
    [1024, '1024'],
  ];
  for (const [input, want] of cases) {
    it(`${JSON.stringify(input)} -> ${want}`, () => {
      expect(canonicalQuantity(input)).toBe(want);
      expect(canonicalQuantity(parseQuantity(input)!)).toBe(want);
    });
  }

  it('keeps a string Kubernetes already considers canonical, quirks included', () => {
    expect(canonicalQuantity('+1')).toBe('+1');
    expect(canonicalQuantity('1E3')).toBe('1E3');
  });
});

describe('validateQuantity', () => {
  it('returns the bare decode message at the field path', () => {
    expect(validateQuantity('lots', 'spec.containers[0].resources.limits[cpu]')).toEqual([
      { reason: 'FieldValueInvalid', field: 'spec.containers[0].resources.limits[cpu]', message: FORMAT },
    ]);
    expect(validateQuantity('100m', 'x')).toEqual([]);
    expect(validateQuantity(3, 'x')).toEqual([]);
    expect(validateQuantity(null, 'x')).toEqual([]);
  });
});
