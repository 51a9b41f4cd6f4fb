// emptyDir volumes: a world-writable directory under the pod's volume directory, or for medium
// "Memory" a tmpfs mounted there (when this process may mount; otherwise a plain directory). Also
// finds and unmounts what is mounted below a pod's directory before it is removed.
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { value } from '../../shared/scheduler/resources.js';

const run = promisify(execFile);

export interface EmptyDirResult {
  /** Whether the directory is backed by a tmpfs (medium Memory and mounting worked). */
  tmpfs: boolean;
  /** Why a Memory emptyDir fell back to a plain directory. */
  fallback?: string;
}

export async function prepareEmptyDir(dir: string, medium: string | undefined, sizeLimit: string | number | undefined): Promise<EmptyDirResult> {
  await mkdir(dir, { recursive: true });
  if (medium === 'Memory') {
    if ((await mountPoints()).includes(dir)) return { tmpfs: true };
    const options = ['mode=0777', ...(sizeLimit !== undefined && value(sizeLimit) > 0 ? [`size=${value(sizeLimit)}`] : [])];
    try {
      await run('mount', ['-t', 'tmpfs', '-o', options.join(','), 'tmpfs', dir]);
      return { tmpfs: true };
    } catch (e) {
      await chmod(dir, 0o777);
      return { tmpfs: false, fallback: (e as { stderr?: string }).stderr?.trim() || String(e) };
    }
  }
  if (medium && medium !== 'Memory') throw new Error(`unsupported emptyDir medium ${medium}`);
  // The container may run as any user: kubelet makes emptyDir directories 0777.
  await chmod(dir, 0o777);
  return { tmpfs: false };
}

/** Unmount everything mounted at or below `dir`, deepest first. */
export async function unmountBelow(dir: string): Promise<void> {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const below = (await mountPoints()).filter((m) => m === dir || m.startsWith(prefix)).sort((a, b) => b.length - a.length);
  for (const m of below) {
    try {
      await run('umount', [m]);
    } catch {
      // Still busy (e.g. a container not yet gone): detach it so the directory can be removed.
      await run('umount', ['-l', m]).catch(() => undefined);
    }
  }
}

/** Mount points of this mount namespace, with /proc/self/mountinfo's octal escapes decoded. */
async function mountPoints(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ')[4].replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))));
}
