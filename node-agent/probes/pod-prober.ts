// The probes of one pod (kubelet's prober manager, per pod): a worker per probe of each
// container, the latest results per container instance, and from them what kubelet reports as
// a container's `started` and `ready`.
import type { CheckTarget, ExecFn } from './actions.js';
import { probeOf, type ProbedContainerSpec, type ProbeKind } from './spec.js';
import { ProbeWorker, type ProbedInstance, type ProbeResult } from './worker.js';

export interface ContainerProbeState {
  started: boolean;
  ready: boolean;
}

export interface PodProberOptions {
  containers: ProbedContainerSpec[];
  /** The container's current instance, from the runtime's latest report. */
  instance(container: string): ProbedInstance | undefined;
  podIP(): string | undefined;
  /** Runs a command in the container (exec probes). */
  exec?(container: string, cmd: string[], timeoutSeconds: number): ReturnType<ExecFn>;
  /** A probe run failed or errored: kubelet's Warning Unhealthy event. */
  unhealthy(container: string, message: string): void;
  /** `started` or `ready` of some container changed: report the pod status again. */
  changed(): void;
  /** A liveness or startup probe reached its failure threshold: kill the container. */
  failed(container: string, kind: ProbeKind): void;
}

const KINDS: ProbeKind[] = ['startup', 'liveness', 'readiness'];

export class PodProber {
  private readonly workers: ProbeWorker[] = [];
  private readonly results = new Map<string, ProbeResult>();
  private readonly specs = new Map<string, ProbedContainerSpec>();

  constructor(private readonly opts: PodProberOptions) {
    for (const c of opts.containers) {
      this.specs.set(c.name, c);
      for (const kind of KINDS) {
        const spec = probeOf(c, kind);
        if (!spec) continue;
        this.workers.push(
          new ProbeWorker(kind, spec, {
            instance: () => opts.instance(c.name),
            started: (id) => this.isStarted(c, id),
            target: () => this.target(c),
            setResult: (k, id, r) => this.setResult(k, id, r),
            getResult: (k, id) => this.results.get(`${k}/${id}`),
            unhealthy: (message) => opts.unhealthy(c.name, message),
            failed: (k) => opts.failed(c.name, k),
          }),
        );
      }
    }
  }

  /** Whether any container has a probe (pods without probes need no prober). */
  get hasProbes(): boolean {
    return this.workers.length > 0;
  }

  start(): void {
    for (const w of this.workers) w.start();
  }

  stop(): void {
    for (const w of this.workers) w.stop();
  }

  /** The runtime reported new container states. */
  kick(): void {
    for (const w of this.workers) w.kick();
  }

  /** `started` and `ready` for a container's instance, given whether it runs. */
  state(container: string, instanceId: string, running: boolean): ContainerProbeState {
    const spec = this.specs.get(container);
    if (!spec || !running) return { started: running, ready: running };
    const started = this.isStarted(spec, instanceId);
    const ready = started && (!spec.readinessProbe || this.results.get(`readiness/${instanceId}`) === 'success');
    return { started, ready };
  }

  private isStarted(spec: ProbedContainerSpec, instanceId: string): boolean {
    return !spec.startupProbe || this.results.get(`startup/${instanceId}`) === 'success';
  }

  private target(c: ProbedContainerSpec): CheckTarget | undefined {
    const podIP = this.opts.podIP();
    if (!podIP) return undefined;
    const exec = this.opts.exec;
    return { podIP, container: c, exec: exec ? (cmd, timeout) => exec.call(this.opts, c.name, cmd, timeout) : undefined };
  }

  private setResult(kind: ProbeKind, instanceId: string, result: ProbeResult | undefined): void {
    const key = `${kind}/${instanceId}`;
    if (this.results.get(key) === result) return;
    if (result === undefined) this.results.delete(key);
    else this.results.set(key, result);
    if (kind !== 'liveness') this.opts.changed();
  }
}

