// Discovery documents computed from the registry: aggregated (apidiscovery.k8s.io v2 and v2beta1)
// and the legacy /api, /apis, /api/v1, /apis/<g>, /apis/<g>/<v> forms.
import type { KindDef } from '../api/kind.js';
import type { GroupVersions, Registry } from '../api/registry.js';

const SCALE_KIND = { group: 'autoscaling', version: 'v1', kind: 'Scale' };
const EVICTION_KIND = { group: 'policy', version: 'v1', kind: 'Eviction' };

/** Subresources in name order, as kube-apiserver lists them; pods also take bindings and evictions, service accounts tokens. */
function subresourcesOf(def: KindDef) {
  const subs: { subresource: string; responseKind: { group: string; version: string; kind: string }; verbs: string[] }[] = [];
  const isPods = def.group === '' && def.plural === 'pods';
  if (isPods) subs.push({ subresource: 'binding', responseKind: { group: '', version: 'v1', kind: 'Binding' }, verbs: ['create'] });
  if (isPods) subs.push({ subresource: 'eviction', responseKind: EVICTION_KIND, verbs: ['create'] });
  if (def.subresources.scale) subs.push({ subresource: 'scale', responseKind: SCALE_KIND, verbs: ['get', 'patch', 'update'] });
  if (def.subresources.status) subs.push({ subresource: 'status', responseKind: { group: def.group, version: def.version, kind: def.kind }, verbs: ['get', 'patch', 'update'] });
  if (def.group === '' && def.plural === 'serviceaccounts') subs.push({ subresource: 'token', responseKind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }, verbs: ['create'] });
  return subs;
}

function aggregatedResource(def: KindDef) {
  const r: Record<string, unknown> = {
    resource: def.plural,
    responseKind: { group: def.group, version: def.version, kind: def.kind },
    scope: def.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: def.singular,
    verbs: def.verbs,
  };
  if (def.shortNames.length) r.shortNames = def.shortNames;
  if (def.categories.length) r.categories = def.categories;
  const subs = subresourcesOf(def);
  if (subs.length) r.subresources = subs;
  return r;
}

function aggregatedGroup(registry: Registry, gv: GroupVersions) {
  return {
    metadata: { name: gv.group, creationTimestamp: null },
    versions: gv.versions.map((version) => ({
      version,
      resources: registry.inGroupVersion(gv.group, version).map(aggregatedResource),
      freshness: 'Current',
    })),
  };
}

export type AggregatedVersion = 'v2' | 'v2beta1';

/** A group served outside the registry (metrics.k8s.io): one version and its resources. */
export interface StaticGroup {
  group: string;
  version: string;
  resources: { name: string; singularName: string; namespaced: boolean; kind: string; verbs: string[] }[];
}

function aggregatedStaticGroup(g: StaticGroup) {
  const resources = g.resources.map((r) => ({
    resource: r.name,
    responseKind: { group: g.group, version: g.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singularName,
    verbs: r.verbs,
  }));
  return { metadata: { name: g.group, creationTimestamp: null }, versions: [{ version: g.version, resources, freshness: 'Current' }] };
}

const staticGroupVersions = (g: StaticGroup): GroupVersions => ({ group: g.group, versions: [g.version] });

export const aggregatedContentType = (v: AggregatedVersion) => `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`;

export function aggregatedDiscovery(registry: Registry, which: 'core' | 'groups', v: AggregatedVersion, extra: readonly StaticGroup[] = []): string {
  const groups = registry.groups.filter((g) => (which === 'core' ? g.group === '' : g.group !== ''));
  return JSON.stringify({
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${v}`,
    metadata: {},
    items: [...groups.map((g) => aggregatedGroup(registry, g)), ...(which === 'groups' ? extra.map(aggregatedStaticGroup) : [])],
  });
}

export function legacyCoreVersions(serverAddress: string): string {
  return JSON.stringify({ kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] });
}

function apiGroup(gv: GroupVersions) {
  const versions = gv.versions.map((version) => ({ groupVersion: `${gv.group}/${version}`, version }));
  return { name: gv.group, versions, preferredVersion: versions[0] };
}

export function legacyGroupList(registry: Registry, extra: readonly StaticGroup[] = []): string {
  const groups = [...registry.groups.filter((g) => g.group !== ''), ...extra.map(staticGroupVersions)];
  return JSON.stringify({ kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(apiGroup) });
}

export function legacyGroup(registry: Registry, group: string, extra: readonly StaticGroup[] = []): string | undefined {
  const gv = registry.groups.find((g) => g.group === group && group !== '') ?? extra.map(staticGroupVersions).find((g) => g.group === group);
  return gv ? JSON.stringify({ kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(gv) }) : undefined;
}

export function legacyResourceList(registry: Registry, group: string, version: string, extra: readonly StaticGroup[] = []): string | undefined {
  const fixed = extra.find((g) => g.group === group && g.version === version);
  if (fixed) return JSON.stringify({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${group}/${version}`, resources: fixed.resources });
  if (!registry.hasGroupVersion(group, version)) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const def of registry.inGroupVersion(group, version)) {
    const r: Record<string, unknown> = { name: def.plural, singularName: def.singular, namespaced: def.namespaced, kind: def.kind, verbs: def.verbs };
    if (def.shortNames.length) r.shortNames = def.shortNames;
    if (def.categories.length) r.categories = def.categories;
    resources.push(r);
    for (const sub of subresourcesOf(def)) {
      const entry: Record<string, unknown> = { name: `${def.plural}/${sub.subresource}`, singularName: '', namespaced: def.namespaced };
      // Subresources answering with another group's kind name that group and version.
      if (sub.responseKind.group !== def.group) Object.assign(entry, { group: sub.responseKind.group, version: sub.responseKind.version });
      Object.assign(entry, { kind: sub.responseKind.kind, verbs: sub.verbs });
      resources.push(entry);
    }
  }
  return JSON.stringify({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources });
}
