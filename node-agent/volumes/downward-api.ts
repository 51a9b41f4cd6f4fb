// Downward API volume files: pod metadata (name, namespace, uid, labels, annotations) and container
// resources (limits/requests scaled by a divisor), in the formats kubelet writes them.
import { milliValue, value } from '../../shared/scheduler/resources.js';
import type { PodContainerSpec, PodObject } from '../cri/pod-config.js';
import type { FileProjection, Payload } from './atomic-writer.js';
import type { DownwardAPIFile, NodeAllocatable, ResourceFieldSelector } from './types.js';

export function downwardApiPayload(pod: PodObject, items: DownwardAPIFile[], defaultMode: number, allocatable: NodeAllocatable | undefined, into: Payload = new Map()): Payload {
  for (const item of items) {
    const mode = item.mode ?? defaultMode;
    let text: string;
    if (item.fieldRef) text = fieldText(pod, item.fieldRef.fieldPath);
    else if (item.resourceFieldRef) text = resourceText(pod, item.resourceFieldRef, allocatable);
    else continue;
    const file: FileProjection = { data: Buffer.from(text, 'utf8'), mode };
    into.set(item.path, file);
  }
  return into;
}

function fieldText(pod: PodObject, fieldPath: string): string {
  const text = metadataFieldValue(pod.metadata, fieldPath);
  if (text === undefined) throw new Error(`unsupported fieldPath: ${fieldPath}`);
  return text;
}

/** The value of a metadata fieldRef (name, namespace, uid, labels, annotations, one label or annotation); undefined for other paths. */
export function metadataFieldValue(meta: PodObject['metadata'], fieldPath: string): string | undefined {
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name;
    case 'metadata.namespace':
      return meta.namespace;
    case 'metadata.uid':
      return meta.uid;
    case 'metadata.labels':
      return formatMap(meta.labels);
    case 'metadata.annotations':
      return formatMap(meta.annotations);
  }
  const subscript = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (subscript) return (subscript[1] === 'labels' ? meta.labels : meta.annotations)?.[subscript[2]] ?? '';
  return undefined;
}

/** key="value" lines sorted by key, values quoted the way Go's %q does. */
export function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((k) => `${k}=${goQuote(map![k])}`)
    .join('\n');
}

function goQuote(s: string): string {
  const named: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '"': '\\"', '\\': '\\\\' };
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (named[ch]) out += named[ch];
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function resourceText(pod: PodObject, ref: ResourceFieldSelector, allocatable: NodeAllocatable | undefined): string {
  const containers = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])];
  const target = containers.find((c) => c.name === ref.containerName);
  if (!target) throw new Error(`container ${ref.containerName ?? ''} not found in pod ${pod.metadata.namespace}/${pod.metadata.name}`);
  return resourceFieldValue(target, ref, allocatable);
}

/** A container's limit or request (resourceFieldRef) scaled by the divisor, rounded up, as kubelet writes it. */
export function resourceFieldValue(target: Pick<PodContainerSpec, 'resources'>, ref: ResourceFieldSelector, allocatable: NodeAllocatable | undefined): string {
  const [kind, resource] = ref.resource.split('.') as ['limits' | 'requests', string];
  let q = target.resources?.[kind]?.[resource];
  // An unset limit means what the node can give; an unset request falls back to the limit, else 0.
  if (q === undefined && kind === 'limits') q = allocatable ? { cpu: allocatable.cpu, memory: allocatable.memory, 'ephemeral-storage': allocatable.ephemeralStorage }[resource] : undefined;
  if (q === undefined && kind === 'requests') q = target.resources?.limits?.[resource] ?? 0;
  if (q === undefined) return '0';
  if (resource === 'cpu') {
    const divisorMilli = ref.divisor !== undefined ? milliValue(ref.divisor) || 1000 : 1000;
    return String(Math.ceil(milliValue(q) / divisorMilli));
  }
  const divisor = ref.divisor !== undefined ? value(ref.divisor) || 1 : 1;
  return String(Math.ceil(value(q) / divisor));
}
