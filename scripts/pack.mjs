#!/usr/bin/env node
// `pnpm run pack`: build every public package (scripts/lib/public-packages.mjs) and write one
// tarball each into artifacts/ at the repository root (ignored by git); print their paths.
//
// `pnpm pack` (not `npm pack`) because it rewrites `workspace:^` ranges to real ones (`^0.1.0`)
// and applies `publishConfig` (our published `exports` leave out the `source` condition the
// workspace resolves TypeScript sources with). Before packing, each package is checked for what
// a published package needs; a missing piece fails the run with the package and what to add.
//
//   node scripts/pack.mjs               build, check, pack
//   node scripts/pack.mjs --no-build    pack what is in dist/ (after a build of your own)
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, pnpm } from './pnpm.mjs';
import { publicPackages, tarballName } from './lib/public-packages.mjs';

export const ARTIFACTS = path.join(ROOT, 'artifacts');

/** What a package needs before it is packed; returns a list of problems (empty when fine). */
export function checkManifest(pkg) {
  const m = pkg.manifest;
  const problems = [];
  const need = (ok, what) => ok || problems.push(`${pkg.name}: ${what}`);
  need(/^\d+\.\d+\.\d+/.test(m.version ?? ''), 'a version');
  need(m.license === 'MIT', 'license "MIT"');
  need(
    existsSync(path.join(pkg.dir, 'LICENSE')) &&
      readFileSync(path.join(pkg.dir, 'LICENSE'), 'utf8') === readFileSync(path.join(ROOT, 'LICENSE'), 'utf8'),
    'a LICENSE file, a copy of the root LICENSE',
  );
  need(existsSync(path.join(pkg.dir, 'README.md')), 'a README.md');
  need(
    typeof m.repository?.url === 'string' && m.repository.directory === path.relative(ROOT, pkg.dir),
    `repository { url, directory: "${path.relative(ROOT, pkg.dir)}" }`,
  );
  need(m.engines && Object.keys(m.engines).length > 0, 'engines');
  need(Array.isArray(m.files) && m.files.includes('dist'), 'files including "dist"');
  need(typeof m.sideEffects === 'boolean' || Array.isArray(m.sideEffects), 'sideEffects');
  need(m.publishConfig?.access === 'public', 'publishConfig.access "public"');
  need(typeof m.scripts?.build === 'string', 'a build script');
  const published = m.publishConfig?.exports ?? m.exports;
  need(published && typeof published === 'object', 'exports');
  // Every condition that leads to a file has a `types` next to it, and nothing points at src/.
  const walk = (node, where) => {
    if (typeof node === 'string') {
      need(!node.includes('/src/'), `${where} points at ${node}: published exports point at dist/`);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const keys = Object.keys(node);
    if (keys.some((k) => k.startsWith('.'))) {
      for (const k of keys) walk(node[k], k);
      return;
    }
    if (keys.includes('default') && where !== './package.json')
      need(
        keys[0] === 'types' || keys.every((k) => typeof node[k] === 'object'),
        `${where}: a "types" first next to "default"`,
      );
    for (const k of keys) if (k !== 'types') walk(node[k], `${where} ${k}`);
  };
  walk(published, '');
  for (const [dep, range] of Object.entries({ ...m.dependencies, ...m.peerDependencies })) {
    if (range.startsWith('workspace:')) need(range === 'workspace:^', `${dep}: "workspace:^" (packs as ^version)`);
  }
  return problems;
}

/** Build (unless `build` is false), check and pack every public package; returns the tarball paths. */
export async function packAll({ build = true, log = console.log } = {}) {
  const packages = publicPackages(ROOT);
  const problems = packages.flatMap(checkManifest);
  if (problems.length > 0) throw new Error(`not ready to pack:\n  ${problems.join('\n  ')}`);
  const filters = packages.flatMap((p) => ['--filter', `./${path.relative(ROOT, p.dir)}`]);
  if (build) {
    const code = await pnpm(['-r', ...filters, 'run', 'build']);
    if (code !== 0) throw new Error(`build failed (exit code ${code})`);
  }
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  const tarballs = [];
  for (const p of packages) {
    for (const file of (p.manifest.publishConfig?.exports
      ? Object.values(p.manifest.publishConfig.exports)
      : []
    ).flatMap(leaves)) {
      if (!existsSync(path.join(p.dir, file)))
        throw new Error(`${p.name}: ${file} is missing: build first (or drop --no-build)`);
    }
    const code = await pnpm(['pack', '--pack-destination', ARTIFACTS], { cwd: p.dir });
    const tarball = path.join(ARTIFACTS, tarballName(p.name, p.version));
    if (code !== 0 || !existsSync(tarball)) throw new Error(`${p.name}: pnpm pack failed (exit code ${code})`);
    tarballs.push(tarball);
  }
  log('');
  for (const t of tarballs) log(t);
  return tarballs;
}

function leaves(node) {
  if (typeof node === 'string') return [node];
  return node && typeof node === 'object' ? Object.values(node).flatMap(leaves) : [];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await packAll({ build: !process.argv.includes('--no-build') });
  } catch (error) {
    console.error(String(error.message ?? error));
    process.exitCode = 1;
  }
}
