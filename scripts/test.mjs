#!/usr/bin/env node
// `npm test`: install, then run every stage, then print one line `N passed, N failed[, N skipped]`.
//
//   npm test                                   everything, with coverage (thresholds enforced)
//   npm test -- --no-coverage                  skip coverage
//   npm test -- packages/codec/test/x.test.ts  pass filters / options through to vitest
//                                              (coverage is then off unless --coverage is given)
//   npm test -- --strict-skips                 fail on any skipped test not in scripts/lib/skips.mjs
//                                              (the default when CI is set; --allow-skips turns it off)
//
// Each stage returns counts { passed, failed, skipped } of tests, and the tests it skipped. The
// closing line counts tests only: a check that is not a test runner (typecheck, conformance cases,
// bench smoke steps, or a runner that died without reporting) prints its own figures on its own
// line and adds 1 failed to the total when it fails, nothing when it passes.
// To add a stage, append to STAGES below.
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { interrupted, run } from './lib/run.mjs';
import { skippedInBun, skippedInDeno, skippedInVitest, strictSkips, unexpectedSkips } from './lib/skips.mjs';
import { ROOT, pnpmCommand } from './pnpm.mjs';
import { setup } from './setup.mjs';

const bin = (name) => path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name);

// ---- options ---------------------------------------------------------------------------------
const argv = process.argv.slice(2);
const OUR_FLAGS = ['--coverage', '--no-coverage', '--no-system-peers', '--strict-skips', '--allow-skips'];
const passThrough = argv.filter((a) => !OUR_FLAGS.includes(a));
const coverageFlag = argv.includes('--no-coverage') ? false : argv.includes('--coverage') ? true : null;
const ctx = {
  root: ROOT,
  passThrough, // extra args/filters, given to vitest
  filtered: passThrough.length > 0,
  coverage: coverageFlag ?? passThrough.length === 0,
  tmp: mkdtempSync(path.join(tmpdir(), 'ws-test-')),
  strictSkips: strictSkips(argv),
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
  counts.skips = skippedInVitest(report, ROOT);
  return counts;
}

/** Counts from `bun test`'s closing summary (` 32 pass`, ` 0 fail`, ` 1 skip`, ` 2 todo`). */
function countsFromBunSummary(output, code) {
  const count = (word) => {
    const match = new RegExp(`^\\s*(\\d+) ${word}\\s*$`, 'm').exec(output);
    return match ? Number(match[1]) : null;
  };
  const passed = count('pass');
  if (passed === null) return { passed: 0, failed: 1, skipped: 0, note: `no bun summary, exit code ${code}` };
  const counts = { passed, failed: count('fail') ?? 0, skipped: (count('skip') ?? 0) + (count('todo') ?? 0) };
  if (code !== 0 && counts.failed === 0) {
    counts.failed = 1;
    counts.note = `exit code ${code} with no failing test`;
  }
  return counts;
}

/** Counts from `deno test`'s closing line (`ok | 33 passed | 0 failed (12s)`, maybe `| N ignored`). */
function countsFromDenoSummary(output, code) {
  // The last summary line wins (a run that fails prints per-file lines before it).
  const lines = output
    .replace(/\x1b\[[0-9;]*m/g, '')
    .split('\n')
    .filter((l) => /^(ok|FAILED) \| \d+ passed/.test(l.trim()));
  const last = lines.at(-1);
  if (last === undefined) return { passed: 0, failed: 1, skipped: 0, note: `no deno summary, exit code ${code}` };
  const count = (word) => Number(new RegExp(`(\\d+) ${word}`).exec(last)?.[1] ?? 0);
  const counts = { passed: count('passed'), failed: count('failed'), skipped: count('ignored') };
  if (code !== 0 && counts.failed === 0) {
    counts.failed = 1;
    counts.note = `exit code ${code} with no failing test`;
  }
  return counts;
}

/** Every file must reach this much coverage on its own (vitest.workspace.ts sets the totals). */
const COVERAGE_FLOOR = { lines: 40, branches: 40 };

/** Files of a json-summary coverage report under COVERAGE_FLOOR, as printable lines (none if no report). */
function filesBelowFloor(file) {
  if (!existsSync(file)) return [`no coverage summary at ${path.relative(ROOT, file)}`];
  const summary = JSON.parse(readFileSync(file, 'utf8'));
  const out = [];
  for (const [name, figures] of Object.entries(summary)) {
    if (name === 'total') continue;
    for (const [metric, floor] of Object.entries(COVERAGE_FLOOR)) {
      const pct = figures[metric]?.pct;
      if (typeof pct === 'number' && figures[metric].total > 0 && pct < floor)
        out.push(`${path.relative(ROOT, name)}: ${metric} ${pct}% < ${floor}%`);
    }
  }
  return out;
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
    name: 'biome',
    // Formatting and lint (rules in biome.json: no explicit any, no non-null assertions outside
    // tests, width 120). `npm run format` rewrites; this only checks.
    run: async () => check(await run(bin('biome'), ['ci', '--reporter=summary', '.'], { cwd: ROOT })),
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
      const counts = countsFromJestJson(json, code);
      if (coverage) {
        const below = filesBelowFloor(path.join(ROOT, 'coverage', 'coverage-summary.json'));
        for (const line of below) console.log(`coverage floor: ${line}`);
        if (below.length > 0) {
          counts.failed += 1;
          counts.note = [counts.note, `${below.length} file(s) under the per-file coverage floor`]
            .filter(Boolean)
            .join('; ');
        }
      }
      return counts;
    },
  },
  {
    name: 'bun',
    // `bun test` in packages/bun (native Bun tests of @ws/bun), after typechecking that package
    // with Bun's types. Counts come from bun's summary (`N pass`, `N fail`, `N skip`, `N todo`).
    run: async ({ tmp, filtered, passThrough }) => {
      if (filtered && !passThrough.some((a) => a.includes('bun')))
        return { ...none(), note: 'not selected by the filters' };
      const types = await run(bin('tsc'), ['-p', 'packages/bun/tsconfig.json', '--noEmit'], { cwd: ROOT });
      const log = path.join(tmp, 'bun-test.log');
      const script = 'set -o pipefail; "$0" test --conditions source 2>&1 | tee "$BUN_TEST_LOG"';
      const code = await run('bash', ['-c', script, bin('bun')], {
        cwd: path.join(ROOT, 'packages', 'bun'),
        env: { BUN_TEST_LOG: log },
        shell: false,
      });
      const output = existsSync(log) ? readFileSync(log, 'utf8') : '';
      const counts = countsFromBunSummary(output, code);
      counts.skips = skippedInBun(output, 'packages/bun');
      if (types !== 0) {
        counts.failed += 1;
        counts.note = [counts.note, 'tsc -p packages/bun/tsconfig.json failed'].filter(Boolean).join('; ');
      }
      return counts;
    },
  },
  {
    name: 'deno',
    // `deno test -A --v8-flags=--expose-gc` in packages/deno (native Deno tests of @ws/deno; the type check is part of
    // it), then in examples/deno-chat. Counts come from deno's summary line
    // `ok | N passed | N failed`, added up.
    run: async ({ tmp, filtered, passThrough }) => {
      if (filtered && !passThrough.some((a) => a.includes('deno')))
        return { ...none(), note: 'not selected by the filters' };
      const total = none();
      total.skips = [];
      const notes = [];
      for (const dir of ['packages/deno', 'examples/deno-chat']) {
        const log = path.join(tmp, `deno-test-${path.basename(dir)}.log`);
        const script = 'set -o pipefail; "$0" test -A --v8-flags=--expose-gc 2>&1 | tee "$DENO_TEST_LOG"';
        const code = await run('bash', ['-c', script, bin('deno')], {
          cwd: path.join(ROOT, dir),
          env: { DENO_TEST_LOG: log, NO_COLOR: '1' },
          shell: false,
        });
        const output = existsSync(log) ? readFileSync(log, 'utf8') : '';
        const counts = countsFromDenoSummary(output, code);
        total.skips.push(...skippedInDeno(output, dir));
        total.passed += counts.passed;
        total.failed += counts.failed;
        total.skipped += counts.skipped;
        if (counts.note) notes.push(`${dir}: ${counts.note}`);
      }
      return notes.length > 0 ? { ...total, note: notes.join('; ') } : total;
    },
  },
  {
    name: 'packages',
    // What npm users get (scripts/check-packages.mjs): `pnpm run pack` (build, one tarball per
    // public package in artifacts/), size budgets (.size-limit.js), publint and attw on each
    // tarball, then an npm install of the tarballs in a scratch project outside the workspace and
    // consumers run there: Node ESM and CJS, TypeScript (node16, bundler), Bun, Deno (npm:).
    // Counts: one per check and per consumer.
    run: async ({ filtered, passThrough }) => {
      if (filtered && !passThrough.some((a) => a.includes('check-packages')))
        return { ...none(), note: 'not selected by the filters' };
      const { checkPackages } = await import('./check-packages.mjs');
      return checkPackages();
    },
  },
  {
    name: 'conformance',
    // @ws/conformance, our Autobahn|Testsuite equivalent (9.x in quick sizes), against each
    // runtime's adapter as a server (`echo:<runtime>`) and as a client (`autobahn-client:<runtime>`).
    // A case that gets worse than packages/conformance/expected/<runtime>-<role>.json fails. Counts
    // are cases; a runtime whose script does not exist yet is skipped with a note. The full run is
    // documented in packages/conformance/README.md.
    run: async ({ tmp, filtered, passThrough }) => {
      if (filtered && !passThrough.some((a) => a.includes('conformance')))
        return { ...none(), note: 'not selected by the filters' };
      const scripts = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts ?? {};
      const pnpmRun = [...pnpmCommand(), 'run'].join(' ');
      // Cases are not tests: they are reported on this stage's line; any worse case, a missing
      // script or a run that died is one failed check in the closing line.
      const cases = { passed: 0, worse: 0 };
      const problems = [];
      for (const runtime of ['node', 'deno', 'bun']) {
        const targets = [
          [
            'server',
            `echo:${runtime}`,
            ['--server-cmd', `${pnpmRun} echo:${runtime} --port {port}`, '--concurrency', '4'],
          ],
          [
            'client',
            `autobahn-client:${runtime}`,
            ['--client-cmd', `${pnpmRun} autobahn-client:${runtime} --url {url} --agent {agent}`],
          ],
        ];
        for (const [role, script, target] of targets) {
          if (!scripts[script]) {
            problems.push(`${runtime} ${role}: no "${script}" script`);
            continue;
          }
          const json = path.join(tmp, `conformance-${runtime}-${role}.json`);
          const args = [
            'packages/conformance/bin/conformance.mjs',
            '--runtime',
            runtime,
            '--quick',
            ...target,
            '--json',
            json,
          ];
          const code = await run(process.execPath, args, { cwd: ROOT });
          if (!existsSync(json)) {
            problems.push(`${runtime} ${role}: no results (exit ${code})`);
            continue;
          }
          const report = JSON.parse(readFileSync(json, 'utf8'));
          const worse = report.comparison ? report.comparison.worse.length : report.counts.FAILED;
          cases.passed += report.cases.length - worse;
          cases.worse += worse;
          if (worse > 0) problems.push(`${runtime} ${role}: ${worse} case(s) worse than expected`);
          if (!report.comparison) problems.push(`${runtime} ${role}: no expected file`);
          if (code !== 0 && worse === 0) problems.push(`${runtime} ${role}: exit code ${code}`);
        }
      }
      const detail = `${cases.passed} cases as expected, ${cases.worse} worse`;
      return { ...check(problems.length), detail, note: problems.join('; ') || undefined };
    },
  },
  {
    name: 'bench',
    // A smoke run of the benchmarks (packages/bench, < 30 s): the codec micro-benchmark worker with
    // ws's addons and without (it checks every implementation's output first), the in-process echo,
    // and the C load generator against @ws/node over loopback. No timing is asserted.
    run: async ({ tmp, filtered, passThrough }) => {
      if (filtered && !passThrough.some((a) => a.includes('bench')))
        return { ...none(), note: 'not selected by the filters' };
      const log = path.join(tmp, 'bench-smoke.log');
      const script = 'set -o pipefail; "$0" packages/bench/src/bench.mjs smoke 2>&1 | tee "$BENCH_LOG"';
      const code = await run('bash', ['-c', script, process.execPath], {
        cwd: ROOT,
        env: { BENCH_LOG: log },
        shell: false,
      });
      const last = /bench smoke: (\d+) passed, (\d+) failed/.exec(existsSync(log) ? readFileSync(log, 'utf8') : '');
      if (!last) return { passed: 0, failed: 1, skipped: 0, note: `no smoke summary, exit code ${code}` };
      // Smoke steps are not tests: reported on this line; any failed step is one failed check.
      const failedSteps = Number(last[2]);
      return {
        ...check(failedSteps > 0 || code !== 0 ? 1 : 0),
        detail: `${last[1]} smoke steps passed, ${last[2]} failed`,
      };
    },
  },
];

// ---- main ------------------------------------------------------------------------------------
const total = none();
const lines = [];
const skips = [];
const add = (name, counts, seconds) => {
  total.passed += counts.passed;
  total.failed += counts.failed;
  total.skipped += counts.skipped;
  skips.push(...(counts.skips ?? []));
  const note = counts.note ? `  — ${counts.note}` : '';
  const figures = counts.detail ? `${counts.detail}${counts.failed ? ' (failed)' : ''}` : fmt(counts);
  lines.push(`  ${name.padEnd(11)} ${figures}  (${seconds.toFixed(1)} s)${note}`);
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

// Real peers from Debian that some tests drive: headless Chromium, python websockets, tinyproxy. When
// they are missing and we are root with apt (a fresh machine, CI), install them; otherwise those
// tests skip with a note. `--no-system-peers` (or WS_NO_SYSTEM_PEERS=1) leaves the system alone.
const SYSTEM_PEERS = [
  ['chromium', '/usr/bin/chromium'],
  ['python3-websockets', '/usr/lib/python3/dist-packages/websockets'],
  // @ws/redis and the cluster-chat example run against a real Redis (started by the tests on a
  // free port); under CI a missing redis-server fails those tests instead of skipping them.
  ['redis-server', '/usr/bin/redis-server'],
  // test/adapters/http.test.ts drives every runtime's plain-HTTP side with curl.
  ['curl', '/usr/bin/curl'],
  // The HTTP CONNECT proxy the clients' proxy tests go through.
  ['tinyproxy', '/usr/bin/tinyproxy'],
];
const missingPeers = SYSTEM_PEERS.filter(([, file]) => !existsSync(file)).map(([pkg]) => pkg);
if (missingPeers.length > 0 && !argv.includes('--no-system-peers') && !process.env.WS_NO_SYSTEM_PEERS) {
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    banner(`system peers: apt-get install ${missingPeers.join(' ')}`);
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    const code =
      (await run('apt-get', ['update'], { env })) ||
      (await run('apt-get', ['install', '-y', '--no-install-recommends', ...missingPeers], { env }));
    if (code !== 0) console.log(`could not install ${missingPeers.join(', ')}: the tests that need them will skip`);
  } else {
    console.log(
      `\nnot installed: ${missingPeers.join(', ')} (needs root and apt-get): the tests that drive them will skip`,
    );
  }
}

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

// A skipped test is a suite that did not run: in CI (or with --strict-skips) each one that
// scripts/lib/skips.mjs does not allow is a failure, named here.
if (skips.length > 0) {
  const unexpected = unexpectedSkips(skips);
  banner(
    `skipped tests (${skips.length}; ${ctx.strictSkips ? 'strict: each one not allowed in scripts/lib/skips.mjs fails' : 'not strict outside CI'})`,
  );
  for (const s of skips) console.log(`  ${unexpected.includes(s) ? '✗' : '·'} [${s.runner}] ${s.file} › ${s.name}`);
  if (ctx.strictSkips && unexpected.length > 0) {
    add(
      'skips',
      {
        passed: 0,
        failed: unexpected.length,
        skipped: 0,
        detail: `${unexpected.length} test(s) skipped that may not skip in CI`,
      },
      0,
    );
  }
}

console.log('\n=== summary ===');
for (const line of lines) console.log(line);
if (interrupted()) console.log(`  interrupted by ${interrupted()}`);
console.log(fmt(total));
process.exitCode = interrupted() ? 130 : total.failed > 0 ? 1 : 0;
