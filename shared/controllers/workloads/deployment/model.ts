// Typed views of the apps/v1 and core/v1 objects the Deployment and ReplicaSet controllers read,
// plus the label and annotation keys Kubernetes' controllers put on them.
import type { KubeObject } from '../../../api/kind.js';
import { labelSelectorFromStruct, matchesLabels, type MetaLabelSelector } from '../../../api/selectors/labels.js';

export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
export const DEPRECATED_ROLLBACK_TO_ANNOTATION = 'deprecated.deployment.rollback.to';
export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[]; [k: string]: unknown };
  spec?: Record<string, unknown>;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

export interface ReplicaSetStatus {
  replicas?: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: Condition[];
}

export interface ReplicaSet extends KubeObject {
  spec: { replicas?: number; minReadySeconds?: number; selector?: MetaLabelSelector; template?: PodTemplate };
  status?: ReplicaSetStatus;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: Condition[];
  collisionCount?: number;
}

export interface Deployment extends KubeObject {
  spec: {
    replicas?: number;
    selector?: MetaLabelSelector;
    template?: PodTemplate;
    strategy?: { type?: string; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };
    minReadySeconds?: number;
    revisionHistoryLimit?: number;
    paused?: boolean;
    progressDeadlineSeconds?: number;
  };
  status?: DeploymentStatus;
}

export interface Pod extends KubeObject {
  spec?: { nodeName?: string; [k: string]: unknown };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; lastTransitionTime?: string }[];
    containerStatuses?: { restartCount?: number }[];
    [k: string]: unknown;
  };
}

export const MAX_INT32 = 2147483647;

/** spec.replicas of a ReplicaSet (0 when absent, as a defaulted object never is). */
export const rsReplicas = (rs: ReplicaSet): number => rs.spec.replicas ?? 0;

/** spec.replicas of a Deployment (defaulted to 1 by the API server). */
export const deploymentReplicas = (d: Deployment): number => d.spec.replicas ?? 1;

/** Whether `obj` matches a metav1.LabelSelector; invalid selectors match nothing. */
export function selectorMatches(selector: MetaLabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  try {
    return matchesLabels(labelSelectorFromStruct(selector), labels ?? {});
  } catch {
    return false;
  }
}

/** An empty metav1.LabelSelector (selects everything), which Deployments and ReplicaSets refuse to act on. */
export function isEmptySelector(selector: MetaLabelSelector | undefined): boolean {
  if (!selector) return false;
  return !Object.keys(selector.matchLabels ?? {}).length && !(selector.matchExpressions ?? []).length;
}

/** Milliseconds of an RFC 3339 timestamp; 0 (Go's zero time) when absent or unreadable. */
export function timeOf(stamp: string | undefined): number {
  if (!stamp) return 0;
  const t = Date.parse(stamp);
  return Number.isNaN(t) ? 0 : t;
}

/** Drops zero counters, as Go's omitempty does when Kubernetes serializes a status. */
export function withoutZeros<T extends object>(status: T, keep: readonly string[] = []): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(status)) {
    if (v === undefined) continue;
    if (v === 0 && !keep.includes(k)) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  return out as T;
}
