// When the node agent replaces a projected service account token: at 80% of its lifetime, and no
// later than 24 hours after it was issued (the kubelet's rule).
import { describe, expect, it } from 'vitest';
import { tokenRefreshAt } from '../../../node-agent/service-account-token.js';

describe('tokenRefreshAt', () => {
  const issued = new Date('2026-01-01T00:00:00Z');
  it('is at 80% of a one hour token', () => {
    expect(tokenRefreshAt(issued, '2026-01-01T01:00:00Z').toISOString()).toBe('2026-01-01T00:48:00.000Z');
  });
  it('is at most 24 hours after issue for long-lived tokens', () => {
    expect(tokenRefreshAt(issued, '2026-01-11T00:00:00Z').toISOString()).toBe('2026-01-02T00:00:00.000Z');
  });
  it('is immediately for a token that is already expired', () => {
    expect(tokenRefreshAt(issued, '2025-12-31T00:00:00Z').toISOString()).toBe(issued.toISOString());
  });
});
