// @kubernetes/client-node informers (list+watch) and the Debian python3-kubernetes client.
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { BACKENDS, removeDir, startServer, type RunningServer } from './harness.js';

describe.each(BACKENDS)('%s backend', (backend) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ backend });
  });
  afterAll(async () => {
    await server?.stop();
    if (server) removeDir(server.dataDir);
  });

  const until = async (cond: () => boolean, ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  describe('@kubernetes/client-node', () => {
    it('typed CRUD and an informer that sees add, update and delete', async () => {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(server.kubeconfig);
      const core = kc.makeApiClient(k8s.CoreV1Api);
      await core.createNamespace({ body: { metadata: { name: 'informer' } } });
      const seen: string[] = [];
      const informer = k8s.makeInformer(kc, '/api/v1/namespaces/informer/configmaps', () => core.listNamespacedConfigMap({ namespace: 'informer' }));
      // Like Kubernetes, the cluster publishes kube-root-ca.crt into every namespace: not ours to count.
      const ours = (o: k8s.V1ConfigMap) => o.metadata?.name !== 'kube-root-ca.crt';
      informer.on('add', (o) => ours(o) && seen.push(`add:${o.metadata?.name}`));
      informer.on('update', (o) => seen.push(`update:${o.metadata?.name}:${o.data?.v}`));
      informer.on('delete', (o) => seen.push(`delete:${o.metadata?.name}`));
      await core.createNamespacedConfigMap({ namespace: 'informer', body: { metadata: { name: 'before' }, data: { v: '0' } } });
      await informer.start();
      await until(() => seen.includes('add:before'));
      await core.createNamespacedConfigMap({ namespace: 'informer', body: { metadata: { name: 'c1' }, data: { v: '1' } } });
      await core.patchNamespacedConfigMap({ namespace: 'informer', name: 'c1', body: { data: { v: '2' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await core.deleteNamespacedConfigMap({ namespace: 'informer', name: 'c1' });
      await until(() => seen.includes('delete:c1'));
      await informer.stop();
      expect(seen).toEqual(['add:before', 'add:c1', 'update:c1:2', 'delete:c1']);
      const list = await core.listNamespacedConfigMap({ namespace: 'informer' });
      expect(list.items.filter(ours).map((i) => i.metadata?.name)).toEqual(['before']);
    });
  });

  describe('python3-kubernetes', () => {
    it('lists namespaces and creates a config map', async () => {
      const script = `
import sys
from kubernetes import client, config
config.load_kube_config(config_file=sys.argv[1])
v1 = client.CoreV1Api()
names = [n.metadata.name for n in v1.list_namespace().items]
assert "default" in names, names
cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="from-python"), data={"lang": "python"})
v1.create_namespaced_config_map("default", cm)
print(v1.read_namespaced_config_map("from-python", "default").data["lang"])
`;
      const out = await new Promise<{ code: number; stdout: string; stderr: string }>((res) =>
        execFile('/usr/bin/python3', ['-c', script, server.kubeconfig], { env: { PATH: process.env.PATH ?? '', HOME: server.dataDir } }, (err, stdout, stderr) =>
          res({ code: err ? 1 : 0, stdout, stderr }),
        ),
      );
      if (out.stderr.includes("No module named 'kubernetes'")) throw new Error('python3-kubernetes is not installed: apt-get install -y python3-kubernetes');
      expect(out.stderr).toBe('');
      expect(out.stdout.trim()).toBe('python');
    });
  });
});
