// `stratus join <endpoint> --token <t> --ca-cert-hash sha256:<hex>`: kubeadm-style joining.
// 1. Discovery: read kube-public/cluster-info without credentials (and without trusting the
//    server yet), check its JWS signature for the token and pin its CA to --ca-cert-hash, then read
//    it again over TLS verified against that CA.
// 2. Exchange the bootstrap token for one credential per node name (system:node:<name>).
// 3. Write each node's kubeconfig under the data directory and start the agent(s).
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'node:https';
import { Command, InvalidArgumentError } from 'commander';
import { parse as parseYaml, stringify } from 'yaml';
import { createLogger, type Logger } from '../shared/apiserver/logger.js';
import { KubeApiError, KubeClient, type ClusterAccess } from '../shared/client/kube-client.js';
import { parseBootstrapToken } from '../shared/apiserver/bootstrap-tokens.js';
import { CLUSTER_INFO_PATH, JWS_KEY_PREFIX, caCertHash, jwsMatches } from '../shared/apiserver/cluster-info.js';
import { isValidNodeName } from '../shared/apiserver/node-credentials.js';
import { NODE_CREDENTIAL_PATH } from '../functions/apiserver/node-authorizer.js';
import { NODE_CREDENTIAL_API_VERSION, NODE_CREDENTIAL_KIND } from '../functions/apiserver/node-credential-route.js';
import { startJoinedAgents, type JoinedNode, type RunningAgents } from './join-agent.js';

/** A refusal to join, with a message meant for the person running the command. */
export class JoinError extends Error {
  override name = 'JoinError';
}

const HASH_RE = /^sha256:[0-9a-f]{64}$/;

/** "https://host:port", "host:port" or "host" -> https URL without a trailing slash. */
export function normalizeEndpoint(endpoint: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`;
  const url = new URL(withScheme);
  if (url.protocol !== 'https:') throw new JoinError(`the endpoint must use https: ${endpoint}`);
  return `https://${url.host}`;
}

/** GET the cluster-info ConfigMap; without `ca` the server's certificate is not checked (discovery bootstraps trust). */
function fetchClusterInfo(server: string, ca?: string): Promise<{ data?: Record<string, string> }> {
  const url = new URL(CLUSTER_INFO_PATH, server);
  return new Promise((resolvePromise, reject) => {
    const req = request(url, { method: 'GET', headers: { Accept: 'application/json', 'User-Agent': 'stratus-join' }, ...(ca ? { ca } : { rejectUnauthorized: false }), timeout: 15_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        if (res.statusCode !== 200) {
          reject(new JoinError(`cannot read ${CLUSTER_INFO_PATH} from ${server}: HTTP ${res.statusCode} ${text.slice(0, 200)}`));
          return;
        }
        try {
          resolvePromise(JSON.parse(text) as { data?: Record<string, string> });
        } catch {
          reject(new JoinError(`${server} answered ${CLUSTER_INFO_PATH} with something that is not JSON`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => reject(new JoinError(`cannot reach ${server}${ca ? ' with the pinned CA' : ''}: ${err.message}`)));
    req.end();
  });
}

export interface DiscoveryOptions {
  /** sha256:<hex> pins of the CA's public key; at least one must match. */
  caCertHashes: string[];
  /** Accept the CA on the strength of the token signature alone (kubeadm's unsafe-skip). */
  unsafeSkipCaVerification?: boolean;
}

export interface Discovered {
  server: string;
  caCert: string;
}

/** Token-based discovery: returns the server and its CA once they are verified. */
export async function discoverCluster(endpoint: string, token: string, opts: DiscoveryOptions): Promise<Discovered> {
  const parsed = parseBootstrapToken(token);
  if (!parsed) throw new JoinError('the token must have the form [a-z0-9]{6}.[a-z0-9]{16} (as `stratus token create` prints it)');
  for (const h of opts.caCertHashes) if (!HASH_RE.test(h)) throw new JoinError(`--ca-cert-hash must look like sha256:<64 hex digits>, got "${h}"`);
  if (!opts.caCertHashes.length && !opts.unsafeSkipCaVerification) {
    throw new JoinError('refusing to join without --ca-cert-hash: pass the sha256 pin `stratus token create` prints (or --unsafe-skip-ca-verification to trust the token signature alone)');
  }
  const server = normalizeEndpoint(endpoint);
  const info = await fetchClusterInfo(server);
  const kubeconfig = info.data?.kubeconfig;
  if (!kubeconfig) throw new JoinError(`${server} has no kubeconfig in ${CLUSTER_INFO_PATH}: is it a stratus control plane?`);

  const signature = info.data?.[`${JWS_KEY_PREFIX}${parsed.id}`];
  if (signature === undefined) {
    if (!opts.caCertHashes.length) throw new JoinError(`cluster-info carries no signature for token id "${parsed.id}": the token is unknown to this cluster, expired, or not marked for signing`);
  } else if (!jwsMatches(signature, kubeconfig, parsed.id, parsed.secret)) {
    throw new JoinError(`the cluster-info signature for token id "${parsed.id}" does not match the token: the token is wrong, or the answer did not come from the cluster that issued it`);
  }

  const cluster = (parseYaml(kubeconfig) as { clusters?: { cluster?: { 'certificate-authority-data'?: string } }[] })?.clusters?.[0]?.cluster;
  const caData = cluster?.['certificate-authority-data'];
  if (!caData) throw new JoinError('the cluster-info kubeconfig has no certificate-authority-data');
  const caCert = Buffer.from(caData, 'base64').toString('utf8');
  let actual: string;
  try {
    actual = caCertHash(caCert);
  } catch (e) {
    throw new JoinError(`the cluster-info CA is not a valid certificate: ${(e as Error).message}`);
  }
  if (opts.caCertHashes.length && !opts.caCertHashes.includes(actual)) {
    throw new JoinError(`refusing to join: the cluster CA's public key hash is ${actual}, which does not match --ca-cert-hash ${opts.caCertHashes.join(', ')} (wrong hash, or someone else is answering at ${server})`);
  }
  // The server must prove it holds a certificate from that CA, and say the same thing over the trusted connection.
  const again = await fetchClusterInfo(server, caCert);
  if (again.data?.kubeconfig !== kubeconfig) throw new JoinError('cluster-info changed between the untrusted and the trusted read; try again');
  return { server, caCert };
}

/** Exchange the bootstrap token for the credential of `nodeName`. */
export async function requestNodeCredential(cluster: Discovered, bootstrapToken: string, nodeName: string): Promise<string> {
  const client = new KubeClient({ server: cluster.server, token: bootstrapToken, caCert: cluster.caCert }, { userAgent: 'stratus-join' });
  try {
    const answer = await client.create<{ status?: { token?: string } }>(NODE_CREDENTIAL_PATH, { apiVersion: NODE_CREDENTIAL_API_VERSION, kind: NODE_CREDENTIAL_KIND, spec: { nodeName } });
    if (!answer?.status?.token) throw new JoinError('the control plane answered the credential request without a token');
    return answer.status.token;
  } catch (e) {
    if (e instanceof KubeApiError && e.code === 401) throw new JoinError('the control plane rejected the bootstrap token (unknown, expired, or not usable for authentication): create a new one with `stratus token create`');
    if (e instanceof KubeApiError) throw new JoinError(`the node credential request for "${nodeName}" failed: ${e.message}`);
    throw e;
  } finally {
    client.close();
  }
}

/** Write the kubeconfig an agent for `nodeName` uses; returns its path. */
export function writeNodeKubeconfig(dataDir: string, nodeName: string, access: ClusterAccess): string {
  const dir = join(dataDir, 'nodes', nodeName);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'kubeconfig');
  const user = `system:node:${nodeName}`;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'stratus', cluster: { server: access.server, 'certificate-authority-data': Buffer.from(access.caCert).toString('base64') } }],
    users: [{ name: user, user: { token: access.token } }],
    contexts: [{ name: `${user}@stratus`, context: { cluster: 'stratus', user } }],
    'current-context': `${user}@stratus`,
    preferences: {},
  };
  writeFileSync(file, stringify(config), { mode: 0o600 });
  return file;
}

export interface JoinOptions extends DiscoveryOptions {
  endpoint: string;
  token: string;
  nodeNames: string[];
  dataDir: string;
}

/** Discovery, credential exchange and kubeconfigs: everything up to starting the agent. */
export async function joinCluster(opts: JoinOptions): Promise<JoinedNode[]> {
  for (const name of opts.nodeNames) if (!isValidNodeName(name)) throw new JoinError(`invalid node name "${name}": use lowercase letters, digits, '-' and '.'`);
  const cluster = await discoverCluster(opts.endpoint, opts.token, opts);
  const nodes: JoinedNode[] = [];
  for (const name of opts.nodeNames) {
    const access = { server: cluster.server, caCert: cluster.caCert, token: await requestNodeCredential(cluster, opts.token, name) };
    nodes.push({ name, access, kubeconfig: writeNodeKubeconfig(opts.dataDir, name, access) });
  }
  return nodes;
}

/** This machine's name as a node name. */
export function defaultNodeName(): string {
  const name = hostname().toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '').slice(0, 63);
  return name || 'node';
}

/** <name> for one node, <name>-0 ... <name>-(n-1) for several. */
export function nodeNamesFor(base: string, count: number): string[] {
  return count === 1 ? [base] : Array.from({ length: count }, (_, i) => `${base}-${i}`);
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number >= 1');
  return n;
}

interface JoinCommandOptions {
  token: string;
  caCertHash: string[];
  unsafeSkipCaVerification?: boolean;
  nodeName?: string;
  simulate?: number;
  dataDir: string;
  cpu: string;
  memory: string;
  maxPods: string;
  logLevel: string;
}

/** `stratus join`; `defaultDataDir` is where node credentials are written. */
export function joinCommand(defaultDataDir: string): Command {
  return new Command('join')
    .description('Join this machine (or --simulate N hollow nodes) to a control plane with a bootstrap token from `stratus token create`.')
    .argument('<endpoint>', 'the control plane, e.g. https://127.0.0.1:6443')
    .requiredOption('--token <token>', 'bootstrap token ([a-z0-9]{6}.[a-z0-9]{16})')
    .option('--ca-cert-hash <sha256:hex>', "pin of the cluster CA's public key (repeatable)", (v: string, prev: string[]) => [...prev, v.toLowerCase()], [] as string[])
    .option('--unsafe-skip-ca-verification', 'trust the CA on the token signature alone, without --ca-cert-hash')
    .option('--node-name <name>', 'node name (with --simulate N > 1: <name>-0 ... <name>-<N-1>)')
    .option('--simulate <n>', 'run N hollow nodes (fake runtime), each with its own credential', positiveInt)
    .option('--data-dir <dir>', 'where node credentials (kubeconfigs) are written', defaultDataDir)
    .option('--cpu <cpu>', 'hollow node cpu capacity', '4')
    .option('--memory <memory>', 'hollow node memory capacity', '16Gi')
    .option('--max-pods <n>', 'hollow node pod capacity', '110')
    .option('--log-level <level>', 'log level: fatal, error, warn, info, debug, trace', process.env.STRATUS_LOG_LEVEL ?? 'info')
    .action(async (endpoint: string, opts: JoinCommandOptions) => {
      const log: Logger = createLogger(opts.logLevel);
      const fail = (message: string, code = 1) => {
        process.stderr.write(`stratus join: ${message}\n`);
        process.exit(code);
      };
      let agents: RunningAgents;
      try {
        const nodes = await joinCluster({
          endpoint,
          token: opts.token,
          caCertHashes: opts.caCertHash,
          unsafeSkipCaVerification: opts.unsafeSkipCaVerification,
          nodeNames: nodeNamesFor(opts.nodeName ?? defaultNodeName(), opts.simulate ?? 1),
          dataDir: resolve(opts.dataDir),
        });
        for (const n of nodes) process.stdout.write(`node "${n.name}" joined ${n.access.server}; credential written to ${n.kubeconfig}\n`);
        agents = await startJoinedAgents(nodes, { simulate: !!opts.simulate, log, capacity: { cpu: opts.cpu, memory: opts.memory, pods: opts.maxPods } });
      } catch (e) {
        return fail(e instanceof Error ? e.message : String(e));
      }
      process.stdout.write(`stratus join: ${agents.nodes.length} node agent(s) running: ${agents.nodes.join(', ')}\n`);
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        agents.stop().finally(() => process.exit(0));
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
}
