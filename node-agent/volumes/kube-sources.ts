// The API side of volumes for a real node: ConfigMaps, Secrets and the pod itself read through the
// agent's KubeClient (404 means "does not exist"), and pod Events recorded as kubelet does
// (source component "kubelet", a repeat bumps count instead of adding another Event).
import { randomBytes } from 'node:crypto';
import { isKubeNotFound, type KubeClient } from '../../shared/client/kube-client.js';
import type { PodObject } from '../cri/pod-config.js';
import type { DataObject, VolumeSources } from './types.js';
import { requestPodServiceAccountToken, tokenRefreshAt } from '../service-account-token.js';

export function kubeVolumeSources(client: KubeClient): VolumeSources {
  const get = async <T>(path: string): Promise<T | undefined> => {
    try {
      return await client.get<T>(path);
    } catch (e) {
      if (isKubeNotFound(e)) return undefined;
      throw e;
    }
  };
  const at = (ns: string, resource: string, name: string) => `/api/v1/namespaces/${encodeURIComponent(ns)}/${resource}/${encodeURIComponent(name)}`;
  // Volume refreshes run every few seconds; a token is only requested again once kubelet would
  // refresh it (80% of its lifetime), or for a new pod.
  const tokens = new Map<string, { token: string; refreshAt: number }>();
  return {
    configMap: (ns, name) => get<DataObject>(at(ns, 'configmaps', name)),
    secret: (ns, name) => get<DataObject>(at(ns, 'secrets', name)),
    pod: (ns, name) => get<Record<string, unknown>>(at(ns, 'pods', name)),
    async serviceAccountToken(pod, source) {
      const key = `${pod.metadata.uid}|${source.audience ?? ''}|${source.expirationSeconds ?? ''}`;
      const cached = tokens.get(key);
      if (cached && Date.now() < cached.refreshAt) return cached.token;
      const issuedAt = new Date();
      const { token, expirationTimestamp } = await requestPodServiceAccountToken(client, pod as typeof pod & { spec: { serviceAccountName?: string } }, source);
      for (const [k, v] of tokens) if (Date.now() >= v.refreshAt) tokens.delete(k);
      tokens.set(key, { token, refreshAt: tokenRefreshAt(issuedAt, expirationTimestamp).getTime() });
      return token;
    },
  };
}

export type PodEventRecorder = (pod: PodObject, type: 'Normal' | 'Warning', reason: string, message: string) => void;

const MAX_REMEMBERED = 1024;

/** Fire-and-forget Events about pods; a failure to record is ignored (events are best effort). */
export function kubePodEventRecorder(client: KubeClient, nodeName: string): PodEventRecorder {
  const seen = new Map<string, { name: string; namespace: string; count: number }>();
  const record = async (pod: PodObject, type: string, reason: string, message: string) => {
    const { namespace, name, uid } = pod.metadata;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const key = `${uid}|${type}|${reason}|${message}`;
    const prior = seen.get(key);
    if (prior) {
      prior.count++;
      try {
        await client.patch(`/api/v1/namespaces/${encodeURIComponent(prior.namespace)}/events/${encodeURIComponent(prior.name)}`, { count: prior.count, lastTimestamp: now });
        return;
      } catch (e) {
        if (!isKubeNotFound(e)) return;
      }
    }
    const eventName = `${name}.${Date.now().toString(16)}${randomBytes(3).toString('hex')}`;
    await client.create(`/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: eventName, namespace },
      involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace, name, uid },
      reason,
      message,
      type,
      source: { component: 'kubelet', host: nodeName },
      reportingComponent: 'kubelet',
      reportingInstance: nodeName,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
    if (seen.size >= MAX_REMEMBERED) seen.delete(seen.keys().next().value!);
    seen.set(key, { name: eventName, namespace, count: 1 });
  };
  return (pod, type, reason, message) => void record(pod, type, reason, message).catch(() => undefined);
}
