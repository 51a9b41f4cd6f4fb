// The agent's view of its pods: list, then watch from the list's resourceVersion, resuming after
// each server timeout and relisting when the history is gone (410). Pods that vanished while the
// watch was down are reported as DELETED after the relist.
import { KubeApiError, type KubeClient } from '../shared/client/kube-client.js';
import type { Logger } from '../shared/apiserver/logger.js';

export type PodEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export type Pod = Record<string, unknown> & { metadata: { name: string; namespace: string; uid: string; resourceVersion?: string; deletionTimestamp?: string }; spec: { nodeName?: string } };

export interface PodSourceOptions {
  client: KubeClient;
  /** Field selector of the pods to follow, e.g. spec.nodeName=node-1. */
  fieldSelector: string;
  onEvent: (type: PodEventType, pod: Pod) => void;
  log: Logger;
  /** Seconds a watch request stays open before the server ends it (default 300). */
  watchTimeoutSeconds?: number;
}

export class PodSource {
  private stopped = false;
  private current?: { close(): void };
  private readonly known = new Map<string, Pod>();
  private loop?: Promise<void>;

  constructor(private readonly opts: PodSourceOptions) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.close();
    await this.loop;
  }

  /** The pods as last seen from the API (spec and status). */
  list(): Pod[] {
    return [...this.known.values()];
  }

  get(namespace: string, name: string): Pod | undefined {
    for (const pod of this.known.values()) if (pod.metadata.namespace === namespace && pod.metadata.name === name) return pod;
    return undefined;
  }

  private async run(): Promise<void> {
    const { client, fieldSelector, log } = this.opts;
    const selector = encodeURIComponent(fieldSelector);
    let rv: string | undefined;
    let backoffMs = 200;
    while (!this.stopped) {
      try {
        if (!rv) rv = await this.relist(selector);
        const timeout = this.opts.watchTimeoutSeconds ?? 300;
        const handle = client.watch(`/api/v1/pods?fieldSelector=${selector}&resourceVersion=${rv}&allowWatchBookmarks=true&timeoutSeconds=${timeout}`, (type, obj) => {
          if (type === 'ERROR') {
            const code = (obj as { code?: number }).code;
            if (code === 410) rv = undefined;
            handle.close();
            return;
          }
          const pod = obj as Pod;
          if (pod.metadata?.resourceVersion) rv = pod.metadata.resourceVersion;
          if (type === 'BOOKMARK') return;
          this.deliver(type, pod);
        });
        this.current = handle;
        await handle.done;
        backoffMs = 200;
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof KubeApiError && err.code === 410) rv = undefined;
        log.warn({ err: err instanceof Error ? err.message : String(err), retryInMs: backoffMs }, 'pod watch failed; retrying');
        await new Promise((r) => setTimeout(r, backoffMs));
        backoffMs = Math.min(30_000, backoffMs * 2);
      }
    }
  }

  private async relist(selector: string): Promise<string> {
    const list = await this.opts.client.get<{ metadata: { resourceVersion: string }; items: Pod[] }>(`/api/v1/pods?fieldSelector=${selector}`);
    const seen = new Set<string>();
    for (const pod of list.items) {
      seen.add(pod.metadata.uid);
      this.deliver(this.known.has(pod.metadata.uid) ? 'MODIFIED' : 'ADDED', pod);
    }
    for (const [uid, pod] of [...this.known]) if (!seen.has(uid)) this.deliver('DELETED', pod);
    return list.metadata.resourceVersion;
  }

  private deliver(type: PodEventType, pod: Pod): void {
    if (type === 'DELETED') this.known.delete(pod.metadata.uid);
    else this.known.set(pod.metadata.uid, pod);
    try {
      this.opts.onEvent(type, pod);
    } catch (err) {
      this.opts.log.error({ err: String(err), pod: `${pod.metadata.namespace}/${pod.metadata.name}` }, 'pod handler failed');
    }
  }
}
