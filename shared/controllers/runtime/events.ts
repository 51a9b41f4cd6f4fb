// Events as Kubernetes' recorder writes them (core/v1 Event, what `kubectl describe` and `kubectl
// get events` show): one Event per (object, type, reason, message, component); a repeat within
// the correlation window bumps count and lastTimestamp instead of adding another object.
// Recording never fails a reconcile: a lost Event is logged and forgotten.
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../../api/kind.js';
import type { Logger } from '../../apiserver/logger.js';
import { rfc3339 } from '../../apiserver/metadata.js';
import { isNotFound, type ApiClient } from './client.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  record(involved: KubeObject, type: EventType, reason: string, message: string): Promise<void>;
  /** A recorder reporting as another component (e.g. "deployment-controller", "default-scheduler"). */
  forComponent(component: string): EventRecorder;
}

interface Seen {
  namespace: string;
  name: string;
  count: number;
  firstTimestamp: string;
  at: number;
}

const WINDOW_MS = 10 * 60_000;
const MAX_REMEMBERED = 4096;

export function createEventRecorder(client: ApiClient, log: Logger, clock: () => Date = () => new Date(), component = 'stratus'): EventRecorder {
  const seen = new Map<string, Seen>();

  const recorder = (source: string): EventRecorder => ({
    forComponent: (c) => recorder(c),
    async record(involved, type, reason, message) {
      const meta = involved.metadata;
      const namespace = meta.namespace || 'default';
      const now = clock();
      const stamp = rfc3339(now);
      const id = `${meta.uid}|${type}|${reason}|${message}|${source}`;
      const prior = seen.get(id);
      try {
        if (prior && now.getTime() - prior.at < WINDOW_MS) {
          prior.count++;
          prior.at = now.getTime();
          try {
            await client.patch('core/events', prior.namespace, prior.name, 'merge', { count: prior.count, lastTimestamp: stamp });
            return;
          } catch (e) {
            if (!isNotFound(e)) throw e;
          }
        }
        const name = `${meta.name}.${now.getTime().toString(16)}${randomBytes(3).toString('hex')}`;
        const involvedObject: Record<string, unknown> = { kind: involved.kind, apiVersion: involved.apiVersion, name: meta.name, uid: meta.uid, resourceVersion: meta.resourceVersion };
        if (meta.namespace) involvedObject.namespace = meta.namespace;
        await client.create('core/events', {
          metadata: { name, namespace },
          involvedObject,
          reason,
          message,
          source: { component: source },
          firstTimestamp: stamp,
          lastTimestamp: stamp,
          count: 1,
          type,
          reportingComponent: source,
          reportingInstance: '',
        });
        if (seen.size >= MAX_REMEMBERED) seen.delete(seen.keys().next().value!);
        seen.set(id, { namespace, name, count: 1, firstTimestamp: stamp, at: now.getTime() });
      } catch (err) {
        log.debug({ reason, object: `${meta.namespace ?? ''}/${meta.name}`, err: err instanceof Error ? err.message : String(err) }, 'event not recorded');
      }
    },
  });
  return recorder(component);
}
