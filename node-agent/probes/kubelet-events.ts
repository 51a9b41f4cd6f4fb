// Events the node agent writes about a pod's containers, as kubelet does (source kubelet on this
// node, involvedObject fieldPath spec.containers{name}): a repeat of the same event bumps its
// count instead of adding another object. Recording never fails the caller.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../shared/apiserver/logger.js';
import { isKubeNotFound, type KubeClient } from '../../shared/client/kube-client.js';

export interface EventPod {
  metadata: { name: string; namespace: string; uid: string; resourceVersion?: string };
  spec?: unknown;
}

export type KubeletEventType = 'Normal' | 'Warning';

const WINDOW_MS = 10 * 60_000;
const MAX_REMEMBERED = 2048;
const stamp = (d = new Date()) => d.toISOString().replace(/\.\d+Z$/, 'Z');

/** spec.containers{c} or spec.initContainers{c}, the reference kubelet puts on container events. */
export function containerFieldPath(pod: EventPod, container: string): string {
  const spec = pod.spec as { containers?: { name: string }[]; initContainers?: { name: string }[] } | undefined;
  const init = spec?.initContainers?.some((c) => c.name === container) && !spec?.containers?.some((c) => c.name === container);
  return `spec.${init ? 'initContainers' : 'containers'}{${container}}`;
}

export class KubeletEvents {
  private readonly seen = new Map<string, { namespace: string; name: string; count: number; at: number }>();

  constructor(
    private readonly client: KubeClient,
    private readonly nodeName: string,
    private readonly log: Logger,
  ) {}

  /** Record an event about the pod, or about one of its containers when `container` is given. */
  async record(pod: EventPod, container: string | undefined, type: KubeletEventType, reason: string, message: string): Promise<void> {
    const { namespace, name, uid } = pod.metadata;
    const fieldPath = container ? containerFieldPath(pod, container) : undefined;
    const key = `${uid}|${fieldPath ?? ''}|${type}|${reason}|${message}`;
    const now = new Date();
    const prior = this.seen.get(key);
    try {
      if (prior && now.getTime() - prior.at < WINDOW_MS) {
        prior.count++;
        prior.at = now.getTime();
        try {
          await this.client.patch(`/api/v1/namespaces/${prior.namespace}/events/${prior.name}`, { count: prior.count, lastTimestamp: stamp(now) });
          return;
        } catch (e) {
          if (!isKubeNotFound(e)) throw e;
        }
      }
      const eventName = `${name}.${now.getTime().toString(16)}${randomBytes(3).toString('hex')}`;
      await this.client.create(`/api/v1/namespaces/${namespace}/events`, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: eventName, namespace },
        involvedObject: { kind: 'Pod', namespace, name, uid, apiVersion: 'v1', ...(pod.metadata.resourceVersion ? { resourceVersion: pod.metadata.resourceVersion } : {}), ...(fieldPath ? { fieldPath } : {}) },
        reason,
        message,
        source: { component: 'kubelet', host: this.nodeName },
        firstTimestamp: stamp(now),
        lastTimestamp: stamp(now),
        count: 1,
        type,
        eventTime: null,
        reportingComponent: 'kubelet',
        reportingInstance: this.nodeName,
      });
      if (this.seen.size >= MAX_REMEMBERED) this.seen.delete(this.seen.keys().next().value!);
      this.seen.set(key, { namespace, name: eventName, count: 1, at: now.getTime() });
    } catch (err) {
      this.log.debug({ reason, pod: `${namespace}/${name}`, err: err instanceof Error ? err.message : String(err) }, 'event not recorded');
    }
  }
}
