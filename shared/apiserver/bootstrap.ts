// What every cluster starts with: the system namespaces, the `kubernetes` Service and the cluster
// DNS Service (kube-system/kube-dns, which node agents lead to their DNS servers). Idempotent,
// so the local server runs it on every start and the API Lambda on every cold start.
import type { KubeObject } from '../api/kind.js';
import type { Registry } from '../api/registry.js';
import { ApiError } from './errors.js';
import type { RestStorage, Scope } from './rest.js';

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** The cluster IP of kube-system/kube-dns: the nameserver pods with dnsPolicy ClusterFirst get. */
export const CLUSTER_DNS_IP = '10.96.0.10';

/** `apiserverPort` is where the `kubernetes` Service's port 443 leads. */
export async function bootstrapCluster(rest: RestStorage, registry: Registry, apiserverPort: number): Promise<void> {
  const nsDef = registry.resource('', 'v1', 'namespaces')!;
  for (const name of SYSTEM_NAMESPACES) await createIfAbsent(rest, { def: nsDef }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  await ensureKubernetesService(rest, registry, apiserverPort);
  await ensureClusterDnsService(rest, registry);
}
const BOOTSTRAP_WRITE = { dryRun: false, fieldManager: 'stratus-bootstrap', userAgentManager: 'stratus', fieldValidation: 'Strict' } as const;

/** Read first: on stores that spend a revision per attempted write, an existing object costs one read. */
async function createIfAbsent(rest: RestStorage, scope: Scope, obj: KubeObject): Promise<void> {
  try {
    await rest.get({ ...scope, name: obj.metadata.name });
    return;
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 404)) throw e;
  }
  try {
    await rest.create(scope, obj, undefined, BOOTSTRAP_WRITE);
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 409)) throw e;
  }
}

/** The `kubernetes` Service in `default`, on the first IP of the service range, as every cluster has. */
async function ensureKubernetesService(rest: RestStorage, registry: Registry, port: number): Promise<void> {
  const def = registry.resource('', 'v1', 'services')!;
  await createIfAbsent(
    rest,
    { def, namespace: 'default' },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { type: 'ClusterIP', clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }] },
    },
  );
}

/** kube-system/kube-dns without a selector: each node's proxy leads its ports to the agent's own DNS server. */
async function ensureClusterDnsService(rest: RestStorage, registry: Registry): Promise<void> {
  const def = registry.resource('', 'v1', 'services')!;
  await createIfAbsent(
    rest,
    { def, namespace: 'kube-system' },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' } },
      spec: {
        type: 'ClusterIP',
        clusterIP: CLUSTER_DNS_IP,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        ],
      },
    },
  );
}
