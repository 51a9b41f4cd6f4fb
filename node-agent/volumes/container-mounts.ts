// A container's volumeMounts as CRI mounts: the volume's directory on the node (or a path inside it
// for subPath/subPathExpr), read-only when asked or when the volume is API data (configMap, secret,
// downwardAPI, projected), as kubelet's makeMounts does. Problems fail the container with
// CreateContainerConfigError.
import { mkdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { Mount } from '../cri/client.js';
import { expandVars, type PodContainerSpec, type PodObject } from '../cri/pod-config.js';
import { ContainerConfigError } from '../env.js';
import type { VolumeMountSpec, VolumeSpec } from './types.js';

/** Volumes kubelet always mounts read-only. */
export function apiDataVolume(v: VolumeSpec): boolean {
  return !!(v.configMap || v.secret || v.downwardAPI || v.projected);
}

export async function containerMounts(pod: PodObject, container: PodContainerSpec, env: { name: string; value: string }[], volumePath: (v: VolumeSpec) => string): Promise<Mount[]> {
  const volumes = new Map((pod.spec.volumes ?? []).map((v) => [v.name, v]));
  const mounts: Mount[] = [];
  for (const m of container.volumeMounts ?? []) {
    const fail = (message: string) => new ContainerConfigError(container.name, message);
    const volume = volumes.get(m.name);
    if (!volume) throw fail(`cannot find volume "${m.name}" to mount into container "${container.name}"`);
    const base = volumePath(volume);
    let hostPath = base;
    const subPath = m.subPathExpr ? expandSubPath(m, env, fail) : (m.subPath ?? '');
    if (subPath) hostPath = await resolveSubPath(base, subPath, fail);
    mounts.push({ container_path: m.mountPath, host_path: hostPath, readonly: !!m.readOnly || apiDataVolume(volume) });
  }
  return mounts;
}

/** $(VAR) references from the container's env; a reference to an unset or empty variable is an error, as in kubelet. */
function expandSubPath(m: VolumeMountSpec, env: { name: string; value: string }[], fail: (msg: string) => Error): string {
  const missing = new Set<string>();
  const vars = new Map(env.map((e) => [e.name, e.value]));
  const recording = new (class extends Map<string, string> {
    override has(key: string): boolean {
      if (!vars.get(key)) missing.add(key);
      return true;
    }
    override get(key: string): string {
      return vars.get(key) ?? '';
    }
  })();
  const out = expandVars(m.subPathExpr!, recording);
  if (missing.size) throw fail(`missing value for ${[...missing].sort().join(', ')}`);
  return out;
}

/**
 * The node path for `subPath` inside the volume at `base`. It may not leave the volume (also not
 * through symlinks); a missing subPath is created as a directory. Symlinks are resolved here, so
 * a subPath into a configMap volume pins the file as it is now (it never updates, as in Kubernetes).
 */
async function resolveSubPath(base: string, subPath: string, fail: (msg: string) => Error): Promise<string> {
  if (subPath.startsWith('/')) throw fail(`error SubPath \`${subPath}\` must not be an absolute path`);
  if (subPath.split('/').includes('..')) throw fail(`unable to provision SubPath \`${subPath}\`: must not contain '..'`);
  const root = await realpath(base);
  const wanted = join(base, subPath);
  const exists = await stat(wanted).then(
    () => true,
    () => false,
  );
  if (!exists) {
    const mode = (await stat(root)).mode & 0o7777;
    await mkdir(wanted, { recursive: true, mode });
  }
  const resolved = await realpath(wanted);
  if (resolved !== root && !resolved.startsWith(root + sep)) throw fail(`subpath "${subPath}" not within volume path "${base}"`);
  return resolved;
}
