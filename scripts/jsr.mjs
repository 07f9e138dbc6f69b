#!/usr/bin/env node
// JSR: @ws/codec, @ws/zlib, @ws/deno and @ws/bun (each package's jsr.json; JSR takes the
// TypeScript sources as they are, no build). They are published as one Deno workspace, so that
// each imports the others by name and `deno publish` resolves them locally (JSR rewrites those
// imports to `jsr:@ws/…@^version`); offline, too, for the dry run: only npm dependencies are
// fetched, from the npm registry.
//
// The workspace is assembled in a temp dir rather than kept at the root: a root deno.json would
// be picked up by every `deno` run in the repository (packages/deno's tests and
// examples/deno-chat have configs of their own, with import maps to the sources). Per member:
// jsr.json's name, license, exports and publish, the version from package.json (the one
// Changesets bumps), and imports made from package.json's dependencies (`@ws/*` by name,
// anything else as `npm:name@range`).
//
//   node scripts/jsr.mjs                 deno publish --dry-run (what CI runs)
//   node scripts/jsr.mjs --publish       deno publish, for real (scripts/release.mjs calls it)
//   node scripts/jsr.mjs --sync-versions copy each package.json version into its jsr.json
//                                        (after `changeset version`: pnpm run version-packages)
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './pnpm.mjs';
import { publicPackages } from './lib/public-packages.mjs';

const DENO = path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'deno.cmd' : 'deno');
/** Type-only modules of the host that JSR needs a source for (@ws/bun imports Bun's types). */
const TYPE_PACKAGES = { bun: '@types/bun' };

/** The public packages that have a jsr.json, dependencies first. */
export function jsrPackages() {
  return publicPackages(ROOT).filter((p) => existsSync(path.join(p.dir, 'jsr.json')));
}

/** Assemble the JSR workspace in a temp dir; returns its path. Throws on a jsr.json that disagrees. */
export function stageJsr() {
  const packages = jsrPackages();
  const names = new Set(packages.map((p) => p.name));
  const stage = mkdtempSync(path.join(tmpdir(), 'ws-jsr-'));
  const members = [];
  for (const p of packages) {
    const jsr = JSON.parse(readFileSync(path.join(p.dir, 'jsr.json'), 'utf8'));
    if (jsr.name !== p.name) throw new Error(`${p.name}: jsr.json names ${jsr.name}`);
    if (jsr.version !== p.version)
      throw new Error(
        `${p.name}: jsr.json has version ${jsr.version}, package.json ${p.version} (run pnpm run version)`,
      );
    const member = path.join('packages', path.basename(p.dir));
    const dest = path.join(stage, member);
    mkdirSync(dest, { recursive: true });
    for (const file of ['src', 'README.md', 'LICENSE'])
      cpSync(path.join(p.dir, file), path.join(dest, file), { recursive: true });
    const imports = {};
    for (const [dep, range] of Object.entries(p.manifest.dependencies ?? {})) {
      if (names.has(dep)) continue; // a workspace member: resolved by name
      if (dep.startsWith('@ws/')) throw new Error(`${p.name} depends on ${dep}, which has no jsr.json`);
      imports[dep] = `npm:${dep}@${range}`;
    }
    for (const [module, types] of Object.entries(TYPE_PACKAGES)) {
      const range = p.manifest.devDependencies?.[types];
      if (range) imports[module] = `npm:${types}@^${range.replace(/^[\^~]/, '')}`;
    }
    writeFileSync(path.join(dest, 'deno.json'), JSON.stringify({ ...jsr, imports }, null, 2));
    members.push(`./${member.split(path.sep).join('/')}`);
  }
  writeFileSync(path.join(stage, 'deno.json'), JSON.stringify({ workspace: members, lock: false }, null, 2));
  return stage;
}

/** `deno publish` (with `--dry-run` unless `publish`) of the staged workspace; resolves with its exit code and output. */
export function publishJsr({ publish = false, log = console.log } = {}) {
  const stage = stageJsr();
  try {
    const args = ['publish', ...(publish ? [] : ['--dry-run']), '--allow-dirty'];
    log(
      `deno ${args.join(' ')} (workspace: ${jsrPackages()
        .map((p) => p.name)
        .join(', ')})`,
    );
    const r = spawnSync(DENO, args, {
      cwd: stage,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 300_000,
    });
    return { code: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** Copy each package.json version into its jsr.json (Changesets bumps only package.json). */
export function syncVersions(log = console.log) {
  for (const p of jsrPackages()) {
    const file = path.join(p.dir, 'jsr.json');
    const jsr = JSON.parse(readFileSync(file, 'utf8'));
    if (jsr.version === p.version) continue;
    log(`${p.name}: jsr.json ${jsr.version} → ${p.version}`);
    writeFileSync(file, `${JSON.stringify({ ...jsr, version: p.version }, null, 2)}\n`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    if (process.argv.includes('--sync-versions')) {
      syncVersions();
      process.exit(0);
    }
    const { code, out } = publishJsr({ publish: process.argv.includes('--publish') });
    console.log(out.trim());
    process.exitCode = code;
  } catch (error) {
    console.error(String(error.message ?? error));
    process.exitCode = 1;
  }
}
