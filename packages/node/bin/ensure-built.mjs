// The bin scripts run on Node 20, which cannot run .ts: they import the built packages. This
// builds @ws/codec, @ws/zlib and @ws/node (tsup, JavaScript only: declarations are `npm run build`'s job and
// would triple the time) when a dist is missing or older than its sources, so the scripts work
// from a fresh clone after `pnpm install`. Build output goes to stderr; stdout stays the
// script's own. Concurrent callers serialise on a lock directory.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PACKAGES = [
  { dir: 'packages/codec', outputs: ['dist/index.js', 'dist/session.js', 'dist/tooling.js'] },
  { dir: 'packages/zlib', outputs: ['dist/index.js'] },
  { dir: 'packages/node', outputs: ['dist/index.js'] },
];
const LOCK = path.join(ROOT, 'node_modules', '.ws-build.lock');

function newest(target) {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let max = 0;
  for (const name of readdirSync(target)) max = Math.max(max, newest(path.join(target, name)));
  return max;
}

function stale({ dir, outputs }) {
  const base = path.join(ROOT, dir);
  const sources = Math.max(
    newest(path.join(base, 'src')),
    newest(path.join(base, 'package.json')),
    newest(path.join(base, 'tsup.config.ts')),
  );
  return outputs.some((output) => {
    const file = path.join(base, output);
    return !existsSync(file) || statSync(file).mtimeMs < sources;
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function holderAlive() {
  let pid;
  try {
    pid = Number(readFileSync(path.join(LOCK, 'pid'), 'utf8'));
  } catch {
    // Just created, pid not written yet: alive unless the lock is old.
    return Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? 0) < 10_000;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

async function lock() {
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(path.join(LOCK, 'pid'), String(process.pid));
      return;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      if (!holderAlive())
        rmSync(LOCK, { recursive: true, force: true }); // left by a killed build
      else if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK}`);
      else await sleep(200);
    }
  }
}

/** `extra`: more package folders to build the same way (e.g. `['packages/redis']` for an example). */
export async function ensureBuilt(extra = []) {
  const packages = [...PACKAGES, ...extra.map((dir) => ({ dir, outputs: ['dist/index.js'] }))];
  if (!packages.some(stale)) return;
  await lock();
  try {
    const tsup = path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'tsup.cmd' : 'tsup');
    for (const pkg of packages) {
      if (!stale(pkg)) continue;
      process.stderr.write(`[ws] building ${pkg.dir} (dist missing or stale)…\n`);
      const result = spawnSync(tsup, ['--no-dts'], {
        cwd: path.join(ROOT, pkg.dir),
        stdio: ['ignore', 2, 2],
        shell: process.platform === 'win32',
      });
      if (result.status !== 0)
        throw new Error(`building ${pkg.dir} failed (exit ${result.status}); run \`npm run build\` to see why`);
    }
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
