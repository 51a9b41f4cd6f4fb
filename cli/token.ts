// `stratus token create|list|delete`: bootstrap tokens for joining nodes, managed with the admin
// kubeconfig as `kubeadm token` does. `create` also refreshes the signed cluster-info ConfigMap
// and prints the join command with the CA pin.
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { KubeApiError, KubeClient, accessFromKubeconfig, isKubeConflict, isKubeNotFound } from '../shared/client/kube-client.js';
import type { KubeObject } from '../shared/api/kind.js';
import {
  BOOTSTRAP_TOKEN_SECRET_TYPE,
  DEFAULT_NODE_TOKEN_GROUP,
  TOKEN_NAMESPACE,
  bootstrapTokenSecret,
  bootstrapTokenSecretName,
  generateBootstrapToken,
  isBootstrapTokenId,
  isExpired,
  isValidBootstrapGroup,
  parseBootstrapToken,
  parseDuration,
  readBootstrapTokenSecret,
  shortDuration,
  type TokenUsage,
} from '../shared/apiserver/bootstrap-tokens.js';
import { CLUSTER_INFO_NAME, CLUSTER_INFO_NAMESPACE, CLUSTER_INFO_PATH, caCertHash, clusterInfoConfigMap, clusterInfoData } from '../shared/apiserver/cluster-info.js';

const SECRETS_PATH = `/api/v1/namespaces/${TOKEN_NAMESPACE}/secrets`;

export interface CreateTokenOptions {
  /** Use this token instead of a random one. */
  token?: string;
  ttlMs?: number;
  description?: string;
  usages?: TokenUsage[];
  groups?: string[];
}

export interface CreatedToken {
  token: string;
  caCertHash: string;
  joinCommand: string;
}

export function joinCommandLine(server: string, token: string, hash: string): string {
  return `npx stratus join ${server} --token ${token} --ca-cert-hash ${hash}`;
}

async function listTokenSecrets(client: KubeClient): Promise<KubeObject[]> {
  const list = await client.get<{ items: KubeObject[] }>(`${SECRETS_PATH}?fieldSelector=${encodeURIComponent(`type=${BOOTSTRAP_TOKEN_SECRET_TYPE}`)}`);
  return list.items;
}

/** Bring kube-public/cluster-info up to date with the server, its CA and the current tokens' signatures. */
export async function refreshClusterInfo(client: KubeClient): Promise<void> {
  const { server, caCert } = client.access;
  for (let attempt = 0; ; attempt++) {
    const data = clusterInfoData(caCert, server, await listTokenSecrets(client));
    try {
      let current: KubeObject | undefined;
      try {
        current = await client.get<KubeObject>(CLUSTER_INFO_PATH);
      } catch (e) {
        if (!isKubeNotFound(e)) throw e;
      }
      if (!current) await client.create(`/api/v1/namespaces/${CLUSTER_INFO_NAMESPACE}/configmaps`, clusterInfoConfigMap(data));
      else await client.update(CLUSTER_INFO_PATH, { ...current, metadata: { ...current.metadata, name: CLUSTER_INFO_NAME }, data });
      return;
    } catch (e) {
      if (!(isKubeConflict(e) || isKubeNotFound(e)) || attempt > 4) throw e;
    }
  }
}

export async function createToken(client: KubeClient, opts: CreateTokenOptions = {}): Promise<CreatedToken> {
  const token = opts.token ?? generateBootstrapToken();
  const secret = bootstrapTokenSecret(token, {
    ttlMs: opts.ttlMs,
    description: opts.description ?? "Created by 'stratus token create' for joining nodes.",
    usages: opts.usages ?? ['authentication', 'signing'],
    groups: opts.groups ?? [DEFAULT_NODE_TOKEN_GROUP],
  });
  try {
    await client.create(SECRETS_PATH, secret);
  } catch (e) {
    if (isKubeConflict(e)) throw new Error(`a bootstrap token with id "${parseBootstrapToken(token)!.id}" already exists`);
    throw e;
  }
  await refreshClusterInfo(client);
  const hash = caCertHash(client.access.caCert);
  return { token, caCertHash: hash, joinCommand: joinCommandLine(client.access.server, token, hash) };
}

/** The token table kubeadm prints: TOKEN TTL EXPIRES USAGES DESCRIPTION EXTRA GROUPS. */
export async function listTokens(client: KubeClient, now = new Date()): Promise<string> {
  const rows = [['TOKEN', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION', 'EXTRA GROUPS']];
  for (const secret of await listTokenSecrets(client)) {
    const info = readBootstrapTokenSecret(secret);
    if (!info.id || secret.metadata.name !== bootstrapTokenSecretName(info.id) || !info.secret) continue;
    let ttl = '<forever>';
    let expires = '<never>';
    if (info.expires === null) ttl = expires = '<invalid>';
    else if (info.expires) {
      expires = info.expires.toISOString().replace(/\.\d+Z$/, 'Z');
      ttl = isExpired(info, now) ? '<invalid>' : shortDuration(info.expires.getTime() - now.getTime());
    }
    rows.push([`${info.id}.${info.secret}`, ttl, expires, info.usages.join(',') || '<none>', info.description || '<none>', info.extraGroups.join(',') || '<none>']);
  }
  const widths = rows[0].map((_, i) => Math.max(10, ...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] + 3))).join('')).join('\n') + '\n';
}

/** Delete tokens by id or whole token; returns the ids deleted. */
export async function deleteTokens(client: KubeClient, idsOrTokens: string[]): Promise<string[]> {
  const deleted: string[] = [];
  for (const arg of idsOrTokens) {
    const id = isBootstrapTokenId(arg) ? arg : parseBootstrapToken(arg)?.id;
    if (!id) throw new Error(`"${arg}" is neither a token id ([a-z0-9]{6}) nor a token ([a-z0-9]{6}.[a-z0-9]{16})`);
    try {
      await client.delete(`${SECRETS_PATH}/${bootstrapTokenSecretName(id)}`);
    } catch (e) {
      if (isKubeNotFound(e)) throw new Error(`bootstrap token "${id}" not found`);
      throw e;
    }
    deleted.push(id);
  }
  await refreshClusterInfo(client);
  return deleted;
}

// ---- the command ------------------------------------------------------------------------------

function ttl(value: string): number {
  try {
    return parseDuration(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function groupsList(value: string): string[] {
  const groups = value.split(',').map((g) => g.trim()).filter(Boolean);
  for (const g of groups) if (!isValidBootstrapGroup(g)) throw new InvalidArgumentError(`group "${g}" must match system:bootstrappers:<name> ([a-z0-9:-], ending in [a-z0-9])`);
  return groups;
}

function usagesList(value: string): TokenUsage[] {
  const usages = value.split(',').map((u) => u.trim()).filter(Boolean);
  for (const u of usages) if (u !== 'authentication' && u !== 'signing') throw new InvalidArgumentError(`unknown usage "${u}": use authentication and/or signing`);
  return usages as TokenUsage[];
}

interface ConnectionOpts {
  dataDir: string;
  kubeconfig?: string;
}

function adminClient(opts: ConnectionOpts): KubeClient {
  const path = opts.kubeconfig ?? resolve(opts.dataDir, 'kubeconfig');
  try {
    return new KubeClient(accessFromKubeconfig(path), { userAgent: 'stratus-token' });
  } catch (e) {
    throw new Error(`cannot read the admin kubeconfig ${path} (start the control plane first, or pass --data-dir/--kubeconfig): ${(e as Error).message}`);
  }
}

async function run(opts: ConnectionOpts, work: (client: KubeClient) => Promise<void>): Promise<void> {
  let client: KubeClient | undefined;
  try {
    client = adminClient(opts);
    await work(client);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const hint = err.code === 'ECONNREFUSED' ? ' (is the control plane running?)' : '';
    const message = e instanceof KubeApiError ? e.message : err.message;
    process.stderr.write(`error: ${message}${hint}\n`);
    process.exitCode = 1;
  } finally {
    client?.close();
  }
}

/** `stratus token ...`; `defaultDataDir` is where `stratus start` keeps its state. */
export function tokenCommand(defaultDataDir: string): Command {
  const token = new Command('token').description('Manage bootstrap tokens that let nodes join the cluster (stratus join).');
  const connection = (cmd: Command) =>
    cmd
      .option('--data-dir <dir>', 'the control plane data directory (its admin kubeconfig is used)', defaultDataDir)
      .option('--kubeconfig <file>', 'admin kubeconfig to use instead of <data-dir>/kubeconfig');

  connection(
    token
      .command('create [token]')
      .description('Create a bootstrap token and print the command that joins a node with it.')
      .option('--ttl <duration>', 'lifetime of the token, e.g. 24h, 30m; 0 never expires', ttl, 24 * 3600 * 1000)
      .option('--description <text>', 'what the token is for')
      .option('--groups <groups>', 'extra groups, comma-separated (system:bootstrappers:<name>)', groupsList)
      .option('--usages <usages>', 'authentication and/or signing, comma-separated', usagesList),
  ).action(async (given: string | undefined, opts: ConnectionOpts & { ttl: number; description?: string; groups?: string[]; usages?: TokenUsage[] }) => {
    if (given !== undefined && !parseBootstrapToken(given)) {
      process.stderr.write(`error: the token must have the form [a-z0-9]{6}.[a-z0-9]{16}\n`);
      process.exitCode = 1;
      return;
    }
    await run(opts, async (client) => {
      const created = await createToken(client, { token: given, ttlMs: opts.ttl, description: opts.description, groups: opts.groups, usages: opts.usages });
      process.stdout.write(`${created.joinCommand}\n`);
    });
  });

  connection(token.command('list').description('List bootstrap tokens.')).action(async (opts: ConnectionOpts) => {
    await run(opts, async (client) => {
      process.stdout.write(await listTokens(client));
    });
  });

  connection(token.command('delete <tokenOrId...>').description('Delete bootstrap tokens (by id or whole token).')).action(async (ids: string[], opts: ConnectionOpts) => {
    await run(opts, async (client) => {
      for (const id of await deleteTokens(client, ids)) process.stdout.write(`bootstrap token "${id}" deleted\n`);
    });
  });
  return token;
}
