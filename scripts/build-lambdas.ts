// Bundles each Lambda handler with esbuild into dist/lambda/<name>/index.mjs (Node 22, ESM,
// minified). The AWS SDK v3 stays external: the Lambda Node.js runtime provides it. The embedded
// SQLite driver is a native module Lambda cannot load, so it is replaced by a stub that fails if
// anything tries to open the SQLite store there.
//   npx tsx scripts/build-lambdas.ts [--out dir]
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const LAMBDAS = {
  api: 'functions/apiserver/lambda.ts',
  dispatcher: 'functions/dispatcher/handler.ts',
  worker: 'functions/worker/handler.ts',
} as const;

export type LambdaName = keyof typeof LAMBDAS;

export interface BuiltLambda {
  name: LambdaName;
  file: string;
  bytes: number;
  gzipBytes: number;
}

const noSqlite: Plugin = {
  name: 'no-sqlite',
  setup(b) {
    b.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: 'better-sqlite3', namespace: 'no-sqlite' }));
    b.onLoad({ filter: /.*/, namespace: 'no-sqlite' }, () => ({
      contents: 'export default function Database() { throw new Error("the embedded SQLite store is not available on Lambda"); }',
      loader: 'js',
    }));
  },
};

// Bundled CommonJS dependencies call require() for Node built-ins; ESM output needs one.
const banner = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

export async function buildLambdas(outDir = join(repoRoot, 'dist/lambda')): Promise<BuiltLambda[]> {
  const built: BuiltLambda[] = [];
  for (const [name, entry] of Object.entries(LAMBDAS) as [LambdaName, string][]) {
    const file = join(outDir, name, 'index.mjs');
    mkdirSync(dirname(file), { recursive: true });
    await build({
      entryPoints: [join(repoRoot, entry)],
      outfile: file,
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      minify: true,
      sourcemap: false,
      legalComments: 'none',
      external: ['@aws-sdk/*'],
      plugins: [noSqlite],
      banner: { js: banner },
      logLevel: 'warning',
    });
    built.push({ name, file, bytes: statSync(file).size, gzipBytes: gzipSync(readFileSync(file)).length });
  }
  return built;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  const built = await buildLambdas(at > 0 ? resolve(process.argv[at + 1]) : undefined);
  for (const b of built) console.log(`${b.name.padEnd(10)} ${(b.bytes / 1024).toFixed(0).padStart(6)} KiB  (gzip ${(b.gzipBytes / 1024).toFixed(0)} KiB)  ${b.file}`);
}
