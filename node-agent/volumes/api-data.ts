// Payloads of the volumes filled from API objects: configMap, secret, and projected (configMap,
// secret and downwardAPI sources). A missing object or key fails the volume with kubelet's message
// unless the source is optional, in which case it contributes nothing.
import type { PodObject } from '../cri/pod-config.js';
import type { Payload } from './atomic-writer.js';
import { downwardApiPayload } from './downward-api.js';
import type { ConfigMapSource, DataObject, KeyToPath, NodeAllocatable, ProjectionSource, VolumeSources } from './types.js';

/** kubelet's default file mode of configMap/secret/downwardAPI/projected volumes (0644). */
export const DEFAULT_FILE_MODE = 0o644;

type Entries = Map<string, Buffer>;

export async function configMapPayload(namespace: string, source: ConfigMapSource, sources: VolumeSources | undefined, into: Payload = new Map(), defaultMode = source.defaultMode ?? DEFAULT_FILE_MODE): Promise<Payload> {
  const name = source.name ?? '';
  const obj = await sources?.configMap(namespace, name);
  if (!obj && !source.optional) throw new Error(`configmap "${name}" not found`);
  const entries: Entries = new Map();
  for (const [k, v] of Object.entries(obj?.data ?? {})) entries.set(k, Buffer.from(v, 'utf8'));
  for (const [k, v] of Object.entries(obj?.binaryData ?? {})) entries.set(k, Buffer.from(v, 'base64'));
  return project(entries, source.items, defaultMode, source.optional ?? false, (key) => `configmap references non-existent config key: ${key}`, into);
}

export async function secretPayload(namespace: string, name: string, items: KeyToPath[] | undefined, optional: boolean, defaultMode: number, sources: VolumeSources | undefined, into: Payload = new Map()): Promise<Payload> {
  const obj = await sources?.secret(namespace, name);
  if (!obj && !optional) throw new Error(`secret "${name}" not found`);
  const entries: Entries = new Map();
  for (const [k, v] of Object.entries(obj?.data ?? {})) entries.set(k, Buffer.from(v, 'base64'));
  // stringData never reaches a stored Secret, but be lenient with objects that still carry it.
  for (const [k, v] of Object.entries((obj as DataObject & { stringData?: Record<string, string> })?.stringData ?? {})) if (!entries.has(k)) entries.set(k, Buffer.from(v, 'utf8'));
  return project(entries, items, defaultMode, optional, (key) => `references non-existent secret key: ${key}`, into);
}

export interface ProjectedOptions {
  pod: PodObject;
  sources: VolumeSources | undefined;
  allocatable: NodeAllocatable | undefined;
  /** Called for sources this node cannot serve (clusterTrustBundle; serviceAccountToken without a token source). */
  onSkipped?: (what: string) => void;
}

export async function projectedPayload(projections: ProjectionSource[], defaultMode: number, opts: ProjectedOptions): Promise<Payload> {
  const payload: Payload = new Map();
  const ns = opts.pod.metadata.namespace;
  for (const p of projections) {
    if (p.configMap) await configMapPayload(ns, { ...p.configMap }, opts.sources, payload, defaultMode);
    else if (p.secret) await secretPayload(ns, p.secret.name ?? '', p.secret.items, p.secret.optional ?? false, defaultMode, opts.sources, payload);
    else if (p.downwardAPI) downwardApiPayload(opts.pod, p.downwardAPI.items ?? [], defaultMode, opts.allocatable, payload);
    else if (p.serviceAccountToken && opts.sources?.serviceAccountToken) {
      const token = await opts.sources.serviceAccountToken(opts.pod, p.serviceAccountToken);
      payload.set(p.serviceAccountToken.path, { data: Buffer.from(token), mode: defaultMode });
    } else if (p.serviceAccountToken) opts.onSkipped?.(`serviceAccountToken ${p.serviceAccountToken.path}`);
    else if (p.clusterTrustBundle) opts.onSkipped?.('clusterTrustBundle');
  }
  return payload;
}

function project(entries: Entries, items: KeyToPath[] | undefined, defaultMode: number, optional: boolean, missingKey: (key: string) => string, into: Payload): Payload {
  if (!items?.length) {
    for (const [key, data] of entries) into.set(key, { data, mode: defaultMode });
    return into;
  }
  for (const item of items) {
    const data = entries.get(item.key);
    if (!data) {
      if (optional) continue;
      throw new Error(missingKey(item.key));
    }
    into.set(item.path, { data, mode: item.mode ?? defaultMode });
  }
  return into;
}
