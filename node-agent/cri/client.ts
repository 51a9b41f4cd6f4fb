// A small promise client for a CRI runtime (containerd's runtime.v1 socket). Messages use the
// proto's snake_case names; int64 values arrive as decimal strings (nanosecond timestamps exceed
// 2^53) and enums as their names.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO_PATH = fileURLToPath(new URL('./api.proto', import.meta.url));

/** int64/uint64 as decoded (string); requests may pass numbers. */
export type Int64 = string;
type Int64In = string | number;
type Labels = Record<string, string>;

export type ContainerStateName = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';
export type SandboxStateName = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
export type ProtocolName = 'TCP' | 'UDP' | 'SCTP';
export type NamespaceModeName = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';

export interface VersionResponse {
  version: string;
  runtime_name: string;
  runtime_version: string;
  runtime_api_version: string;
}

export interface RuntimeCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt?: number;
}

export interface DnsConfig {
  servers?: string[];
  searches?: string[];
  options?: string[];
}

export interface PortMapping {
  protocol?: ProtocolName;
  container_port: number;
  host_port?: number;
  host_ip?: string;
}

export interface NamespaceOption {
  network?: NamespaceModeName;
  pid?: NamespaceModeName;
  ipc?: NamespaceModeName;
  target_id?: string;
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  log_directory?: string;
  dns_config?: DnsConfig;
  port_mappings?: PortMapping[];
  labels?: Labels;
  annotations?: Labels;
  linux?: {
    cgroup_parent?: string;
    security_context?: { namespace_options?: NamespaceOption; privileged?: boolean; run_as_user?: { value: Int64In }; run_as_group?: { value: Int64In }; supplemental_groups?: Int64In[]; readonly_rootfs?: boolean };
    sysctls?: Labels;
  };
}

export interface PodSandbox {
  id: string;
  metadata: Required<PodSandboxMetadata>;
  state: SandboxStateName;
  created_at: Int64;
  labels: Labels;
  annotations: Labels;
  runtime_handler: string;
}

export interface PodSandboxStatus extends PodSandbox {
  network: { ip: string; additional_ips: { ip: string }[] } | null;
}

export interface PodSandboxFilter {
  id?: string;
  state?: { state: SandboxStateName };
  label_selector?: Labels;
}

export interface ImageSpec {
  image: string;
  annotations?: Labels;
  user_specified_image?: string;
}

export interface LinuxContainerResources {
  cpu_period?: Int64In;
  cpu_quota?: Int64In;
  cpu_shares?: Int64In;
  memory_limit_in_bytes?: Int64In;
  oom_score_adj?: Int64In;
}

export interface Mount {
  container_path: string;
  host_path: string;
  readonly?: boolean;
}

export interface ContainerConfig {
  metadata: { name: string; attempt?: number };
  image: ImageSpec;
  command?: string[];
  args?: string[];
  working_dir?: string;
  envs?: { key: string; value: string }[];
  mounts?: Mount[];
  labels?: Labels;
  annotations?: Labels;
  log_path?: string;
  stdin?: boolean;
  stdin_once?: boolean;
  tty?: boolean;
  linux?: {
    resources?: LinuxContainerResources;
    security_context?: {
      privileged?: boolean;
      namespace_options?: NamespaceOption;
      run_as_user?: { value: Int64In };
      run_as_group?: { value: Int64In };
      run_as_username?: string;
      readonly_rootfs?: boolean;
      no_new_privs?: boolean;
      capabilities?: { add_capabilities?: string[]; drop_capabilities?: string[] };
    };
  };
}

export interface Container {
  id: string;
  pod_sandbox_id: string;
  metadata: { name: string; attempt: number };
  image: ImageSpec;
  image_ref: string;
  state: ContainerStateName;
  created_at: Int64;
  labels: Labels;
  annotations: Labels;
}

export interface ContainerFilter {
  id?: string;
  state?: { state: ContainerStateName };
  pod_sandbox_id?: string;
  label_selector?: Labels;
}

export interface ContainerStatus {
  id: string;
  metadata: { name: string; attempt: number };
  state: ContainerStateName;
  created_at: Int64;
  started_at: Int64;
  finished_at: Int64;
  exit_code: number;
  image: ImageSpec;
  image_ref: string;
  reason: string;
  message: string;
  labels: Labels;
  annotations: Labels;
  log_path: string;
}

export interface ExecSyncResponse {
  stdout: Buffer;
  stderr: Buffer;
  exit_code: number;
}

export interface UInt64Value {
  value: Int64;
}

export interface ContainerStats {
  attributes: { id: string; metadata: { name: string; attempt: number }; labels: Labels; annotations: Labels };
  cpu: { timestamp: Int64; usage_core_nano_seconds: UInt64Value | null; usage_nano_cores: UInt64Value | null } | null;
  memory: { timestamp: Int64; working_set_bytes: UInt64Value | null; available_bytes: UInt64Value | null; usage_bytes: UInt64Value | null; rss_bytes: UInt64Value | null; page_faults: UInt64Value | null; major_page_faults: UInt64Value | null } | null;
  writable_layer: { timestamp: Int64; fs_id: { mountpoint: string } | null; used_bytes: UInt64Value | null; inodes_used: UInt64Value | null } | null;
}

export interface Image {
  id: string;
  repo_tags: string[];
  repo_digests: string[];
  size: Int64;
  uid: { value: Int64 } | null;
  username: string;
  pinned: boolean;
}

export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  server_address?: string;
  identity_token?: string;
  registry_token?: string;
}

const CODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(grpc.status)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => [v as number, k.toLowerCase().replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase())]),
);
CODE_NAMES[grpc.status.OK] = 'OK';

/** A failed CRI call; `message` reads like Go's gRPC status text, which kubelet shows to users. */
export class CriError extends Error {
  constructor(
    readonly method: string,
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(`rpc error: code = ${CODE_NAMES[code] ?? code} desc = ${details}`);
    this.name = 'CriError';
  }

  get notFound(): boolean {
    return this.code === grpc.status.NOT_FOUND;
  }
}

export interface CriClientOptions {
  /** Deadline for ordinary calls (default 2 minutes, kubelet's runtime request timeout). */
  timeoutMs?: number;
  /** Deadline for PullImage (default 10 minutes). */
  pullTimeoutMs?: number;
}

type Unary = (req: unknown, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

let loaded: grpc.GrpcObject | undefined;
function runtimeV1(): grpc.GrpcObject {
  if (!loaded) {
    const def = protoLoader.loadSync(PROTO_PATH, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
    loaded = (grpc.loadPackageDefinition(def).runtime as grpc.GrpcObject).v1 as grpc.GrpcObject;
  }
  return loaded;
}

export class CriClient {
  private readonly runtime: grpc.Client;
  private readonly images: grpc.Client;
  private readonly timeoutMs: number;
  private readonly pullTimeoutMs: number;

  /** `socket` is a unix socket path (e.g. /run/containerd/containerd.sock). */
  constructor(
    readonly socket: string,
    opts: CriClientOptions = {},
  ) {
    const pkg = runtimeV1();
    const address = `unix://${socket}`;
    const channelOptions = { 'grpc.max_receive_message_length': 16 * 1024 * 1024 };
    const RuntimeService = pkg.RuntimeService as grpc.ServiceClientConstructor;
    const ImageService = pkg.ImageService as grpc.ServiceClientConstructor;
    this.runtime = new RuntimeService(address, grpc.credentials.createInsecure(), channelOptions);
    // Share one connection between both services.
    this.images = new ImageService(address, grpc.credentials.createInsecure(), { ...channelOptions, channelOverride: this.runtime.getChannel() });
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.pullTimeoutMs = opts.pullTimeoutMs ?? 600_000;
  }

  close(): void {
    this.runtime.close();
  }

  private call<T>(client: grpc.Client, method: string, req: object, timeoutMs = this.timeoutMs): Promise<T> {
    const fn = (client as unknown as Record<string, Unary>)[method];
    return new Promise<T>((resolve, reject) => {
      fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) reject(new CriError(method, err.code, err.details));
        else resolve(res as T);
      });
    });
  }

  // ---- RuntimeService

  version(): Promise<VersionResponse> {
    return this.call(this.runtime, 'Version', { version: 'v1' });
  }

  /** Runtime conditions (RuntimeReady, NetworkReady). */
  async status(): Promise<RuntimeCondition[]> {
    const res = await this.call<{ status: { conditions: RuntimeCondition[] } | null }>(this.runtime, 'Status', {});
    return res.status?.conditions ?? [];
  }

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    return (await this.call<{ pod_sandbox_id: string }>(this.runtime, 'RunPodSandbox', { config, runtime_handler: runtimeHandler })).pod_sandbox_id;
  }

  async stopPodSandbox(id: string): Promise<void> {
    await this.call(this.runtime, 'StopPodSandbox', { pod_sandbox_id: id });
  }

  async removePodSandbox(id: string): Promise<void> {
    await this.call(this.runtime, 'RemovePodSandbox', { pod_sandbox_id: id });
  }

  async podSandboxStatus(id: string, verbose = false): Promise<{ status: PodSandboxStatus; info: Record<string, string> }> {
    return this.call(this.runtime, 'PodSandboxStatus', { pod_sandbox_id: id, verbose });
  }

  async listPodSandbox(filter: PodSandboxFilter = {}): Promise<PodSandbox[]> {
    return (await this.call<{ items: PodSandbox[] }>(this.runtime, 'ListPodSandbox', { filter })).items;
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    return (await this.call<{ container_id: string }>(this.runtime, 'CreateContainer', { pod_sandbox_id: podSandboxId, config, sandbox_config: sandboxConfig })).container_id;
  }

  async startContainer(id: string): Promise<void> {
    await this.call(this.runtime, 'StartContainer', { container_id: id });
  }

  /** Stop within `timeoutSeconds` (SIGTERM, then SIGKILL); 0 kills at once. */
  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.call(this.runtime, 'StopContainer', { container_id: id, timeout: timeoutSeconds }, this.timeoutMs + timeoutSeconds * 1000);
  }

  async removeContainer(id: string): Promise<void> {
    await this.call(this.runtime, 'RemoveContainer', { container_id: id });
  }

  async listContainers(filter: ContainerFilter = {}): Promise<Container[]> {
    return (await this.call<{ containers: Container[] }>(this.runtime, 'ListContainers', { filter })).containers;
  }

  async containerStatus(id: string, verbose = false): Promise<{ status: ContainerStatus; info: Record<string, string> }> {
    return this.call(this.runtime, 'ContainerStatus', { container_id: id, verbose });
  }

  /** Run a command in a container and wait for it (`timeoutSeconds` 0 = no limit). */
  execSync(id: string, cmd: string[], timeoutSeconds = 0): Promise<ExecSyncResponse> {
    const deadline = timeoutSeconds > 0 ? this.timeoutMs + timeoutSeconds * 1000 : 24 * 3600_000;
    return this.call(this.runtime, 'ExecSync', { container_id: id, cmd, timeout: timeoutSeconds }, deadline);
  }

  /** A streaming exec session; returns the runtime's URL that serves it (SPDY or WebSocket, kubelet's protocols). */
  async exec(req: { container_id: string; cmd: string[]; tty?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean }): Promise<string> {
    return (await this.call<{ url: string }>(this.runtime, 'Exec', req)).url;
  }

  /** A streaming attach session to the container's main process; returns the URL that serves it. */
  async attach(req: { container_id: string; tty?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean }): Promise<string> {
    return (await this.call<{ url: string }>(this.runtime, 'Attach', req)).url;
  }

  /** A port-forward session into the sandbox's network namespace; returns the URL that serves it. */
  async portForward(podSandboxId: string, ports: number[]): Promise<string> {
    return (await this.call<{ url: string }>(this.runtime, 'PortForward', { pod_sandbox_id: podSandboxId, port: ports })).url;
  }

  async containerStats(id: string): Promise<ContainerStats> {
    return (await this.call<{ stats: ContainerStats }>(this.runtime, 'ContainerStats', { container_id: id })).stats;
  }

  async listContainerStats(filter: { id?: string; pod_sandbox_id?: string; label_selector?: Labels } = {}): Promise<ContainerStats[]> {
    return (await this.call<{ stats: ContainerStats[] }>(this.runtime, 'ListContainerStats', { filter })).stats;
  }

  // ---- ImageService

  async listImages(filter?: ImageSpec): Promise<Image[]> {
    return (await this.call<{ images: Image[] }>(this.images, 'ListImages', { filter: filter ? { image: filter } : {} })).images;
  }

  /** The image, or null when the runtime does not have it. */
  async imageStatus(image: ImageSpec): Promise<Image | null> {
    return (await this.call<{ image: Image | null }>(this.images, 'ImageStatus', { image })).image;
  }

  /** Pull and return the image reference (image id). */
  async pullImage(image: ImageSpec, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig): Promise<string> {
    return (await this.call<{ image_ref: string }>(this.images, 'PullImage', { image, auth, sandbox_config: sandboxConfig }, this.pullTimeoutMs)).image_ref;
  }
}

/** Nanoseconds since the epoch (as CRI reports them) to an RFC 3339 second-precision timestamp; undefined for 0. */
export function nanosToTimestamp(ns: Int64 | undefined): string | undefined {
  if (!ns || ns === '0') return undefined;
  return new Date(Number(BigInt(ns) / 1_000_000n)).toISOString().replace(/\.\d+Z$/, 'Z');
}
