#!/usr/bin/env node
// Run pnpm at exactly the version the repo is pinned to (package.json "packageManager").
// Uses `pnpm` from PATH when it is that version, else `npx -y pnpm@VERSION`.
//   node scripts/pnpm.mjs install --frozen-lockfile
//   import { pnpm } from './pnpm.mjs'; const code = await pnpm(['install']);
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { run } from './lib/run.mjs';

export const PNPM_VERSION = '12.4.2';
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const isWindows = process.platform === 'win32';

let resolved;
/** The command line prefix that runs pnpm PNPM_VERSION: `['pnpm']` or `['npx', '-y', 'pnpm@…']`. */
export function pnpmCommand() {
  if (resolved) return resolved;
  const probe = spawnSync('pnpm', ['--version'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    shell: isWindows,
    timeout: 30_000,
  });
  const found = probe.status === 0 ? probe.stdout.trim() : null;
  resolved = found === PNPM_VERSION ? ['pnpm'] : ['npx', '-y', `pnpm@${PNPM_VERSION}`];
  if (resolved[0] !== 'pnpm') {
    console.error(
      `[pnpm.mjs] ${found ? `pnpm ${found} on PATH` : 'no pnpm on PATH'}; using npx -y pnpm@${PNPM_VERSION}`,
    );
  }
  return resolved;
}

/** Run pnpm with `args` (cwd defaults to the repo root); resolves with its exit code. */
export function pnpm(args, options = {}) {
  const [command, ...prefix] = pnpmCommand();
  return run(command, [...prefix, ...args], { cwd: ROOT, ...options });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await pnpm(process.argv.slice(2), { cwd: process.cwd() });
}
