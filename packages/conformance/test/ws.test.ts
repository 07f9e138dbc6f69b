// Calibration against `ws` (npm), which passes the real Autobahn|Testsuite: as a server (our
// fuzzing client against peers/ws-echo-server.mjs) and as a client (peers/ws-autobahn-client.mjs
// against our fuzzing server). ws checks UTF-8 once a message is complete, so the fail-fast cases
// 6.4.1–6.4.4 are NON-STRICT, as Autobahn reports them for ws; everything else is OK.
import { describe, it } from 'vitest';
import path from 'node:path';
import { FuzzingServer, allCases, runAgainstServer } from '../src/index.ts';
import { PeerProcess, fillTemplate, freePort } from '../src/peer-process.ts';
import { INFORMATIONAL_CASES, PEERS_DIR, explain, outcomes } from './helpers/peers.ts';

const CASES = allCases({ quick: true });
const expected = Object.fromEntries(
  CASES.map((d) => [
    d.id,
    d.id.startsWith('6.4.') ? 'NON-STRICT' : INFORMATIONAL_CASES.includes(d.id) ? 'INFORMATIONAL' : 'OK',
  ]),
);

// Server and client runs are independent: run them at once.
describe.concurrent('ws 8.23 (reference peer)', () => {
  it('as a server: OK except fail-fast UTF-8 (NON-STRICT) and the informational cases', async ({ expect }) => {
    const port = await freePort();
    const peer = new PeerProcess(
      fillTemplate(`node ${path.join(PEERS_DIR, 'ws-echo-server.mjs')} --port {port}`, { port }),
    );
    try {
      await peer.waitForLine('listening', 30_000);
      const results = await runAgainstServer({ url: `ws://127.0.0.1:${port}`, cases: CASES, concurrency: 4 });
      expect(outcomes(results), explain(results)).toEqual(expected);
    } finally {
      await peer.stop();
    }
    expect(peer.running).toBe(false);
  });

  it('as a client: the same', async ({ expect }) => {
    const server = await FuzzingServer.start({ cases: CASES });
    const peer = new PeerProcess(
      `node ${path.join(PEERS_DIR, 'ws-autobahn-client.mjs')} --url ${server.url} --agent ws`,
    );
    try {
      expect(await peer.exited, peer.output()).toBe(0);
      expect(server.reported('ws')).toBe(true);
      const results = CASES.map((d) => server.results('ws').get(d.id)!);
      expect(outcomes(results), explain(results)).toEqual(expected);
    } finally {
      await peer.stop();
      await server.close();
    }
  });
});
