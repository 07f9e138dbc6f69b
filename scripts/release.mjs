#!/usr/bin/env node
// `pnpm run release`: publish the public packages to npm and JSR. A dry run unless --publish.
//
// Before: `pnpm run version-packages` (Changesets: versions, ranges, changelogs, jsr.json) and a
// commit of that. Then, in this order:
//   1. build and pack every public package (scripts/pack.mjs: the same tarballs `npm test`
//      installs and checks), dependencies first: @ws/codec, @ws/zlib, then the adapters;
//   2. npm: `npm publish <tarball> --access public` for each, in that order (a version already
//      on the registry is skipped), so a dependant is never published before what it needs;
//   3. JSR: `deno publish` of the JSR workspace (scripts/jsr.mjs: @ws/codec, @ws/zlib, @ws/deno,
//      @ws/bun; deno publishes members in dependency order);
//   4. git tags for the published versions (`changeset tag`).
// --publish refuses to run with pending changesets, uncommitted changes, or while package.json's
// repository URLs still hold the OWNER placeholder.
//
//   pnpm run release                 dry run: npm publish --dry-run, deno publish --dry-run
//   pnpm run release -- --publish    for real (npm login / NPM_TOKEN, and JSR's own auth)
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './pnpm.mjs';
import { packAll } from './pack.mjs';
import { publishJsr } from './jsr.mjs';
import { publicPackages } from './lib/public-packages.mjs';

const publish = process.argv.includes('--publish');
const dry = publish ? [] : ['--dry-run'];
const fail = (message) => {
  console.error(`release: ${message}`);
  process.exit(1);
};

const packages = publicPackages(ROOT);
if (publish) {
  const pending = readdirSync(path.join(ROOT, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
  if (pending.length > 0)
    fail(`${pending.length} pending changeset(s): run pnpm run version-packages and commit first`);
  if (execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '')
    fail('uncommitted changes');
  const placeholder = packages.filter((p) => /\/OWNER\//.test(p.manifest.repository?.url ?? ''));
  if (placeholder.length > 0)
    fail(`repository URL still has the OWNER placeholder in ${placeholder.map((p) => p.name).join(', ')}`);
}

console.log(
  `release (${publish ? 'PUBLISH' : 'dry run'}): ${packages.map((p) => `${p.name}@${p.version}`).join(', ')}`,
);
const tarballs = await packAll();

for (const [i, p] of packages.entries()) {
  if (publish) {
    const seen = spawnSync('npm', ['view', `${p.name}@${p.version}`, 'version'], { encoding: 'utf8' });
    if (seen.status === 0 && seen.stdout.trim() === p.version) {
      console.log(`npm: ${p.name}@${p.version} is already published, skipped`);
      continue;
    }
  }
  console.log(`npm: publish ${path.basename(tarballs[i])}${publish ? '' : ' (dry run)'}`);
  const r = spawnSync('npm', ['publish', tarballs[i], '--access', 'public', ...dry], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) fail(`npm publish of ${p.name} failed (exit code ${r.status})`);
}

const jsr = publishJsr({ publish });
console.log(
  jsr.out
    .split('\n')
    .filter((l) => !/^\s*(Download|file:)/.test(l))
    .join('\n')
    .trim(),
);
if (jsr.code !== 0) fail(`deno publish failed (exit code ${jsr.code})`);

if (publish) {
  const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'changeset'), ['tag'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) fail('changeset tag failed');
  console.log('release: published; push the tags (git push --follow-tags)');
} else {
  console.log('release: dry run complete (pnpm run release -- --publish to publish)');
}
