#!/usr/bin/env node
// `npm run demo`: install, build the codec, run the in-memory example.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { pnpm, ROOT } from './pnpm.mjs';
import { setup } from './setup.mjs';
import { run } from './lib/run.mjs';

async function main() {
  let code = await setup();
  if (code !== 0) return code;
  code = await pnpm(['--filter', '@ws/codec', 'run', 'build']);
  if (code !== 0) return code;
  return run(process.execPath, [path.join(ROOT, 'examples', 'in-memory', 'demo.mjs'), ...process.argv.slice(2)], {
    cwd: ROOT,
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
