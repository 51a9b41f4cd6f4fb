// Writes a set of files into a volume directory so that readers never see a half-updated state,
// the way kubelet does for configMap/secret/downwardAPI/projected volumes: the files live in a
// hidden timestamped directory, "..data" is a symlink to the current one, and every top-level
// entry the user sees is a symlink through "..data". An update builds a new timestamped directory
// and swaps "..data" with one rename.
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface FileProjection {
  data: Buffer;
  /** Permission bits, e.g. 0o644. */
  mode: number;
}

export type Payload = Map<string, FileProjection>;

const DATA_LINK = '..data';
const DATA_TMP_LINK = '..data_tmp';

/** A payload path must be relative, without ".." components and not start with "..". */
export function checkPayloadPath(path: string): string | undefined {
  if (!path) return 'invalid path: must not be empty';
  if (path.startsWith('/')) return `invalid path: must be relative path: ${path}`;
  if (path.startsWith('..')) return `invalid path: must not start with '..': ${path}`;
  if (path.split('/').includes('..')) return `invalid path: must not contain '..': ${path}`;
  return undefined;
}

/** Make `dir` hold exactly `payload`. Returns false when it already did (nothing is written). */
export async function writeAtomically(dir: string, payload: Payload): Promise<boolean> {
  for (const path of payload.keys()) {
    const problem = checkPayloadPath(path);
    if (problem) throw new Error(problem);
  }
  await mkdir(dir, { recursive: true });
  const oldTsName = await readlink(join(dir, DATA_LINK)).catch(() => undefined);
  if (oldTsName && (await sameContent(join(dir, oldTsName), payload))) return false;

  const tsName = `..${timestamp()}.${randomBytes(4).readUInt32BE(0)}`;
  const tsDir = join(dir, tsName);
  await mkdir(tsDir, { mode: 0o755 });
  await chmod(tsDir, 0o755);
  for (const [path, file] of payload) {
    const target = join(tsDir, path);
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    await writeFile(target, file.data);
    await chmod(target, file.mode & 0o7777);
  }

  await unlink(join(dir, DATA_TMP_LINK)).catch(() => undefined);
  await symlink(tsName, join(dir, DATA_TMP_LINK));
  await rename(join(dir, DATA_TMP_LINK), join(dir, DATA_LINK));

  const visible = new Set([...payload.keys()].map((p) => p.split('/')[0]));
  for (const name of visible) {
    const link = join(dir, name);
    const existing = await lstat(link).catch(() => undefined);
    if (existing?.isSymbolicLink()) continue;
    if (existing) await rm(link, { recursive: true, force: true });
    await symlink(join(DATA_LINK, name), link);
  }
  // Entries of the previous payload that are gone now, then the previous timestamped directory.
  for (const name of await readdir(dir)) {
    if (name.startsWith('..') || visible.has(name)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
  }
  if (oldTsName && oldTsName !== tsName) await rm(join(dir, oldTsName), { recursive: true, force: true });
  return true;
}

async function sameContent(tsDir: string, payload: Payload): Promise<boolean> {
  const existing = await listFiles(tsDir).catch(() => undefined);
  if (!existing || existing.length !== payload.size) return false;
  for (const path of existing) {
    const want = payload.get(path);
    if (!want) return false;
    const full = join(tsDir, path);
    const [data, st] = await Promise.all([readFile(full), stat(full)]);
    if ((st.mode & 0o7777) !== (want.mode & 0o7777) || !data.equals(want.data)) return false;
  }
  return true;
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(join(dir, entry.name), rel)));
    else out.push(rel);
  }
  return out;
}

/** 2006_01_02_15_04_05 in UTC, kubelet's prefix for the hidden data directories. */
function timestamp(): string {
  const d = new Date();
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}_${two(d.getUTCMonth() + 1)}_${two(d.getUTCDate())}_${two(d.getUTCHours())}_${two(d.getUTCMinutes())}_${two(d.getUTCSeconds())}`;
}
