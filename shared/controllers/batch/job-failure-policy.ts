// spec.podFailurePolicy: the first rule matching a failed pod (by container exit codes or pod
// conditions) decides whether the failure fails the whole Job, is ignored, or counts as usual.
import type { KubeObject } from '../../api/kind.js';

export const REASON_POD_FAILURE_POLICY = 'PodFailurePolicy';

interface ExitCodes {
  containerName?: string;
  operator?: string;
  values?: number[];
}

interface Rule {
  action?: string;
  onExitCodes?: ExitCodes;
  onPodConditions?: { type?: string; status?: string }[];
}

interface Terminated {
  name?: string;
  state?: { terminated?: { exitCode?: number } };
}

interface FailedPodStatus {
  containerStatuses?: Terminated[];
  initContainerStatuses?: Terminated[];
  conditions?: { type?: string; status?: string }[];
}

export interface PolicyMatch {
  /** Set when a FailJob rule matched: the message of the Job's failure. */
  failJobMessage?: string;
  /** False when an Ignore rule matched: the failure does not count against backoffLimit. */
  counts: boolean;
}

function exitCodeMatches(code: number, req: ExitCodes): boolean {
  const listed = (req.values ?? []).includes(code);
  if (req.operator === 'In') return listed;
  if (req.operator === 'NotIn') return !listed;
  return false;
}

/** The first terminated container (regular ones before init ones) whose non-zero exit code meets the requirement. */
function matchingContainer(status: FailedPodStatus, req: ExitCodes): Terminated | undefined {
  for (const list of [status.containerStatuses ?? [], status.initContainerStatuses ?? []]) {
    for (const c of list) {
      const code = c.state?.terminated?.exitCode;
      if (code === undefined || code === 0) continue;
      if (req.containerName !== undefined && req.containerName !== c.name) continue;
      if (exitCodeMatches(code, req)) return c;
    }
  }
  return undefined;
}

export function matchPodFailurePolicy(policy: unknown, pod: KubeObject): PolicyMatch {
  const rules = ((policy as { rules?: Rule[] } | undefined)?.rules ?? []) as Rule[];
  const status = (pod.status ?? {}) as FailedPodStatus;
  const where = `${pod.metadata.namespace}/${pod.metadata.name}`;
  for (const [index, rule] of rules.entries()) {
    let failJobMessage: string | undefined;
    if (rule.onExitCodes) {
      const c = matchingContainer(status, rule.onExitCodes);
      if (!c) continue;
      failJobMessage = `Container ${c.name} for pod ${where} failed with exit code ${c.state!.terminated!.exitCode} matching ${rule.action} rule at index ${index}`;
    } else if (rule.onPodConditions) {
      const cond = (status.conditions ?? []).find((pc) => rule.onPodConditions!.some((p) => p.type === pc.type && (p.status ?? 'True') === pc.status));
      if (!cond) continue;
      failJobMessage = `Pod ${where} has condition ${cond.type} matching ${rule.action} rule at index ${index}`;
    } else {
      continue;
    }
    if (rule.action === 'Ignore') return { counts: false };
    if (rule.action === 'FailJob') return { counts: true, failJobMessage };
    if (rule.action === 'Count' || rule.action === 'FailIndex') return { counts: true };
    // An unknown action falls through to the next rule, as Kubernetes' switch does.
  }
  return { counts: true };
}
