// containerd creates the pod cgroup (cgroup_parent) in every hierarchy but never removes it.
import { lstat, readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Remove `parent` (e.g. /stratus/pod<uid>) and anything left below it, in cgroup v1 and v2 layouts. */
export async function removeCgroup(parent: string, cgroupFs = '/sys/fs/cgroup'): Promise<void> {
  const rel = parent.replace(/^\/+/, '');
  let roots: string[];
  if (await exists(join(cgroupFs, 'cgroup.controllers'))) roots = [cgroupFs];
  else {
    const entries = await readdir(cgroupFs, { withFileTypes: true }).catch(() => []);
    // Skip the cpu -> cpu,cpuacct style aliases: they are symlinks to a hierarchy already listed.
    roots = entries.filter((e) => e.isDirectory() && !e.isSymbolicLink()).map((e) => join(cgroupFs, e.name));
  }
  await Promise.all(roots.map((root) => removeTree(join(root, rel))));
}

async function removeTree(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) await removeTree(join(dir, e.name));
  // A cgroup can stay busy for a moment after its last process exited.
  for (let i = 0; ; i++) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || i >= 20) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
