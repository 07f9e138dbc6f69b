// Which read path a real server and client take (raw-read.ts, option `rawReads`): with the
// default, once the self-test has passed, neither side calls conn.read() (every read goes
// through Deno's read op), server and client over TCP alike, and an upgrade handler's sockets
// too; `rawReads: false` on either side puts that side back on conn.read(); a self-test that
// saw wrong bytes (a fake op) leaves both sides on conn.read(), echoing as before; a non-boolean
// `rawReads` is a TypeError on createServer, createUpgradeHandler and connect.
import {
  connect,
  createConnection,
  createServer,
  createUpgradeHandler,
  type WebSocketConnection,
} from '../src/index.ts';
import { rawReadsWork, retestRawReads, type ReadOp } from '../src/raw-read.ts';
import { nextMessages } from '../../../test/shared/messages.ts';
import { assert, assertEquals } from '../../../test/shared/assert.ts';
import { HOST, within } from './helpers.ts';

const echo = (ws: WebSocketConnection): void => {
  ws.on('message', (data) => ws.send(data));
  ws.on('error', () => {});
};

/** The prototype that holds Deno's `Conn.prototype.read`, found on a real TCP conn. */
async function connReadOwner(): Promise<{ read: (this: Deno.Conn, buffer: Uint8Array) => Promise<number | null> }> {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const client = await Deno.connect({ hostname: HOST, port: (listener.addr as Deno.NetAddr).port });
  const server = await listener.accept();
  client.close();
  server.close();
  listener.close();
  let proto: object | null = Object.getPrototypeOf(client);
  while (proto !== null && !Object.hasOwn(proto, 'read')) proto = Object.getPrototypeOf(proto);
  assert(proto !== null, 'Deno.Conn has a read method');
  return proto as { read: (this: Deno.Conn, buffer: Uint8Array) => Promise<number | null> };
}

/**
 * Echo two messages between our server and our client with these options; returns how many
 * times conn.read() was called meanwhile (on any TCP conn: only theirs are open).
 */
async function connReadsDuringEcho(
  serverOptions: { rawReads?: boolean },
  clientOptions: { rawReads?: boolean },
  upgradeHandler = false,
): Promise<number> {
  const owner = await connReadOwner();
  const original = owner.read;
  let calls = 0;
  owner.read = function (buffer) {
    calls++;
    return original.call(this, buffer);
  };
  const listener = upgradeHandler ? Deno.listen({ hostname: HOST, port: 0 }) : null;
  const handler = upgradeHandler ? createUpgradeHandler(serverOptions, echo) : null;
  const server = upgradeHandler ? null : createServer(serverOptions, echo);
  try {
    const port =
      listener !== null
        ? (listener.addr as Deno.NetAddr).port
        : (await (server?.listen(0, HOST) ?? Promise.reject())).port;
    const accepted = listener?.accept().then((conn) => handler?.handleSocket(conn));
    const ws = await within(connect(`ws://${HOST}:${port}`, clientOptions));
    await accepted;
    const got = within(nextMessages(ws, 2), 10_000, 'two echoes');
    ws.send('through the op?');
    ws.send(Uint8Array.of(1, 2, 3));
    const [text, binary] = await got;
    assertEquals(text, 'through the op?');
    assertEquals(binary instanceof Uint8Array ? [...binary] : binary, [1, 2, 3]);
    ws.close();
    assertEquals((await within(ws.closed)).wasClean, true, 'a clean close');
  } finally {
    owner.read = original;
    await server?.close();
    await handler?.close();
    listener?.close();
  }
  return calls;
}

Deno.test('rawReads (default): once the self-test has passed, neither our server nor our client calls conn.read()', async () => {
  // Nothing runs the self-test here but the first listen (and connect), which wait for it.
  assertEquals(await connReadsDuringEcho({}, {}), 0, 'createServer and connect');
  assertEquals(await rawReadsWork(), true, 'the self-test passed on this Deno');
  assertEquals(await connReadsDuringEcho({}, {}, true), 0, 'an upgrade handler and connect');
  assertEquals(await connReadsDuringEcho({ rawReads: true }, { rawReads: true }), 0, 'rawReads: true');
});

Deno.test('rawReads: false on one side puts that side on conn.read()', async () => {
  assertEquals(await rawReadsWork(), true);
  assert((await connReadsDuringEcho({ rawReads: false }, {})) > 0, 'server rawReads: false');
  assert((await connReadsDuringEcho({ rawReads: false }, {}, true)) > 0, 'upgrade handler rawReads: false');
  assert((await connReadsDuringEcho({}, { rawReads: false })) > 0, 'client rawReads: false');
});

Deno.test('a self-test that sees wrong bytes leaves every connection on conn.read(), echoing as before', async () => {
  const internal = (Deno as unknown as { internal: symbol }).internal;
  const core = (Deno as unknown as Record<symbol, { core: { read: ReadOp } }>)[internal].core;
  const real: ReadOp = core.read.bind(core);
  const corrupting: ReadOp = async (rid, buffer) => {
    const n = await real(rid, buffer);
    if (n > 1) buffer[1] ^= 0x40;
    return n;
  };
  try {
    assertEquals(await retestRawReads(corrupting), false, 'the self-test fails');
    assertEquals(await rawReadsWork(), false, 'and that is the verdict for the process');
    assert((await connReadsDuringEcho({}, {})) > 0, 'createServer and connect fall back');
    assert((await connReadsDuringEcho({}, {}, true)) > 0, 'an upgrade handler falls back');
  } finally {
    assertEquals(await retestRawReads(real), true, 'the real op passes again');
  }
  assertEquals(await connReadsDuringEcho({}, {}), 0, 'and is used again');
});

Deno.test('rawReads must be a boolean (TypeError) on createServer, createUpgradeHandler and connect', () => {
  const wrong = { rawReads: 'no' } as unknown as { rawReads: boolean };
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
    assert(error instanceof TypeError, `${what} throws a TypeError`);
    assertEquals((error as TypeError).message, 'rawReads must be a boolean, got string', what);
  }
});
