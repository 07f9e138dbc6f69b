// `pnpm run build` for @ws/deno's npm package (JSR publishes src/ as it is): an ESM bundle of
// src/ with declarations. The declarations need Deno's own types (the `Deno` namespace), which
// come from the deno binary (`deno types`) into .deno-types/, ignored by git.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const deno = path.join(HERE, '..', '..', 'node_modules', '.bin', process.platform === 'win32' ? 'deno.cmd' : 'deno');
mkdirSync(path.join(HERE, '.deno-types'), { recursive: true });
// Its `no-default-lib` and `lib="deno.*"` references mean nothing to tsc (they would drop the
// ES and DOM libs of tsconfig.build.json, which give the web globals such as setTimeout).
const types = execFileSync(deno, ['types'], { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' })
  .split('\n')
  .filter((line) => !/^\/\/\/ <reference (no-default-lib|lib="deno\.)/.test(line))
  .join('\n');
writeFileSync(path.join(HERE, '.deno-types', 'lib.deno.d.ts'), types);
execFileSync(path.join(HERE, '..', '..', 'node_modules', '.bin', process.platform === 'win32' ? 'tsup.cmd' : 'tsup'), {
  cwd: HERE,
  stdio: 'inherit',
});
