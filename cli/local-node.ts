// The local node `stratus start` brings up next to the control plane: prepare containerd with
// scripts/setup-node.sh (installs packages when root, visible progress), then run the agent on it.
// When that cannot happen, say exactly why and what to do, and keep the control plane running.
// The agent does not use the admin token: like a joined node it gets its own credential
// (system:node:<name>, through the node credential exchange), so the node authorizer limits it
// to its own Node, Lease and pods.
import { join, resolve } from 'node:path';
import type { Logger } from '../shared/apiserver/logger.js';
import { KubeClient, type ClusterAccess } from '../shared/client/kube-client.js';
import { startLocalNode, type LocalNode } from '../node-agent/real-node.js';
import { runNodeSetup as runSetupScript, runtimeRestarter as restarterFor } from '../node-agent/node-setup.js';
import { defaultNodeName, requestNodeCredential, writeNodeKubeconfig } from './join.js';

const repoRoot = resolve(import.meta.dirname, '..');

const SETUP_SCRIPT = join(repoRoot, 'scripts/setup-node.sh');

/** Run scripts/setup-node.sh for `nodeDir`, streaming its progress lines to the log. Resolves with its exit code. */
export const runNodeSetup = (nodeDir: string, log: Logger): Promise<number> => runSetupScript(SETUP_SCRIPT, nodeDir, log);

/** The agent's way to bring containerd back when it stops answering: the setup script starts it again. */
export const runtimeRestarter = (nodeDir: string, log: Logger): (() => Promise<void>) => restarterFor(SETUP_SCRIPT, nodeDir, log);

export interface NodeCredential {
  nodeName: string;
  access: ClusterAccess;
  /** <dataDir>/nodes/<name>/kubeconfig, as `stratus join` writes it. */
  kubeconfig: string;
}

/**
 * Issue (or replace) the credential of `nodeName` with the admin's access, through the same
 * exchange `stratus join` uses, and write the node's kubeconfig under the data directory.
 */
export async function issueLocalNodeCredential(admin: ClusterAccess, dataDir: string, nodeName = defaultNodeName()): Promise<NodeCredential> {
  const token = await requestNodeCredential({ server: admin.server, caCert: admin.caCert }, admin.token, nodeName);
  const access: ClusterAccess = { server: admin.server, caCert: admin.caCert, token };
  return { nodeName, access, kubeconfig: writeNodeKubeconfig(dataDir, nodeName, access) };
}

/** Set up containerd and start the agent for this machine; undefined (with a logged reason) when it cannot run. */
export async function startNodeNextToControlPlane(
  access: ClusterAccess,
  dataDir: string,
  log: Logger,
  opts: { /** The control plane serves node tunnels (not on the Lambda-shaped path). */ tunnel?: boolean } = {},
): Promise<{ node: LocalNode; client: KubeClient } | undefined> {
  if (process.getuid?.() !== 0) {
    log.warn('no local node: running containers needs root (containerd). Run as root, or start nodes elsewhere with `npx stratus join` / hollow ones with `npx stratus agent --simulate N`. Control plane only.');
    return undefined;
  }
  const nodeDir = join(dataDir, 'node');
  const code = await runNodeSetup(nodeDir, log);
  if (code !== 0) {
    log.warn({ exitCode: code }, 'no local node: scripts/setup-node.sh failed (see its lines above for what is missing). Control plane only.');
    return undefined;
  }
  let credential: NodeCredential;
  try {
    credential = await issueLocalNodeCredential(access, dataDir);
  } catch (e) {
    log.warn({ err: e instanceof Error ? e.message : String(e) }, 'no local node: could not issue its node credential. Control plane only.');
    return undefined;
  }
  const client = new KubeClient(credential.access, { userAgent: 'stratus-node-agent' });
  try {
    const nodeLog = log.child({ component: 'node-agent' });
    const node = await startLocalNode({ client, nodeDir, nodeName: credential.nodeName, log: nodeLog, restartRuntime: runtimeRestarter(nodeDir, nodeLog), services: {}, tunnel: opts.tunnel ?? true });
    log.info({ node: node.agent.name }, 'local node running');
    return { node, client };
  } catch (e) {
    client.close();
    log.warn({ err: e instanceof Error ? e.message : String(e) }, 'no local node: the agent could not start. Control plane only.');
    return undefined;
  }
}
