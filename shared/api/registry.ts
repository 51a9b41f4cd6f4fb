// The registry of served kinds: every KindDef from shared/api/kinds/, indexed for the API server,
// discovery and OpenAPI. Adding a kind is adding an entry to one of the kinds files.
import { apiVersionOf, type KindDef } from './kind.js';
import { kinds as corePodKinds } from './kinds/core-pod.js';
import { kinds as coreKinds } from './kinds/core.js';
import { kinds as appsKinds } from './kinds/apps.js';
import { kinds as batchKinds } from './kinds/batch.js';
import { kinds as autoscalingKinds } from './kinds/autoscaling.js';
import { kinds as coordinationKinds } from './kinds/coordination.js';
import { kinds as discoveryKinds } from './kinds/discovery.js';
import { kinds as eventsKinds } from './kinds/events.js';
import { kinds as policyKinds } from './kinds/policy.js';
import { kinds as rbacKinds } from './kinds/rbac.js';
import { kinds as schedulingKinds } from './kinds/scheduling.js';

export interface GroupVersions {
  /** '' for the core group. */
  group: string;
  /** In preference order: the first is the preferred version. */
  versions: string[];
}

export class Registry {
  private readonly byResource = new Map<string, KindDef>();
  private readonly byKind = new Map<string, KindDef>();
  readonly groups: GroupVersions[] = [];

  constructor(readonly kinds: readonly KindDef[]) {
    for (const def of kinds) {
      this.byResource.set(`${def.group}/${def.version}/${def.plural}`, def);
      this.byKind.set(`${apiVersionOf(def)}/${def.kind}`, def);
      let gv = this.groups.find((g) => g.group === def.group);
      if (!gv) this.groups.push((gv = { group: def.group, versions: [] }));
      if (!gv.versions.includes(def.version)) gv.versions.push(def.version);
    }
  }

  /** The kind served at /api(s)/<group>/<version>/<plural>. */
  resource(group: string, version: string, plural: string): KindDef | undefined {
    return this.byResource.get(`${group}/${version}/${plural}`);
  }

  /** The kind for a body's apiVersion + kind. */
  kind(apiVersion: string, kind: string): KindDef | undefined {
    return this.byKind.get(`${apiVersion}/${kind}`);
  }

  /** Kinds served in one group-version, in registration order. */
  inGroupVersion(group: string, version: string): KindDef[] {
    return this.kinds.filter((k) => k.group === group && k.version === version);
  }

  hasGroupVersion(group: string, version: string): boolean {
    return this.groups.some((g) => g.group === group && g.versions.includes(version));
  }
}

/** Every built-in kind, core first, then groups in the order kube-apiserver lists them. */
export const builtinKinds: readonly KindDef[] = [
  ...coreKinds,
  ...corePodKinds,
  ...appsKinds,
  ...eventsKinds,
  ...autoscalingKinds,
  ...batchKinds,
  ...policyKinds,
  ...rbacKinds,
  ...schedulingKinds,
  ...coordinationKinds,
  ...discoveryKinds,
];

let builtin: Registry | undefined;
export function builtinRegistry(): Registry {
  return (builtin ??= new Registry(builtinKinds));
}
