// How a write changes other managers' ownership (structured-merge-diff's Updater.update): fields it
// changed or added leave their previous owners (or conflict, for a non-forced apply), fields it removed
// leave everyone.
import { PatchError } from '../patch/errors.js';
import type { Comparison } from './compare.js';
import { FieldSet } from './fieldset.js';
import { describeManager, type ManagerRecord, type Managers } from './managers.js';
import { fieldElement, printPath, type FieldPath } from './path-element.js';

export interface Conflict {
  manager: ManagerRecord;
  managerId: string;
  path: FieldPath;
}

/** Fields metadata never tracks (the stripMeta field manager). */
export const UNTRACKED_FIELDS = FieldSet.of(
  ['f:apiVersion'],
  ['f:kind'],
  ['f:metadata'],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map((f) => [
    'f:metadata',
    fieldElement(f),
  ]),
);

/** FieldSet of dotted top-level paths such as "status" or "metadata.labels". */
export function fieldSetOfPaths(paths: readonly string[] = []): FieldSet {
  return FieldSet.of(...paths.map((p) => p.split('.').map(fieldElement)));
}

/**
 * Applies `comparison` to every manager but `workflowId`. Without `force`, any field another manager owns
 * that the write changed or added is a conflict and nothing is modified.
 */
export function transferOwnership(managers: Managers, workflowId: string, comparison: Comparison, force: boolean): void {
  const changed = comparison.modified.union(comparison.added);
  const conflicts = new Map<string, FieldSet>();
  for (const [id, record] of managers) {
    if (id === workflowId) continue;
    const overlap = record.set.intersection(changed);
    if (!overlap.isEmpty()) conflicts.set(id, overlap);
  }
  if (!force && conflicts.size) throw conflictError(listConflicts(managers, conflicts));
  for (const [id, record] of managers) {
    if (id === workflowId) continue;
    const taken = conflicts.get(id);
    const remaining = (taken ? record.set.difference(taken) : record.set).difference(comparison.removed);
    managers.set(id, { ...record, set: remaining });
  }
  for (const [id, record] of managers) if (record.set.isEmpty()) managers.delete(id);
}

export function listConflicts(managers: Managers, sets: Map<string, FieldSet>): Conflict[] {
  const out: Conflict[] = [];
  for (const id of [...sets.keys()].sort()) {
    for (const path of sets.get(id)!.paths()) out.push({ manager: managers.get(id)!, managerId: id, path });
  }
  return out;
}

/** The 409 PatchError of an apply conflict; `conflicts` lets the apply layers inspect it. */
export class ApplyConflictError extends PatchError {
  constructor(
    message: string,
    causes: { reason: string; message: string; field: string }[],
    readonly conflicts: Conflict[],
  ) {
    super(409, 'Conflict', message, { causes });
  }
}

/** The error Kubernetes answers an apply conflict with (internal.NewConflictError). */
export function conflictError(conflicts: Conflict[]): ApplyConflictError {
  const causes = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${describeManager(c.manager)}`,
    field: printPath(c.path),
  }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${describeManager(conflicts[0].manager)}: ${printPath(conflicts[0].path)}`;
  } else {
    const byManager = new Map<string, Conflict[]>();
    for (const c of conflicts) byManager.set(c.managerId, [...(byManager.get(c.managerId) ?? []), c]);
    const lines: string[] = [];
    for (const id of [...byManager.keys()].sort()) {
      const group = byManager.get(id)!;
      lines.push(`conflicts with ${describeManager(group[0].manager)}:`);
      for (const c of group) lines.push(`- ${printPath(c.path)}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApplyConflictError(message, causes, conflicts);
}
