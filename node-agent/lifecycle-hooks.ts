// Container lifecycle hooks (postStart, preStop) the way kubelet runs them: exec in the
// container, an HTTP GET (any answer is fine, only a failed request fails the hook) or a sleep,
// with kubelet's failure messages for the FailedPostStartHook / FailedPreStopHook events.
import { httpGetCheck, type ExecFn } from './probes/actions.js';
import type { LifecycleHandler, ProbedContainerSpec } from './probes/spec.js';

export const LIFECYCLE_USER_AGENT = 'kube-lifecycle/1.33';

export interface HookContext {
  pod: { name: string; namespace: string; uid: string };
  container: ProbedContainerSpec;
  podIP: string;
  exec?: ExecFn;
}

export type HookOutcome = { status: 'ok' } | { status: 'failed'; message: string } | { status: 'timeout' };

/** Without a limit a hook runs as long as it takes (kubelet puts none on postStart); this only guards against forever. */
const UNBOUNDED_SECONDS = 24 * 3600;

const podRef = (p: HookContext['pod']) => `${p.name}_${p.namespace}(${p.uid})`;

/** Run a hook; `limitSeconds` (preStop: what is left of the grace period) ends the wait with 'timeout'. */
export async function runLifecycleHook(handler: LifecycleHandler, ctx: HookContext, limitSeconds?: number): Promise<HookOutcome> {
  const limit = limitSeconds ?? UNBOUNDED_SECONDS;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<HookOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'timeout' }), Math.max(0, limit) * 1000);
    timer.unref?.();
  });
  try {
    return await Promise.race([runHandler(handler, ctx, limit), expired]);
  } finally {
    clearTimeout(timer);
  }
}

async function runHandler(handler: LifecycleHandler, ctx: HookContext, limit: number): Promise<HookOutcome> {
  const who = `for Container ${JSON.stringify(ctx.container.name)} in Pod ${JSON.stringify(podRef(ctx.pod))}`;
  if (handler.exec) {
    const cmd = handler.exec.command ?? [];
    try {
      const { exitCode, stdout, stderr } = await execOutput(cmd, ctx, limit);
      if (exitCode === 0) return { status: 'ok' };
      const output = stdout + stderr;
      return { status: 'failed', message: `Exec lifecycle hook ([${cmd.join(' ')}]) ${who} failed - error: command '${cmd.join(' ')}' exited with ${exitCode}: ${stderr}, message: ${JSON.stringify(output)}` };
    } catch (e) {
      return { status: 'failed', message: `Exec lifecycle hook ([${cmd.join(' ')}]) ${who} failed - error: ${e instanceof Error ? e.message : String(e)}, message: ""` };
    }
  }
  if (handler.httpGet) {
    try {
      const res = await httpGetCheck(handler.httpGet, { podIP: ctx.podIP, container: ctx.container }, limit, { userAgent: LIFECYCLE_USER_AGENT, anyStatus: true });
      if (res.result === 'success') return { status: 'ok' };
      return { status: 'failed', message: `HTTP lifecycle hook (${handler.httpGet.path ?? ''}) ${who} failed - error: ${res.output}` };
    } catch (e) {
      return { status: 'failed', message: `HTTP lifecycle hook (${handler.httpGet.path ?? ''}) ${who} failed - error: ${e instanceof Error ? e.message : String(e)}` };
    }
  }
  if (handler.sleep) {
    await new Promise((r) => setTimeout(r, Math.max(0, handler.sleep!.seconds) * 1000));
    return { status: 'ok' };
  }
  return { status: 'failed', message: `Cannot run handler: ${who}: no exec, httpGet or sleep action` };
}

async function execOutput(cmd: string[], ctx: HookContext, limit: number): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  if (!ctx.exec) throw new Error('the container runtime cannot run commands in containers');
  return ctx.exec(cmd, limit >= UNBOUNDED_SECONDS ? 0 : Math.ceil(limit));
}
