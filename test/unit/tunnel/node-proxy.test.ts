// The pieces of node streaming that are pure functions: metrics-server's quantity formatting,
// kube-apiserver's container choice and wording, and PodLogOptions checks.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../shared/api/kind.js';
import { ApiError } from '../../../shared/apiserver/errors.js';
import { formatCpu, formatMemory } from '../../../functions/apiserver/metrics-api.js';
import { boundNode, resolveContainer } from '../../../functions/apiserver/node-proxy.js';
import { kubeletLogQuery } from '../../../functions/apiserver/node-proxy-logs.js';
import { tunnelUrl } from '../../../shared/tunnel/endpoint.js';

const statusOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e.status;
    throw e;
  }
  throw new Error('expected an ApiError');
};

const pod = (spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' }, spec }) as unknown as KubeObject;

describe('metrics quantities', () => {
  it('formats CPU nanocores canonically', () => {
    expect(formatCpu(0)).toBe('0');
    expect(formatCpu(123456)).toBe('123456n');
    expect(formatCpu(123000)).toBe('123u');
    expect(formatCpu(123457)).toBe('123457n');
    expect(formatCpu(1_234_000)).toBe('1234u');
    expect(formatCpu(250_000_000)).toBe('250m');
    expect(formatCpu(2_000_000_000)).toBe('2');
  });

  it('formats memory bytes in binary suffixes only when exact', () => {
    expect(formatMemory(0)).toBe('0');
    expect(formatMemory(1000)).toBe('1000');
    expect(formatMemory(4567 * 1024)).toBe('4567Ki');
    expect(formatMemory(512 * 1024 * 1024)).toBe('512Mi');
    expect(formatMemory(3 * 1024 ** 3)).toBe('3Gi');
  });
});

describe('container and node choice', () => {
  it('defaults to the only container and checks named ones across init and ephemeral containers', () => {
    expect(resolveContainer(pod({ containers: [{ name: 'app' }] }), undefined)).toBe('app');
    expect(resolveContainer(pod({ containers: [{ name: 'app' }], initContainers: [{ name: 'init' }] }), 'init')).toBe('init');
    expect(statusOf(() => resolveContainer(pod({ containers: [{ name: 'app' }] }), 'x'))).toMatchObject({ code: 400, message: 'container x is not valid for pod p' });
  });

  it('lists every container when a name is needed', () => {
    const s = statusOf(() => resolveContainer(pod({ initContainers: [{ name: 'i' }], containers: [{ name: 'a' }, { name: 'b' }] }), undefined));
    expect(s).toMatchObject({ code: 400, reason: 'BadRequest', message: 'a container name must be specified for pod p, choose one of: [i a b]' });
  });

  it('refuses a pod without a node', () => {
    expect(statusOf(() => boundNode(pod({ containers: [] })))).toMatchObject({ code: 400, message: 'pod p does not have a host assigned' });
    expect(boundNode(pod({ nodeName: 'n1' }))).toBe('n1');
  });
});

describe('log options', () => {
  it('forwards only the options the kubelet takes, normalised', () => {
    const q = kubeletLogQuery('p', new URLSearchParams('container=c&follow=1&timestamps=true&tailLines=10&limitBytes=5&sinceTime=2026-01-01T00:00:00.000Z&pretty=true'));
    expect(q.toString()).toBe('follow=true&timestamps=true&sinceTime=2026-01-01T00%3A00%3A00Z&tailLines=10&limitBytes=5');
  });

  it('rejects what kube-apiserver rejects', () => {
    expect(statusOf(() => kubeletLogQuery('p', new URLSearchParams('sinceSeconds=0&limitBytes=0')))).toMatchObject({
      code: 422,
      message: 'PodLogOptions "p" is invalid: [sinceSeconds: Invalid value: 0: must be greater than 0, limitBytes: Invalid value: 0: must be greater than 0]',
    });
    expect(statusOf(() => kubeletLogQuery('p', new URLSearchParams('sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z'))).message).toContain('at most one of `sinceTime` or `sinceSeconds` may be specified');
    expect(statusOf(() => kubeletLogQuery('p', new URLSearchParams('tailLines=abc'))).code).toBe(400);
  });
});

describe('tunnel URL', () => {
  it('turns the API server address into the wss URL of the node tunnel', () => {
    expect(tunnelUrl('https://10.0.0.1:6443', 'node-a')).toBe('wss://10.0.0.1:6443/stratus/v1/nodetunnels/node-a');
    expect(tunnelUrl('10.0.0.1:6443', 'node-a')).toBe('wss://10.0.0.1:6443/stratus/v1/nodetunnels/node-a');
  });
});
