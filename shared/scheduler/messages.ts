// The wording kube-scheduler uses when a pod does not fit: "0/3 nodes are available: 2
// Insufficient cpu, 1 node(s) were unschedulable." — reasons counted over nodes, each "<count>
// <reason>", sorted as strings — optionally followed by what preemption found.
import type { FilterStatus } from './filters.js';

export const NO_NODES_AVAILABLE = 'no nodes available to schedule pods';
export const NO_VICTIMS = 'No preemption victims found for incoming pod';
export const PREEMPTION_NOT_HELPFUL = 'Preemption is not helpful for scheduling';

/**
 * FitError.Error(): `statuses` are the nodes that were examined and rejected; nodes of the
 * `numAllNodes` not among them count under `absentReason` when given.
 */
export function fitErrorMessage(numAllNodes: number, statuses: Iterable<FilterStatus>, absentReason?: string, postFilter?: string): string {
  const counts = new Map<string, number>();
  let explicit = 0;
  for (const s of statuses) {
    explicit++;
    for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  if (absentReason && explicit < numAllNodes) counts.set(absentReason, (counts.get(absentReason) ?? 0) + numAllNodes - explicit);
  const histogram = [...counts].map(([reason, n]) => `${n} ${reason}`).sort();
  let msg = `0/${numAllNodes} nodes are available:`;
  if (histogram.length) msg += ` ${histogram.join(', ')}.`;
  if (postFilter) msg += ` ${postFilter}`;
  return msg;
}

export const scheduledMessage = (namespace: string, name: string, node: string): string => `Successfully assigned ${namespace}/${name} to ${node}`;
export const preemptedMessage = (preemptorUid: string, node: string): string => `Preempted by pod ${preemptorUid} on node ${node}`;
