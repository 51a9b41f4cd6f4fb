// The hollow runtime (KWOK/kubemark style): pods "run" at once, nothing is executed. Each node gets
// its own pod IP range so pod IPs stay unique across thousands of hollow nodes.
import { createHash } from 'node:crypto';
import type { PodRuntime, PodRuntimeState } from './runtime.js';

export class FakeRuntime implements PodRuntime {
  readonly version = 'fake://1.0.0';
  private readonly running = new Map<string, PodRuntimeState>();
  private nextHost = 2;

  /** `nodeIndex` picks the node's /24 inside 10.64.0.0/10. */
  constructor(
    private readonly nodeIndex: number,
    private readonly completeAfterMs = 1000,
  ) {}

  async startPod(pod: Record<string, unknown>): Promise<PodRuntimeState> {
    const meta = pod.metadata as { uid: string };
    const existing = this.running.get(meta.uid);
    if (existing) return existing;
    const spec = pod.spec as { containers?: { name: string; image?: string }[]; initContainers?: { name: string; image?: string }[] };
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const container = (c: { name: string; image?: string }) => {
      const id = createHash('sha256').update(`${meta.uid}/${c.name}`).digest('hex');
      return { name: c.name, image: c.image ?? '', imageID: `fake.local/${c.image ?? ''}@sha256:${id}`, containerID: `fake://${id}`, startedAt: now, ready: true, restartCount: 0 };
    };
    const state: PodRuntimeState = {
      podIP: this.allocateIp(),
      startedAt: now,
      initContainers: (spec.initContainers ?? []).map(container),
      containers: (spec.containers ?? []).map(container),
    };
    this.running.set(meta.uid, state);
    return state;
  }

  /**
   * Pods that are not restarted (restartPolicy Never/OnFailure, e.g. Jobs) finish after
   * `completeAfterMs` with exit code 0, or with the code in the annotation
   * stratus.dev/hollow-exit-code; the annotation stratus.dev/hollow-run-ms overrides the time.
   */
  plannedExit(pod: Record<string, unknown>): { afterMs: number; exitCode: number } | undefined {
    const spec = pod.spec as { restartPolicy?: string };
    if ((spec.restartPolicy ?? 'Always') === 'Always') return undefined;
    const annotations = ((pod.metadata as { annotations?: Record<string, string> }).annotations ?? {});
    const exitCode = Number(annotations['stratus.dev/hollow-exit-code'] ?? 0) || 0;
    const afterMs = Number(annotations['stratus.dev/hollow-run-ms'] ?? this.completeAfterMs);
    return { afterMs: Number.isFinite(afterMs) && afterMs >= 0 ? afterMs : this.completeAfterMs, exitCode };
  }

  async stopPod(uid: string): Promise<void> {
    this.running.delete(uid);
  }

  private allocateIp(): string {
    const base = 64 * 65536 + this.nodeIndex * 256; // 10.64.0.0 + node's /24
    const host = this.nextHost;
    this.nextHost = this.nextHost >= 254 ? 2 : this.nextHost + 1;
    const n = base + host;
    return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  }
}
