// A local copy of one cluster-wide collection (Services, EndpointSlices, Pods): list, then watch
// from the list's resourceVersion, resuming after server timeouts and relisting after 410. Each
// change calls onChange; synced() resolves after the first list.
import { KubeApiError, type KubeClient } from '../../shared/client/kube-client.js';
import type { Logger } from '../../shared/apiserver/logger.js';

export type CachedObject = { metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string } };

export interface ResourceCacheOptions {
  client: KubeClient;
  /** Collection path, e.g. /api/v1/services or /apis/discovery.k8s.io/v1/endpointslices. */
  path: string;
  log: Logger;
  onChange: () => void;
  /** Seconds a watch stays open before the server ends it (default 300). */
  watchTimeoutSeconds?: number;
}

const keyOf = (o: CachedObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export class ResourceCache<T extends CachedObject = CachedObject> {
  private readonly items = new Map<string, T>();
  private stopped = false;
  private current?: { close(): void };
  private loop?: Promise<void>;
  private markSynced!: () => void;
  private readonly syncedPromise = new Promise<void>((r) => (this.markSynced = r));

  constructor(private readonly opts: ResourceCacheOptions) {}

  start(): void {
    this.loop = this.run();
  }

  synced(): Promise<void> {
    return this.syncedPromise;
  }

  list(): T[] {
    return [...this.items.values()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.close();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { client, path, log } = this.opts;
    const sep = path.includes('?') ? '&' : '?';
    let rv: string | undefined;
    let backoffMs = 200;
    while (!this.stopped) {
      try {
        if (!rv) rv = await this.relist();
        const timeout = this.opts.watchTimeoutSeconds ?? 300;
        const handle = client.watch(`${path}${sep}resourceVersion=${rv}&allowWatchBookmarks=true&timeoutSeconds=${timeout}`, (type, raw) => {
          if (type === 'ERROR') {
            if ((raw as { code?: number }).code === 410) rv = undefined;
            handle.close();
            return;
          }
          const obj = raw as unknown as T;
          if (obj.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
          if (type === 'BOOKMARK') return;
          if (type === 'DELETED') this.items.delete(keyOf(obj));
          else this.items.set(keyOf(obj), obj);
          this.opts.onChange();
        });
        this.current = handle;
        if (this.stopped) handle.close();
        await handle.done;
        backoffMs = 200;
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof KubeApiError && err.code === 410) rv = undefined;
        log.warn({ path, err: err instanceof Error ? err.message : String(err), retryInMs: backoffMs }, 'watch failed; retrying');
        await new Promise((r) => setTimeout(r, backoffMs));
        backoffMs = Math.min(30_000, backoffMs * 2);
      }
    }
  }

  private async relist(): Promise<string> {
    const list = await this.opts.client.get<{ metadata: { resourceVersion: string }; items: T[] }>(this.opts.path);
    this.items.clear();
    for (const obj of list.items) this.items.set(keyOf(obj), obj);
    this.markSynced();
    this.opts.onChange();
    return list.metadata.resourceVersion;
  }
}
