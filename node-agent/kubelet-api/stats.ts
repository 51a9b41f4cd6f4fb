// kubelet's Summary API (stats/v1alpha1): the node's cpu, memory and filesystem, and per pod and
// container cpu and memory. Container figures come from CRI ListContainerStats; cpu rates are
// computed from usage deltas between calls (containerd reports 0 on its first sample). Node figures
// come from /proc/stat and /proc/meminfo, not from the root cgroup as kubelet's cAdvisor does:
// workingSet = MemTotal - MemAvailable, usage = MemTotal - MemFree, rss = AnonPages.
import { readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Container, ContainerStats as CriContainerStats, CriClient, PodSandbox, UInt64Value } from '../cri/client.js';
import { containerLogPath, podLogDirectory, POD_UID_LABEL } from '../cri/pod-config.js';
import { logFileSize } from './logs.js';

export interface CPUStats {
  time: string;
  usageNanoCores?: number;
  usageCoreNanoSeconds?: number;
}

export interface MemoryStats {
  time: string;
  availableBytes?: number;
  usageBytes?: number;
  workingSetBytes?: number;
  rssBytes?: number;
  pageFaults?: number;
  majorPageFaults?: number;
}

export interface FsStats {
  time: string;
  availableBytes?: number;
  capacityBytes?: number;
  usedBytes?: number;
  inodesFree?: number;
  inodes?: number;
  inodesUsed?: number;
}

export interface ContainerSummary {
  name: string;
  startTime: string;
  cpu?: CPUStats;
  memory?: MemoryStats;
  rootfs?: FsStats;
  logs?: FsStats;
}

export interface PodSummary {
  podRef: { name: string; namespace: string; uid: string };
  startTime: string;
  containers: ContainerSummary[];
  cpu?: CPUStats;
  memory?: MemoryStats;
  'ephemeral-storage'?: FsStats;
}

export interface NodeSummary {
  nodeName: string;
  startTime: string;
  cpu?: CPUStats;
  memory?: MemoryStats;
  fs?: FsStats;
}

export interface Summary {
  node: NodeSummary;
  pods: PodSummary[];
}

export interface SummaryOptions {
  cri: CriClient;
  nodeName: string;
  /** Pod log root (also the filesystem reported as the node's fs). */
  logRoot: string;
  /** Only pods with these uids (default: every pod the runtime has). */
  podUids?: () => Promise<Set<string> | undefined>;
  /** Where /proc is (default /proc). */
  procRoot?: string;
  /** How long to wait for a second sample when no earlier one exists to compute cpu rates from (default 100 ms). */
  resampleMs?: number;
  /** Earlier samples older than this are not used for rates (default 30 s). */
  maxSampleAgeMs?: number;
}

interface CpuSample {
  /** Nanoseconds (wall clock for containers, monotonic for the node). */
  at: bigint;
  usage: bigint;
}

const USER_HZ = 100n; // Linux reports /proc/stat in USER_HZ ticks, 100 per second on every mainstream architecture.

export class SummaryCollector {
  private readonly previous = new Map<string, CpuSample>();
  private nodePrevious: CpuSample | undefined;
  private readonly procRoot: string;

  constructor(private readonly opts: SummaryOptions) {
    this.procRoot = opts.procRoot ?? '/proc';
  }

  async summary(onlyCpuAndMemory = false): Promise<Summary> {
    const wanted = await this.opts.podUids?.();
    const [allSandboxes, running] = await Promise.all([this.opts.cri.listPodSandbox({ state: { state: 'SANDBOX_READY' } }), this.opts.cri.listContainers({ state: { state: 'CONTAINER_RUNNING' } })]);
    const sandboxes = allSandboxes.filter((s) => !wanted || wanted.has(s.metadata.uid));
    const sandboxIds = new Set(sandboxes.map((s) => s.id));
    const containers = new Map(running.filter((c) => sandboxIds.has(c.pod_sandbox_id)).map((c) => [c.id, c]));
    const sample = async () => {
      const [stats, nodeCpu] = await Promise.all([this.opts.cri.listContainerStats(), this.nodeCpuSample()]);
      return { stats: stats.filter((s) => containers.has(s.attributes.id)), nodeCpu };
    };
    let { stats, nodeCpu } = await sample();
    // Rates need two samples: without an earlier one (and no rate from the runtime), take another shortly.
    // A sample older than maxSampleAgeMs would average over too long a stretch.
    const maxAgeNs = BigInt(this.opts.maxSampleAgeMs ?? 30_000) * 1_000_000n;
    const fresh = (prev: CpuSample | undefined, now: bigint) => !!prev && now - prev.at <= maxAgeNs;
    const lacksRate = (s: CriContainerStats) => !!s.cpu?.usage_core_nano_seconds && !fresh(this.previous.get(s.attributes.id), BigInt(s.cpu.timestamp)) && !positive(s.cpu.usage_nano_cores);
    if ((nodeCpu && !fresh(this.nodePrevious, nodeCpu.at)) || stats.some(lacksRate)) {
      this.remember(stats, nodeCpu);
      await new Promise((r) => setTimeout(r, this.opts.resampleMs ?? 100));
      ({ stats, nodeCpu } = await sample());
    }
    const node = await this.nodeSummary(nodeCpu, new Date(), onlyCpuAndMemory);
    const pods = await this.podSummaries(sandboxes, stats, containers, onlyCpuAndMemory);
    this.remember(stats, nodeCpu);
    return { node, pods };
  }

  private remember(stats: CriContainerStats[], nodeCpu: CpuSample | undefined): void {
    const live = new Set<string>();
    for (const s of stats) {
      live.add(s.attributes.id);
      const usage = s.cpu?.usage_core_nano_seconds?.value;
      if (usage !== undefined && s.cpu) this.previous.set(s.attributes.id, { at: BigInt(s.cpu.timestamp), usage: BigInt(usage) });
    }
    for (const id of this.previous.keys()) if (!live.has(id)) this.previous.delete(id);
    if (nodeCpu) this.nodePrevious = nodeCpu;
  }

  private async podSummaries(sandboxes: PodSandbox[], stats: CriContainerStats[], running: Map<string, Container>, onlyCpuAndMemory: boolean): Promise<PodSummary[]> {
    const byUid = new Map<string, CriContainerStats[]>();
    for (const s of stats) {
      const uid = s.attributes.labels[POD_UID_LABEL];
      if (!uid) continue;
      byUid.set(uid, [...(byUid.get(uid) ?? []), s]);
    }
    const pods: PodSummary[] = [];
    for (const sandbox of sandboxes) {
      const { name, namespace, uid } = sandbox.metadata;
      const containers: ContainerSummary[] = [];
      for (const s of byUid.get(uid) ?? []) {
        const c = running.get(s.attributes.id);
        if (!c || c.pod_sandbox_id !== sandbox.id) continue;
        const summary: ContainerSummary = { name: s.attributes.metadata.name, startTime: nanosToTime(c.created_at), cpu: this.containerCpu(s), memory: containerMemory(s) };
        if (!onlyCpuAndMemory) {
          const time = nanosToTime(s.writable_layer?.timestamp ?? c.created_at);
          if (s.writable_layer) summary.rootfs = { time, usedBytes: num(s.writable_layer.used_bytes), inodesUsed: num(s.writable_layer.inodes_used) };
          const logPath = join(podLogDirectory(this.opts.logRoot, namespace, name, uid), containerLogPath(c.metadata.name, c.metadata.attempt));
          summary.logs = { time, usedBytes: await logFileSize(logPath) };
        }
        containers.push(summary);
      }
      containers.sort((a, b) => a.name.localeCompare(b.name));
      const pod: PodSummary = { podRef: { name, namespace, uid }, startTime: nanosToTime(sandbox.created_at), containers, ...podTotals(containers) };
      if (!onlyCpuAndMemory) {
        const used = containers.reduce((n, c) => n + (c.rootfs?.usedBytes ?? 0) + (c.logs?.usedBytes ?? 0), 0);
        pod['ephemeral-storage'] = { time: latest(containers.map((c) => c.logs?.time)) ?? pod.startTime, usedBytes: used };
      }
      pods.push(pod);
    }
    return pods.sort((a, b) => a.podRef.namespace.localeCompare(b.podRef.namespace) || a.podRef.name.localeCompare(b.podRef.name));
  }

  private containerCpu(s: CriContainerStats): CPUStats | undefined {
    if (!s.cpu) return undefined;
    const out: CPUStats = { time: nanosToTime(s.cpu.timestamp) };
    const usage = s.cpu.usage_core_nano_seconds?.value;
    if (usage !== undefined) out.usageCoreNanoSeconds = Number(usage);
    const prev = this.previous.get(s.attributes.id);
    if (prev && usage !== undefined && BigInt(s.cpu.timestamp) > prev.at && BigInt(usage) >= prev.usage) {
      out.usageNanoCores = rate(BigInt(usage) - prev.usage, BigInt(s.cpu.timestamp) - prev.at);
    } else if (positive(s.cpu.usage_nano_cores)) out.usageNanoCores = Number(s.cpu.usage_nano_cores!.value);
    return out;
  }

  private async nodeSummary(cpu: CpuSample | undefined, now: Date, onlyCpuAndMemory: boolean): Promise<NodeSummary> {
    const [stat, meminfo, vmstat] = await Promise.all([this.proc('stat'), this.proc('meminfo'), this.proc('vmstat')]);
    const time = toTime(now);
    const bootSeconds = /^btime (\d+)$/m.exec(stat)?.[1];
    const node: NodeSummary = { nodeName: this.opts.nodeName, startTime: bootSeconds ? toTime(new Date(Number(bootSeconds) * 1000)) : time };
    if (cpu) {
      node.cpu = { time, usageCoreNanoSeconds: Number(cpu.usage) };
      const prev = this.nodePrevious;
      if (prev && cpu.at > prev.at && cpu.usage >= prev.usage) node.cpu.usageNanoCores = rate(cpu.usage - prev.usage, cpu.at - prev.at);
    }
    const kb = (key: string) => {
      const v = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(meminfo)?.[1];
      return v === undefined ? undefined : Number(v) * 1024;
    };
    const total = kb('MemTotal');
    const free = kb('MemFree');
    const available = kb('MemAvailable');
    if (total !== undefined && available !== undefined) {
      const count = (key: string) => {
        const v = new RegExp(`^${key} (\\d+)$`, 'm').exec(vmstat)?.[1];
        return v === undefined ? undefined : Number(v);
      };
      node.memory = { time, availableBytes: available, usageBytes: free !== undefined ? total - free : undefined, workingSetBytes: total - available, rssBytes: kb('AnonPages'), pageFaults: count('pgfault'), majorPageFaults: count('pgmajfault') };
    }
    if (!onlyCpuAndMemory) {
      try {
        const fs = await statfs(this.opts.logRoot);
        const block = Number(fs.bsize);
        node.fs = {
          time,
          availableBytes: Number(fs.bavail) * block,
          capacityBytes: Number(fs.blocks) * block,
          usedBytes: (Number(fs.blocks) - Number(fs.bfree)) * block,
          inodesFree: Number(fs.ffree),
          inodes: Number(fs.files),
          inodesUsed: Number(fs.files) - Number(fs.ffree),
        };
      } catch {
        // The log root does not exist yet: no filesystem figures.
      }
    }
    return node;
  }

  /** Busy cpu time of the whole machine (everything but idle and iowait). */
  private async nodeCpuSample(): Promise<CpuSample | undefined> {
    const at = process.hrtime.bigint();
    const line = /^cpu\s+(.*)$/m.exec(await this.proc('stat'))?.[1];
    if (!line) return undefined;
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map((v) => BigInt(v));
    const ticks = [user, nice, system, irq, softirq, steal].reduce((a, b) => a + (b ?? 0n), 0n);
    return { at, usage: (ticks * 1_000_000_000n) / USER_HZ };
  }

  private async proc(name: string): Promise<string> {
    try {
      return await readFile(join(this.procRoot, name), 'utf8');
    } catch {
      return '';
    }
  }
}

/** The pod as the sum of its containers (cpu, memory). */
function podTotals(containers: ContainerSummary[]): Pick<PodSummary, 'cpu' | 'memory'> {
  const out: Pick<PodSummary, 'cpu' | 'memory'> = {};
  const cpus = containers.map((c) => c.cpu).filter((c): c is CPUStats => !!c);
  if (cpus.length) out.cpu = { time: latest(cpus.map((c) => c.time))!, usageNanoCores: sum(cpus.map((c) => c.usageNanoCores)), usageCoreNanoSeconds: sum(cpus.map((c) => c.usageCoreNanoSeconds)) };
  const mems = containers.map((c) => c.memory).filter((m): m is MemoryStats => !!m);
  if (mems.length) {
    out.memory = { time: latest(mems.map((m) => m.time))!, usageBytes: sum(mems.map((m) => m.usageBytes)), workingSetBytes: sum(mems.map((m) => m.workingSetBytes)), rssBytes: sum(mems.map((m) => m.rssBytes)), pageFaults: sum(mems.map((m) => m.pageFaults)), majorPageFaults: sum(mems.map((m) => m.majorPageFaults)) };
  }
  return out;
}

function containerMemory(s: CriContainerStats): MemoryStats | undefined {
  const m = s.memory;
  if (!m) return undefined;
  return { time: nanosToTime(m.timestamp), availableBytes: num(m.available_bytes), usageBytes: num(m.usage_bytes), workingSetBytes: num(m.working_set_bytes), rssBytes: num(m.rss_bytes), pageFaults: num(m.page_faults), majorPageFaults: num(m.major_page_faults) };
}

/** undefined when no part reports the figure. */
function sum(values: (number | undefined)[]): number | undefined {
  const present = values.filter((v): v is number => v !== undefined);
  return present.length ? present.reduce((a, b) => a + b, 0) : undefined;
}

function latest(times: (string | undefined)[]): string | undefined {
  return times.filter((t): t is string => !!t).sort().at(-1);
}

function rate(usageNs: bigint, elapsedNs: bigint): number {
  return Number((usageNs * 1_000_000_000n) / elapsedNs);
}

function num(v: UInt64Value | null | undefined): number | undefined {
  return v ? Number(v.value) : undefined;
}

function positive(v: UInt64Value | null | undefined): boolean {
  return !!v && v.value !== '0';
}

/** metav1.Time: RFC 3339 with whole seconds. */
function toTime(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

function nanosToTime(ns: string): string {
  return toTime(new Date(Number(BigInt(ns || '0') / 1_000_000n)));
}
