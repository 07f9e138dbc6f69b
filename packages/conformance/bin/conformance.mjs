#!/usr/bin/env node
// `pnpm run conformance -- …`: runs the suite's CLI (src/cli.ts) from its build. Node 20 cannot run
// TypeScript, so this builds the package with tsup first when dist/ is missing or older than the
// sources (≈1 s; output to stderr). Concurrent callers serialise on a lock directory.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const PACKAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUTPUT = path.join(PACKAGE, 'dist', 'cli.js');
const LOCK = path.join(PACKAGE, 'node_modules', '.build.lock'); // node_modules: ignored by git

function newest(target) {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let max = stat.mtimeMs;
  for (const name of readdirSync(target)) max = Math.max(max, newest(path.join(target, name)));
  return max;
}

const stale = () =>
  !existsSync(OUTPUT) ||
  statSync(OUTPUT).mtimeMs <
    Math.max(
      newest(path.join(PACKAGE, 'src')),
      newest(path.join(PACKAGE, 'package.json')),
      newest(path.join(PACKAGE, 'tsup.config.ts')),
    );

function lockHolderAlive() {
  try {
    const pid = Number(readFileSync(path.join(LOCK, 'pid'), 'utf8'));
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if (error?.code === 'EPERM') return true;
    // No pid file yet: alive if the lock is fresh.
    return error?.code === 'ENOENT' && Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? 0) < 10_000;
  }
}

async function ensureBuilt() {
  if (!stale()) return;
  for (let attempt = 0; attempt < 600; attempt++) {
    try {
      mkdirSync(path.dirname(LOCK), { recursive: true });
      mkdirSync(LOCK);
    } catch {
      if (!lockHolderAlive()) rmSync(LOCK, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    try {
      writeFileSync(path.join(LOCK, 'pid'), String(process.pid));
      if (!stale()) return;
      const tsup = path.join(
        PACKAGE,
        '..',
        '..',
        'node_modules',
        '.bin',
        process.platform === 'win32' ? 'tsup.cmd' : 'tsup',
      );
      const built = spawnSync(tsup, [], {
        cwd: PACKAGE,
        stdio: ['ignore', process.stderr, process.stderr],
        shell: process.platform === 'win32',
      });
      if (built.status !== 0) {
        console.error(
          `building @ws/conformance failed (tsup exit ${built.status ?? built.signal}); run \`pnpm install\` first`,
        );
        process.exit(2);
      }
      return;
    } finally {
      rmSync(LOCK, { recursive: true, force: true });
    }
  }
  console.error('timed out waiting for another build of @ws/conformance');
  process.exit(2);
}

await ensureBuilt();
const { cli } = await import(pathToFileURL(OUTPUT).href);
await cli();
