// The pod-spec shapes the prober and the lifecycle hooks read (core/v1 Probe, LifecycleHandler,
// Container ports) and kubelet's defaults for a probe's timing.

export type PortRef = number | string;

export interface HttpGetAction {
  path?: string;
  port: PortRef;
  host?: string;
  scheme?: string;
  httpHeaders?: { name: string; value: string }[];
}

export interface ProbeHandler {
  exec?: { command?: string[] };
  httpGet?: HttpGetAction;
  tcpSocket?: { port: PortRef; host?: string };
  grpc?: { port: number; service?: string };
}

export interface ProbeSpec extends ProbeHandler {
  initialDelaySeconds?: number;
  timeoutSeconds?: number;
  periodSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
  terminationGracePeriodSeconds?: number;
}

export interface LifecycleHandler {
  exec?: { command?: string[] };
  httpGet?: HttpGetAction;
  sleep?: { seconds: number };
}

export interface ProbedContainerSpec {
  name: string;
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: ProbeSpec;
  readinessProbe?: ProbeSpec;
  startupProbe?: ProbeSpec;
  lifecycle?: { postStart?: LifecycleHandler; preStop?: LifecycleHandler };
}

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

/** How kubelet names the probe in events and logs. */
export const PROBE_LABEL: Record<ProbeKind, string> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };

export interface ProbeTiming {
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
}

/** A probe's timing with the API defaults filled in (period 10 s, timeout 1 s, thresholds 1 and 3). */
export function probeTiming(p: ProbeSpec): ProbeTiming {
  const positive = (v: number | undefined, d: number) => (typeof v === 'number' && v > 0 ? v : d);
  return {
    initialDelaySeconds: Math.max(0, p.initialDelaySeconds ?? 0),
    periodSeconds: positive(p.periodSeconds, 10),
    timeoutSeconds: positive(p.timeoutSeconds, 1),
    successThreshold: positive(p.successThreshold, 1),
    failureThreshold: positive(p.failureThreshold, 3),
  };
}

export function probeOf(c: ProbedContainerSpec, kind: ProbeKind): ProbeSpec | undefined {
  return kind === 'liveness' ? c.livenessProbe : kind === 'readiness' ? c.readinessProbe : c.startupProbe;
}

/**
 * A probe or hook port: a number, or the name of one of the container's ports (a string of digits
 * is taken as a number, as kubelet does). Throws with kubelet's message when neither fits.
 */
export function resolvePort(port: PortRef, container: ProbedContainerSpec): number {
  let n: number;
  if (typeof port === 'number') n = port;
  else {
    const named = container.ports?.find((p) => p.name === port);
    if (named) n = named.containerPort;
    else if (/^[+-]?\d+$/.test(port)) n = Number(port);
    else throw new Error(`strconv.Atoi: parsing ${JSON.stringify(port)}: invalid syntax`);
  }
  if (!(n > 0 && n < 65536)) throw new Error(`invalid port number: ${n}`);
  return n;
}
