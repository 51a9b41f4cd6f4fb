// The mutating and validating admission kube-apiserver runs on pods and PriorityClasses by
// default: DefaultTolerationSeconds, Priority and the ServiceAccount default. Like the real plugins
// they run before the object is stored and only on the main resource, never on subresources.
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

export class Admission {
  constructor(private readonly store: Store) {}

  /** Mutations and checks on create; `obj` is changed in place. */
  async admitCreate(scope: Scope, obj: KubeObject): Promise<void> {
    if (isPods(scope)) {
      const spec = (obj.spec ??= {}) as PodSpec;
      addDefaultTolerations(spec);
      await this.resolvePriority(scope, obj, spec);
      defaultServiceAccount(spec);
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
