#!/usr/bin/env node
// The stratus command line: `stratus start` runs the control plane in one process.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createLogger } from '../shared/apiserver/logger.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('must be a port number between 1 and 65535');
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
  .option('--port <n>', 'HTTPS port on 127.0.0.1', port, 6443)
  .option('--log-level <level>', 'log level: fatal, error, warn, info, debug, trace', process.env.STRATUS_LOG_LEVEL ?? 'info')
  .addOption(
    new Option('--backend <backend>', 'sqlite: one process on the embedded store; dynamodb: the Lambda handlers on DynamoDB Local and an SQS emulator')
      .choices(['sqlite', 'dynamodb'])
      .default('sqlite'),
  )
  .action(async (opts: { dataDir: string; port: number; logLevel: string; backend: 'sqlite' | 'dynamodb' }) => {
    const log = createLogger(opts.logLevel);
    let cp: ControlPlane;
    try {
      cp =
        opts.backend === 'dynamodb'
          ? await (await import('./aws-local/start.js')).startAwsLocal({ dataDir: opts.dataDir, port: opts.port, log })
          : await startControlPlane({ dataDir: opts.dataDir, port: opts.port, log });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const hint = err.code === 'EADDRINUSE' ? ` (port ${opts.port} is in use: stop the other server or pass --port)` : '';
      log.fatal({ err: err.message }, `failed to start${hint}`);
      process.exit(1);
    }
    process.stdout.write(`\nstratus is running at ${cp.url}\nkubeconfig: ${cp.kubeconfig}\n  export KUBECONFIG=${cp.kubeconfig}\n  kubectl get namespaces\n\n`);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      cp.close().then(
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

await program.parseAsync(process.argv);
