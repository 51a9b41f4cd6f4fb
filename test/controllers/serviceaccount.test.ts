// Every namespace gets a `default` ServiceAccount and the kube-root-ca.crt ConfigMap, both put
// back when deleted (and the ConfigMap when edited); terminating namespaces get nothing new.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootCaPublisher } from '../../shared/controllers/namespaces/root-ca-publisher.js';
import { serviceAccountController } from '../../shared/controllers/namespaces/serviceaccount.js';
import { startHarness, type Harness } from './harness.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAjMSEwHwYDVQQDDBhrM3Mtc2Vy\n-----END CERTIFICATE-----\n';
const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

let h: Harness;
beforeAll(async () => {
  h = await startHarness([serviceAccountController, rootCaPublisher(CA)]);
});
afterAll(async () => {
  await h?.close();
});

const defaultSA = (ns: string) => h.reader.get('core/serviceaccounts', ns, 'default');
const rootCA = (ns: string) => h.reader.get('core/configmaps', ns, 'kube-root-ca.crt');

async function eventually<T>(check: () => Promise<T | undefined | false>, what: string): Promise<T> {
  return h.waitFor(async () => {
    await h.settle();
    return check();
  }, 10_000, what);
}

describe('default ServiceAccount', () => {
  it('exists in the system namespaces and in new ones, and comes back after deletion', async () => {
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) await eventually(() => defaultSA(ns), `default SA in ${ns}`);
    await h.client.create('core/namespaces', { metadata: { name: 'team-a' } });
    const sa = await eventually(() => defaultSA('team-a'), 'default SA in team-a');
    expect(sa.metadata).toMatchObject({ name: 'default', namespace: 'team-a' });

    await h.client.delete('core/serviceaccounts', 'team-a', 'default');
    const again = await eventually(async () => {
      const s = await defaultSA('team-a');
      return s && s.metadata.uid !== sa.metadata.uid && s;
    }, 'recreated default SA');
    expect(again.metadata.name).toBe('default');
    // Other ServiceAccounts are not touched.
    await h.client.create('core/serviceaccounts', { metadata: { name: 'builder', namespace: 'team-a' } });
    await h.settle();
    expect((await h.reader.list('core/serviceaccounts', { namespace: 'team-a' })).map((s) => s.metadata.name).sort()).toEqual(['builder', 'default']);
  });

  it('creates nothing in a terminating namespace', async () => {
    // A namespace finalizer keeps the namespace Terminating after its content is gone.
    await h.client.create('core/namespaces', { metadata: { name: 'leaving', finalizers: ['example.com/hold'] } });
    await eventually(async () => (await defaultSA('leaving')) && (await rootCA('leaving')), 'content of leaving');
    await h.client.delete('core/namespaces', undefined, 'leaving');
    await eventually(async () => !(await defaultSA('leaving')) && !(await rootCA('leaving')), 'content removed');
    await new Promise((r) => setTimeout(r, 100));
    await h.settle();
    expect((await h.reader.get('core/namespaces', undefined, 'leaving'))?.status).toMatchObject({ phase: 'Terminating' });
    expect(await defaultSA('leaving')).toBeUndefined();
    expect(await rootCA('leaving')).toBeUndefined();
  });
});

describe('kube-root-ca.crt', () => {
  it('is published in every namespace with the CA and its description', async () => {
    await h.client.create('core/namespaces', { metadata: { name: 'team-b' } });
    for (const ns of ['default', 'kube-system', 'team-b']) {
      const cm = await eventually(() => rootCA(ns), `kube-root-ca.crt in ${ns}`);
      expect(cm.data).toEqual({ 'ca.crt': CA });
      expect(cm.metadata.annotations).toEqual({ 'kubernetes.io/description': DESCRIPTION });
    }
  });

  it('is restored after an edit and after deletion', async () => {
    await h.client.create('core/namespaces', { metadata: { name: 'team-c' } });
    await eventually(() => rootCA('team-c'), 'published');

    await h.client.patch('core/configmaps', 'team-c', 'kube-root-ca.crt', 'merge', { data: { 'ca.crt': 'tampered', extra: 'x' }, metadata: { labels: { mine: 'yes' } } });
    const restored = await eventually(async () => {
      const cm = await rootCA('team-c');
      return (cm?.data as Record<string, string> | undefined)?.['ca.crt'] === CA ? cm : undefined;
    }, 'data restored');
    expect(restored.data).toEqual({ 'ca.crt': CA });
    // Labels someone added are kept: only the data and the description are the publisher's.
    expect(restored.metadata.labels).toEqual({ mine: 'yes' });

    await h.client.patch('core/configmaps', 'team-c', 'kube-root-ca.crt', 'merge', { metadata: { annotations: { 'kubernetes.io/description': null } } });
    await eventually(async () => (await rootCA('team-c'))?.metadata.annotations?.['kubernetes.io/description'] === DESCRIPTION, 'description restored');

    const before = await rootCA('team-c');
    await h.client.delete('core/configmaps', 'team-c', 'kube-root-ca.crt');
    const recreated = await eventually(async () => {
      const cm = await rootCA('team-c');
      return cm && cm.metadata.uid !== before?.metadata.uid && cm;
    }, 'recreated');
    expect(recreated.data).toEqual({ 'ca.crt': CA });
  });
});
