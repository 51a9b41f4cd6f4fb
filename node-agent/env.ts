// A container's environment as kubelet builds it: envFrom (ConfigMaps and Secrets, with prefix)
// first, then env with valueFrom resolved (configMapKeyRef, secretKeyRef, fieldRef,
// resourceFieldRef) and $(VAR) references expanded. A missing required source fails the container
// with kubelet's CreateContainerConfigError message.
import { isKubeNotFound, type KubeClient } from '../shared/client/kube-client.js';
import { expandVars, type PodContainerSpec, type PodObject } from './cri/pod-config.js';
import { metadataFieldValue, resourceFieldValue } from './volumes/downward-api.js';

/** The container cannot be configured yet; shown as waiting reason CreateContainerConfigError. */
export class ContainerConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
  constructor(
    readonly container: string,
    message: string,
  ) {
    super(message);
    this.name = 'ContainerConfigError';
  }
}

export interface EnvResolverOptions {
  client: KubeClient;
  nodeName: string;
  hostIP: string;
  /** The pod's IP once its sandbox runs. */
  podIP: (uid: string) => Promise<string>;
  /** Node allocatable, the default of resourceFieldRef on limits that are not set. */
  allocatable: { cpu: string; memory: string; ephemeralStorage: string };
}

type KeyRef = { name?: string; key: string; optional?: boolean };
type SourceRef = { name?: string; optional?: boolean };
interface FullEnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    configMapKeyRef?: KeyRef;
    secretKeyRef?: KeyRef;
    fieldRef?: { fieldPath: string };
    resourceFieldRef?: { containerName?: string; resource: string; divisor?: string | number };
  };
}
interface FullContainer extends PodContainerSpec {
  envFrom?: { prefix?: string; configMapRef?: SourceRef; secretRef?: SourceRef }[];
}
type FullPod = PodObject & { spec: { serviceAccountName?: string; containers: FullContainer[]; initContainers?: FullContainer[] } };

type Source = { kind: 'ConfigMap' | 'Secret'; data: Map<string, string> } | undefined;

export function createEnvResolver(opts: EnvResolverOptions): (pod: PodObject, container: PodContainerSpec) => Promise<{ name: string; value: string }[]> {
  return async (podIn, containerIn) => {
    const pod = podIn as FullPod;
    const container = containerIn as FullContainer;
    const ns = pod.metadata.namespace;
    const cache = new Map<string, Source>();
    const load = async (kind: 'ConfigMap' | 'Secret', name: string): Promise<Source> => {
      const key = `${kind}/${name}`;
      if (cache.has(key)) return cache.get(key);
      let src: Source;
      try {
        const obj = await opts.client.get<{ data?: Record<string, string>; binaryData?: Record<string, string> }>(`/api/v1/namespaces/${ns}/${kind === 'ConfigMap' ? 'configmaps' : 'secrets'}/${encodeURIComponent(name)}`);
        const data = new Map<string, string>();
        if (kind === 'ConfigMap') for (const [k, v] of Object.entries(obj.data ?? {})) data.set(k, v);
        else for (const [k, v] of Object.entries(obj.data ?? {})) data.set(k, Buffer.from(v, 'base64').toString('utf8'));
        src = { kind, data };
      } catch (e) {
        if (!isKubeNotFound(e)) throw e;
        src = undefined;
      }
      cache.set(key, src);
      return src;
    };
    const missing = (kind: 'ConfigMap' | 'Secret', name: string) => new ContainerConfigError(container.name, `${kind === 'ConfigMap' ? 'configmap' : 'secret'} "${name}" not found`);

    const vars = new Map<string, string>();
    for (const from of container.envFrom ?? []) {
      const ref = from.configMapRef ?? from.secretRef;
      if (!ref) continue;
      const kind = from.configMapRef ? 'ConfigMap' : 'Secret';
      const src = await load(kind, ref.name ?? '');
      if (!src) {
        if (ref.optional) continue;
        throw missing(kind, ref.name ?? '');
      }
      for (const [k, v] of src.data) {
        const name = `${from.prefix ?? ''}${k}`;
        // kubelet skips keys that are not valid variable names (and records an event).
        if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name)) continue;
        vars.set(name, v);
      }
    }
    for (const e of (container.env ?? []) as FullEnvVar[]) {
      if (!e.valueFrom) {
        vars.set(e.name, expandVars(e.value ?? '', vars));
        continue;
      }
      const v = await resolveValueFrom(e, pod, container, load, opts);
      if (v !== undefined) vars.set(e.name, v);
    }
    return [...vars].map(([name, v]) => ({ name, value: v }));
  };
}

async function resolveValueFrom(
  e: FullEnvVar,
  pod: FullPod,
  container: FullContainer,
  load: (kind: 'ConfigMap' | 'Secret', name: string) => Promise<Source>,
  opts: EnvResolverOptions,
): Promise<string | undefined> {
  const from = e.valueFrom!;
  const keyRef = from.configMapKeyRef ?? from.secretKeyRef;
  if (keyRef) {
    const kind = from.configMapKeyRef ? 'ConfigMap' : 'Secret';
    const name = keyRef.name ?? '';
    const src = await load(kind, name);
    if (!src) {
      if (keyRef.optional) return undefined;
      throw new ContainerConfigError(container.name, `${kind === 'ConfigMap' ? 'configmap' : 'secret'} "${name}" not found`);
    }
    const v = src.data.get(keyRef.key);
    if (v === undefined) {
      if (keyRef.optional) return undefined;
      throw new ContainerConfigError(container.name, `couldn't find key ${keyRef.key} in ${kind} ${pod.metadata.namespace}/${name}`);
    }
    return v;
  }
  if (from.fieldRef) return fieldValue(from.fieldRef.fieldPath, pod, opts);
  if (from.resourceFieldRef) return resourceValue(from.resourceFieldRef, pod, container, opts);
  return undefined;
}

async function fieldValue(path: string, pod: FullPod, opts: EnvResolverOptions): Promise<string> {
  const m = pod.metadata;
  const fromMetadata = metadataFieldValue(m, path);
  if (fromMetadata !== undefined) return fromMetadata;
  switch (path) {
    case 'spec.nodeName':
      return pod.spec.nodeName ?? opts.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return opts.hostIP;
    case 'status.podIP':
    case 'status.podIPs':
      return pod.spec.hostNetwork ? opts.hostIP : await opts.podIP(m.uid);
    default:
      throw new ContainerConfigError('', `unsupported fieldPath: ${path}`);
  }
}

function resourceValue(ref: { containerName?: string; resource: string; divisor?: string | number }, pod: FullPod, container: FullContainer, opts: EnvResolverOptions): string {
  const target = ref.containerName ? [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((c) => c.name === ref.containerName) ?? container : container;
  return resourceFieldValue(target, ref, opts.allocatable);
}
