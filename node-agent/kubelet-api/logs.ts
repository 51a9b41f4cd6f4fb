// Container logs as kubelet serves them: find the container instance through CRI (or the pod's
// status when the agent provides it), then read its CRI-format log file
// (`<RFC3339Nano> <stdout|stderr> <P|F> <text>`, P = partial line continued by the next entry of the
// same stream) with the PodLogOptions kubectl sends: tailLines, sinceSeconds/sinceTime, timestamps,
// limitBytes, previous and follow.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Container, CriClient, PodSandbox } from '../cri/client.js';
import { CONTAINER_NAME_LABEL, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL } from '../cri/pod-config.js';

export interface LogOptions {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  /** Only the last N lines (undefined: all). */
  tailLines?: number;
  /** Stop after this many bytes of output (undefined: no limit). */
  limitBytes?: number;
  /** Only lines at or after this instant (from sinceSeconds or sinceTime). */
  since?: Date;
}

/** A request the handler answers with `status` and `message` as plain text, the way kubelet does. */
export class LogRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'LogRequestError';
  }
}

/** What the agent knows about a pod (the API object it runs); lets errors follow the pod's status as kubelet's do. */
export interface KubeletPod {
  metadata: { name: string; namespace: string; uid: string; [k: string]: unknown };
  spec?: { containers?: { name: string }[]; initContainers?: { name: string }[]; ephemeralContainers?: { name: string }[]; [k: string]: unknown };
  status?: { containerStatuses?: ApiContainerStatus[]; initContainerStatuses?: ApiContainerStatus[]; ephemeralContainerStatuses?: ApiContainerStatus[]; [k: string]: unknown };
}

interface ApiContainerState {
  waiting?: { reason?: string };
  running?: unknown;
  terminated?: { containerID?: string };
}

interface ApiContainerStatus {
  name: string;
  containerID?: string;
  state?: ApiContainerState;
  lastState?: ApiContainerState;
}

// ---- query parsing

const INVALID = `{"message": "Invalid request."}`;
const UNDECODABLE = `{"message": "Unable to decode query."}`;

/** PodLogOptions from a kubelet query string: 400 when a value does not decode, 422 when the options are invalid. */
export function parseLogOptions(query: URLSearchParams, now = new Date()): LogOptions {
  const tail = query.get('tail');
  let tailLines = query.get('tailLines');
  // Older clients send tail=N, and tail=all for everything.
  if (tail) tailLines = tail === 'all' ? null : tail;
  const opts: LogOptions = { follow: queryBool(query, 'follow'), previous: queryBool(query, 'previous'), timestamps: queryBool(query, 'timestamps') };
  const tailN = queryInt(tailLines);
  const limit = queryInt(query.get('limitBytes'));
  const sinceSeconds = queryInt(query.get('sinceSeconds'));
  const sinceTimeText = query.get('sinceTime');
  let sinceTime: Date | undefined;
  if (sinceTimeText) {
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(sinceTimeText) || Number.isNaN(Date.parse(sinceTimeText))) throw new LogRequestError(400, UNDECODABLE);
    sinceTime = new Date(sinceTimeText);
  }
  if ((tailN !== undefined && tailN < 0) || (limit !== undefined && limit < 1) || (sinceSeconds !== undefined && sinceSeconds < 1) || (sinceSeconds !== undefined && sinceTime)) {
    throw new LogRequestError(422, INVALID);
  }
  if (tailN !== undefined) opts.tailLines = tailN;
  if (limit !== undefined) opts.limitBytes = limit;
  if (sinceSeconds !== undefined) opts.since = new Date(now.getTime() - sinceSeconds * 1000);
  if (sinceTime) opts.since = sinceTime;
  return opts;
}

/** Kubernetes query booleans: absent is false; "0", "f", "false", "n", "no" (any case) are false; anything else is true. */
function queryBool(query: URLSearchParams, name: string): boolean {
  const v = query.get(name);
  if (v === null) return false;
  return !['0', 'f', 'false', 'n', 'no'].includes(v.toLowerCase());
}

function queryInt(v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw new LogRequestError(400, UNDECODABLE);
  return Number(v);
}

// ---- finding the container instance

export interface LogTarget {
  containerId: string;
  path: string;
}

/**
 * The log file of the container's current instance, or of the one before it with `previous`.
 * With `pod` (the agent's view of the pod) the choice and the error texts follow kubelet's
 * validateContainerLogStatus; without it they are derived from what the runtime holds.
 */
export async function findLogTarget(cri: CriClient, namespace: string, podName: string, container: string, previous: boolean, pod?: KubeletPod): Promise<LogTarget> {
  const containerId = pod ? containerIdFromStatus(pod, container, previous) : await containerIdFromRuntime(cri, namespace, podName, container, previous);
  let status;
  try {
    status = (await cri.containerStatus(containerId)).status;
  } catch (e) {
    throw new LogRequestError(400, `failed to get container status ${JSON.stringify(containerId)}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { containerId, path: status.log_path };
}

function containerIdFromStatus(pod: KubeletPod, container: string, previous: boolean): string {
  const podName = pod.metadata.name;
  const q = JSON.stringify;
  const st = pod.status ?? {};
  const cs = [...(st.containerStatuses ?? []), ...(st.initContainerStatuses ?? []), ...(st.ephemeralContainerStatuses ?? [])].find((c) => c.name === container);
  if (!cs) throw new LogRequestError(400, `container ${q(container)} in pod ${q(podName)} is not available`);
  const last = cs.lastState?.terminated;
  const { waiting, running, terminated } = cs.state ?? {};
  let id: string | undefined;
  if (previous) {
    if (!last?.containerID) throw new LogRequestError(400, `previous terminated container ${q(container)} in pod ${q(podName)} not found`);
    id = last.containerID;
  } else if (running) id = cs.containerID;
  else if (terminated) id = terminated.containerID || last?.containerID;
  else if (last) id = last.containerID;
  else if (waiting) {
    const reason = waiting.reason ?? '';
    const why = reason === 'ErrImagePull' ? "image can't be pulled" : reason === 'ImagePullBackOff' ? 'trying and failing to pull image' : reason;
    throw new LogRequestError(400, `container ${q(container)} in pod ${q(podName)} is waiting to start: ${why}`);
  } else throw new LogRequestError(400, `container ${q(container)} in pod ${q(podName)} is waiting to start - no logs yet`);
  if (!id) throw new LogRequestError(400, `container ${q(container)} in pod ${q(podName)} is terminated`);
  // containerd://<id> -> <id>
  return id.replace(/^[a-z]+:\/\//, '');
}

async function containerIdFromRuntime(cri: CriClient, namespace: string, podName: string, container: string, previous: boolean): Promise<string> {
  const q = JSON.stringify;
  const sandbox = await currentSandbox(cri, namespace, podName);
  if (!sandbox) throw new LogRequestError(404, `pod ${q(podName)} does not exist`);
  const uid = sandbox.metadata.uid;
  const instances = (await cri.listContainers({ label_selector: { [POD_UID_LABEL]: uid, [CONTAINER_NAME_LABEL]: container } })).sort(byNewest);
  const [newest, older] = instances;
  // The API server only proxies names from the pod spec, so a missing one has not been created yet.
  if (!newest) throw new LogRequestError(400, `container ${q(container)} in pod ${q(podName)} is waiting to start: ContainerCreating`);
  const live = newest.state === 'CONTAINER_RUNNING' || newest.state === 'CONTAINER_CREATED';
  if (previous) {
    // While a new instance runs, the previous one is the instance before it; while the container
    // waits to be restarted, it is the one that exited last.
    const prev = live ? older : newest;
    if (!prev) throw new LogRequestError(400, `previous terminated container ${q(container)} in pod ${q(podName)} not found`);
    return prev.id;
  }
  if (newest.state === 'CONTAINER_CREATED') {
    if (older) return older.id;
    throw new LogRequestError(400, `container ${q(container)} in pod ${q(podName)} is waiting to start: ContainerCreating`);
  }
  return newest.id;
}

/** The pod's newest sandbox (a pod recreated under the same name has a new uid). */
export async function currentSandbox(cri: CriClient, namespace: string, podName: string): Promise<PodSandbox | undefined> {
  const sandboxes = await cri.listPodSandbox({ label_selector: { [POD_NAMESPACE_LABEL]: namespace, [POD_NAME_LABEL]: podName } });
  return sandboxes.sort((a, b) => (a.state === b.state ? compareInt(b.created_at, a.created_at) : a.state === 'SANDBOX_READY' ? -1 : 1))[0];
}

function byNewest(a: Container, b: Container): number {
  return b.metadata.attempt - a.metadata.attempt || compareInt(b.created_at, a.created_at);
}

function compareInt(a: string, b: string): number {
  const x = BigInt(a || '0');
  const y = BigInt(b || '0');
  return x < y ? -1 : x > y ? 1 : 0;
}

// ---- reading CRI log files

export interface LogLine {
  time: Date;
  /** The time exactly as written (nanoseconds), for the timestamps option. */
  timeText: string;
  stream: 'stdout' | 'stderr';
  /** Text including its newline (none only for an unterminated last line). */
  text: string;
}

/** Parses one CRI log entry; undefined when it is not one. */
export function parseCriLine(line: string): { time: Date; timeText: string; stream: 'stdout' | 'stderr'; partial: boolean; text: string } | undefined {
  const a = line.indexOf(' ');
  const b = a < 0 ? -1 : line.indexOf(' ', a + 1);
  const c = b < 0 ? -1 : line.indexOf(' ', b + 1);
  if (c < 0) return undefined;
  const timeText = line.slice(0, a);
  const time = new Date(timeText);
  const stream = line.slice(a + 1, b);
  if (Number.isNaN(time.getTime()) || (stream !== 'stdout' && stream !== 'stderr')) return undefined;
  // Tags are ':'-separated; only the first (P or F) matters.
  const partial = line.slice(b + 1, c).split(':')[0] === 'P';
  return { time, timeText, stream, partial, text: line.slice(c + 1) };
}

/** kubelet's output format for timestamps: RFC 3339 with exactly nine fractional digits. */
export function formatTimestamp(timeText: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(timeText);
  if (!m) return timeText;
  const frac = (m[2] ?? '').padEnd(9, '0').slice(0, 9);
  return `${m[1]}.${frac}${m[3]}`;
}

/** Joins partial entries into whole lines, per stream; the joined line keeps its first fragment's time. */
class LineAssembler {
  private readonly pending = new Map<string, { time: Date; timeText: string; text: string }>();

  push(raw: string, terminated: boolean): LogLine | undefined {
    const entry = parseCriLine(raw);
    if (!entry) return undefined;
    const head = this.pending.get(entry.stream);
    const text = (head?.text ?? '') + entry.text;
    const first = head ?? entry;
    if (entry.partial) {
      this.pending.set(entry.stream, { time: first.time, timeText: first.timeText, text });
      return undefined;
    }
    this.pending.delete(entry.stream);
    return { time: first.time, timeText: first.timeText, stream: entry.stream, text: terminated ? `${text}\n` : text };
  }

  /** Whatever partial text is left (the stream ended inside a line). */
  drain(): LogLine[] {
    const out = [...this.pending].map(([stream, p]) => ({ time: p.time, timeText: p.timeText, stream: stream as 'stdout' | 'stderr', text: p.text }));
    this.pending.clear();
    return out;
  }
}

/** Reads a growing file line by line from an offset. */
class FileLines {
  private offset = 0;
  private rest = '';
  private readonly buf = Buffer.alloc(64 * 1024);

  constructor(private readonly file: FileHandle) {}

  /** Complete lines (without '\n') appended since the last call. */
  async read(): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const { bytesRead } = await this.file.read(this.buf, 0, this.buf.length, this.offset);
      if (bytesRead === 0) return lines;
      this.offset += bytesRead;
      const parts = (this.rest + this.buf.subarray(0, bytesRead).toString('utf8')).split('\n');
      this.rest = parts.pop()!;
      lines.push(...parts);
    }
  }

  /** The unterminated text at the end of the file, consumed. */
  takeRest(): string {
    const r = this.rest;
    this.rest = '';
    return r;
  }
}

export interface StreamLogsOptions {
  /** Whether the container still runs (checked at the end of the file when following). */
  isRunning: () => Promise<boolean>;
  signal?: AbortSignal;
  /** How long to wait for a change notification before checking again (kubelet: 1 s). */
  recheckMs?: number;
}

/** Opens the log file; kubelet's wording when it cannot. */
export async function openLogFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (e) {
    throw new LogRequestError(400, `failed to open log file ${JSON.stringify(path)}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Writes the log lines selected by `opts` to `out` (both streams), following the file while the container runs if asked. */
export async function streamLogs(file: FileHandle, path: string, opts: LogOptions, out: Writable, how: StreamLogsOptions): Promise<void> {
  const lines = new FileLines(file);
  const assembler = new LineAssembler();
  let remaining = opts.limitBytes ?? Infinity;
  const sinceMs = opts.since?.getTime() ?? -Infinity;

  /** false once the byte limit is reached or the client went away. */
  const emit = async (line: LogLine): Promise<boolean> => {
    if (line.time.getTime() < sinceMs) return true;
    const text = opts.timestamps ? `${formatTimestamp(line.timeText)} ${line.text}` : line.text;
    let bytes = Buffer.from(text, 'utf8');
    if (bytes.length > remaining) bytes = bytes.subarray(0, remaining);
    remaining -= bytes.length;
    if (bytes.length > 0 && !out.write(bytes)) await drained(out, how.signal);
    return remaining > 0 && !how.signal?.aborted && !out.destroyed;
  };

  // The first pass: everything written so far, of which only the last tailLines when asked.
  const initial: LogLine[] = [];
  const tail = opts.tailLines;
  const collect = (l: LogLine | undefined) => {
    if (!l) return;
    initial.push(l);
    if (tail !== undefined && initial.length > tail) initial.shift();
  };
  for (const raw of await lines.read()) collect(assembler.push(raw, true));
  if (!opts.follow) {
    const rest = lines.takeRest();
    if (rest) collect(assembler.push(rest, false));
    for (const l of assembler.drain()) collect(l);
  }
  for (const l of initial) if (!(await emit(l))) return;
  if (!opts.follow) return;

  let watcher: FSWatcher | undefined;
  let wake: (() => void) | undefined;
  try {
    watcher = watch(path, () => wake?.());
    watcher.on('error', () => wake?.());
  } catch {
    // Without notifications the periodic re-check still picks up new lines.
  }
  const onAbort = () => wake?.();
  how.signal?.addEventListener('abort', onAbort);
  try {
    let stopping = false;
    for (;;) {
      for (const raw of await lines.read()) {
        const l = assembler.push(raw, true);
        if (l && !(await emit(l))) return;
      }
      if (how.signal?.aborted || out.destroyed) return;
      if (stopping) break;
      // At the end of the file: once the container no longer runs, read what is left and stop.
      if (!(await how.isRunning())) {
        stopping = true;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, how.recheckMs ?? 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
    const rest = lines.takeRest();
    const last = rest ? assembler.push(rest, false) : undefined;
    for (const l of [...(last ? [last] : []), ...assembler.drain()]) if (!(await emit(l))) return;
  } finally {
    watcher?.close();
    how.signal?.removeEventListener('abort', onAbort);
  }
}

function drained(out: Writable, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
    signal?.addEventListener('abort', done);
  });
}

/** Size of a log file in bytes, 0 when it does not exist. */
export async function logFileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}
