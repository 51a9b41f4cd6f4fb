// Bundles the node agent (node-agent/main.ts) with esbuild into dist/agent/stratus-agent.mjs, the
// shipped form of the agent: one file that starts in far less memory than the agent under tsx.
// Next to it: api.proto (node-agent/cri/client.ts loads it from beside its own module URL) and
// stratus-agent, a launcher running node with a small young generation and without the optimizing
// compilers (an idle agent allocates and computes little; bench/node-agent.ts measures the effect).
//   npx tsx scripts/build-agent.ts [--out dir]
import { chmodSync, copyFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Node flags the launcher passes: 1 MB semi-spaces and V8 lite mode. */
export const AGENT_NODE_FLAGS = ['--max-semi-space-size=1', '--lite-mode'];

export interface BuiltAgent {
  /** The bundle, dist/agent/stratus-agent.mjs by default. */
  file: string;
  /** The sh launcher next to it. */
  launcher: string;
  /** The CRI proto next to it. */
  proto: string;
  bytes: number;
}

// Bundled CommonJS dependencies call require() for Node built-ins; ESM output needs one.
const banner = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

export interface BuildAgentOptions {
  /** Default dist/agent. */
  outDir?: string;
  /** Entry module; default node-agent/main.ts (bench/node-agent.ts bundles its own entry the same way). */
  entry?: string;
}

export async function buildAgent(opts: BuildAgentOptions = {}): Promise<BuiltAgent> {
  const outDir = opts.outDir ?? join(repoRoot, 'dist/agent');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'stratus-agent.mjs');
  await build({
    entryPoints: [opts.entry ?? join(repoRoot, 'node-agent/main.ts')],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    banner: { js: banner },
    logLevel: 'warning',
  });
  const proto = join(outDir, 'api.proto');
  copyFileSync(join(repoRoot, 'node-agent/cri/api.proto'), proto);
  const launcher = join(outDir, 'stratus-agent');
  writeFileSync(launcher, `#!/bin/sh\nexec node ${AGENT_NODE_FLAGS.join(' ')} "$(dirname "$0")/stratus-agent.mjs" "$@"\n`);
  chmodSync(launcher, 0o755);
  return { file, launcher, proto, bytes: statSync(file).size };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(fileURLToPath(import.meta.url))) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const built = await buildAgent({ outDir: values.out ? resolve(values.out) : undefined });
  process.stdout.write(`${built.file}: ${(built.bytes / 1024).toFixed(0)} KiB\n${built.launcher}\n${built.proto}\n`);
}
