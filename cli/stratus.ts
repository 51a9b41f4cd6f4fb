#!/usr/bin/env node
// The stratus command line: `stratus start` runs the control plane in one process.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createLogger } from '../shared/apiserver/logger.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { tokenCommand } from './token.js';
import { joinCommand } from './join.js';
import { adminTokenCommand } from './admin-token.js';
import { agentCommand } from '../node-agent/agent-command.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('must be a port number between 1 and 65535');
  return n;
}

function positiveSeconds(value: string): number {
  const n = Number(value.replace(/s$/, ''));
  if (!(n > 0)) throw new InvalidArgumentError('must be a number of seconds > 0, e.g. 50 or 50s');
  return n;
}

const program = new Command()
  .name('stratus')
  .description('A serverless, Kubernetes-compatible control plane. Point plain kubectl at it.')
  .showHelpAfterError();

program
  .command('start')
  .description('Start the control plane (HTTPS API server on the embedded SQLite store, or the AWS-shaped path on DynamoDB Local) and write an admin kubeconfig.')
  .option('--data-dir <dir>', 'where state, certificates and the kubeconfig live', resolve(repoRoot, '.cluster'))
  .option('--port <n>', 'HTTPS port', port, 6443)
  .option('--bind-address <ip>', 'address the API server listens on (0.0.0.0: reachable by nodes joining from other machines; sqlite backend)', '127.0.0.1')
  .option('--log-level <level>', 'log level: fatal, error, warn, info, debug, trace', process.env.STRATUS_LOG_LEVEL ?? 'info')
  .option('--node-monitor-grace-period <seconds>', 'heartbeat silence after which a node turns NotReady', (v) => positiveSeconds(v), 50)
  .addOption(new Option('--node <mode>', 'auto: also run a node on this machine through containerd (set up when root); none: control plane only').choices(['auto', 'none']).default('auto'))
  .addOption(
    new Option('--backend <backend>', 'sqlite: one process on the embedded store; dynamodb: the Lambda handlers on DynamoDB Local and an SQS emulator')
      .choices(['sqlite', 'dynamodb'])
      .default('sqlite'),
  )
  .action(async (opts: { dataDir: string; port: number; bindAddress: string; logLevel: string; backend: 'sqlite' | 'dynamodb'; nodeMonitorGracePeriod: number; node: 'auto' | 'none' }) => {
    const nodeMonitorGracePeriodMs = opts.nodeMonitorGracePeriod * 1000;
    const log = createLogger(opts.logLevel);
    let cp: ControlPlane;
    try {
      cp =
        opts.backend === 'dynamodb'
          ? await (await import('./aws-local/start.js')).startAwsLocal({ dataDir: opts.dataDir, port: opts.port, log, nodeMonitorGracePeriodMs })
          : await startControlPlane({ dataDir: opts.dataDir, port: opts.port, bindAddress: opts.bindAddress, log, nodeMonitorGracePeriodMs });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const hint = err.code === 'EADDRINUSE' ? ` (port ${opts.port} is in use: stop the other server or pass --port)` : '';
      log.fatal({ err: err.message }, `failed to start${hint}`);
      process.exit(1);
    }
    let localNode: Awaited<ReturnType<typeof import('./local-node.js').startNodeNextToControlPlane>>;
    if (opts.node === 'auto') {
      const { startNodeNextToControlPlane } = await import('./local-node.js');
      localNode = await startNodeNextToControlPlane({ server: cp.url, token: cp.token, caCert: cp.caCert }, opts.dataDir, log, { tunnel: cp.nodes !== undefined });
    }
    process.stdout.write(`\nstratus is running at ${cp.url}\nkubeconfig: ${cp.kubeconfig}\n  export KUBECONFIG=${cp.kubeconfig}\n  kubectl get namespaces\n\n`);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      (localNode ? localNode.node.stop().finally(() => localNode!.client.close()) : Promise.resolve()).then(() => cp.close()).then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err: String(err) }, 'error while stopping');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });

program.addCommand(agentCommand('agent'));
program.addCommand(tokenCommand(resolve(repoRoot, '.cluster')));
program.addCommand(joinCommand(resolve(repoRoot, '.node')));
program.addCommand(adminTokenCommand());

await program.parseAsync(process.argv);
