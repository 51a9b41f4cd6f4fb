// Pod spec -> CRI sandbox and container configs, the way kubelet's kuberuntime builds them: the
// io.kubernetes.* labels, log paths <pod log dir>/<container>/<restart>.log, DNS, host ports,
// cgroup parent, resources (cpu shares/quota, memory limit), volume mounts and the basic security
// context.
import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { milliValue, value } from '../../shared/scheduler/resources.js';
import type { VolumeMountSpec, VolumeSpec } from '../volumes/types.js';
import type { ContainerConfig, DnsConfig, LinuxContainerResources, Mount, NamespaceOption, PodSandboxConfig, PortMapping, ProtocolName } from './client.js';

export const POD_NAME_LABEL = 'io.kubernetes.pod.name';
export const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
export const POD_UID_LABEL = 'io.kubernetes.pod.uid';
/** The node a sandbox was started for: an agent only ever cleans up its own node's sandboxes. */
export const NODE_NAME_LABEL = 'io.stratus.node.name';
export const CONTAINER_NAME_LABEL = 'io.kubernetes.container.name';
export const RESTART_COUNT_ANNOTATION = 'io.kubernetes.container.restartCount';
export const CONTAINER_TYPE_ANNOTATION = 'io.kubernetes.container.type';

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

export interface PodContainerSpec {
  name: string;
  image?: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  ports?: { containerPort: number; hostPort?: number; hostIP?: string; protocol?: string }[];
  resources?: { limits?: Record<string, string | number>; requests?: Record<string, string | number> };
  securityContext?: ContainerSecurityContext;
  /** Init containers only: "Always" makes it a sidecar that keeps running. */
  restartPolicy?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  volumeMounts?: VolumeMountSpec[];
}

interface ContainerSecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
}

export interface PodSpec {
  nodeName?: string;
  containers: PodContainerSpec[];
  initContainers?: PodContainerSpec[];
  restartPolicy?: string;
  hostname?: string;
  subdomain?: string;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  shareProcessNamespace?: boolean;
  dnsPolicy?: string;
  dnsConfig?: { nameservers?: string[]; searches?: string[]; options?: { name: string; value?: string }[] };
  securityContext?: { runAsUser?: number; runAsGroup?: number; supplementalGroups?: number[]; sysctls?: { name: string; value: string }[] };
  terminationGracePeriodSeconds?: number;
  volumes?: VolumeSpec[];
}

export interface PodObject {
  metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}

export interface PodConfigOptions {
  /** Directory holding one log directory per pod (<ns>_<name>_<uid>). */
  logRoot: string;
  /** cgroupfs path under which each pod gets pod<uid> (default /stratus). */
  cgroupRoot: string;
  /** Cluster DNS for dnsPolicy ClusterFirst; without it such pods use the node's resolv.conf. */
  clusterDns?: { servers: string[]; domain: string };
}

export type ContainerKind = 'init' | 'container';

export function podLogDirectory(logRoot: string, namespace: string, name: string, uid: string): string {
  return join(logRoot, `${namespace}_${name}_${uid}`);
}

export function podCgroupParent(cgroupRoot: string, uid: string): string {
  return `${cgroupRoot.replace(/\/+$/, '')}/pod${uid}`;
}

/** Relative to the pod log directory, as kubelet names it. */
export function containerLogPath(name: string, restartCount: number): string {
  return `${name}/${restartCount}.log`;
}

export function sandboxConfig(pod: PodObject, attempt: number, opts: PodConfigOptions): PodSandboxConfig {
  const { name, namespace, uid } = pod.metadata;
  const spec = pod.spec;
  const portMappings: PortMapping[] = [];
  for (const c of spec.containers) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      portMappings.push({ protocol: protocolName(p.protocol), container_port: p.containerPort, host_port: p.hostPort, host_ip: p.hostIP ?? '' });
    }
  }
  const sc = spec.securityContext ?? {};
  return {
    metadata: { name, namespace, uid, attempt },
    hostname: spec.hostNetwork ? osHostname() : podHostname(pod),
    log_directory: podLogDirectory(opts.logRoot, namespace, name, uid),
    dns_config: dnsConfig(pod, opts.clusterDns),
    port_mappings: portMappings,
    labels: { ...pod.metadata.labels, [POD_NAME_LABEL]: name, [POD_NAMESPACE_LABEL]: namespace, [POD_UID_LABEL]: uid, ...(spec.nodeName ? { [NODE_NAME_LABEL]: spec.nodeName } : {}) },
    annotations: { ...pod.metadata.annotations },
    linux: {
      cgroup_parent: podCgroupParent(opts.cgroupRoot, uid),
      security_context: {
        namespace_options: podNamespaces(spec),
        ...(sc.runAsUser !== undefined ? { run_as_user: { value: sc.runAsUser } } : {}),
        ...(sc.runAsGroup !== undefined ? { run_as_group: { value: sc.runAsGroup } } : {}),
        supplemental_groups: sc.supplementalGroups ?? [],
        privileged: [...spec.containers, ...(spec.initContainers ?? [])].some((c) => c.securityContext?.privileged),
      },
      sysctls: Object.fromEntries((sc.sysctls ?? []).map((s) => [s.name, s.value])),
    },
  };
}

/** `mounts` are the container's volume mounts as node paths (see volumes/container-mounts.ts). */
export function containerConfig(pod: PodObject, container: PodContainerSpec, kind: ContainerKind, restartCount: number, image: string, env: { name: string; value: string }[], mounts: Mount[] = []): ContainerConfig {
  const { name, namespace, uid } = pod.metadata;
  const vars = new Map(env.map((e) => [e.name, e.value]));
  const sc = container.securityContext ?? {};
  const podSc = pod.spec.securityContext ?? {};
  const runAsUser = sc.runAsUser ?? podSc.runAsUser;
  const runAsGroup = sc.runAsGroup ?? podSc.runAsGroup;
  return {
    metadata: { name: container.name, attempt: restartCount },
    image: { image, user_specified_image: container.image ?? '' },
    command: (container.command ?? []).map((s) => expandVars(s, vars)),
    args: (container.args ?? []).map((s) => expandVars(s, vars)),
    working_dir: container.workingDir ?? '',
    envs: env.map((e) => ({ key: e.name, value: e.value })),
    mounts,
    labels: { [POD_NAME_LABEL]: name, [POD_NAMESPACE_LABEL]: namespace, [POD_UID_LABEL]: uid, [CONTAINER_NAME_LABEL]: container.name },
    annotations: { [RESTART_COUNT_ANNOTATION]: String(restartCount), [CONTAINER_TYPE_ANNOTATION]: kind },
    log_path: containerLogPath(container.name, restartCount),
    stdin: container.stdin ?? false,
    stdin_once: container.stdinOnce ?? false,
    tty: container.tty ?? false,
    linux: {
      resources: linuxResources(container),
      security_context: {
        privileged: sc.privileged ?? false,
        namespace_options: podNamespaces(pod.spec),
        ...(runAsUser !== undefined ? { run_as_user: { value: runAsUser } } : {}),
        ...(runAsGroup !== undefined ? { run_as_group: { value: runAsGroup } } : {}),
        readonly_rootfs: sc.readOnlyRootFilesystem ?? false,
        no_new_privs: sc.allowPrivilegeEscalation === false,
        capabilities: { add_capabilities: sc.capabilities?.add ?? [], drop_capabilities: sc.capabilities?.drop ?? [] },
      },
    },
  };
}

/** The env entries with plain values; valueFrom entries are left to the agent (see CriRuntimeOptions.resolveEnv). */
export function plainEnv(container: PodContainerSpec): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  const seen = new Map<string, string>();
  for (const e of container.env ?? []) {
    if (e.valueFrom !== undefined) continue;
    // Later entries may refer to earlier ones with $(NAME).
    const v = expandVars(e.value ?? '', seen);
    seen.set(e.name, v);
    out.push({ name: e.name, value: v });
  }
  return out;
}

const MIN_SHARES = 2;
const MAX_SHARES = 262144;
const QUOTA_PERIOD = 100_000;
const MIN_QUOTA = 1000;

/** cpu request -> shares (1024 per core, at least 2), cpu limit -> CFS quota over a 100 ms period, memory limit -> bytes. */
export function linuxResources(container: PodContainerSpec): LinuxContainerResources {
  const requests = container.resources?.requests ?? {};
  const limits = container.resources?.limits ?? {};
  const cpuRequest = requests.cpu ?? limits.cpu;
  const milliRequest = cpuRequest === undefined ? 0 : milliValue(cpuRequest);
  const shares = Math.min(MAX_SHARES, Math.max(MIN_SHARES, Math.floor((milliRequest * 1024) / 1000)));
  const out: LinuxContainerResources = { cpu_shares: shares };
  if (limits.cpu !== undefined) {
    const milliLimit = milliValue(limits.cpu);
    out.cpu_period = QUOTA_PERIOD;
    out.cpu_quota = Math.max(MIN_QUOTA, Math.floor((milliLimit * QUOTA_PERIOD) / 1000));
  }
  if (limits.memory !== undefined) out.memory_limit_in_bytes = value(limits.memory);
  return out;
}

/** Kubernetes $(VAR) references: defined names are replaced, $$ escapes, anything else stays as written. */
export function expandVars(input: string, vars: Map<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const end = input.indexOf(')', i + 2);
      if (end < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, end);
      out += vars.has(name) ? vars.get(name) : input.slice(i, end + 1);
      i = end;
    } else out += ch;
  }
  return out;
}

function protocolName(p: string | undefined): ProtocolName {
  return p === 'UDP' || p === 'SCTP' ? p : 'TCP';
}

function podNamespaces(spec: PodSpec): NamespaceOption {
  return {
    network: spec.hostNetwork ? 'NODE' : 'POD',
    pid: spec.hostPID ? 'NODE' : spec.shareProcessNamespace ? 'POD' : 'CONTAINER',
    ipc: spec.hostIPC ? 'NODE' : 'POD',
  };
}

function podHostname(pod: PodObject): string {
  const name = pod.spec.hostname || pod.metadata.name;
  // A hostname is at most 63 characters and may not end in '-' or '.'.
  return name.slice(0, 63).replace(/[-.]+$/, '');
}

function dnsConfig(pod: PodObject, cluster: PodConfigOptions['clusterDns']): DnsConfig | undefined {
  const spec = pod.spec;
  let policy = spec.dnsPolicy ?? 'ClusterFirst';
  if (policy === 'ClusterFirst' && spec.hostNetwork) policy = 'Default';
  if ((policy === 'ClusterFirst' || policy === 'ClusterFirstWithHostNet') && !cluster) policy = 'Default';
  const extra = spec.dnsConfig;
  let base: { servers: string[]; searches: string[]; options: string[] };
  if (policy === 'None') base = { servers: [], searches: [], options: [] };
  else if (policy === 'Default') {
    // Without pod-level additions the runtime copies the node's resolv.conf itself.
    if (!extra) return undefined;
    base = hostResolvConf();
  } else {
    const domain = cluster!.domain;
    const host = hostResolvConf();
    base = { servers: [...cluster!.servers], searches: [`${pod.metadata.namespace}.svc.${domain}`, `svc.${domain}`, domain, ...host.searches], options: ['ndots:5'] };
  }
  if (extra) {
    base.servers = unique([...base.servers, ...(extra.nameservers ?? [])]);
    base.searches = unique([...base.searches, ...(extra.searches ?? [])]);
    const options = new Map(base.options.map((o) => [o.split(':')[0], o]));
    for (const o of extra.options ?? []) options.set(o.name, o.value !== undefined ? `${o.name}:${o.value}` : o.name);
    base.options = [...options.values()];
  }
  return base;
}

function hostResolvConf(): { servers: string[]; searches: string[]; options: string[] } {
  const out = { servers: [] as string[], searches: [] as string[], options: [] as string[] };
  let text = '';
  try {
    text = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.trim().split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.servers.push(rest[0]);
    else if (key === 'search') out.searches = rest;
    else if (key === 'options') out.options.push(...rest);
  }
  return out;
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
