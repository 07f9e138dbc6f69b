// Conformance over HTTP/2 (RFC 8441): our fuzzing client runs sections 1–7 and 9 (quick sizes)
// against `echo:node --http2`, each case on an extended CONNECT stream of a session of its own.
// Everything is OK (or informational, as over TCP) except, at times, 2.10 and 2.11: ten pings
// get fewer than ten pongs. Our server holds pongs while its transport has bytes queued (the
// latest replacing the one before, as RFC 6455 §5.5.3 allows), and an HTTP/2 stream nearly
// always reports some queued bytes; recorded here so that a change shows.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { allCases, runAgainstServer } from '../src/index.ts';
import { PeerProcess, freePort } from '../src/peer-process.ts';
import { INFORMATIONAL_CASES, explain, outcomes } from './helpers/peers.ts';

const ECHO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../node/bin/echo.mjs');
const SECTIONS = /^(?:[1-7]|9)\./;
const CASES = allCases({ quick: true }).filter((d) => SECTIONS.test(d.id));

describe('over HTTP/2 (RFC 8441): @ws/node as the server', () => {
  it('passes sections 1–7 and 9 (quick), 2.10 and 2.11 aside', { timeout: 300_000 }, async () => {
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
      const HELD_PONGS = ['2.10', '2.11'];
      const expected = Object.fromEntries(
        CASES.filter((d) => !HELD_PONGS.includes(d.id)).map((d) => [
          d.id,
          INFORMATIONAL_CASES.includes(d.id) ? 'INFORMATIONAL' : 'OK',
        ]),
      );
      const got: Record<string, string> = outcomes(results);
      for (const id of HELD_PONGS) {
        // A pong per ping, or fewer (held while the stream had bytes queued): never a failed connection.
        expect(['OK', 'FAILED']).toContain(got[id]);
        expect(results.find((r) => r.id === id)).toMatchObject({ wasClean: true });
        delete got[id];
      }
      expect(got, explain(results)).toEqual(expected);
    } finally {
      await peer.stop();
    }
  });
});
