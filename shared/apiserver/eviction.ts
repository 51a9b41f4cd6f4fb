// The pods/eviction subresource (POST a policy/v1 or v1beta1 Eviction): delete a pod only if the
// PodDisruptionBudget covering it allows one more disruption, recording the eviction in the
// budget's status first, as kube-apiserver's EvictionREST does.
import type { KindDef, KubeObject } from '../api/kind.js';
import type { Registry } from '../api/registry.js';
import { ApiError, errors, type Status } from './errors.js';
import { validateDeleteOptions, type DeleteOptions } from './deletion.js';
import { budgetCoversPod, isPodReady, pdbSpec, pdbStatus, updatePodCondition, updateDisruptionAllowedCondition, type PodCondition } from './disruption-budget.js';
import { clone, rfc3339 } from './metadata.js';
import type { RestStorage, Scope, WriteOptions } from './rest.js';

/** More recorded evictions than this means the disruption controller is not keeping up: refuse. */
export const MAX_DISRUPTED_POD_SIZE = 2000;
/** Attempts at the budget's conditional update (and at pod deletes racing other writers). */
const EVICTION_RETRIES = 20;

export const VIOLATES_BUDGET_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget.";
const MULTIPLE_BUDGETS_MESSAGE = 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.';

export interface Eviction {
  metadata?: { name?: string; namespace?: string };
  deleteOptions?: DeleteOptions | null;
}

const isConflict = (e: unknown): boolean => e instanceof ApiError && e.code === 409 && e.status.reason === 'Conflict';

/** The conflicts of the eviction's own precondition checks name the resource "Pod", as Kubernetes' do. */
const POD_AS_CONFLICTS_NAME_IT = { group: '', resource: 'Pod' };

const BUDGET_WRITE: WriteOptions = { dryRun: false, fieldManager: 'kube-apiserver', userAgentManager: 'kube-apiserver', fieldValidation: 'Ignore' };

/** 429 with a DisruptionBudget cause; a Retry-After (header and details) when the client should come back later. */
function tooManyRequests(causeMessage: string, retryAfterSeconds: number): ApiError {
  const details: Status['details'] = { causes: [{ reason: 'DisruptionBudget', message: causeMessage }] };
  if (retryAfterSeconds > 0) details.retryAfterSeconds = retryAfterSeconds;
  const err = new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: VIOLATES_BUDGET_MESSAGE, reason: 'TooManyRequests', details, code: 429 });
  if (retryAfterSeconds > 0) err.headers = { 'Retry-After': String(retryAfterSeconds) };
  return err;
}

const stillProcessing = (pdbName: string) => tooManyRequests(`The disruption budget ${pdbName} is still being processed by the server.`, 10);

function budgetForbidden(pdbName: string, reason: string): ApiError {
  return errors.forbidden({ group: 'policy', resource: 'poddisruptionbudget' }, pdbName, reason);
}

/** Pods already finished, not yet running, or already terminating are deleted without asking any budget. */
function canIgnoreBudget(pod: KubeObject): boolean {
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || !!pod.metadata.deletionTimestamp;
}

function shouldEnforceResourceVersion(pod: KubeObject): boolean {
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  return !(phase === 'Succeeded' || phase === 'Failed' || pod.metadata.deletionTimestamp);
}

const resourceVersionUnset = (o: DeleteOptions): boolean => !o.preconditions?.resourceVersion;

function withResourceVersion(o: DeleteOptions, resourceVersion: string | undefined): DeleteOptions {
  return { ...clone(o), preconditions: { ...o.preconditions, resourceVersion } };
}

/** The request's dryRun and the body's must agree; the body's options get the request's when they have none. */
function propagateDryRun(eviction: Eviction, requestDryRun: string[]): DeleteOptions {
  const options = eviction.deleteOptions ?? undefined;
  if (!options) return { dryRun: requestDryRun.length ? [...requestDryRun] : undefined };
  if (!options.dryRun?.length) return { ...options, dryRun: requestDryRun.length ? [...requestDryRun] : undefined };
  if (!requestDryRun.length) return options;
  if (options.dryRun.join('\u0000') !== requestDryRun.join('\u0000')) {
    const message = `Non-matching dry-run options in request and content: [${requestDryRun.join(' ')}] and [${options.dryRun.join(' ')}]`;
    throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, code: 500 });
  }
  return options;
}

export class EvictionREST {
  private readonly pods: KindDef;
  private readonly budgets: KindDef;

  constructor(
    private readonly rest: RestStorage,
    registry: Registry,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.pods = registry.resource('', 'v1', 'pods')!;
    this.budgets = registry.resource('policy', 'v1', 'poddisruptionbudgets')!;
  }

  /**
   * Evict pod `name`. Resolves to the Status to answer with 201 (Success, or the Failure Status
   * kube-apiserver returns for a pod covered by several budgets); refusals are thrown ApiErrors.
   */
  async evict(namespace: string, name: string, eviction: Eviction, requestDryRun: string[] = []): Promise<Status> {
    if (eviction.metadata?.namespace && eviction.metadata.namespace !== namespace) {
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if ((eviction.metadata?.name ?? '') !== name) throw errors.badRequest('name in URL does not match name in Eviction object');
    const options = propagateDryRun(eviction, requestDryRun);
    validateDeleteOptions(options);
    const dryRun = (options.dryRun ?? []).includes('All');
    const podScope: Scope = { def: this.pods, namespace, name };

    let pod: KubeObject | undefined;
    for (let attempt = 0; ; attempt++) {
      pod = await this.rest.get(podScope);
      if (!canIgnoreBudget(pod)) break;
      const deleteOptions = shouldEnforceResourceVersion(pod) && resourceVersionUnset(options) ? withResourceVersion(options, pod.metadata.resourceVersion) : options;
      try {
        await this.addConditionAndDelete(podScope, deleteOptions, dryRun);
        return success();
      } catch (e) {
        if (isConflict(e) && resourceVersionUnset(options) && attempt < EVICTION_RETRIES) continue;
        throw e;
      }
    }

    const budgets = (await this.rest.list({ def: this.budgets, namespace }, {})).items
      .map((kv) => JSON.parse(kv.value) as KubeObject)
      .filter((pdb) => budgetCoversPod(pdb, pod!));
    if (budgets.length > 1) return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: MULTIPLE_BUDGETS_MESSAGE, code: 500 };

    let skipBudget = false;
    let budgetName = '';
    if (budgets.length === 1) {
      budgetName = budgets[0].metadata.name!;
      const budget = await this.rest.get({ def: this.budgets, namespace, name: budgetName });
      skipBudget = !isPodReady(pod) && this.unhealthyPodMayGo(budget);
      if (!skipBudget) await this.takeDisruption(budget, pod.metadata.name!, dryRun);
    }

    // An unready pod deleted without using the budget must still be the pod we looked at.
    const deleteOptions = skipBudget ? withResourceVersion(options, pod.metadata.resourceVersion) : options;
    try {
      await this.addConditionAndDelete(podScope, deleteOptions, dryRun);
    } catch (e) {
      if (isConflict(e) && skipBudget && resourceVersionUnset(options)) throw stillProcessing(budgetName);
      throw e;
    }
    return success();
  }

  /**
   * Mark the pod with the DisruptionTarget condition (on its latest version, honouring the
   * preconditions), then delete it; a resourceVersion precondition moves to the marked version.
   */
  private async addConditionAndDelete(scope: Scope, options: DeleteOptions, dryRun: boolean): Promise<void> {
    let deleteOptions = options;
    if (!dryRun) {
      const marked = await this.markDisruptionTarget(scope, options);
      if (!resourceVersionUnset(options)) deleteOptions = withResourceVersion(options, marked.metadata.resourceVersion);
    }
    await this.rest.delete(scope, deleteOptions, dryRun);
  }

  private async markDisruptionTarget(scope: Scope, options: DeleteOptions): Promise<KubeObject> {
    for (let attempt = 0; ; attempt++) {
      const pod = await this.rest.get(scope);
      const { uid, resourceVersion } = options.preconditions ?? {};
      if (uid && uid !== pod.metadata.uid) {
        throw errors.conflict(POD_AS_CONFLICTS_NAME_IT, pod.metadata.name!, `the UID in the precondition (${uid}) does not match the UID in record (${pod.metadata.uid}). The object might have been deleted and then recreated`);
      }
      if (resourceVersion && resourceVersion !== pod.metadata.resourceVersion) {
        throw errors.conflict(
          POD_AS_CONFLICTS_NAME_IT,
          pod.metadata.name!,
          `the ResourceVersion in the precondition (${resourceVersion}) does not match the ResourceVersion in record (${pod.metadata.resourceVersion}). The object might have been modified`,
        );
      }
      const status = (pod.status ?? {}) as { conditions?: PodCondition[] };
      pod.status = status;
      status.conditions = updatePodCondition(status.conditions ?? [], { type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' }, this.clock());
      try {
        const res = await this.rest.update({ ...scope, subresource: 'status' }, { ...pod, apiVersion: 'v1', kind: 'Pod' }, undefined, BUDGET_WRITE);
        return res.object;
      } catch (e) {
        if (isConflict(e) && attempt < EVICTION_RETRIES) continue;
        throw e;
      }
    }
  }

  /** An unhealthy pod does not count against the budget when the policy says so, or when the budget is met anyway. */
  private unhealthyPodMayGo(budget: KubeObject): boolean {
    if (pdbSpec(budget).unhealthyPodEvictionPolicy === 'AlwaysAllow') return true;
    const status = pdbStatus(budget);
    const desired = status.desiredHealthy ?? 0;
    return (status.currentHealthy ?? 0) >= desired && desired > 0;
  }

  /** Verify the budget allows a disruption and record it (conditional update, retried on conflicts). */
  private async takeDisruption(budget: KubeObject, podName: string, dryRun: boolean): Promise<void> {
    let current = budget;
    const scope: Scope = { def: this.budgets, namespace: budget.metadata.namespace, name: budget.metadata.name, subresource: 'status' };
    for (let attempt = 0; attempt < EVICTION_RETRIES; attempt++) {
      if (attempt > 0) current = await this.rest.get({ ...scope, subresource: undefined });
      const next = this.decremented(current, podName);
      if (dryRun) return;
      try {
        await this.rest.update(scope, { ...next, apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' }, undefined, BUDGET_WRITE);
        return;
      } catch (e) {
        if (!isConflict(e)) throw e;
      }
    }
    const timeout = errors.timeout(`Timeout: couldn't update PodDisruptionBudget "${budget.metadata.name}" due to conflicts`);
    timeout.status.details = { retryAfterSeconds: 10 };
    timeout.headers = { 'Retry-After': '10' };
    throw timeout;
  }

  /** checkAndDecrement: the budget with one disruption fewer allowed and the pod recorded, or the refusal. */
  private decremented(budget: KubeObject, podName: string): KubeObject {
    const name = budget.metadata.name!;
    const status = pdbStatus(budget);
    if ((status.observedGeneration ?? 0) < (budget.metadata.generation ?? 0)) throw stillProcessing(name);
    const allowed = status.disruptionsAllowed ?? 0;
    if (allowed < 0) throw budgetForbidden(name, 'pdb disruptions allowed is negative');
    if (Object.keys(status.disruptedPods ?? {}).length > MAX_DISRUPTED_POD_SIZE) {
      throw budgetForbidden(name, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
    }
    if (allowed === 0) {
      throw tooManyRequests(`The disruption budget ${name} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently`, 0);
    }
    const next = clone(budget);
    const nextStatus = pdbStatus(next);
    next.status = nextStatus;
    const now = this.clock();
    nextStatus.disruptionsAllowed = allowed - 1;
    if (nextStatus.disruptionsAllowed === 0) updateDisruptionAllowedCondition(nextStatus, now);
    nextStatus.disruptedPods = { ...nextStatus.disruptedPods, [podName]: rfc3339(now) };
    return next;
  }
}

const success = (): Status => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
