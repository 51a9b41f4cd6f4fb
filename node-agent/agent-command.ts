// The agent command: one real node on this machine through containerd, or --simulate N hollow
// nodes. `stratus agent` and the standalone agent (node-agent/main.ts, bundled small by
// scripts/build-agent.ts as dist/agent/stratus-agent) are this one command.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { createLogger, type Logger } from '../shared/apiserver/logger.js';
import { KubeClient, accessFromKubeconfig, type ClusterAccess } from '../shared/client/kube-client.js';
import { runtimeRestarter } from './node-setup.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The repository this agent runs from: node-agent/main.ts under tsx, dist/agent/stratus-agent.mjs
 * when bundled. Undefined for a bundle copied elsewhere (no setup script to restart containerd with).
 */
function findRepoRoot(): string | undefined {
  return [resolve(here, '..'), resolve(here, '../..')].find((dir) => existsSync(join(dir, 'scripts/setup-node.sh')));
}

const repoRoot = findRepoRoot();
const defaultsRoot = repoRoot ?? process.cwd();

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number >= 1');
  return n;
}

function positiveSeconds(value: string): number {
  const n = Number(value.replace(/s$/, ''));
  if (!(n > 0)) throw new InvalidArgumentError('must be a number of seconds > 0, e.g. 10 or 10s');
  return n;
}

interface AgentOptions {
  kubeconfig: string;
  simulate?: number;
  nodeDir: string;
  nodeName?: string;
  prefix: string;
  cpu: string;
  memory: string;
  maxPods: string;
  heartbeatInterval: number;
  logLevel: string;
}

function readAccess(kubeconfig: string, log: Logger): ClusterAccess {
  try {
    return accessFromKubeconfig(kubeconfig);
  } catch (e) {
    log.fatal({ err: (e as Error).message }, 'cannot read the kubeconfig (start the control plane first: npm start)');
    process.exit(1);
  }
}

function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    void stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

async function runRealNode(opts: AgentOptions, log: Logger): Promise<void> {
  const { startLocalNode } = await import('./real-node.js');
  const client = new KubeClient(readAccess(opts.kubeconfig, log));
  if (!repoRoot) log.warn('scripts/setup-node.sh not found next to the agent: containerd will not be restarted when it stops answering');
  const node = await startLocalNode({
    client,
    nodeDir: opts.nodeDir,
    nodeName: opts.nodeName,
    log,
    services: {},
    heartbeatMs: opts.heartbeatInterval * 1000,
    restartRuntime: repoRoot ? runtimeRestarter(join(repoRoot, 'scripts/setup-node.sh'), opts.nodeDir, log) : undefined,
  }).catch((e: unknown) => {
    log.fatal({ err: e instanceof Error ? e.message : String(e) }, 'the node agent could not start (run `bash scripts/setup-node.sh` as root first)');
    process.exit(1);
  });
  process.stdout.write(`stratus agent: node ${node.agent.name} running\n`);
  stopOnSignals(() => node.stop().finally(() => client.close()));
}

async function runHollowNodes(count: number, opts: AgentOptions, log: Logger): Promise<void> {
  const { startHollowNodes } = await import('./simulate.js');
  const client = new KubeClient(readAccess(opts.kubeconfig, log), { maxSockets: 64 });
  let lastShown = 0;
  const nodes = await startHollowNodes({
    client,
    count,
    prefix: opts.prefix,
    capacity: { cpu: opts.cpu, memory: opts.memory, pods: opts.maxPods },
    renewIntervalMs: opts.heartbeatInterval * 1000,
    log,
    onProgress: (done, total) => {
      if (done === total || Date.now() - lastShown > 1000) {
        lastShown = Date.now();
        log.info({ registered: done, total }, 'registering hollow nodes');
      }
    },
  }).catch((e: unknown) => {
    log.fatal({ err: e instanceof Error ? e.message : String(e) }, 'could not register hollow nodes (is the control plane running and the kubeconfig current?)');
    process.exit(1);
  });
  process.stdout.write(`stratus agent: ${count} hollow nodes running\n`);
  stopOnSignals(() => nodes.stop().finally(() => client.close()));
}

/** The agent command, named `name` (`agent` under the stratus CLI, `stratus-agent` standalone). */
export function agentCommand(name = 'stratus-agent'): Command {
  return new Command(name)
    .description('Run the stratus node agent against a control plane: one real node through containerd, or --simulate N hollow nodes.')
    .showHelpAfterError()
    .option('--kubeconfig <file>', 'credentials and endpoint of the control plane', process.env.KUBECONFIG ?? join(defaultsRoot, '.cluster/kubeconfig'))
    .option('--simulate <n>', 'run N hollow nodes in this process (default: one real node on this machine through containerd)', positiveInt)
    .option('--node-dir <dir>', 'containerd state prepared by scripts/setup-node.sh (real node)', join(defaultsRoot, '.cluster/node'))
    .option('--node-name <name>', 'node name (real node; default: the host name)')
    .option('--prefix <prefix>', 'hollow node name prefix', 'hollow-')
    .option('--cpu <cpu>', 'hollow node cpu capacity', '4')
    .option('--memory <memory>', 'hollow node memory capacity', '16Gi')
    .option('--max-pods <n>', 'hollow node pod capacity', '110')
    .option('--heartbeat-interval <seconds>', 'how often each node renews its Lease (kubelet: 10)', positiveSeconds, 10)
    .option('--log-level <level>', 'log level: fatal, error, warn, info, debug, trace', process.env.STRATUS_LOG_LEVEL ?? 'info')
    .action(async (opts: AgentOptions) => {
      const log = createLogger(opts.logLevel);
      if (opts.simulate) await runHollowNodes(opts.simulate, opts, log);
      else await runRealNode(opts, log);
    });
}

