// The fuzz runner itself (packages/fuzz/bin/fuzz.mjs), as CI would call it: worker threads, the
// summary line, a crash turned into a replayable vector, and the watchdog catching a case that
// never returns (the self-test hooks make one hang and one throw on purpose).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const out = mkdtempSync(path.join(tmpdir(), 'ws-fuzz-runner-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function fuzz(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['packages/fuzz/bin/fuzz.mjs', '--', ...args, '--out', out], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 110_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('fuzz runner', () => {
  it('runs a seeded share on two workers and prints the summary', () => {
    const r = fuzz(['--inputs', '3000', '--seed', '5', '--workers', '2']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^fuzz: 3,000 inputs in [\d.]+ s \(.*2 workers\), peak RSS \d+ MiB, slowest case [\d.]+ ms, 0 crashes, 0 hangs$/m,
    );
  }, 120_000);

  it('turns a throwing case into a vector, and a hanging one into a hang report, and carries on', () => {
    const r = fuzz(['--inputs', '400', '--seed', '5', '--workers', '1', '--hang-ms', '1500'], {
      WS_FUZZ_SELF_TEST_THROW: '17',
      WS_FUZZ_SELF_TEST_HANG: '200',
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/CRASH case 17 .*self-test: a case that throws/);
    expect(r.stdout).toMatch(/HANG case 200: no progress for 1500 ms/);
    // Every other case still ran: 400 minus the hung one.
    expect(r.stdout).toMatch(/fuzz: 399 inputs .* 1 crashes, 1 hangs$/m);
    const files = readdirSync(out).filter((f) => f.includes('case17'));
    expect(files).toHaveLength(1);
    const crash = JSON.parse(readFileSync(path.join(out, files[0]!), 'utf8'));
    expect(crash).toMatchObject({ seed: 5, index: 17, error: 'TypeError: self-test: a case that throws' });
    expect(crash.case?.target).toBeDefined();
  }, 120_000);
});
