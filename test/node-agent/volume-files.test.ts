// The node-side file work behind pod volumes, on a scratch directory: kubelet's atomic ..data
// layout and its updates, hostPath type checks with kubelet's messages, subPath containment, and
// the downward API map format.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodObject } from '../../node-agent/cri/pod-config.js';
import { writeAtomically, type Payload } from '../../node-agent/volumes/atomic-writer.js';
import { containerMounts } from '../../node-agent/volumes/container-mounts.js';
import { formatMap } from '../../node-agent/volumes/downward-api.js';
import { prepareHostPath } from '../../node-agent/volumes/host-path.js';

let dir: string;
let socketServer: Server;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stratus-volume-files-'));
  socketServer = createServer();
  await new Promise<void>((r) => socketServer.listen(join(dir, 'app.sock'), r));
});

afterAll(async () => {
  await new Promise((r) => socketServer.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const payload = (files: Record<string, string>, mode = 0o644): Payload => new Map(Object.entries(files).map(([k, v]) => [k, { data: Buffer.from(v), mode }]));

describe('atomic volume writer', () => {
  it('writes files behind ..data, swaps it on change, and drops keys that went away', async () => {
    const vol = join(dir, 'cm');
    expect(await writeAtomically(vol, payload({ a: '1', 'nested/b': '2' }))).toBe(true);
    const first = readlinkSync(join(vol, '..data'));
    expect(first).toMatch(/^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d+$/);
    expect(readlinkSync(join(vol, 'a'))).toBe('..data/a');
    expect(readFileSync(join(vol, 'nested/b'), 'utf8')).toBe('2');

    expect(await writeAtomically(vol, payload({ a: '1', 'nested/b': '2' }))).toBe(false);
    expect(readlinkSync(join(vol, '..data'))).toBe(first);

    expect(await writeAtomically(vol, payload({ a: 'changed', c: '3' }, 0o600))).toBe(true);
    const second = readlinkSync(join(vol, '..data'));
    expect(second).not.toBe(first);
    expect(readFileSync(join(vol, 'a'), 'utf8')).toBe('changed');
    expect(statSync(join(vol, 'c')).mode & 0o777).toBe(0o600);
    expect(readdirSync(vol).sort()).toEqual(['..data', second, 'a', 'c'].sort());
  });

  it('rejects payload paths that leave the volume', async () => {
    await expect(writeAtomically(join(dir, 'bad'), payload({ '../x': '1' }))).rejects.toThrow(/must not start with '\.\.'/);
    await expect(writeAtomically(join(dir, 'bad'), payload({ 'a/../../x': '1' }))).rejects.toThrow(/must not contain '\.\.'/);
    await expect(writeAtomically(join(dir, 'bad'), payload({ '/etc/x': '1' }))).rejects.toThrow(/must be relative path/);
  });
});

describe('hostPath types', () => {
  it('creates DirectoryOrCreate (with parents, 0755) and FileOrCreate (0644) paths', async () => {
    await prepareHostPath(join(dir, 'hp/a/b'), 'DirectoryOrCreate');
    expect(statSync(join(dir, 'hp/a/b')).isDirectory()).toBe(true);
    expect(statSync(join(dir, 'hp/a/b')).mode & 0o777).toBe(0o755);
    await prepareHostPath(join(dir, 'hp/f.txt'), 'FileOrCreate');
    expect(statSync(join(dir, 'hp/f.txt')).size).toBe(0);
    expect(statSync(join(dir, 'hp/f.txt')).mode & 0o777).toBe(0o644);
  });

  it('checks existing paths against the type with kubelet messages', async () => {
    writeFileSync(join(dir, 'plain'), 'x');
    await expect(prepareHostPath(join(dir, 'missing'), 'Directory')).rejects.toThrow(`hostPath ${join(dir, 'missing')} doesn't exist`);
    await expect(prepareHostPath(join(dir, 'plain'), 'Directory')).rejects.toThrow(`hostPath type check failed: ${join(dir, 'plain')} is not a directory, it's a File`);
    await expect(prepareHostPath(join(dir, 'plain'), 'DirectoryOrCreate')).rejects.toThrow(`is not a directory, it's a File`);
    await expect(prepareHostPath(dir, 'FileOrCreate')).rejects.toThrow(`hostPath type check failed: ${dir} is not a file, it's a Directory`);
    await expect(prepareHostPath('/dev/null', 'BlockDevice')).rejects.toThrow(`hostPath type check failed: /dev/null is not a block device, it's a CharDevice`);
    await expect(prepareHostPath(join(dir, 'plain'), 'Socket')).rejects.toThrow(`is not a socket file, it's a File`);
    await expect(prepareHostPath(join(dir, 'plain'), 'Bogus')).rejects.toThrow('Bogus is an invalid volume type');
    await prepareHostPath('/dev/null', 'CharDevice');
    await prepareHostPath(join(dir, 'app.sock'), 'Socket');
    await prepareHostPath(join(dir, 'plain'), 'File');
    await prepareHostPath(join(dir, 'does-not-matter'), '');
  });
});

describe('container mounts', () => {
  const pod = (volumeMounts: Record<string, unknown>[]): PodObject =>
    ({
      metadata: { name: 'p', namespace: 'ns', uid: 'u' },
      spec: { volumes: [{ name: 'v', emptyDir: {} }, { name: 'cm', configMap: { name: 'x' } }], containers: [{ name: 'c', volumeMounts }] },
    }) as unknown as PodObject;
  const base = () => join(dir, 'mounts-vol');
  const path = (v: { name: string }) => join(base(), v.name);

  it('mounts API-data volumes read-only and honours readOnly elsewhere', async () => {
    mkdirSync(join(base(), 'v'), { recursive: true });
    mkdirSync(join(base(), 'cm'), { recursive: true });
    const p = pod([{ name: 'v', mountPath: '/a' }, { name: 'v', mountPath: '/b', readOnly: true }, { name: 'cm', mountPath: '/c' }]);
    expect(await containerMounts(p, p.spec.containers[0], [], path)).toEqual([
      { container_path: '/a', host_path: join(base(), 'v'), readonly: false },
      { container_path: '/b', host_path: join(base(), 'v'), readonly: true },
      { container_path: '/c', host_path: join(base(), 'cm'), readonly: true },
    ]);
  });

  it('refuses a subPath that escapes the volume through a symlink, and an unknown volume', async () => {
    symlinkSync('/etc', join(base(), 'v', 'escape'));
    const p = pod([{ name: 'v', mountPath: '/a', subPath: 'escape' }]);
    await expect(containerMounts(p, p.spec.containers[0], [], path)).rejects.toThrow(/not within volume path/);
    const q = pod([{ name: 'nope', mountPath: '/a' }]);
    await expect(containerMounts(q, q.spec.containers[0], [], path)).rejects.toThrow('cannot find volume "nope" to mount into container "c"');
  });

  it('expands subPathExpr from the container env and creates the directory', async () => {
    const p = pod([{ name: 'v', mountPath: '/a', subPathExpr: 'logs/$(POD)' }]);
    const [m] = await containerMounts(p, p.spec.containers[0], [{ name: 'POD', value: 'web-1' }], path);
    expect(m.host_path).toBe(join(base(), 'v/logs/web-1'));
    expect(statSync(m.host_path).isDirectory()).toBe(true);
  });
});

describe('downward API map files', () => {
  it('writes sorted key="value" lines with Go-style quoting', () => {
    expect(formatMap({ b: 'two', a: 'say "hi"\n' })).toBe('a="say \\"hi\\"\\n"\nb="two"');
    expect(formatMap(undefined)).toBe('');
  });
});
