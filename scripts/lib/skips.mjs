// Which tests may skip when CI runs `npm test`, and the bookkeeping that enforces it.
//
// Every suite that depends on a peer (Chromium, python websockets, openssl, redis-server, curl,
// tinyproxy, Deno, Bun) skips on a developer's machine that lacks it, and says so. In CI the run
// installs every peer (see scripts/test.mjs, SYSTEM_PEERS), so a skip there means a peer failed to
// install or a suite lost its way to one: it counts as a failure unless the test is listed below,
// with the reason it may not run on CI's machine.
//
// Each entry: { runner: 'vitest' | 'bun' | 'deno', file: a path suffix, test: a RegExp on the
// test's full name, why: the reason }. Keep the list short; an entry with no reason is a bug.

/** @type {{ runner: string, file: string, test: RegExp, why: string }[]} */
export const ALLOWED_SKIPS = [
  // (none: every peer the tests use is installed in CI)
];

/** Whether skips fail the run: in CI (CI=true), or when asked with --strict-skips. */
export const strictSkips = (argv) =>
  argv.includes('--strict-skips') || (!!process.env.CI && !argv.includes('--allow-skips'));

/** The skipped tests of a vitest JSON report: `{ runner, file, name }`, paths relative to `root`. */
export function skippedInVitest(report, root) {
  const out = [];
  for (const suite of report.testResults ?? []) {
    const file = relative(suite.name ?? '', root);
    for (const t of suite.assertionResults ?? []) {
      if (t.status === 'skipped' || t.status === 'pending' || t.status === 'todo' || t.status === 'disabled') {
        out.push({ runner: 'vitest', file, name: t.fullName ?? t.title ?? '' });
      }
    }
  }
  return out;
}

/** The skipped tests in `bun test` output: `(skip) name` / `(todo) name` lines, under a `file:` header. */
export function skippedInBun(output, dir) {
  const out = [];
  let file = '';
  for (const raw of stripAnsi(output).split('\n')) {
    const line = raw.trimEnd();
    const header = /^(\S.*\.(?:test|spec)\.[cm]?[jt]sx?):$/.exec(line);
    if (header) file = `${dir}/${header[1]}`;
    const skip = /^\((skip|todo)\) (.*?)(?: \[[\d.]+m?s\])?$/.exec(line.trim());
    if (skip) out.push({ runner: 'bun', file, name: skip[2] });
  }
  return out;
}

/** The ignored tests in `deno test` output: `name ... ignored (0ms)`, under `running N tests from ./file`. */
export function skippedInDeno(output, dir) {
  const out = [];
  let file = '';
  for (const raw of stripAnsi(output).split('\n')) {
    const from = /^running \d+ tests? from \.\/(.*)$/.exec(raw.trim());
    if (from) file = `${dir}/${from[1]}`;
    const ignored = /^(.*) \.\.\. ignored \(/.exec(raw.trim());
    if (ignored) out.push({ runner: 'deno', file, name: ignored[1] });
  }
  return out;
}

/** The skips no entry of ALLOWED_SKIPS covers. */
export function unexpectedSkips(skips) {
  return skips.filter(
    (s) => !ALLOWED_SKIPS.some((a) => a.runner === s.runner && s.file.endsWith(a.file) && a.test.test(s.name)),
  );
}

function relative(file, root) {
  return file.startsWith(`${root}/`) ? file.slice(root.length + 1) : file;
}

function stripAnsi(text) {
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}
