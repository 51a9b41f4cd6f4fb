// One run of a probe: pick the check its handler names and retry a check that could not run at
// all (not one that ran and failed), as kubelet's prober does.
import { execCheck, grpcCheck, httpGetCheck, tcpCheck, type CheckOutcome, type CheckTarget } from './actions.js';
import type { ProbeSpec } from './spec.js';

const MAX_ATTEMPTS = 3;

export interface ProbeRun extends CheckOutcome {
  /** Set when the check could not run (e.g. the port name is unknown); the result is then 'unknown'. */
  error?: string;
}

function check(spec: ProbeSpec, target: CheckTarget, timeoutSeconds: number): Promise<CheckOutcome> {
  if (spec.exec) return execCheck(spec.exec.command ?? [], target, timeoutSeconds);
  if (spec.httpGet) return httpGetCheck(spec.httpGet, target, timeoutSeconds);
  if (spec.tcpSocket) return tcpCheck(spec.tcpSocket, target, timeoutSeconds);
  if (spec.grpc) return grpcCheck(spec.grpc, target, timeoutSeconds);
  return Promise.resolve({ result: 'unknown', output: '' });
}

export async function runProbe(spec: ProbeSpec, target: CheckTarget, timeoutSeconds: number): Promise<ProbeRun> {
  let error = '';
  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    try {
      return await check(spec, target, timeoutSeconds);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
  }
  return { result: 'unknown', output: '', error };
}
