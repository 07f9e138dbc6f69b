// Conformance over HTTP/2 (RFC 8441), both roles. Server: our fuzzing client runs sections 1–7
// and 9 (quick sizes) against `echo:node --http2`, each case on an extended CONNECT stream of a
// session of its own. Client: the fuzzing server speaks h2c and `autobahn-client:node --http2 true`
// opens every case with `connect(url, { http2: true })` (one shared session).
// Every case is OK (or informational), as over TCP. 2.10 and 2.11 (ten pings, ten pongs) hold
// because the server holds pongs only once its transport has a real backlog (16 KiB or
// highWaterMark), not at the few bytes an HTTP/2 stream nearly always reports queued.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { allCases, runAgainstServer } from '../src/index.ts';
import { main } from '../src/cli.ts';
import type { RunReport } from '../src/report.ts';
import { PeerProcess, freePort } from '../src/peer-process.ts';
import { INFORMATIONAL_CASES, explain, outcomes } from './helpers/peers.ts';

const ECHO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../node/bin/echo.mjs');
const AUTOBAHN_CLIENT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../node/bin/autobahn-client.mjs',
);
const SECTIONS = /^(?:[1-7]|9)\./;
const CASES = allCases({ quick: true }).filter((d) => SECTIONS.test(d.id));

describe('over HTTP/2 (RFC 8441): @ws/node as the server', () => {
  it('passes sections 1–7 and 9 (quick), as over TCP', { timeout: 300_000 }, async () => {
    const port = await freePort();
    const peer = new PeerProcess(`node ${ECHO} --port ${port} --http2`);
    try {
      await peer.waitForLine('listening', 180_000);
      const results = await runAgainstServer({
        url: `wss://127.0.0.1:${port}`,
        cases: CASES,
        concurrency: 4,
        http2: true,
      });
      const expected = Object.fromEntries(
        CASES.map((d) => [d.id, INFORMATIONAL_CASES.includes(d.id) ? 'INFORMATIONAL' : 'OK']),
      );
      const got: Record<string, string> = outcomes(results);
      expect(got, explain(results)).toEqual(expected);
    } finally {
      await peer.stop();
    }
  });
});

describe('over HTTP/2 (RFC 8441): @ws/node as the client', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'ws-conformance-h2-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('passes sections 1–7 and 9 (quick), as over TCP', { timeout: 300_000 }, async () => {
    const json = path.join(tmp, 'client.json');
    const output: string[] = [];
    const code = await main(
      [
        '--client-cmd',
        `node ${AUTOBAHN_CLIENT} --url {url} --agent {agent} --http2 true`,
        '--http2',
        '--quick',
        '--cases',
        '1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*',
        '--agent',
        'node-h2',
        '--json',
        json,
      ],
      { out: (t) => output.push(t), err: (t) => output.push(t) },
    );
    const report = JSON.parse(readFileSync(json, 'utf8')) as RunReport;
    const expected = Object.fromEntries(
      CASES.map((d) => [d.id, INFORMATIONAL_CASES.includes(d.id) ? 'INFORMATIONAL' : 'OK']),
    );
    expect(outcomes(report.cases), output.join('\n')).toEqual(expected);
    expect(code).toBe(0);
  });
});
