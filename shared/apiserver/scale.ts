// The /scale subresource: an autoscaling/v1 Scale view of a kind's replica fields.
import type { KindDef, KubeObject, ScaleSpec } from '../api/kind.js';
import { formatLabelSelector, get } from '../api/printers/common.js';
import { applyJsonPatch } from '../api/patch/json.js';
import { applyMergePatch } from '../api/patch/merge.js';
import { invalid } from '../api/schema/errors.js';
import { errors } from './errors.js';
import type { PatchType } from './rest.js';

export interface Scale {
  kind: 'Scale';
  apiVersion: 'autoscaling/v1';
  metadata: Record<string, unknown>;
  spec: { replicas?: number };
  status: { replicas: number; selector?: string };
}

const at = (obj: unknown, path: string) => get(obj, ...path.split('.'));

export function scaleOf(obj: KubeObject, spec: ScaleSpec): Scale {
  const { name, namespace, uid, resourceVersion, creationTimestamp } = obj.metadata;
  const selector = spec.labelSelectorPath ? at(obj, spec.labelSelectorPath) : undefined;
  const status: Scale['status'] = { replicas: Number(at(obj, spec.statusReplicasPath) ?? 0) };
  if (selector !== undefined) {
    const s = typeof selector === 'string' ? selector : formatLabelSelector(selector);
    if (s !== '<none>') status.selector = s;
  }
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: Number(at(obj, spec.specReplicasPath) ?? 0) },
    status,
  };
}

/** Apply a PATCH body to a Scale (Scale has no lists, so strategic merge is a merge patch). */
export function patchScale(scale: Scale, type: PatchType, patch: unknown): unknown {
  if (type === 'json') return applyJsonPatch(structuredClone(scale), patch);
  return applyMergePatch(structuredClone(scale), patch);
}

export function replicasFromScale(desired: unknown, def: KindDef, current: Scale): number {
  const name = String(current.metadata.name ?? '');
  const replicas = (desired as { spec?: { replicas?: unknown } } | undefined)?.spec?.replicas ?? 0;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas)) {
    throw errors.badRequest(`Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal ${typeof replicas} into Go struct field ScaleSpec.spec.replicas of type int32`);
  }
  if (replicas < 0) throw errors.invalid('autoscaling', 'Scale', name, [invalid('spec.replicas', replicas, 'must be greater than or equal to 0')]);
  void def;
  return replicas;
}
