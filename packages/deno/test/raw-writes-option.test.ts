// Which write path a real server and client take (raw-write.ts, option `rawWrites`): by default
// both sides write with conn.write(); with `rawWrites: true`, once the self-test has passed,
// neither side calls conn.write() (every write goes through Deno's write op), server, upgrade
// handler and client alike; `rawWrites: false` (or left out) on either side keeps that side on conn.write(); a self-test that saw wrong bytes (a fake op) leaves
// every connection on conn.write(), echoing as before; both paths echo a 4 MiB message, and
// closing a server with connections on the op leaves no socket open. Backpressure on both paths:
// backpressure.test.ts; a non-boolean `rawWrites`: raw-reads-option.test.ts.
import { connect } from '../src/index.ts';
import { rawReads } from '../src/raw-read.ts';
import { rawWrites, type WriteOp } from '../src/raw-write.ts';
import { nextMessages } from '../../../test/shared/messages.ts';
import { assert, assertEquals } from '../../../test/shared/assert.ts';
import { connCallsDuringEcho, fallsBackAfterFailedSelfTest, openSockets, ourServer, within } from './helpers.ts';

/** The read op's self-test writes with conn.write(): both self-tests are over before counting. */
async function selfTestsPassed(): Promise<void> {
  assertEquals(await rawReads.works(), true, 'the read op passed its self-test');
  assertEquals(await rawWrites.works(), true, 'the write op passed its self-test');
}

const ON = { rawWrites: true } as const;

Deno.test('rawWrites is off by default: our server and client write with conn.write()', async () => {
  await selfTestsPassed();
  assert((await connCallsDuringEcho('write', {}, {})) > 0, 'createServer and connect');
  assert((await connCallsDuringEcho('write', {}, {}, true)) > 0, 'an upgrade handler and connect');
});

Deno.test('rawWrites: true: once the self-test has passed, neither our server nor our client calls conn.write()', async () => {
  await selfTestsPassed();
  assertEquals(await connCallsDuringEcho('write', ON, ON), 0, 'createServer and connect');
  assertEquals(await connCallsDuringEcho('write', ON, ON, true), 0, 'an upgrade handler and connect');
  // The two options are independent.
  assertEquals(
    await connCallsDuringEcho('write', { ...ON, rawReads: false }, { ...ON, rawReads: false }),
    0,
    'rawReads: false',
  );
});

Deno.test('rawWrites: false on one side puts that side on conn.write()', async () => {
  await selfTestsPassed();
  assert((await connCallsDuringEcho('write', { rawWrites: false }, ON)) > 0, 'server rawWrites: false');
  assert((await connCallsDuringEcho('write', { rawWrites: false }, ON, true)) > 0, 'upgrade handler rawWrites: false');
  assert((await connCallsDuringEcho('write', ON, { rawWrites: false })) > 0, 'client rawWrites: false');
  // ... and reads stay on the op.
  assertEquals(await connCallsDuringEcho('read', { rawWrites: false }, { rawWrites: false }), 0, 'reads on the op');
});

Deno.test('a self-test that sees wrong bytes leaves every connection on conn.write(), echoing as before', async () => {
  await selfTestsPassed();
  await fallsBackAfterFailedSelfTest(
    rawWrites,
    'write',
    (real) => (rid, data) => {
      const copy = data.slice();
      if (copy.length > 1) copy[1] ^= 0x40;
      return real(rid, copy);
    },
    ON,
  );
});

Deno.test('through the op and through conn.write(), a 4 MiB message echoes intact both ways', async () => {
  await selfTestsPassed();
  const big = Uint8Array.from({ length: 4 * 1024 * 1024 + 3 }, (_, i) => (i * 131 + (i >>> 10)) & 0xff);
  for (const rawWrites of [true, false]) {
    const { server, url } = await ourServer({ rawWrites, limits: { maxMessageSize: 8 * 1024 * 1024 } }, (ws) => {
      ws.on('message', (data) => ws.send(data));
    });
    try {
      const ws = await within(connect(url, { rawWrites, limits: { maxMessageSize: 8 * 1024 * 1024 } }));
      const got = within(nextMessages(ws, 2), 20_000, 'two echoes');
      ws.send(big);
      ws.send('after it');
      const [echoed, text] = await got;
      assert(echoed instanceof Uint8Array && echoed.length === big.length, `rawWrites ${rawWrites}: the length`);
      let same = true;
      for (let i = 0; i < big.length && same; i++) same = echoed[i] === big[i];
      assert(same, `rawWrites ${rawWrites}: every byte`);
      assertEquals(text, 'after it', `rawWrites ${rawWrites}: in order`);
      ws.close();
      await within(ws.closed);
    } finally {
      await server.close();
    }
  }
});

Deno.test('a server closed with connections writing through the op leaves no socket open', async () => {
  await selfTestsPassed();
  const before = openSockets();
  if (before === null) throw new Error('this test counts sockets in /proc/self/fd (Linux)');
  // Our clients keep sending while the server closes: writes are in flight on both sides.
  const { server, url } = await ourServer(ON, (ws) => {
    ws.on('message', (data) => ws.send(data));
    ws.on('error', () => {});
  });
  const clients = await Promise.all(Array.from({ length: 8 }, () => within(connect(url, ON))));
  for (const ws of clients) {
    ws.on('error', () => {});
    for (let i = 0; i < 16; i++) ws.send(new Uint8Array(64 * 1024));
  }
  await within(server.close(), 15_000, 'server.close');
  await Promise.all(clients.map((ws) => within(ws.closed, 15_000, 'client closed')));
  assertEquals(openSockets(), before, 'sockets after the close');
});
