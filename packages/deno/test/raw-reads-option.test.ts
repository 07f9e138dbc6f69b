// Which read path a real server and client take (raw-read.ts, option `rawReads`): with the
// default, once the self-test has passed, neither side calls conn.read() (every read goes
// through Deno's read op), server and client over TCP alike, and an upgrade handler's sockets
// too; `rawReads: false` on either side puts that side back on conn.read(); a self-test that
// saw wrong bytes (a fake op) leaves both sides on conn.read(), echoing as before; a non-boolean
// `rawReads` or `rawWrites` is a TypeError on createServer, createUpgradeHandler and connect.
import { createConnection, createServer, createUpgradeHandler } from '../src/index.ts';
import { rawReads, type ReadOp } from '../src/raw-read.ts';
import { rawWrites } from '../src/raw-write.ts';
import { assert, assertEquals } from '../../../test/shared/assert.ts';
import { connCallsDuringEcho, fallsBackAfterFailedSelfTest, HOST } from './helpers.ts';

Deno.test('rawReads (default): once the self-test has passed, neither our server nor our client calls conn.read()', async () => {
  // Nothing runs the read op's self-test here but the first listen (and connect), which wait for
  // it. The write op's self-test reads its loopback client with conn.read(): done first.
  assertEquals(await rawWrites.works(), true, 'the write op passed its self-test');
  assertEquals(await connCallsDuringEcho('read', {}, {}), 0, 'createServer and connect');
  assertEquals(await rawReads.works(), true, 'the self-test passed on this Deno');
  assertEquals(await connCallsDuringEcho('read', {}, {}, true), 0, 'an upgrade handler and connect');
  assertEquals(await connCallsDuringEcho('read', { rawReads: true }, { rawReads: true }), 0, 'rawReads: true');
});

Deno.test('rawReads: false on one side puts that side on conn.read()', async () => {
  assertEquals(await rawReads.works(), true);
  assert((await connCallsDuringEcho('read', { rawReads: false }, {})) > 0, 'server rawReads: false');
  assert((await connCallsDuringEcho('read', { rawReads: false }, {}, true)) > 0, 'upgrade handler rawReads: false');
  assert((await connCallsDuringEcho('read', {}, { rawReads: false })) > 0, 'client rawReads: false');
});

Deno.test('a self-test that sees wrong bytes leaves every connection on conn.read(), echoing as before', async () => {
  await fallsBackAfterFailedSelfTest(rawReads, 'read', (real) => async (rid, buffer) => {
    const n = await real(rid, buffer);
    if (n > 1) buffer[1] ^= 0x40;
    return n;
  });
});

Deno.test('rawReads and rawWrites must be booleans (TypeError) on createServer, createUpgradeHandler and connect', () => {
  for (const option of ['rawReads', 'rawWrites']) {
    const wrong = { [option]: 'no' } as unknown as { rawReads: boolean };
    for (const [what, make] of [
      ['createServer', () => createServer(wrong)],
      ['createUpgradeHandler', () => createUpgradeHandler(wrong)],
      ['createConnection', () => createConnection(`ws://${HOST}:1`, wrong)],
    ] as const) {
      let error: unknown = null;
      try {
        make();
      } catch (e) {
        error = e;
      }
      assert(error instanceof TypeError, `${what} throws a TypeError for ${option}`);
      assertEquals((error as TypeError).message, `${option} must be a boolean, got string`, what);
    }
  }
});
