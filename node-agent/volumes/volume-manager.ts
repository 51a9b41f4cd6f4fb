// Sets up a pod's volumes on the node before its containers run, keeps configMap/secret/
// downwardAPI/projected volumes in step with the API (periodic refresh, like kubelet's resync),
// and removes them when the pod goes. Layout: <root>/<pod uid>/volumes/kubernetes.io~<plugin>/<name>;
// hostPath volumes are the node path itself.
import { mkdirSync, realpathSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PodObject } from '../cri/pod-config.js';
import { configMapPayload, DEFAULT_FILE_MODE, projectedPayload, secretPayload } from './api-data.js';
import { writeAtomically, type Payload } from './atomic-writer.js';
import { apiDataVolume } from './container-mounts.js';
import { downwardApiPayload } from './downward-api.js';
import { prepareEmptyDir, unmountBelow } from './empty-dir.js';
import { prepareHostPath } from './host-path.js';
import { PLUGIN_DIRS, VolumeSetupError, type NodeAllocatable, type VolumeSources, type VolumeSpec } from './types.js';

export interface VolumeManagerOptions {
  /** Directory holding one directory per pod uid. Created if missing. */
  root: string;
  sources?: VolumeSources;
  allocatable?: NodeAllocatable;
  /** How often API-data volumes are re-read and rewritten when changed (default 10 s; 0 = never). */
  refreshIntervalMs?: number;
  /** A pod-level event, e.g. Warning FailedMount, as kubelet records it. */
  recordEvent?: (pod: PodObject, type: 'Normal' | 'Warning', reason: string, message: string) => void;
  /** Things an operator should know that are not the pod's fault (e.g. tmpfs not available). */
  warn?: (message: string) => void;
}

export type VolumeKind = keyof typeof PLUGIN_DIRS | 'hostPath';

export function volumeKind(v: VolumeSpec): VolumeKind | undefined {
  if (v.emptyDir) return 'emptyDir';
  if (v.hostPath) return 'hostPath';
  if (v.configMap) return 'configMap';
  if (v.secret) return 'secret';
  if (v.downwardAPI) return 'downwardAPI';
  if (v.projected) return 'projected';
  return undefined;
}

export class VolumeManager {
  readonly root: string;
  /** Pods whose API-data volumes are refreshed, by uid. */
  private readonly pods = new Map<string, PodObject>();
  /** Per-pod chain, so setup, refresh and teardown of one pod never overlap. */
  private readonly chains = new Map<string, Promise<unknown>>();
  private timer?: NodeJS.Timeout;
  private refreshing = false;

  constructor(private readonly opts: VolumeManagerOptions) {
    mkdirSync(opts.root, { recursive: true });
    // Mount points are compared with /proc/self/mountinfo, which shows resolved paths.
    this.root = realpathSync(opts.root);
    const every = opts.refreshIntervalMs ?? 10_000;
    if (every > 0) {
      this.timer = setInterval(() => void this.refresh(), every);
      this.timer.unref();
    }
  }

  close(): void {
    clearInterval(this.timer);
  }

  podDir(uid: string): string {
    return join(this.root, uid);
  }

  /** Where the volume lives on the node (what a container mount binds). */
  volumePath(pod: PodObject, v: VolumeSpec): string {
    const kind = volumeKind(v);
    if (kind === 'hostPath') return v.hostPath!.path;
    return join(this.podDir(pod.metadata.uid), 'volumes', PLUGIN_DIRS[kind ?? 'emptyDir'], v.name);
  }

  /** Create or update every volume of the pod; throws VolumeSetupError (and records FailedMount) for the first that fails. */
  setUp(pod: PodObject): Promise<void> {
    return this.serialized(pod.metadata.uid, async () => {
      for (const v of pod.spec.volumes ?? []) {
        try {
          await this.setUpVolume(pod, v);
        } catch (e) {
          const err = new VolumeSetupError(v.name, e instanceof Error ? e.message : String(e));
          this.opts.recordEvent?.(pod, 'Warning', err.reason, err.message);
          throw err;
        }
      }
      if ((pod.spec.volumes ?? []).some((v) => apiDataVolume(v))) this.pods.set(pod.metadata.uid, pod);
    });
  }

  /** Unmount and delete the pod's volume directory (hostPath volumes are left alone). */
  tearDown(uid: string): Promise<void> {
    this.pods.delete(uid);
    return this.serialized(uid, async () => {
      const dir = this.podDir(uid);
      await unmountBelow(dir);
      await rm(dir, { recursive: true, force: true });
    });
  }

  /** Rewrite API-data volumes whose source changed. A source that cannot be read keeps the files as they are, like kubelet. */
  async refresh(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      for (const uid of [...this.pods.keys()]) {
        await this.serialized(uid, async () => {
          let pod = this.pods.get(uid);
          if (!pod) return;
          pod = await this.latest(pod);
          if (!pod) return;
          for (const v of pod.spec.volumes ?? []) {
            if (!apiDataVolume(v)) continue;
            if (!this.pods.has(uid)) return;
            await this.setUpVolume(pod, v).catch(() => undefined);
          }
        });
      }
    } finally {
      this.refreshing = false;
    }
  }

  private async latest(pod: PodObject): Promise<PodObject | undefined> {
    const usesMetadata = (pod.spec.volumes ?? []).some((v) => v.downwardAPI || v.projected?.sources?.some((s) => s.downwardAPI));
    if (!this.opts.sources?.pod || !usesMetadata) return pod;
    const current = (await this.opts.sources.pod(pod.metadata.namespace, pod.metadata.name).catch(() => pod)) as unknown as PodObject | undefined;
    if (!current || current.metadata.uid !== pod.metadata.uid) return undefined;
    // Only metadata can change on a running pod's volumes' behalf; keep the spec the pod started with.
    const updated: PodObject = { ...pod, metadata: { ...pod.metadata, labels: current.metadata.labels, annotations: current.metadata.annotations } };
    this.pods.set(pod.metadata.uid, updated);
    return updated;
  }

  private async setUpVolume(pod: PodObject, v: VolumeSpec): Promise<void> {
    const path = this.volumePath(pod, v);
    const ns = pod.metadata.namespace;
    const kind = volumeKind(v);
    switch (kind) {
      case 'emptyDir': {
        const result = await prepareEmptyDir(path, v.emptyDir!.medium, v.emptyDir!.sizeLimit);
        if (result.fallback) this.opts.warn?.(`emptyDir "${v.name}" of pod ${ns}/${pod.metadata.name} uses a plain directory, tmpfs could not be mounted: ${result.fallback}`);
        return;
      }
      case 'hostPath':
        return prepareHostPath(v.hostPath!.path, v.hostPath!.type);
      case 'configMap':
        return this.write(path, await configMapPayload(ns, v.configMap!, this.opts.sources));
      case 'secret': {
        const s = v.secret!;
        return this.write(path, await secretPayload(ns, s.secretName ?? '', s.items, s.optional ?? false, s.defaultMode ?? DEFAULT_FILE_MODE, this.opts.sources));
      }
      case 'downwardAPI':
        return this.write(path, downwardApiPayload(pod, v.downwardAPI!.items ?? [], v.downwardAPI!.defaultMode ?? DEFAULT_FILE_MODE, this.opts.allocatable));
      case 'projected': {
        const payload = await projectedPayload(v.projected!.sources ?? [], v.projected!.defaultMode ?? DEFAULT_FILE_MODE, {
          pod,
          sources: this.opts.sources,
          allocatable: this.opts.allocatable,
          onSkipped: (what) => this.opts.warn?.(`projected volume "${v.name}" of pod ${ns}/${pod.metadata.name}: ${what} is not served by this node`),
        });
        return this.write(path, payload);
      }
      default:
        throw new Error(`volume type ${Object.keys(v).find((k) => k !== 'name') ?? '(none)'} is not supported by this node`);
    }
  }

  private async write(path: string, payload: Payload): Promise<void> {
    await writeAtomically(path, payload);
  }

  private serialized<T>(uid: string, work: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(uid) ?? Promise.resolve();
    const next = prev.then(work, work);
    const tail = next.catch(() => undefined);
    this.chains.set(uid, tail);
    void tail.then(() => {
      if (this.chains.get(uid) === tail) this.chains.delete(uid);
    });
    return next;
  }
}

