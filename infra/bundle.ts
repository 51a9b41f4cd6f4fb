// Bundles one Lambda handler with esbuild's JS API into a directory that lambda.Code.fromAsset can
// stage: index.mjs (ESM, minified) and its source map. Runs synchronously because CDK constructs
// are built synchronously.
import { buildSync, type BuildFailure } from 'esbuild';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface BundleOptions {
  /** Absolute path of the handler's TypeScript source; it must export `handler`. */
  entry: string;
  /** Directory to (re)create and fill with index.mjs and index.mjs.map. */
  outDir: string;
}

export interface Bundle {
  dir: string;
  /** The Lambda handler string for this bundle. */
  handler: string;
  /** Size of index.mjs in bytes (source map excluded). */
  bytes: number;
}

// ESM output has no `require`; bundled CommonJS dependencies that call it for Node built-ins need
// one. The import is aliased so it cannot collide with names in the bundled code.
const REQUIRE_SHIM =
  "import { createRequire as __stratusCreateRequire } from 'node:module';" +
  'const require = __stratusCreateRequire(import.meta.url);';

export function bundleHandler({ entry, outDir }: BundleOptions): Bundle {
  if (!existsSync(entry)) {
    throw new Error(`Lambda handler source not found: ${entry}`);
  }
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'index.mjs');

  let result;
  try {
    result = buildSync({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      mainFields: ['module', 'main'],
      banner: { js: REQUIRE_SHIM },
      // The Node.js Lambda runtime ships AWS SDK v3.
      external: ['@aws-sdk/*'],
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      legalComments: 'none',
      metafile: true,
      logLevel: 'silent',
    });
  } catch (err) {
    const messages = (err as BuildFailure).errors?.map((e) => `  ${e.location?.file ?? ''}:${e.location?.line ?? ''} ${e.text}`);
    throw new Error(`Bundling ${entry} failed:\n${messages?.join('\n') ?? String(err)}`);
  }

  const output = Object.entries(result.metafile.outputs).find(([p]) => p.endsWith('index.mjs'))?.[1];
  if (!output?.exports.includes('handler')) {
    throw new Error(`Lambda handler source ${entry} does not export \`handler\` (exports: ${output?.exports.join(', ') || 'none'})`);
  }

  return { dir: outDir, handler: 'index.handler', bytes: statSync(outfile).size };
}

