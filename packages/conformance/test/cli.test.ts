// The command line end to end: peers started from commands (and always stopped), results JSON,
// the expected-results gate, the results page.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main as runCli } from '../src/cli.ts';
import { startMiniServer } from '../src/index.ts';
import type { ExpectedFile, RunReport } from '../src/report.ts';
import { PEERS_DIR } from './helpers/peers.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'ws-conformance-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const file = (name: string): string => path.join(tmp, name);
const readJson = <T>(name: string): T => JSON.parse(readFileSync(file(name), 'utf8')) as T;

/** The CLI with its output collected (shown only when a test fails). */
let lastOutput: string[] = [];
const main = (argv: string[]): Promise<number> => {
  lastOutput = [];
  return runCli(argv, { out: (t) => lastOutput.push(t), err: (t) => lastOutput.push(t) });
};

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('conformance CLI', () => {
  it('--server-cmd: starts the server on a free port, waits for "listening", tests it, stops it', async () => {
    const pidFile = file('server.pid');
    const cmd = `echo $$ > ${pidFile} && exec node ${path.join(PEERS_DIR, 'ws-echo-server.mjs')} --port {port}`;
    const code = await main([
      '--server-cmd',
      cmd,
      '--cases',
      '1.1,2,7.7',
      '--concurrency',
      '4',
      '--json',
      file('server.json'),
      '--agent',
      'ws',
    ]);
    expect(code, lastOutput.join('\n')).toBe(0);
    const report = readJson<RunReport>('server.json');
    expect(report.role).toBe('server');
    expect(report.cases).toHaveLength(8 + 11 + 13);
    expect(report.counts.OK).toBe(report.cases.length);
    expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  it('--client-cmd: runs the client loop with {url} and {agent} against the fuzzing server', async () => {
    const cmd = `node ${path.join(PEERS_DIR, 'ws-autobahn-client.mjs')} --url {url} --agent {agent}`;
    const code = await main([
      '--client-cmd',
      cmd,
      '--cases',
      '5,7.9',
      '--agent',
      'ws-client',
      '--json',
      file('client.json'),
    ]);
    expect(code, lastOutput.join('\n')).toBe(0);
    const report = readJson<RunReport>('client.json');
    expect(report.role).toBe('client');
    expect(report.agent).toBe('ws-client');
    expect(report.cases).toHaveLength(20 + 9);
    expect(report.counts.OK).toBe(report.cases.length);
  });

  it('fails (exit 1) when a case gets worse than the expected file, passes against its own results', async () => {
    const good = await startMiniServer();
    const bad = await startMiniServer(['ignore-rsv']);
    try {
      const expectedFile = file('mini-server.json');
      expect(
        await main([
          '--url',
          good.url,
          '--cases',
          '3,4',
          '--concurrency',
          '8',
          '--expected',
          expectedFile,
          '--update-expected',
          '--agent',
          'mini',
        ]),
      ).toBe(0);
      const expected = readJson<ExpectedFile>('mini-server.json');
      expect(Object.values(expected.cases).every((c) => c.outcome === 'OK')).toBe(true);
      expect(await main(['--url', good.url, '--cases', '3,4', '--concurrency', '8', '--expected', expectedFile])).toBe(
        0,
      );
      expect(
        await main([
          '--url',
          bad.url,
          '--cases',
          '3,4',
          '--concurrency',
          '8',
          '--expected',
          expectedFile,
          '--json',
          file('bad.json'),
        ]),
      ).toBe(1);
      const failed = readJson<RunReport>('bad.json')
        .cases.filter((c) => c.outcome === 'FAILED')
        .map((c) => c.id);
      expect(failed).toEqual(['3.1', '3.2', '3.3', '3.4', '3.5', '3.6']);
      // Recording the broken results as expected makes the same run pass: the gate ratchets.
      expect(
        await main(['--url', bad.url, '--cases', '3,4', '--concurrency', '8', '--save', file('bad-expected.json')]),
      ).toBe(1);
      expect(
        await main(['--url', bad.url, '--cases', '3,4', '--concurrency', '8', '--expected', file('bad-expected.json')]),
      ).toBe(0);
    } finally {
      await good.close();
      await bad.close();
    }
  });

  it('exits 2 when the server never says "listening", and stops it', async () => {
    const pidFile = file('silent.pid');
    const cmd = `exec node -e "require('fs').writeFileSync(process.argv[1], String(process.pid)); setInterval(() => {}, 1000)" ${pidFile}`;
    expect(await main(['--server-cmd', cmd, '--startup', '2', '--cases', '1.1.1'])).toBe(2);
    expect(existsSync(pidFile)).toBe(true);
    expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  it('exits 2 when the server command dies at once', async () => {
    expect(await main(['--server-cmd', 'node -e "process.exit(3)"', '--cases', '1.1.1'])).toBe(2);
  });

  it('fails every case a client never ran', async () => {
    expect(
      await main(['--client-cmd', 'node -e "process.exit(0)"', '--cases', '1.1', '--json', file('gone.json')]),
    ).toBe(1);
    const report = readJson<RunReport>('gone.json');
    expect(report.counts.FAILED).toBe(8);
    expect(report.cases[0]!.reason).toMatch(/never ran/);
  });

  it('renders the results page', async () => {
    const out = file('conformance.md');
    expect(await main(['docs', '--out', out])).toBe(0);
    const page = readFileSync(out, 'utf8');
    expect(page).toMatch(/^# Conformance/);
    expect(page).toContain('| node | server |');
    expect(page).toContain('| deno | server |');
  });

  it('checks its arguments (exit 2)', async () => {
    expect(await main(['--url', 'ws://127.0.0.1:1', '--cases', 'nothing-matches'])).toBe(2);
    writeFileSync(file('x'), '');
    expect(await main(['--nonsense'])).toBe(2);
  });
});
