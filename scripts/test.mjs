#!/usr/bin/env node
// `npm test`: install, then run every stage, then print one line `N passed, N failed[, N skipped]`.
//
//   npm test                                   everything, with coverage (thresholds enforced)
//   npm test -- --no-coverage                  skip coverage
//   npm test -- packages/codec/test/x.test.ts  pass filters / options through to vitest
//                                              (coverage is then off unless --coverage is given)
//
// Each stage returns counts { passed, failed, skipped }. Test runners report their test counts; a
// check that is not a test runner (typecheck, or a runner that died without reporting) adds
// 1 failed when it fails and nothing when it passes, so "passed" is always a number of tests.
// To add a stage (deno test, bun test, conformance), append to STAGES below.
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { interrupted, run } from './lib/run.mjs';
import { ROOT } from './pnpm.mjs';
import { setup } from './setup.mjs';

const bin = (name) =>
  path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name);

// ---- options ---------------------------------------------------------------------------------
const argv = process.argv.slice(2);
const passThrough = argv.filter((a) => a !== '--coverage' && a !== '--no-coverage');
const coverageFlag = argv.includes('--no-coverage') ? false : argv.includes('--coverage') ? true : null;
const ctx = {
  root: ROOT,
  passThrough, // extra args/filters, given to vitest
  filtered: passThrough.length > 0,
  coverage: coverageFlag ?? passThrough.length === 0,
  tmp: mkdtempSync(path.join(tmpdir(), 'ws-test-')),
};
process.on('exit', () => rmSync(ctx.tmp, { recursive: true, force: true }));

// ---- stage helpers ---------------------------------------------------------------------------
const none = () => ({ passed: 0, failed: 0, skipped: 0 });
/** A check that is not a test runner: nothing when it passes, 1 failed when it does not. */
const check = (code) => ({ passed: 0, failed: code === 0 ? 0 : 1, skipped: 0 });

/** Counts from a vitest/jest-style JSON report; `code` is the runner's exit code. */
function countsFromJestJson(file, code) {
  if (!existsSync(file)) return { passed: 0, failed: 1, skipped: 0, note: `no report, exit code ${code}` };
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const counts = {
    passed: report.numPassedTests ?? 0,
    failed: report.numFailedTests ?? 0,
    skipped: (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0),
  };
  // A test file that failed to load has no failed test of its own: count the file.
  for (const suite of report.testResults ?? []) {
    const failedTests = (suite.assertionResults ?? []).filter((t) => t.status === 'failed').length;
    if (suite.status === 'failed' && failedTests === 0) counts.failed += 1;
  }
  // Non-zero exit with no failure counted: coverage thresholds, unhandled errors, no tests found.
  if (code !== 0 && counts.failed === 0) {
    counts.failed = 1;
    counts.note = `exit code ${code} with no failing test: coverage threshold, unhandled error or no tests`;
  }
  return counts;
}

// ---- stages ----------------------------------------------------------------------------------
/** @type {{ name: string, run: (ctx: typeof ctx) => Promise<{passed:number, failed:number, skipped:number}> }[]} */
const STAGES = [
  {
    name: 'typecheck',
    // The codec alone (ECMAScript library only: proves it uses no host global unguarded), then everything.
    run: async () => {
      const pure = await run(bin('tsc'), ['-p', 'packages/codec/tsconfig.json', '--noEmit'], { cwd: ROOT });
      const all = await run(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit'], { cwd: ROOT });
      return check(pure || all);
    },
  },
  {
    name: 'vitest',
    run: async ({ tmp, coverage, passThrough }) => {
      const json = path.join(tmp, 'vitest.json');
      const args = ['run', '--config', 'vitest.workspace.ts'];
      args.push(coverage ? '--coverage' : '--coverage.enabled=false');
      args.push('--reporter=default', '--reporter=json', `--outputFile.json=${json}`);
      args.push(...passThrough);
      const code = await run(bin('vitest'), args, { cwd: ROOT });
      return countsFromJestJson(json, code);
    },
  },
  // Later: { name: 'deno', run: … node_modules/.bin/deno test -A … }, { name: 'bun', … }, …
];

// ---- main ------------------------------------------------------------------------------------
const total = none();
const lines = [];
const add = (name, counts, seconds) => {
  total.passed += counts.passed;
  total.failed += counts.failed;
  total.skipped += counts.skipped;
  const note = counts.note ? `  — ${counts.note}` : '';
  lines.push(`  ${name.padEnd(10)} ${fmt(counts)}  (${seconds.toFixed(1)} s)${note}`);
};
const fmt = (c) => `${c.passed} passed, ${c.failed} failed` + (c.skipped ? `, ${c.skipped} skipped` : '');
const banner = (text) => console.log(`\n=== ${text} ===`);

async function timed(fn) {
  const start = performance.now();
  const value = await fn();
  return [value, (performance.now() - start) / 1000];
}

banner('setup: pnpm install --frozen-lockfile');
const [setupCode, setupSeconds] = await timed(setup);
if (setupCode !== 0) add('setup', { ...check(setupCode), note: 'pnpm install failed' }, setupSeconds);

for (const stage of setupCode === 0 ? STAGES : []) {
  if (interrupted()) break;
  banner(stage.name);
  let counts, seconds;
  try {
    [counts, seconds] = await timed(() => stage.run(ctx));
  } catch (error) {
    console.error(error);
    [counts, seconds] = [{ ...check(1), note: String(error?.message ?? error) }, 0];
  }
  add(stage.name, counts, seconds);
}

console.log('\n=== summary ===');
for (const line of lines) console.log(line);
if (interrupted()) console.log(`  interrupted by ${interrupted()}`);
console.log(fmt(total));
process.exitCode = interrupted() ? 130 : total.failed > 0 ? 1 : 0;
