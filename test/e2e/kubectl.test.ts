// Real kubectl 1.27 and 1.33 against a started stratus: the everyday commands on built-in kinds.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, kubectl, kubectlPath, removeDir, startServer, type RunningServer } from './harness.js';

describe.each(BACKENDS)('%s backend', (backend) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ backend });
  });
  afterAll(async () => {
    await server?.stop();
    if (server) removeDir(server.dataDir);
  });

  const deployment = (ns: string, replicas: number, image: string) => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: ${image}
        ports: [{containerPort: 80}]
        env: [{name: MODE, value: prod}]
`;

  describe.each(['1.27', '1.33'])('kubectl %s', (version) => {
    const ns = `e2e-${version.replace('.', '-')}`;
    let work: string;
    const k = (args: string[], input?: string) => kubectl(server, version, args, { input, cacheDir: work });
    const ok = async (args: string[], input?: string) => {
      const r = await k(args, input);
      expect(r.stderr + r.stdout, `kubectl ${args.join(' ')} exit ${r.code}`).toBeDefined();
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
      return r.stdout;
    };
    const file = (name: string, text: string) => {
      const p = join(work, name);
      writeFileSync(p, text);
      return p;
    };

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), `kubectl-${version}-`));
      kubectlPath(version);
      await ok(['create', 'namespace', ns]);
    });
    afterAll(() => removeDir(work));

    it('version reports the server', async () => {
      const out = await ok(['version']);
      // kubectl 1.27 prints the whole version.Info struct; newer clients print the gitVersion.
      expect(out).toMatch(/Server Version: (v1\.33\.\d+|version\.Info\{Major:"1", Minor:"33".*GitVersion:"v1\.33\.\d+)/);
    });

    it('api-resources lists the built-in kinds with short names', async () => {
      const out = await ok(['api-resources']);
      expect(out).toMatch(/deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
      expect(out).toMatch(/namespaces\s+ns\s+v1\s+false\s+Namespace/);
      expect(out).toMatch(/horizontalpodautoscalers\s+hpa\s+autoscaling\/v2\s+true\s+HorizontalPodAutoscaler/);
      expect(out).toMatch(/clusterrolebindings\s+rbac.authorization.k8s.io\/v1\s+false\s+ClusterRoleBinding/);
    });

    it('explain shows schema fields', async () => {
      const out = await ok(['explain', 'deployment.spec.replicas']);
      expect(out).toMatch(/replicas/);
      expect(out).toMatch(/integer/);
      const pod = await ok(['explain', 'pods.spec.containers']);
      expect(pod).toMatch(/image/);
    });

    it('create -f, get in every output format, label/field selectors', async () => {
      const cm = file('cm.yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: ${ns}\n  labels: {tier: backend}\ndata:\n  a: "1"\n  b: "2"\n`);
      expect(await ok(['create', '-f', cm])).toContain('configmap/settings created');
      const dup = await k(['create', '-f', cm]);
      expect(dup.code).not.toBe(0);
      expect(dup.stderr).toContain('Error from server (AlreadyExists): error when creating');
      expect(dup.stderr).toContain('configmaps "settings" already exists');

      const table = await ok(['get', 'configmaps', '-n', ns]);
      expect(table).toMatch(/NAME\s+DATA\s+AGE/);
      expect(table).toMatch(/settings\s+2\s+\d+s/);
      const asJson = JSON.parse(await ok(['get', 'cm', 'settings', '-n', ns, '-o', 'json']));
      expect(asJson.data).toEqual({ a: '1', b: '2' });
      expect(asJson.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(await ok(['get', 'cm', 'settings', '-n', ns, '-o', 'yaml'])).toMatch(/resourceVersion: "\d+"/);
      expect((await ok(['get', 'cm', '-n', ns, '-o', 'name'])).split('\n')).toContain('configmap/settings');
      expect(await ok(['get', 'cm', 'settings', '-n', ns, '-o', 'jsonpath={.data.b}'])).toBe('2');
      expect(await ok(['get', 'cm', '-n', ns, '-l', 'tier=backend', '-o', 'name'])).toContain('configmap/settings');
      expect((await ok(['get', 'cm', '-n', ns, '-l', 'tier!=backend', '-o', 'name'])).trim()).not.toContain('settings');
      expect(await ok(['get', 'cm', '-n', ns, '--field-selector', 'metadata.name=settings', '-o', 'name'])).toContain('configmap/settings');
      const wide = await ok(['get', 'namespaces', ns, '-o', 'wide']);
      expect(wide).toMatch(new RegExp(`${ns}\\s+Active`));
    });

    it('paginates with --chunk-size', async () => {
      for (let i = 0; i < 5; i++) await ok(['create', 'configmap', `chunk-${i}`, '-n', ns, '--from-literal', `k=${i}`]);
      const out = await ok(['get', 'cm', '-n', ns, '--chunk-size', '2', '-o', 'name']);
      for (let i = 0; i < 5; i++) expect(out).toContain(`configmap/chunk-${i}`);
    });

    it('imperative generators create namespace, configmap, secret, deployment, service and job', async () => {
      const gen = `${ns}-gen`;
      expect(await ok(['create', 'namespace', gen])).toContain(`namespace/${gen} created`);
      expect(await ok(['create', 'configmap', 'c1', '-n', gen, '--from-literal', 'x=y'])).toContain('configmap/c1 created');
      expect(await ok(['create', 'secret', 'generic', 's1', '-n', gen, '--from-literal', 'password=hunter2'])).toContain('secret/s1 created');
      expect(await ok(['create', 'deployment', 'd1', '-n', gen, '--image', 'busybox', '--replicas', '2'])).toContain('deployment.apps/d1 created');
      expect(await ok(['create', 'service', 'clusterip', 'svc1', '-n', gen, '--tcp', '80:8080'])).toContain('service/svc1 created');
      expect(await ok(['create', 'job', 'j1', '-n', gen, '--image', 'busybox'])).toContain('job.batch/j1 created');
      const secret = JSON.parse(await ok(['get', 'secret', 's1', '-n', gen, '-o', 'json']));
      expect(Buffer.from(secret.data.password, 'base64').toString()).toBe('hunter2');
      const dep = JSON.parse(await ok(['get', 'deploy', 'd1', '-n', gen, '-o', 'json']));
      expect(dep.spec.replicas).toBe(2);
      expect(dep.spec.template.spec.containers[0].image).toBe('busybox');
      expect(dep.spec.strategy.type).toBe('RollingUpdate');
      const svc = await ok(['get', 'svc', 'svc1', '-n', gen]);
      expect(svc).toMatch(/svc1\s+ClusterIP\s+\S+\s+<none>\s+80\/TCP/);
      const job = JSON.parse(await ok(['get', 'job', 'j1', '-n', gen, '-o', 'json']));
      expect(job.spec.template.spec.restartPolicy).toBe('Never');
      expect(job.spec.selector.matchLabels).toBeDefined();
    });

    it('apply: create, configure, unchanged; diff shows pending changes', async () => {
      const f = file('deploy.yaml', deployment(ns, 2, 'nginx:1.27'));
      expect(await ok(['apply', '-f', f])).toContain('deployment.apps/web created');
      const f2 = file('deploy2.yaml', deployment(ns, 3, 'nginx:1.29'));
      const diff = await k(['diff', '-f', f2]);
      expect(diff.code).toBe(1);
      expect(diff.stdout).toMatch(/-\s+replicas: 2/);
      expect(diff.stdout).toMatch(/\+\s+replicas: 3/);
      const applied = await k(['apply', '-f', f2]);
      expect(applied.stderr).not.toMatch(/warning: error calculating patch/);
      expect(applied.stdout).toContain('deployment.apps/web configured');
      expect(await ok(['apply', '-f', f2])).toContain('deployment.apps/web unchanged');
      const live = JSON.parse(await ok(['get', 'deploy', 'web', '-n', ns, '-o', 'json']));
      expect(live.spec.replicas).toBe(3);
      expect(live.spec.template.spec.containers).toHaveLength(1);
      expect(live.spec.template.spec.containers[0].image).toBe('nginx:1.29');
      expect(live.spec.template.spec.containers[0].env).toEqual([{ name: 'MODE', value: 'prod' }]);
      expect(live.metadata.generation).toBe(2);
      expect((await k(['diff', '-f', f2])).code).toBe(0);
    });

    it('apply can switch a Deployment to the Recreate strategy (retainKeys drops rollingUpdate)', async () => {
      const manifest = deployment(ns, 1, 'nginx:1.27').replace('name: web', 'name: recreate').replaceAll('app: web', 'app: recreate').replace('{app: web}', '{app: recreate}');
      const f = file('recreate.yaml', manifest);
      await ok(['apply', '-f', f]);
      const f2 = file('recreate2.yaml', manifest.replace('  replicas: 1\n', '  replicas: 1\n  strategy: {type: Recreate}\n'));
      const applied = await k(['apply', '-f', f2]);
      expect(applied.stderr).toBe('');
      expect(applied.stdout).toContain('deployment.apps/recreate configured');
      const live = JSON.parse(await ok(['get', 'deploy', 'recreate', '-n', ns, '-o', 'json']));
      expect(live.spec.strategy).toEqual({ type: 'Recreate' });
    });

    it('apply --server-side reports conflicts and takes ownership with --force-conflicts', async () => {
      const f = file('ssa.yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  namespace: ${ns}\ndata:\n  owner: first\n`);
      expect(await ok(['apply', '--server-side', '--field-manager', 'first', '-f', f])).toContain('configmap/ssa serverside-applied');
      const f2 = file('ssa2.yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  namespace: ${ns}\ndata:\n  owner: second\n`);
      const conflict = await k(['apply', '--server-side', '--field-manager', 'second', '-f', f2]);
      expect(conflict.code).not.toBe(0);
      expect(conflict.stderr).toMatch(/conflict/i);
      expect(conflict.stderr).toContain('.data.owner');
      expect(await ok(['apply', '--server-side', '--field-manager', 'second', '--force-conflicts', '-f', f2])).toContain('serverside-applied');
      const live = JSON.parse(await ok(['get', 'cm', 'ssa', '-n', ns, '-o', 'json', '--show-managed-fields']));
      expect(live.data.owner).toBe('second');
      expect(live.metadata.managedFields.map((m: { manager: string }) => m.manager)).toContain('second');
    });

    it('patch (json, merge, strategic), label, annotate, replace', async () => {
      await ok(['create', 'configmap', 'patchme', '-n', ns, '--from-literal', 'a=1']);
      await ok(['patch', 'cm', 'patchme', '-n', ns, '--type', 'merge', '-p', '{"data":{"b":"2"}}']);
      await ok(['patch', 'cm', 'patchme', '-n', ns, '--type', 'json', '-p', '[{"op":"replace","path":"/data/a","value":"10"}]']);
      await ok(['label', 'cm', 'patchme', '-n', ns, 'color=blue']);
      await ok(['annotate', 'cm', 'patchme', '-n', ns, 'note=hello']);
      let cm = JSON.parse(await ok(['get', 'cm', 'patchme', '-n', ns, '-o', 'json']));
      expect(cm.data).toEqual({ a: '10', b: '2' });
      expect(cm.metadata.labels.color).toBe('blue');
      expect(cm.metadata.annotations.note).toBe('hello');
      await ok(['patch', 'deploy', 'web', '-n', ns, '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}']);
      const dep = JSON.parse(await ok(['get', 'deploy', 'web', '-n', ns, '-o', 'json']));
      expect(dep.spec.template.spec.containers.map((c: { name: string }) => c.name).sort()).toEqual(['app', 'sidecar']);
      cm.data = { replaced: 'yes' };
      delete cm.metadata.resourceVersion;
      const f = file('replace.json', JSON.stringify(cm));
      expect(await ok(['replace', '-f', f])).toContain('configmap/patchme replaced');
      cm = JSON.parse(await ok(['get', 'cm', 'patchme', '-n', ns, '-o', 'json']));
      expect(cm.data).toEqual({ replaced: 'yes' });
      const bad = await k(['label', 'cm', 'patchme', '-n', ns, 'bad key=x']);
      expect(bad.code).not.toBe(0);
    });

    it('--dry-run=server validates without storing', async () => {
      expect(await ok(['create', 'configmap', 'dry', '-n', ns, '--from-literal', 'a=b', '--dry-run=server'])).toContain('configmap/dry created (server dry run)');
      const get = await k(['get', 'cm', 'dry', '-n', ns]);
      expect(get.code).not.toBe(0);
      expect(get.stderr).toContain('configmaps "dry" not found');
      const bad = await k(['create', 'deployment', 'Bad_Name', '-n', ns, '--image', 'x', '--dry-run=server']);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain('Invalid value: "Bad_Name"');
    });

    it('scale goes through the scale subresource', async () => {
      expect(await ok(['scale', 'deployment', 'web', '-n', ns, '--replicas', '5'])).toContain('deployment.apps/web scaled');
      expect(await ok(['get', 'deploy', 'web', '-n', ns, '-o', 'jsonpath={.spec.replicas}'])).toBe('5');
    });

    it('get all, --sort-by and -A use categories, full row objects and cluster-wide lists', async () => {
      const all = await ok(['get', 'all', '-n', ns]);
      expect(all).toContain('deployment.apps/web');
      const sorted = await ok(['get', 'cm', '-n', ns, '--sort-by', '.metadata.name', '-o', 'name']);
      const names = sorted.trim().split('\n');
      expect(names).toEqual([...names].sort());
      const everywhere = await ok(['get', 'namespaces', '-A']);
      expect(everywhere).toMatch(/kube-system\s+Active/);
      const cms = await ok(['get', 'cm', '-A', '-l', 'tier=backend']);
      expect(cms).toMatch(new RegExp(`${ns}\\s+settings\\s+2`));
    });

    it('run creates a pod and describe shows it', async () => {
      expect(await ok(['run', 'runner', '-n', ns, '--image', 'busybox', '--restart', 'Never', '--', 'sleep', '1'])).toContain('pod/runner created');
      const table = await ok(['get', 'pod', 'runner', '-n', ns, '-o', 'wide']);
      expect(table).toMatch(/NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES/);
      expect(table).toMatch(/runner\s+0\/1\s+Pending\s+0\s+\S+\s+<none>\s+<none>\s+<none>\s+<none>/);
      const out = await ok(['describe', 'pod', 'runner', '-n', ns]);
      expect(out).toMatch(/Name:\s+runner/);
      expect(out).toMatch(/Status:\s+Pending/);
      expect(out).toMatch(/Image:\s+busybox/);
      expect(out).toMatch(/QoS Class:\s+BestEffort/);
    });

    it('describe shows an object', async () => {
      const out = await ok(['describe', 'deployment', 'web', '-n', ns]);
      expect(out).toMatch(/Name:\s+web/);
      expect(out).toMatch(/Namespace:\s+/);
      expect(out).toMatch(/Image:\s+nginx:1\.29/);
    });

    it('get -w streams changes as table rows', async () => {
      const child = spawn(kubectlPath(version), ['get', 'cm', '-n', ns, '-w', '--field-selector', 'metadata.name=watched'], {
        env: { PATH: process.env.PATH ?? '', HOME: work, KUBECONFIG: server.kubeconfig, KUBECACHEDIR: join(work, 'cache') },
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      try {
        await new Promise((r) => setTimeout(r, 1500));
        await ok(['create', 'configmap', 'watched', '-n', ns, '--from-literal', 'x=1']);
        const deadline = Date.now() + 15_000;
        while (!/watched\s+1\s+/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        expect(out).toMatch(/watched\s+1\s+/);
      } finally {
        child.kill();
      }
    });

    it('delete removes objects and waits for them', async () => {
      expect(await ok(['delete', 'configmap', 'patchme', '-n', ns])).toContain('configmap "patchme" deleted');
      const gone = await k(['get', 'cm', 'patchme', '-n', ns]);
      expect(gone.stderr).toContain('NotFound');
      expect(await ok(['delete', 'namespace', `${ns}-gen`])).toContain(`namespace "${ns}-gen" deleted`);
      const nsGone = await k(['get', 'namespace', `${ns}-gen`]);
      expect(nsGone.stderr).toContain('NotFound');
    });
  });

  describe('restart', () => {
    it('keeps everything across a stop and start', async () => {
      const before = await kubectl(server, '1.33', ['create', 'configmap', 'survivor', '--from-literal', 'k=v']);
      expect(before.code).toBe(0);
      const dataDir = server.dataDir;
      const port = server.port;
      expect(await server.stop('SIGTERM')).toBe(0);
      server = await startServer({ backend, dataDir, port });
      const after = await kubectl(server, '1.33', ['get', 'configmap', 'survivor', '-o', 'jsonpath={.data.k}']);
      expect(after.stdout).toBe('v');
    });
  });
});
