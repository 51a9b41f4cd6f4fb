// CDK context for the tenant app when it runs without the CDK CLI (`tsx infra/app.ts -c tenant=x`):
// cdk.json's "context" first, then -c/--context arguments, the way the CLI layers them.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CdkJson {
  app?: string;
  output?: string;
  context?: Record<string, unknown>;
}

export function readCdkJson(projectRoot: string): CdkJson {
  const file = join(projectRoot, 'cdk.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as CdkJson) : {};
}

/** Parses `-c key=value`, `--context key=value` and `--context=key=value`; anything else is an error. */
export function parseContextArgs(argv: readonly string[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let pair: string | undefined;
    if (arg === '-c' || arg === '--context') {
      pair = argv[++i];
      if (pair === undefined) throw new Error(`${arg} needs a key=value argument`);
    } else if (arg.startsWith('--context=')) {
      pair = arg.slice('--context='.length);
    } else {
      throw new Error(`unexpected argument "${arg}" (usage: -c key=value ...)`);
    }
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`context argument "${pair}" is not key=value`);
    context[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return context;
}
