// The local node `stratus start` runs gets its own node credential, as a joined node does: its
// agent authenticates as system:node:<name>, may run its own Node and Lease, and is refused
// another node's objects with kube-apiserver's 403 wording.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../cli/control-plane.js';
import { issueLocalNodeCredential, type NodeCredential } from '../../cli/local-node.js';
import { createLogger } from '../../shared/apiserver/logger.js';
import { accessFromKubeconfig, KubeApiError, KubeClient } from '../../shared/client/kube-client.js';
import { nodeCredentialSecretName } from '../../shared/apiserver/node-credentials.js';
import { NodeAgent } from '../../node-agent/agent.js';
import { FakeRuntime } from '../../node-agent/fake-runtime.js';
import { freePort } from '../e2e/harness.js';

const NODE = 'local-node-a';
const OTHER = 'local-node-b';
let dir: string;
let cp: ControlPlane;
let admin: KubeClient;
let credential: NodeCredential;
let nodeClient: KubeClient;

async function refusal(p: Promise<unknown>): Promise<KubeApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KubeApiError) return e;
    throw e;
  }
  throw new Error('the request was allowed');
}

const identity = (name: string, index: number) => ({
  name,
  internalIP: `10.250.0.${index + 1}`,
  capacity: { cpu: '2', memory: '4Gi', pods: '110', ephemeralStorage: '10Gi' },
  runtimeVersion: 'fake://1.0.0',
  kubeletVersion: 'v1.33.0-stratus',
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stratus-local-node-'));
  cp = await startControlPlane({ dataDir: dir, port: await freePort(), log: createLogger('silent') });
  admin = new KubeClient({ server: cp.url, token: cp.token, caCert: cp.caCert });
  credential = await issueLocalNodeCredential({ server: cp.url, token: cp.token, caCert: cp.caCert }, dir, NODE);
  nodeClient = new KubeClient(credential.access);
  // Another node, registered with the admin token.
  await new NodeAgent(identity(OTHER, 1), admin, new FakeRuntime(1), createLogger('silent')).register();
}, 60_000);

afterAll(async () => {
  nodeClient?.close();
  admin?.close();
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('local node credential', () => {
  it('is a node credential of its own, not the admin token, written as a kubeconfig like join writes it', async () => {
    expect(credential.nodeName).toBe(NODE);
    expect(credential.access.token).not.toBe(cp.token);
    expect(credential.kubeconfig).toBe(join(dir, 'nodes', NODE, 'kubeconfig'));
    expect(accessFromKubeconfig(credential.kubeconfig)).toEqual(credential.access);
    const secret = await admin.get<{ type: string; metadata: { annotations: Record<string, string> } }>(`/api/v1/namespaces/kube-system/secrets/${nodeCredentialSecretName(NODE)}`);
    expect(secret.type).toBe('stratus.dev/node-credential');
    expect(secret.metadata.annotations['stratus.dev/node-name']).toBe(NODE);
    expect(secret.metadata.annotations['stratus.dev/issued-by']).toBe('admin');
  });

  it('lets the agent register its own Node, post its status and renew its Lease', async () => {
    const agent = new NodeAgent(identity(NODE, 0), nodeClient, new FakeRuntime(0), createLogger('silent'));
    await agent.register();
    await agent.renewLease();
    const node = await admin.get<{ status: { conditions: { type: string; status: string }[] } }>(`/api/v1/nodes/${NODE}`);
    expect(node.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    const lease = await admin.get<{ spec: { holderIdentity: string } }>(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${NODE}`);
    expect(lease.spec.holderIdentity).toBe(NODE);
  });

  it("is refused another node's Node, status and Lease, as system:node:<name>", async () => {
    // Denied by the authorizer (User "system:node:<name>" cannot ...) or by NodeRestriction (node "<name>" is not allowed ...).
    const user = new RegExp(`User "system:node:${NODE}"|node "${NODE}"`);
    const status = await refusal(nodeClient.patch(`/api/v1/nodes/${OTHER}/status`, { status: { conditions: [] } }));
    expect(status.code).toBe(403);
    expect(status.message).toMatch(user);
    const label = await refusal(nodeClient.patch(`/api/v1/nodes/${OTHER}`, { metadata: { labels: { taken: 'over' } } }));
    expect(label.code).toBe(403);
    expect(label.message).toMatch(user);
    const lease = await refusal(nodeClient.patch(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${OTHER}`, { spec: { holderIdentity: NODE } }));
    expect(lease.code).toBe(403);
    expect(lease.message).toMatch(user);
    const del = await refusal(nodeClient.delete(`/api/v1/nodes/${OTHER}`));
    expect(del.code).toBe(403);
    // The other node is untouched.
    const other = await admin.get<{ metadata: { labels: Record<string, string> } }>(`/api/v1/nodes/${OTHER}`);
    expect(other.metadata.labels.taken).toBeUndefined();
  });

  it("is refused the status of a pod bound to another node", async () => {
    await admin.create('/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'on-other', namespace: 'default' },
      spec: { nodeName: OTHER, containers: [{ name: 'c', image: 'busybox' }] },
    });
    const err = await refusal(nodeClient.patch('/api/v1/namespaces/default/pods/on-other/status', { status: { phase: 'Failed' } }));
    expect(err.code).toBe(403);
    expect(err.message).toContain(`node "${NODE}" can only update pod status for pods with spec.nodeName set to itself`);
  });

  it('replaces the previous credential when issued again (a restarted control plane revokes the old one)', async () => {
    const again = await issueLocalNodeCredential({ server: cp.url, token: cp.token, caCert: cp.caCert }, dir, NODE);
    expect(again.access.token).not.toBe(credential.access.token);
    const fresh = new KubeClient(again.access);
    try {
      await expect(fresh.get(`/api/v1/nodes/${NODE}`)).resolves.toBeTruthy();
    } finally {
      fresh.close();
    }
    // The authenticator caches a verified token for up to 10 s; a new client with the old token is refused after that.
    const stale = new KubeClient(credential.access);
    try {
      await new Promise((r) => setTimeout(r, 10_500));
      const err = await refusal(stale.get(`/api/v1/nodes/${NODE}`));
      expect(err.code).toBe(401);
    } finally {
      stale.close();
    }
  }, 30_000);
});
