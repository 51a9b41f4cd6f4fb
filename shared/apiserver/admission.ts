// The mutating and validating admission kube-apiserver runs on pods and PriorityClasses by
// default: DefaultTolerationSeconds, Priority and ServiceAccount (the default account and the
// projected API access volume). Like the real plugins
// they run before the object is stored and only on the main resource, never on subresources.
import { randomInt } from 'node:crypto';
import type { KubeObject } from '../api/kind.js';
import { SYSTEM_PRIORITY_CLASSES } from '../api/types/scheduling.js';
import type { Store } from '../store/contract.js';
import { decodeFromStore } from './codec.js';
import { errors } from './errors.js';
import type { Scope } from './rest.js';

/** How long pods stay bound to a node that became not-ready or unreachable (kube-apiserver's default). */
export const DEFAULT_TOLERATION_SECONDS = 300;
export const TAINT_NODE_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_NODE_UNREACHABLE = 'node.kubernetes.io/unreachable';

const PRIORITY_CLASSES_PREFIX = '/registry/scheduling.k8s.io/priorityclasses/';
const PREEMPT_LOWER_PRIORITY = 'PreemptLowerPriority';

interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

interface PodSpec {
  tolerations?: Toleration[];
  priorityClassName?: string;
  priority?: number;
  preemptionPolicy?: string;
  serviceAccountName?: string;
  serviceAccount?: string;
  automountServiceAccountToken?: boolean;
  volumes?: { name: string }[];
  containers?: ContainerMounts[];
  initContainers?: ContainerMounts[];
}

interface ContainerMounts {
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

interface PriorityClassInfo {
  name: string;
  value: number;
  globalDefault: boolean;
  preemptionPolicy?: string;
}

const isPods = (scope: Scope) => scope.def.group === '' && scope.def.plural === 'pods' && !scope.subresource;
const isPriorityClasses = (scope: Scope) => scope.def.group === 'scheduling.k8s.io' && scope.def.plural === 'priorityclasses' && !scope.subresource;

/** The name admission errors use: the object's name, else its generateName. */
const nameForErrors = (obj: KubeObject): string => obj.metadata.name || obj.metadata.generateName || 'Unknown';

function forbidden(scope: Scope, obj: KubeObject, reason: string) {
  return errors.forbidden({ group: scope.def.group, resource: scope.def.plural }, nameForErrors(obj), reason);
}

/** Adds the not-ready and unreachable NoExecute tolerations a pod does not already have. */
export function addDefaultTolerations(spec: PodSpec): void {
  const tolerations = spec.tolerations ?? [];
  const tolerates = (key: string) => tolerations.some((t) => (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
  const added: Toleration[] = [];
  for (const key of [TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE]) {
    if (!tolerates(key)) added.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: DEFAULT_TOLERATION_SECONDS });
  }
  if (added.length) spec.tolerations = [...tolerations, ...added];
}

/** The ServiceAccount admission default: "default", or the deprecated serviceAccount field's value; both fields agree. */
export function defaultServiceAccount(spec: PodSpec): void {
  if (!spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount || 'default';
  spec.serviceAccount = spec.serviceAccountName;
}

/** Where the ServiceAccount admission plugin mounts the API access volume. */
export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
export const API_ACCESS_VOLUME_PREFIX = 'kube-api-access-';
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
// The alphabet of apimachinery's random name suffixes (no vowels, no confusable characters).
const NAME_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

const randomSuffix = (n = 5) => Array.from({ length: n }, () => NAME_SUFFIX_ALPHABET[randomInt(NAME_SUFFIX_ALPHABET.length)]).join('');

/** The projected volume that gives a pod its token, the cluster CA and its namespace (defaultMode 0644). */
export function apiAccessVolume(name: string): Record<string, unknown> {
  return {
    name,
    projected: {
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
      defaultMode: 420,
    },
  };
}

/** Pod's setting wins over the ServiceAccount's; mounting is the default. */
export const shouldAutomount = (spec: PodSpec, serviceAccount: { automountServiceAccountToken?: unknown } | undefined): boolean =>
  typeof spec.automountServiceAccountToken === 'boolean'
    ? spec.automountServiceAccountToken
    : typeof serviceAccount?.automountServiceAccountToken === 'boolean'
      ? serviceAccount.automountServiceAccountToken
      : true;

/**
 * Mounts the API access volume read-only at SERVICE_ACCOUNT_MOUNT_PATH in every init and regular
 * container that mounts nothing there yet, reusing an existing kube-api-access-* volume; the volume
 * is added only when some container needs it.
 */
export function mountServiceAccountToken(spec: PodSpec, suffix: () => string = randomSuffix): void {
  const existing = (spec.volumes ?? []).find((v) => v.name.startsWith(API_ACCESS_VOLUME_PREFIX));
  const volumeName = existing?.name ?? `${API_ACCESS_VOLUME_PREFIX}${suffix()}`;
  let needed = false;
  for (const container of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    if ((container.volumeMounts ?? []).some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH)) continue;
    container.volumeMounts = [...(container.volumeMounts ?? []), { name: volumeName, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }];
    needed = true;
  }
  if (needed && !existing) spec.volumes = [...(spec.volumes ?? []), apiAccessVolume(volumeName) as { name: string }];
}

export class Admission {
  constructor(private readonly store: Store) {}

  /** Mutations and checks on create; `obj` is changed in place. */
  async admitCreate(scope: Scope, obj: KubeObject): Promise<void> {
    if (isPods(scope)) {
      const spec = (obj.spec ??= {}) as PodSpec;
      addDefaultTolerations(spec);
      await this.resolvePriority(scope, obj, spec);
      defaultServiceAccount(spec);
      await this.automountToken(scope, obj, spec);
    } else if (isPriorityClasses(scope)) {
      await this.checkSingleDefault(scope, obj, false);
    }
  }

  /** Mutations and checks on update of the main resource; `next` is changed in place. */
  async admitUpdate(scope: Scope, next: KubeObject, current: KubeObject): Promise<void> {
    if (isPriorityClasses(scope)) await this.checkSingleDefault(scope, next, true);
    if (!isPods(scope)) return;
    const spec = (next.spec ??= {}) as PodSpec;
    const old = (current.spec ?? {}) as PodSpec;
    addDefaultTolerations(spec);
    // Priority is resolved once, on create; an update that leaves it out keeps it.
    if (spec.priority === undefined && old.priority !== undefined) spec.priority = old.priority;
    if (spec.preemptionPolicy === undefined && old.preemptionPolicy !== undefined) spec.preemptionPolicy = old.preemptionPolicy;
  }

  /** The ServiceAccount plugin's volume; mirror pods are left as the node wrote them. */
  private async automountToken(scope: Scope, pod: KubeObject, spec: PodSpec): Promise<void> {
    if (pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return;
    const namespace = scope.namespace ?? pod.metadata.namespace;
    const kv = await this.store.get(`/registry/core/serviceaccounts/${namespace}/${spec.serviceAccountName}`);
    // kube-apiserver refuses pods whose ServiceAccount does not exist yet; stratus admits them (and mounts).
    const serviceAccount = kv ? (decodeFromStore(kv) as { automountServiceAccountToken?: unknown }) : undefined;
    if (shouldAutomount(spec, serviceAccount)) mountServiceAccountToken(spec);
  }

  private async priorityClasses(): Promise<PriorityClassInfo[]> {
    const { items } = await this.store.list({ prefix: PRIORITY_CLASSES_PREFIX });
    return items.map((kv) => {
      const pc = decodeFromStore(kv);
      return {
        name: pc.metadata.name!,
        value: typeof pc.value === 'number' ? pc.value : 0,
        globalDefault: pc.globalDefault === true,
        preemptionPolicy: typeof pc.preemptionPolicy === 'string' ? pc.preemptionPolicy : undefined,
      };
    });
  }

  /** Several defaults can exist after a race: the one with the lowest value wins, as in Kubernetes. */
  private static defaultClass(classes: PriorityClassInfo[]): PriorityClassInfo | undefined {
    let found: PriorityClassInfo | undefined;
    for (const pc of classes) if (pc.globalDefault && (!found || pc.value < found.value)) found = pc;
    return found;
  }

  private async resolvePriority(scope: Scope, pod: KubeObject, spec: PodSpec): Promise<void> {
    const classes = await this.priorityClasses();
    let priority: number;
    let preemptionPolicy: string | undefined;
    if (!spec.priorityClassName) {
      const dflt = Admission.defaultClass(classes);
      if (dflt) {
        spec.priorityClassName = dflt.name;
        priority = dflt.value;
        preemptionPolicy = dflt.preemptionPolicy;
      } else {
        priority = 0;
        preemptionPolicy = PREEMPT_LOWER_PRIORITY;
      }
    } else {
      const name = spec.priorityClassName;
      // The system classes always resolve, even before their objects exist.
      const system = SYSTEM_PRIORITY_CLASSES.find((c) => c.name === name);
      const pc = classes.find((c) => c.name === name) ?? (system ? { name, value: system.value, globalDefault: false, preemptionPolicy: PREEMPT_LOWER_PRIORITY } : undefined);
      if (!pc) throw forbidden(scope, pod, `no PriorityClass with name ${name} was found`);
      priority = pc.value;
      preemptionPolicy = pc.preemptionPolicy;
    }
    if (spec.priority !== undefined && spec.priority !== null && spec.priority !== priority) {
      throw forbidden(
        scope,
        pod,
        `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`,
      );
    }
    spec.priority = priority;
    if (preemptionPolicy !== undefined) {
      if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== null && spec.preemptionPolicy !== preemptionPolicy) {
        throw forbidden(
          scope,
          pod,
          `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${preemptionPolicy} from the given PriorityClass name`,
        );
      }
      spec.preemptionPolicy = preemptionPolicy;
    }
  }

  private async checkSingleDefault(scope: Scope, pc: KubeObject, isUpdate: boolean): Promise<void> {
    if (pc.globalDefault !== true) return;
    const dflt = Admission.defaultClass(await this.priorityClasses());
    if (!dflt || (isUpdate && dflt.name === pc.metadata.name)) return;
    throw forbidden(scope, pc, `PriorityClass ${dflt.name} is already marked as default. Only one default can exist`);
  }
}
