// One probe of one container (kubelet's probe worker): runs every periodSeconds against the
// container's current instance, after initialDelaySeconds, and turns single outcomes into a
// result only after successThreshold / failureThreshold consecutive ones. A new instance (a
// restart) starts from the probe's initial result; after a failed liveness or startup probe the
// worker holds until the container is replaced.
import type { CheckTarget } from './actions.js';
import { runProbe, type ProbeRun } from './run-probe.js';
import { PROBE_LABEL, probeTiming, type ProbeKind, type ProbeSpec, type ProbeTiming } from './spec.js';

export type ProbeResult = 'success' | 'failure';

/** The container instance a worker probes, as the runtime last reported it. */
export interface ProbedInstance {
  id: string;
  state: string;
  startedAt?: string;
}

export interface ProbeWorkerHost {
  instance(): ProbedInstance | undefined;
  /** Whether liveness/readiness may run yet (the startup probe passed, or there is none). */
  started(instanceId: string): boolean;
  target(): CheckTarget | undefined;
  /** A result (after thresholds) for an instance; undefined clears it. */
  setResult(kind: ProbeKind, instanceId: string, result: ProbeResult | undefined): void;
  getResult(kind: ProbeKind, instanceId: string): ProbeResult | undefined;
  /** A single failed (or errored) run, for the Unhealthy event. */
  unhealthy(message: string): void;
  /** Liveness or startup reached failureThreshold: the container has to be killed. */
  failed(kind: ProbeKind): void;
}

/** Where a new instance starts: readiness not ready, liveness healthy, startup not yet started. */
const INITIAL: Record<ProbeKind, ProbeResult | undefined> = { readiness: 'failure', liveness: 'success', startup: undefined };

export class ProbeWorker {
  private readonly timing: ProbeTiming;
  private timer?: NodeJS.Timeout;
  private instanceId = '';
  private onHold = false;
  private last?: ProbeResult;
  private run = 0;
  private busy = false;
  private stopped = false;

  constructor(
    readonly kind: ProbeKind,
    private readonly spec: ProbeSpec,
    private readonly host: ProbeWorkerHost,
  ) {
    this.timing = probeTiming(spec);
  }

  start(): void {
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The runtime reported a change: probe now if the container was replaced, rather than at the next tick. */
  kick(): void {
    const inst = this.host.instance();
    if (inst?.id && inst.id !== this.instanceId && inst.state === 'running') this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.probeOnce();
    } finally {
      this.busy = false;
      this.schedule(this.timing.periodSeconds * 1000);
    }
  }

  private async probeOnce(): Promise<void> {
    const inst = this.host.instance();
    if (!inst?.id) return;
    if (inst.id !== this.instanceId) {
      if (this.instanceId) this.host.setResult(this.kind, this.instanceId, undefined);
      this.instanceId = inst.id;
      this.onHold = false;
      this.last = undefined;
      this.run = 0;
      this.host.setResult(this.kind, inst.id, INITIAL[this.kind]);
    }
    if (this.onHold) return;
    if (inst.state !== 'running') {
      if (this.kind === 'readiness') this.host.setResult(this.kind, inst.id, 'failure');
      return;
    }
    if (this.kind === 'startup' ? this.host.getResult('startup', inst.id) === 'success' : !this.host.started(inst.id)) return;
    const startedAt = Date.parse(inst.startedAt ?? '');
    if (Number.isFinite(startedAt) && Date.now() - startedAt < this.timing.initialDelaySeconds * 1000) return;
    const target = this.host.target();
    if (!target) return;

    const outcome: ProbeRun = await runProbe(this.spec, target, this.timing.timeoutSeconds);
    if (this.stopped || this.host.instance()?.id !== inst.id) return;
    const label = PROBE_LABEL[this.kind];
    if (outcome.error !== undefined) {
      this.host.unhealthy(`${label} probe errored and resulted in unknown state: ${outcome.error}`);
      return;
    }
    if (outcome.result === 'unknown') return;
    if (outcome.result === 'failure') this.host.unhealthy(`${label} probe failed: ${outcome.output}`);

    if (outcome.result === this.last) this.run++;
    else {
      this.last = outcome.result;
      this.run = 1;
    }
    const threshold = outcome.result === 'failure' ? this.timing.failureThreshold : this.timing.successThreshold;
    if (this.run < threshold) return;
    this.host.setResult(this.kind, inst.id, outcome.result);
    if (outcome.result === 'failure' && this.kind !== 'readiness') {
      // The container is about to be killed: stop probing it until its next instance runs.
      this.onHold = true;
      this.run = 0;
      this.host.failed(this.kind);
    }
  }
}
