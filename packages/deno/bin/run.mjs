#!/usr/bin/env node
// Runs one of this folder's Deno scripts with the workspace's Deno (the `deno` npm package):
//   node packages/deno/bin/run.mjs echo.ts --port 9001
// It calls the package's binary directly rather than node_modules/.bin/deno, whose Node shim
// waits in spawnSync and dies on SIGTERM without passing it on (leaving Deno running); here
// SIGTERM/SIGINT/SIGHUP are forwarded, and the exit code is Deno's.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const CONFIG = path.join(HERE, '..', 'deno.json');
// The permissions each script needs, and no more.
const PERMISSIONS = { 'echo.ts': ['--allow-net'], 'autobahn-client.ts': ['--allow-net'] };

export function denoBinary() {
  const exe = process.platform === 'win32' ? 'deno.exe' : 'deno';
  try {
    const dir = path.dirname(createRequire(path.join(ROOT, 'package.json')).resolve('deno/package.json'));
    if (existsSync(path.join(dir, exe))) return path.join(dir, exe);
  } catch {
    // not installed where expected: try the shim
  }
  return path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'deno.cmd' : 'deno');
}

const [script, ...args] = process.argv.slice(2);
if (!Object.hasOwn(PERMISSIONS, script ?? '')) {
  console.error(`usage: run.mjs ${Object.keys(PERMISSIONS).join('|')} [args…]`);
  process.exit(2);
}
const child = spawn(
  denoBinary(),
  ['run', ...PERMISSIONS[script], '--config', CONFIG, path.join(HERE, script), ...args],
  { stdio: 'inherit' },
);
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('error', (error) => {
  console.error(`could not start deno: ${error.message} (run pnpm install)`);
  process.exit(1);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
