// Bundle what the benchmarks need from the workspace's TypeScript sources into .build/ (esbuild,
// ≈ 50 ms): Node 20 cannot run .ts, and a benchmark must measure the working tree, not a stale dist.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ROOT = path.resolve(BENCH, '../..');
export const OUT = path.join(BENCH, '.build');

export async function buildCodec() {
  const outfile = path.join(OUT, 'codec.mjs');
  await build({
    entryPoints: [path.join(BENCH, 'src/codec/entry.ts')],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['source', 'import', 'module', 'default'],
    target: 'es2022',
    outfile,
    logLevel: 'error',
  });
  return outfile;
}

/**
 * @ws/node from source (with the codec and session inlined), for in-process benchmarks. `sources`:
 * another copy of packages/node/src (e.g. an older commit's), bundled to `.build/<name>.mjs` with
 * the working tree's dependencies.
 */
export async function buildNode(sources = path.join(ROOT, 'packages/node/src'), name = 'node') {
  const outfile = path.join(OUT, `${name}.mjs`);
  await build({
    entryPoints: [path.join(sources, 'index.ts')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    conditions: ['source'],
    nodePaths: [path.join(ROOT, 'packages/node/node_modules')],
    target: 'node20',
    outfile,
    logLevel: 'error',
  });
  return outfile;
}
