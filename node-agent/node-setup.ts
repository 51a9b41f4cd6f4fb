// Running scripts/setup-node.sh from the agent's side: to prepare this machine as a node, and to
// bring containerd back when it stops answering. The script's progress lines go to the log.
import { spawn } from 'node:child_process';
import type { Logger } from '../shared/apiserver/logger.js';

/** Run the setup script for `nodeDir`, streaming its progress lines to the log. Resolves with its exit code. */
export function runNodeSetup(script: string, nodeDir: string, log: Logger): Promise<number> {
  return new Promise((resolveCode) => {
    const child = spawn('bash', [script, '--data-dir', nodeDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const relay = (level: 'info' | 'warn') => (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) log[level]({ setup: 'node' }, line.trim());
    };
    child.stdout.on('data', relay('info'));
    child.stderr.on('data', relay('warn'));
    child.on('error', () => resolveCode(127));
    child.on('exit', (code) => resolveCode(code ?? 1));
  });
}

/** The agent's way to bring containerd back when it stops answering: the setup script starts it again. */
export function runtimeRestarter(script: string, nodeDir: string, log: Logger): () => Promise<void> {
  return async () => {
    const code = await runNodeSetup(script, nodeDir, log);
    if (code !== 0) throw new Error(`scripts/setup-node.sh exited with code ${code}`);
  };
}
