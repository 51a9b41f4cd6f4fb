// Starting writer processes and following their stdout protocol (see writer-process.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { StoreConfig } from '../../shared/store/index.js';
import type { WriterJob } from './writer-job.js';

const WRITER_SCRIPT = fileURLToPath(new URL('./writer-process.ts', import.meta.url));

/** Starts a writer process that opens the store described by `config` (through openStore). */
export function spawnStoreWriter(config: StoreConfig, job: WriterJob): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', WRITER_SCRIPT, JSON.stringify(config), JSON.stringify(job)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export interface Ack {
  rev: number;
  key: string;
}

export class WriterHandle {
  readonly acks: Ack[] = [];
  readonly ready: Promise<void>;
  /** Resolves with the writer's conflict count when it finishes; rejects if it fails. */
  readonly done: Promise<number>;
  private stderr = '';
  private ackListeners: ((ack: Ack) => void)[] = [];

  constructor(readonly child: ChildProcess) {
    let markReady!: () => void;
    this.ready = new Promise((resolve) => (markReady = resolve));
    let conflicts: number | undefined;
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const [word, a, b] = line.split(' ');
      if (word === 'ready') markReady();
      else if (word === 'ack') {
        const ack = { rev: Number(a), key: b };
        this.acks.push(ack);
        for (const listener of this.ackListeners) listener(ack);
      } else if (word === 'done') conflicts = Number(a);
    });
    this.done = new Promise((resolve, reject) => {
      child.on('close', (code, signal) => {
        if (code === 0 && conflicts !== undefined) resolve(conflicts);
        else reject(new Error(`writer exited with ${signal ?? code}: ${this.stderr}`));
      });
    });
    // A failure before "ready" must not leave the caller waiting forever.
    this.done.catch(() => markReady());
  }

  go(): void {
    this.child.stdin!.end('go\n');
  }

  onAck(listener: (ack: Ack) => void): void {
    this.ackListeners.push(listener);
  }
}
