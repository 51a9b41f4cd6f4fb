// Running iptables: applying restore input, listing the proxy's chains, and keeping the jump rules
// from the built-in chains in place. Calls are serialised: iptables takes a lock per table anyway.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { chainsInSave, jumpRules, renderCleanup } from './iptables-rules.js';

const run = promisify(execFile);

export interface ProxyChains {
  nat: string[];
  filter: string[];
}

export class Iptables {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly prefix: string) {}

  /** Fails with a clear message when the iptables tools are not installed. */
  static async check(): Promise<string> {
    try {
      const { stdout } = await run('iptables', ['--version']);
      return stdout.trim();
    } catch (e) {
      throw new Error(`iptables is not usable (install the Debian package iptables; scripts/setup-node.sh does): ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private serial<T>(job: () => Promise<T>): Promise<T> {
    const next = this.queue.then(job, job);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The proxy's chains that exist now. */
  chains(): Promise<ProxyChains> {
    return this.serial(async () => ({
      nat: chainsInSave((await run('iptables-save', ['-t', 'nat'], { maxBuffer: 64 << 20 })).stdout, this.prefix),
      filter: chainsInSave((await run('iptables-save', ['-t', 'filter'], { maxBuffer: 64 << 20 })).stdout, this.prefix),
    }));
  }

  restore(input: string): Promise<void> {
    return this.serial(
      () =>
        new Promise<void>((resolve, reject) => {
          const child = spawn('iptables-restore', ['--noflush', '--wait'], { stdio: ['pipe', 'ignore', 'pipe'] });
          let stderr = '';
          child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
          child.on('error', reject);
          child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`iptables-restore exited ${code}: ${stderr.trim()}`))));
          child.stdin.end(input);
        }),
    );
  }

  /** Insert the jumps into the proxy's chains unless they are there already (the chains must exist). */
  ensureJumps(): Promise<void> {
    return this.serial(async () => {
      for (const [table, chain, args] of jumpRules(this.prefix)) {
        try {
          await run('iptables', ['-w', '-t', table, '-C', chain, ...args]);
        } catch {
          await run('iptables', ['-w', '-t', table, '-I', chain, '1', ...args]);
        }
      }
    });
  }

  /** Remove the jumps and every chain with the prefix. */
  async removeAll(): Promise<void> {
    await this.serial(async () => {
      for (const [table, chain, args] of jumpRules(this.prefix)) {
        // Delete every copy; -D fails once none is left.
        for (let i = 0; i < 10; i++) {
          try {
            await run('iptables', ['-w', '-t', table, '-D', chain, ...args]);
          } catch {
            break;
          }
        }
      }
    });
    const chains = await this.chains();
    if (chains.nat.length || chains.filter.length) await this.restore(renderCleanup(chains));
  }
}

/** Whether frames bridged between pods pass through iptables (br_netfilter with bridge-nf-call-iptables=1). */
export function bridgedTrafficSeesIptables(): boolean {
  try {
    return readFileSync('/proc/sys/net/bridge/bridge-nf-call-iptables', 'utf8').trim() === '1';
  } catch {
    return false;
  }
}
