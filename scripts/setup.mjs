#!/usr/bin/env node
// Install the workspace's dependencies exactly as locked. Fast (≈1 s) when already up to date.
//   node scripts/setup.mjs      import { setup } from './setup.mjs'; await setup();
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { pnpm } from './pnpm.mjs';

/** @returns {Promise<number>} pnpm's exit code */
export function setup() {
  return pnpm(['install', '--frozen-lockfile']);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await setup();
}
