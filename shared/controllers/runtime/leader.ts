// Leader election over a coordination.k8s.io Lease, as kube-controller-manager and kube-scheduler
// do it: of several processes sharing a store, only the Lease holder runs reconciles, so two
// replicas never both create the pods one ReplicaSet is missing. The holder renews the Lease;
// another process takes it over only after it went unrenewed for its whole duration.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeObject } from '../../api/kind.js';
import type { Logger } from '../../apiserver/logger.js';
import { isAlreadyExists, isConflict, type ApiClient } from './client.js';
import type { ObjectReader } from './reader.js';

export interface LeaderElectionOptions {
  /** Lease name in kube-system (default "kube-controller-manager"). */
  leaseName?: string;
  /** This process's identity (default "<hostname>_<uuid>", as Kubernetes names it). */
  identity?: string;
  leaseDurationMs?: number;
  renewIntervalMs?: number;
}

const LEASES = 'coordination.k8s.io/leases';
const microTime = (d: Date) => d.toISOString().replace('Z', '000Z');

export class LeaderElector {
  readonly identity: string;
  private leading = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private waiters: (() => void)[] = [];
  private readonly name: string;
  private readonly durationMs: number;
  private readonly renewMs: number;

  constructor(
    private readonly client: ApiClient,
    /** Must read the store directly (not a cache): the decision needs the Lease as it is now. */
    private readonly reader: ObjectReader,
    private readonly log: Logger,
    private readonly clock: () => Date,
    opts: LeaderElectionOptions = {},
  ) {
    this.identity = opts.identity ?? `${hostname()}_${randomUUID()}`;
    this.name = opts.leaseName ?? 'kube-controller-manager';
    this.durationMs = opts.leaseDurationMs ?? 15_000;
    this.renewMs = opts.renewIntervalMs ?? 2_000;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Resolves while (or once) this process leads. */
  whenLeading(): Promise<void> {
    return this.leading || this.stopped ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  start(): void {
    const tick = () => {
      this.tryAcquireOrRenew()
        .catch((err: unknown) => {
          this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'leader election attempt failed');
          return false;
        })
        .then((ok) => this.setLeading(ok))
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(tick, this.renewMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.leading = false;
    for (const w of this.waiters.splice(0)) w();
  }

  private setLeading(ok: boolean): void {
    if (ok === this.leading) return;
    this.leading = ok;
    this.log.info({ lease: `kube-system/${this.name}`, identity: this.identity }, ok ? 'became leader' : 'lost leadership');
    if (ok) for (const w of this.waiters.splice(0)) w();
  }

  /** One round: create, renew, or take over an expired Lease. True when this process holds it. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock();
    const current = await this.reader.get(LEASES, 'kube-system', this.name);
    const spec = { holderIdentity: this.identity, leaseDurationSeconds: Math.ceil(this.durationMs / 1000), renewTime: microTime(now) };
    if (!current) {
      try {
        await this.client.create(LEASES, { metadata: { name: this.name, namespace: 'kube-system' }, spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 } });
        return true;
      } catch (e) {
        if (isAlreadyExists(e)) return false;
        throw e;
      }
    }
    const held = (current.spec ?? {}) as { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number; leaseTransitions?: number; acquireTime?: string };
    const mine = held.holderIdentity === this.identity;
    const renewedAt = held.renewTime ? Date.parse(held.renewTime) : 0;
    const expired = renewedAt + (held.leaseDurationSeconds ?? 15) * 1000 < now.getTime();
    if (!mine && !expired) return false;
    const next: KubeObject = structuredClone(current);
    next.spec = mine ? { ...held, ...spec } : { ...held, ...spec, acquireTime: microTime(now), leaseTransitions: (held.leaseTransitions ?? 0) + 1 };
    try {
      await this.client.update(LEASES, next);
      return true;
    } catch (e) {
      if (isConflict(e)) return false;
      throw e;
    }
  }
}
