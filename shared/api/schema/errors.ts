// Constructors for field errors worded the way Kubernetes' apimachinery field package words them.
import type { FieldError } from './dsl.js';

/** Go-style %#v-ish rendering Kubernetes uses in "Invalid value: ..." messages. */
export function renderValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export const required = (field: string, detail = ''): FieldError => ({
  reason: 'FieldValueRequired',
  field,
  message: detail ? `Required value: ${detail}` : 'Required value',
});

export const invalid = (field: string, value: unknown, detail: string): FieldError => ({
  reason: 'FieldValueInvalid',
  field,
  message: `Invalid value: ${renderValue(value)}${detail ? `: ${detail}` : ''}`,
});

export const notSupported = (field: string, value: unknown, valid: readonly string[]): FieldError => ({
  reason: 'FieldValueNotSupported',
  field,
  message: `Unsupported value: ${renderValue(value)}${valid.length ? `: supported values: ${valid.map((v) => JSON.stringify(v)).join(', ')}` : ''}`,
});

export const duplicate = (field: string, value: unknown): FieldError => ({
  reason: 'FieldValueDuplicate',
  field,
  message: `Duplicate value: ${renderValue(value)}`,
});

export const forbidden = (field: string, detail: string): FieldError => ({
  reason: 'FieldValueForbidden',
  field,
  message: `Forbidden: ${detail}`,
});

export const tooLong = (field: string, maxLength: number): FieldError => ({
  reason: 'FieldValueTooLong',
  field,
  message: `Too long: may not be more than ${maxLength} bytes`,
});

export const tooMany = (field: string, actual: number, max: number): FieldError => ({
  reason: 'FieldValueTooMany',
  field,
  message: `Too many: ${actual}: must have at most ${max} items`,
});

/** Kubernetes prints a field error as "<field>: <message>". */
export const formatFieldError = (e: FieldError): string => (e.field ? `${e.field}: ${e.message}` : e.message);

export const notFound = (field: string, value: unknown): FieldError => ({
  reason: 'FieldValueNotFound',
  field,
  message: `Not found: ${renderValue(value)}`,
});
