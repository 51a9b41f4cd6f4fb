// The proxy's iptables state as iptables-restore input (to be applied with --noflush): every chain
// the proxy owns is declared, which empties it, and written out whole, the way kube-proxy's
// iptables mode does. Chains of Services that are gone are emptied and deleted in the same run.
import { createHash } from 'node:crypto';
import type { Endpoint, ServicePort } from './service-ports.js';

export interface RuleOptions {
  /** Prefix of every chain the proxy owns, e.g. STRATUS (at most 15 characters). */
  prefix: string;
  /** Masquerade all traffic to cluster IPs; needed where bridged pod traffic skips iptables. */
  masqueradeAll?: boolean;
  /** Pod network: cluster IP traffic from outside it is masqueraded (unless masqueradeAll). */
  clusterCIDR?: string;
  /** Service IP range: traffic to it that no rule translated is rejected rather than routed away. */
  serviceCIDR?: string;
  /** Chains with the prefix that exist now, per table, so that stale ones get deleted. */
  existing?: { nat?: readonly string[]; filter?: readonly string[] };
}

/** The packet mark bit that asks for masquerading on the way out. */
export const MASQ_MARK = '0x8000';
const MAX_CHAIN_NAME = 28;

export interface ChainNames {
  services: string;
  nodePorts: string;
  postrouting: string;
  markMasq: string;
  /** filter table: rejects for cluster IPs and node ports without endpoints. */
  filterServices: string;
  filterExternal: string;
}

export function chainNames(prefix: string): ChainNames {
  if (!/^[A-Z][A-Z0-9_]{0,14}$/.test(prefix)) throw new Error(`chain prefix ${JSON.stringify(prefix)} must be 1-15 upper-case letters, digits or _`);
  return {
    services: `${prefix}-SERVICES`,
    nodePorts: `${prefix}-NODEPORTS`,
    postrouting: `${prefix}-POSTROUTING`,
    markMasq: `${prefix}-MARK-MASQ`,
    filterServices: `${prefix}-SERVICES`,
    filterExternal: `${prefix}-EXTERNAL`,
  };
}

/** A chain name that stays the same for the same input and fits iptables' 28 characters. */
function hashedChain(prefix: string, kind: 'SVC' | 'SEP', input: string): string {
  const head = `${prefix}-${kind}-`;
  const digest = createHash('sha256').update(input).digest('base64url').replace(/[-_]/g, '').toUpperCase();
  return head + digest.slice(0, MAX_CHAIN_NAME - head.length);
}

const portKey = (sp: ServicePort) => `${sp.namespace}/${sp.name}:${sp.portName}/${sp.protocol}`;
export const serviceChain = (prefix: string, sp: ServicePort) => hashedChain(prefix, 'SVC', portKey(sp));
export const endpointChain = (prefix: string, sp: ServicePort, ep: Endpoint) => hashedChain(prefix, 'SEP', `${portKey(sp)}>${ep.ip}:${ep.port}`);

const comment = (text: string) => `-m comment --comment "${text.replace(/"/g, '')}"`;
const proto = (sp: ServicePort) => {
  const p = sp.protocol.toLowerCase();
  return `-p ${p} -m ${p}`;
};
const describe = (sp: ServicePort) => `${sp.namespace}/${sp.name}${sp.portName ? `:${sp.portName}` : ''}`;

/** Probability for the i-th of n endpoints so that each gets 1/n of new connections. */
function probability(i: number, n: number): string {
  return (1 / (n - i)).toFixed(10);
}

export function renderRules(ports: readonly ServicePort[], opts: RuleOptions): string {
  const { prefix } = opts;
  const c = chainNames(prefix);
  const natChains = [c.services, c.nodePorts, c.postrouting, c.markMasq];
  const natRules: string[] = [];
  const filterRules: string[] = [];
  const nodePortRules: string[] = [];

  natRules.push(`-A ${c.markMasq} -j MARK --or-mark ${MASQ_MARK}`);
  natRules.push(`-A ${c.postrouting} -m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`);
  natRules.push(`-A ${c.postrouting} -j MARK --xor-mark ${MASQ_MARK}`);
  natRules.push(`-A ${c.postrouting} ${comment('service traffic requiring SNAT')} -j MASQUERADE`);

  for (const sp of ports) {
    const match = `-d ${sp.clusterIP}/32 ${proto(sp)} --dport ${sp.port}`;
    if (!sp.endpoints.length) {
      filterRules.push(`-A ${c.filterServices} ${match} ${comment(`${describe(sp)} has no endpoints`)} -j REJECT --reject-with icmp-port-unreachable`);
      if (sp.nodePort) filterRules.push(`-A ${c.filterExternal} -m addrtype --dst-type LOCAL ${proto(sp)} --dport ${sp.nodePort} ${comment(`${describe(sp)} has no endpoints`)} -j REJECT --reject-with icmp-port-unreachable`);
      continue;
    }
    const svcChain = serviceChain(prefix, sp);
    natChains.push(svcChain);
    if (opts.masqueradeAll) natRules.push(`-A ${c.services} ${match} -j ${c.markMasq}`);
    else if (opts.clusterCIDR) natRules.push(`-A ${c.services} ${match} ! -s ${opts.clusterCIDR} -j ${c.markMasq}`);
    natRules.push(`-A ${c.services} ${match} ${comment(`${describe(sp)} cluster IP`)} -j ${svcChain}`);
    if (sp.nodePort) {
      nodePortRules.push(`-A ${c.nodePorts} ${proto(sp)} --dport ${sp.nodePort} -j ${c.markMasq}`);
      nodePortRules.push(`-A ${c.nodePorts} ${proto(sp)} --dport ${sp.nodePort} ${comment(`${describe(sp)} node port`)} -j ${svcChain}`);
    }
    const sepChains = sp.endpoints.map((ep) => endpointChain(prefix, sp, ep));
    if (sp.affinitySeconds !== undefined) {
      for (const sep of sepChains) natRules.push(`-A ${svcChain} -m recent --name ${sep} --rcheck --seconds ${sp.affinitySeconds} --reap -j ${sep}`);
    }
    sp.endpoints.forEach((ep, i) => {
      const sep = sepChains[i];
      const last = i === sp.endpoints.length - 1;
      natRules.push(`-A ${svcChain}${last ? '' : ` -m statistic --mode random --probability ${probability(i, sp.endpoints.length)}`} -j ${sep}`);
      natChains.push(sep);
      // A pod reaching itself through the Service needs SNAT, or its reply would bypass the translation.
      natRules.push(`-A ${sep} -s ${ep.ip}/32 -j ${c.markMasq}`);
      const recent = sp.affinitySeconds !== undefined ? ` -m recent --name ${sep} --set` : '';
      natRules.push(`-A ${sep} ${proto(sp)}${recent} -j DNAT --to-destination ${ep.ip}:${ep.port}`);
    });
  }
  natRules.push(...nodePortRules);
  // Last, so that cluster IPs match first: node ports on every local address except loopback.
  natRules.push(`-A ${c.services} ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j ${c.nodePorts}`);
  if (opts.serviceCIDR) filterRules.push(`-A ${c.filterServices} -d ${opts.serviceCIDR} ${comment('no such service port')} -j REJECT --reject-with icmp-port-unreachable`);

  const filterChains = [c.filterServices, c.filterExternal];
  const staleNat = (opts.existing?.nat ?? []).filter((ch) => ch.startsWith(`${prefix}-`) && !natChains.includes(ch));
  const staleFilter = (opts.existing?.filter ?? []).filter((ch) => ch.startsWith(`${prefix}-`) && !filterChains.includes(ch));
  const declare = (chains: string[]) => chains.map((ch) => `:${ch} - [0:0]`);
  const remove = (chains: string[]) => chains.map((ch) => `-X ${ch}`);
  return [
    '*nat',
    ...declare([...natChains, ...staleNat]),
    ...natRules,
    ...remove(staleNat),
    'COMMIT',
    '*filter',
    ...declare([...filterChains, ...staleFilter]),
    ...filterRules,
    ...remove(staleFilter),
    'COMMIT',
    '',
  ].join('\n');
}

/** Input that empties and deletes the given chains. */
export function renderCleanup(existing: { nat?: readonly string[]; filter?: readonly string[] }): string {
  const table = (name: string, chains: readonly string[]) => (chains.length ? [`*${name}`, ...chains.map((ch) => `:${ch} - [0:0]`), ...chains.map((ch) => `-X ${ch}`), 'COMMIT'] : []);
  return [...table('nat', existing.nat ?? []), ...table('filter', existing.filter ?? []), ''].join('\n');
}

/** Chains named in iptables-save output of one table that start with the prefix. */
export function chainsInSave(saveOutput: string, prefix: string): string[] {
  const out: string[] = [];
  for (const line of saveOutput.split('\n')) {
    const m = /^:(\S+) /.exec(line);
    if (m && m[1].startsWith(`${prefix}-`)) out.push(m[1]);
  }
  return out;
}

/** The rules in the built-in chains that lead into the proxy's chains: [table, chain, rule args]. */
export function jumpRules(prefix: string): [table: 'nat' | 'filter', chain: string, args: string[]][] {
  const c = chainNames(prefix);
  const tag = ['-m', 'comment', '--comment', `${prefix} service portals`];
  const fresh = ['-m', 'conntrack', '--ctstate', 'NEW'];
  return [
    ['nat', 'PREROUTING', [...tag, '-j', c.services]],
    ['nat', 'OUTPUT', [...tag, '-j', c.services]],
    ['nat', 'POSTROUTING', [...tag, '-j', c.postrouting]],
    ['filter', 'FORWARD', [...fresh, ...tag, '-j', c.filterServices]],
    ['filter', 'OUTPUT', [...fresh, ...tag, '-j', c.filterServices]],
    ['filter', 'INPUT', [...fresh, ...tag, '-j', c.filterExternal]],
  ];
}
