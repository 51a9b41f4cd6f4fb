// Pod volumes on a real node (containerd via scripts/setup-node.sh, in-process control plane):
// emptyDir (disk and tmpfs), configMap, secret, downwardAPI, projected and hostPath volumes show
// their content inside containers, API-data volumes follow their source, readOnly/subPath/
// subPathExpr mounts behave as in Kubernetes, setup failures keep the pod in ContainerCreating
// with kubelet's FailedMount event, volumes survive an agent restart and go with the pod.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient } from '../../shared/client/kube-client.js';
import type { LocalNode } from '../../node-agent/real-node.js';
import { podManifest, startRealCluster, waitFor as waitUntil, type RealCluster } from './real-cluster.js';

const NS = 'volumes-test';
const NODE = 'stratus-volumes-test';

let cluster: RealCluster;
let dir: string;
let client: KubeClient;
let node: LocalNode | undefined;

type Obj = { metadata: Record<string, unknown> & { name: string; uid: string }; spec?: Record<string, unknown>; status?: Record<string, unknown> };
type ContainerStatus = { name: string; restartCount: number; containerID?: string; state: { waiting?: { reason: string; message?: string }; running?: unknown; terminated?: { exitCode: number } } };
type Event = { reason: string; message: string; type: string; source?: { component?: string }; involvedObject: { name: string; uid: string } };

const waitFor = <T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 20_000) => waitUntil(check, what, timeoutMs, 200);

const getPod = (name: string) => client.get<Obj>(`/api/v1/namespaces/${NS}/pods/${name}`);
const statuses = (p: Obj) => (p.status?.containerStatuses as ContainerStatus[] | undefined) ?? [];
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

async function createPod(name: string, spec: Record<string, unknown>, labels?: Record<string, string>, annotations?: Record<string, string>): Promise<Obj> {
  return client.create<Obj>(`/api/v1/namespaces/${NS}/pods`, podManifest(NS, name, spec, { labels, annotations }));
}

async function waitRunning(name: string, timeoutMs = 30_000): Promise<Obj> {
  return waitFor(async () => {
    const p = await getPod(name);
    return p.status?.phase === 'Running' && statuses(p).every((c) => c.state.running) ? p : undefined;
  }, `${name} to run`, timeoutMs);
}

async function sh(uid: string, container: string, script: string) {
  return node!.runtime.execInContainer(uid, container, ['sh', '-c', script], 10);
}

async function podEvents(name: string): Promise<Event[]> {
  return (await client.get<{ items: Event[] }>(`/api/v1/namespaces/${NS}/events`)).items.filter((e) => e.involvedObject.name === name);
}

async function waitGone(name: string): Promise<void> {
  await waitFor(async () => {
    try {
      await getPod(name);
      return false;
    } catch (e) {
      return (e as { code?: number }).code === 404;
    }
  }, `${name} to be gone`);
}

function mountedBelow(path: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && m.startsWith(path));
}

beforeAll(async () => {
  cluster = await startRealCluster({ namespace: NS, nodeName: NODE, cgroupRoot: '/stratus-volumes-test', startNode: false });
  ({ dir, client } = cluster);
  await client.create(`/api/v1/namespaces/${NS}/configmaps`, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'app-config', namespace: NS },
    data: { greeting: 'hello', 'app.properties': 'a=1\nb=2\n' },
    binaryData: { blob: b64(Buffer.from([0, 1, 2, 255])) },
  });
  await client.create(`/api/v1/namespaces/${NS}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app-secret', namespace: NS }, data: { password: b64('s3cr3t'), user: b64('admin') } });
  node = await cluster.startNode();
}, 180_000);

afterAll(() => cluster?.stop(), 60_000);

describe('pod volumes on a real node', () => {
  let allVolsUid = '';

  it('fills configMap, secret, downwardAPI and projected volumes with the right files and modes', async () => {
    const pod = await createPod(
      'allvols',
      {
        containers: [
          {
            name: 'main',
            image: 'busybox',
            command: ['sleep', '3600'],
            resources: { limits: { cpu: '500m', memory: '64Mi' } },
            volumeMounts: [
              { name: 'cfg', mountPath: '/cfg' },
              { name: 'cfg-items', mountPath: '/cfg-items' },
              { name: 'sec', mountPath: '/sec' },
              { name: 'info', mountPath: '/info' },
              { name: 'proj', mountPath: '/proj' },
              { name: 'opt', mountPath: '/opt-missing' },
              { name: 'cache', mountPath: '/cache' },
            ],
          },
        ],
        volumes: [
          { name: 'cfg', configMap: { name: 'app-config' } },
          { name: 'cfg-items', configMap: { name: 'app-config', defaultMode: 0o640, items: [{ key: 'greeting', path: 'sub/hi.txt', mode: 0o600 }, { key: 'app.properties', path: 'props' }] } },
          { name: 'sec', secret: { secretName: 'app-secret', defaultMode: 0o400 } },
          {
            name: 'info',
            downwardAPI: {
              items: [
                { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
                { path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } },
                { path: 'uid', fieldRef: { fieldPath: 'metadata.uid' } },
                { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
                { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
                { path: 'cpu_limit', resourceFieldRef: { containerName: 'main', resource: 'limits.cpu', divisor: '1m' } },
                { path: 'mem_limit', resourceFieldRef: { containerName: 'main', resource: 'limits.memory', divisor: '1Mi' } },
              ],
            },
          },
          {
            name: 'proj',
            projected: {
              sources: [
                { configMap: { name: 'app-config', items: [{ key: 'greeting', path: 'greeting' }] } },
                { secret: { name: 'app-secret', items: [{ key: 'user', path: 'creds/user' }] } },
                { downwardAPI: { items: [{ path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
                { configMap: { name: 'kube-root-ca.crt' } },
                { configMap: { name: 'no-such-config', optional: true } },
              ],
            },
          },
          { name: 'opt', configMap: { name: 'no-such-config', optional: true } },
          { name: 'cache', emptyDir: { medium: 'Memory' } },
        ],
      },
      { app: 'allvols', tier: 'test' },
      { note: 'say "hi"' },
    );
    allVolsUid = pod.metadata.uid;
    await waitRunning('allvols');
    const cat = async (path: string) => {
      const r = await sh(allVolsUid, 'main', `cat ${path}`);
      expect(r.exitCode, `${path}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    expect(await cat('/cfg/greeting')).toBe('hello');
    expect(await cat('/cfg/app.properties')).toBe('a=1\nb=2\n');
    expect((await sh(allVolsUid, 'main', 'od -An -tu1 /cfg/blob')).stdout.trim().split(/\s+/)).toEqual(['0', '1', '2', '255']);
    // The kubelet layout: visible names are symlinks through ..data to a timestamped directory.
    expect((await sh(allVolsUid, 'main', 'readlink /cfg/greeting; readlink /cfg/..data')).stdout).toMatch(/^\.\.data\/greeting\n\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d+\n$/);
    expect(await cat('/cfg-items/sub/hi.txt')).toBe('hello');
    expect((await sh(allVolsUid, 'main', 'stat -L -c %a /cfg-items/sub/hi.txt /cfg-items/props /cfg/greeting /sec/password')).stdout.split('\n').filter(Boolean)).toEqual(['600', '640', '644', '400']);
    expect((await sh(allVolsUid, 'main', 'ls /cfg-items')).stdout.split('\n').filter(Boolean).sort()).toEqual(['props', 'sub']);
    expect(await cat('/sec/password')).toBe('s3cr3t');
    expect(await cat('/sec/user')).toBe('admin');
    expect(await cat('/info/name')).toBe('allvols');
    expect(await cat('/info/namespace')).toBe(NS);
    expect(await cat('/info/uid')).toBe(allVolsUid);
    expect(await cat('/info/labels')).toBe('app="allvols"\ntier="test"');
    expect(await cat('/info/annotations')).toContain('note="say \\"hi\\""');
    expect(await cat('/info/cpu_limit')).toBe('500');
    expect(await cat('/info/mem_limit')).toBe('64');
    expect(await cat('/proj/greeting')).toBe('hello');
    expect(await cat('/proj/creds/user')).toBe('admin');
    expect(await cat('/proj/ns')).toBe(NS);
    expect(await cat('/proj/ca.crt')).toContain('-----BEGIN CERTIFICATE-----');
    // An optional source that does not exist gives an empty volume.
    expect((await sh(allVolsUid, 'main', 'ls -A /opt-missing | grep -v "^\\.\\."')).stdout).toBe('');
    // API-data volumes are read-only; a Memory emptyDir is a tmpfs.
    const write = await sh(allVolsUid, 'main', 'echo x > /cfg/new');
    expect(write.exitCode).not.toBe(0);
    expect(write.stderr).toMatch(/Read-only file system/);
    expect((await sh(allVolsUid, 'main', 'grep " /cache " /proc/mounts')).stdout).toMatch(/^tmpfs \/cache tmpfs /);
    expect((await sh(allVolsUid, 'main', 'echo cached > /cache/f && cat /cache/f')).stdout).toBe('cached\n');
  });

  it('shares an emptyDir between two containers and refuses writes through a readOnly mount', async () => {
    const pod = await createPod('shared', {
      volumes: [{ name: 'data', emptyDir: {} }],
      containers: [
        { name: 'writer', image: 'busybox', command: ['sh', '-c', 'echo hi-from-writer > /data/msg && exec sleep 3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }] },
        { name: 'reader', image: 'busybox', command: ['sleep', '3600'], volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }] },
      ],
    });
    await waitRunning('shared');
    const uid = pod.metadata.uid;
    const read = await waitFor(async () => {
      const r = await sh(uid, 'reader', 'cat /data/msg');
      return r.exitCode === 0 ? r.stdout : undefined;
    }, 'the reader to see the writer file');
    expect(read).toBe('hi-from-writer\n');
    const denied = await sh(uid, 'reader', 'touch /data/other');
    expect(denied.exitCode).not.toBe(0);
    expect(denied.stderr).toMatch(/Read-only file system/);
    expect((await sh(uid, 'writer', 'touch /data/other && echo ok')).stdout).toBe('ok\n');
    // On the node: a 0777 directory under the pod's volume directory.
    const hostDir = join(node!.runtime.volumes.podDir(uid), 'volumes/kubernetes.io~empty-dir/data');
    expect(readFileSync(join(hostDir, 'msg'), 'utf8')).toBe('hi-from-writer\n');
    expect(statSync(hostDir).mode & 0o777).toBe(0o777);
  });

  it('mounts subPath and subPathExpr paths inside a volume, creating them when missing', async () => {
    const pod = await createPod('subpaths', {
      volumes: [
        { name: 'work', emptyDir: {} },
        { name: 'cfg', configMap: { name: 'app-config' } },
      ],
      containers: [
        {
          name: 'main',
          image: 'busybox',
          command: ['sleep', '3600'],
          env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          volumeMounts: [
            { name: 'work', mountPath: '/one', subPath: 'one' },
            { name: 'work', mountPath: '/mine', subPathExpr: 'per-pod/$(POD_NAME)' },
            { name: 'cfg', mountPath: '/etc/greeting', subPath: 'greeting' },
          ],
        },
      ],
    });
    await waitRunning('subpaths');
    const uid = pod.metadata.uid;
    expect((await sh(uid, 'main', 'echo 1 > /one/f && echo 2 > /mine/g && cat /etc/greeting')).stdout).toBe('hello');
    const hostDir = join(node!.runtime.volumes.podDir(uid), 'volumes/kubernetes.io~empty-dir/work');
    expect(readFileSync(join(hostDir, 'one/f'), 'utf8')).toBe('1\n');
    expect(readFileSync(join(hostDir, 'per-pod/subpaths/g'), 'utf8')).toBe('2\n');
  });

  it('shows ConfigMap and downward API changes in mounted files, but not through a subPath mount', async () => {
    await client.patch(`/api/v1/namespaces/${NS}/configmaps/app-config`, { data: { greeting: 'bonjour' } });
    await client.patch(`/api/v1/namespaces/${NS}/pods/allvols`, { metadata: { labels: { tier: 'changed' } } });
    await waitFor(async () => (await sh(allVolsUid, 'main', 'cat /cfg/greeting')).stdout === 'bonjour', 'the configMap volume to update', 45_000);
    // One refresh pass rewrites the volumes one after another.
    await waitFor(async () => (await sh(allVolsUid, 'main', 'cat /proj/greeting')).stdout === 'bonjour', 'the projected volume to update', 15_000);
    await waitFor(async () => (await sh(allVolsUid, 'main', 'cat /info/labels')).stdout === 'app="allvols"\ntier="changed"', 'the downward API labels to update', 30_000);
    const sub = (await getPod('subpaths')).metadata.uid;
    expect((await sh(sub, 'main', 'cat /etc/greeting')).stdout).toBe('hello');
  }, 90_000);

  it('creates hostPath DirectoryOrCreate and FileOrCreate paths and shares them with the node', async () => {
    const hp = join(dir, 'hp');
    const pod = await createPod('hostpaths', {
      volumes: [
        { name: 'newdir', hostPath: { path: join(hp, 'new/dir'), type: 'DirectoryOrCreate' } },
        { name: 'newfile', hostPath: { path: join(dir, 'made.txt'), type: 'FileOrCreate' } },
      ],
      containers: [
        {
          name: 'main',
          image: 'busybox',
          command: ['sh', '-c', 'echo from-pod > /host/x && echo appended >> /made.txt && exec sleep 3600'],
          volumeMounts: [
            { name: 'newdir', mountPath: '/host' },
            { name: 'newfile', mountPath: '/made.txt' },
          ],
        },
      ],
    });
    await waitRunning('hostpaths');
    expect(statSync(join(hp, 'new/dir')).isDirectory()).toBe(true);
    expect(statSync(join(hp, 'new/dir')).mode & 0o777).toBe(0o755);
    await waitFor(async () => existsSync(join(hp, 'new/dir/x')), 'the pod to write into the hostPath');
    expect(readFileSync(join(hp, 'new/dir/x'), 'utf8')).toBe('from-pod\n');
    expect(readFileSync(join(dir, 'made.txt'), 'utf8')).toBe('appended\n');
    expect(pod.metadata.uid).toBeTruthy();
  });

  it('keeps a pod with a failing hostPath type check in ContainerCreating with FailedMount', async () => {
    await createPod('badhost', {
      volumes: [{ name: 'needed', hostPath: { path: dir, type: 'File' } }],
      containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'], volumeMounts: [{ name: 'needed', mountPath: '/x' }] }],
    });
    const event = await waitFor(async () => (await podEvents('badhost')).find((e) => e.reason === 'FailedMount'), 'a FailedMount event');
    expect(event).toMatchObject({ type: 'Warning', message: `MountVolume.SetUp failed for volume "needed" : hostPath type check failed: ${dir} is not a file, it's a Directory`, source: { component: 'kubelet' } });
    const p = await getPod('badhost');
    expect(p.status!.phase).toBe('Pending');
    expect(statuses(p)[0].state.waiting!.reason).toBe('ContainerCreating');
  });

  it('does not start a pod whose required ConfigMap is missing, then starts it once the ConfigMap exists', async () => {
    const pod = await createPod('needs-config', {
      volumes: [{ name: 'late', configMap: { name: 'late-config' } }],
      containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'], volumeMounts: [{ name: 'late', mountPath: '/late' }] }],
    });
    const event = await waitFor(async () => (await podEvents('needs-config')).find((e) => e.reason === 'FailedMount'), 'a FailedMount event');
    expect(event.message).toBe('MountVolume.SetUp failed for volume "late" : configmap "late-config" not found');
    const p = await getPod('needs-config');
    expect(p.status!.phase).toBe('Pending');
    expect(statuses(p)[0].state.waiting).toEqual({ reason: 'ContainerCreating' });
    expect(await node!.runtime.client.listPodSandbox({ label_selector: { 'io.kubernetes.pod.uid': pod.metadata.uid } })).toEqual([]);

    await client.create(`/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late-config', namespace: NS }, data: { k: 'arrived' } });
    await waitRunning('needs-config', 40_000);
    expect((await sh(pod.metadata.uid, 'main', 'cat /late/k')).stdout).toBe('arrived');
  }, 60_000);

  it('reports a missing ConfigMap key and a missing Secret with kubelet messages', async () => {
    await createPod('badkey', {
      volumes: [{ name: 'cfg', configMap: { name: 'app-config', items: [{ key: 'nope', path: 'x' }] } }],
      containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'], volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }] }],
    });
    await createPod('nosecret', {
      volumes: [{ name: 'sec', secret: { secretName: 'absent' } }],
      containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'], volumeMounts: [{ name: 'sec', mountPath: '/sec' }] }],
    });
    const key = await waitFor(async () => (await podEvents('badkey')).find((e) => e.reason === 'FailedMount'), 'FailedMount for badkey');
    expect(key.message).toBe('MountVolume.SetUp failed for volume "cfg" : configmap references non-existent config key: nope');
    const sec = await waitFor(async () => (await podEvents('nosecret')).find((e) => e.reason === 'FailedMount'), 'FailedMount for nosecret');
    expect(sec.message).toBe('MountVolume.SetUp failed for volume "sec" : secret "absent" not found');
  });

  it('fails a container whose subPathExpr refers to an unset variable with CreateContainerConfigError', async () => {
    await createPod('badexpr', {
      volumes: [{ name: 'work', emptyDir: {} }],
      containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'], volumeMounts: [{ name: 'work', mountPath: '/w', subPathExpr: '$(NOT_SET)' }] }],
    });
    const waiting = await waitFor(async () => statuses(await getPod('badexpr'))[0]?.state.waiting?.reason === 'CreateContainerConfigError' && statuses(await getPod('badexpr'))[0].state.waiting, 'CreateContainerConfigError');
    expect(waiting).toEqual({ reason: 'CreateContainerConfigError', message: 'missing value for NOT_SET' });
  });

  it('runs commands in and kills a named container of a pod (for probes)', async () => {
    const uid = (await getPod('shared')).metadata.uid;
    const r = await node!.runtime.execInContainer(uid, 'writer', ['sh', '-c', 'echo out; echo err >&2; exit 3'], 5);
    expect(r).toEqual({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
    await expect(node!.runtime.execInContainer(uid, 'no-such-container', ['true'], 5)).rejects.toThrow(/no running container/);
    const pod = await createPod('killme', { containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] });
    await waitRunning('killme');
    await node!.runtime.killContainer(pod.metadata.uid, 'main', 0);
    // The agent sees the exit and starts the next instance (restartPolicy Always).
    const restarted = await waitFor(async () => {
      const [c] = statuses(await getPod('killme'));
      return c && c.restartCount >= 1 ? c : undefined;
    }, 'the killed container to be restarted', 30_000);
    expect(restarted.restartCount).toBe(1);
  }, 45_000);

  it('keeps volumes across an agent restart', async () => {
    const uid = (await getPod('shared')).metadata.uid;
    const hostFile = join(node!.runtime.volumes.podDir(uid), 'volumes/kubernetes.io~empty-dir/data/msg');
    const before = statuses(await getPod('shared')).map((c) => c.containerID);
    node = await cluster.restartNode();
    await new Promise((r) => setTimeout(r, 1500)); // the restarted agent adopts the running pods
    expect(readFileSync(hostFile, 'utf8')).toBe('hi-from-writer\n');
    expect((await sh(uid, 'reader', 'cat /data/msg')).stdout).toBe('hi-from-writer\n');
    expect((await sh(allVolsUid, 'main', 'cat /cache/f; cat /sec/password')).stdout).toBe('cached\ns3cr3t');
    expect(statuses(await getPod('shared')).map((c) => c.containerID)).toEqual(before);
  }, 30_000);

  it('removes the pod volume directory (and unmounts its tmpfs) when the pod is deleted', async () => {
    const volDir = node!.runtime.volumes.podDir(allVolsUid);
    expect(existsSync(volDir)).toBe(true);
    expect(mountedBelow(volDir).length).toBe(1);
    await client.delete(`/api/v1/namespaces/${NS}/pods/allvols`);
    await waitGone('allvols');
    await waitFor(async () => !existsSync(volDir), 'the volume directory to be removed');
    expect(mountedBelow(volDir)).toEqual([]);
    // A pod that never started has its (partial) volumes removed too.
    const partial = await createPod('partial', {
      volumes: [
        { name: 'scratch', emptyDir: {} },
        { name: 'cfg', configMap: { name: 'never-config' } },
      ],
      containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'], volumeMounts: [{ name: 'scratch', mountPath: '/s' }] }],
    });
    await waitFor(async () => (await podEvents('partial')).find((e) => e.reason === 'FailedMount'), 'FailedMount for partial');
    const partialDir = node!.runtime.volumes.podDir(partial.metadata.uid);
    expect(existsSync(join(partialDir, 'volumes/kubernetes.io~empty-dir/scratch'))).toBe(true);
    await client.delete(`/api/v1/namespaces/${NS}/pods/partial`);
    await waitGone('partial');
    await waitFor(async () => !existsSync(partialDir), 'the volume directory of a pod that never started to be removed');
  });
});
