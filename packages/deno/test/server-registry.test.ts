// The registry of live connections on Deno, for `createServer` and for an upgrade handler over
// sockets of a `Deno.listen` of the test's own (`handleSocket`): the scenarios in
// test/shared/server-registry.ts.
import {
  gracefulShutdown,
  headEndingInAFrame,
  standaloneFactory,
  trackedAndCloseAll,
  type SilentPeer,
  type TrackingServerFactory,
} from '../../../test/shared/server-registry.ts';
import { assert, assertEquals } from '../../../test/shared/assert.ts';
import { connect, createServer, createUpgradeHandler, UpgradeHandler } from '../src/index.ts';
import { HOST, readHead, UPGRADE_REQUEST, within, writeAll } from './helpers.ts';

const standalone = standaloneFactory(createServer);

/** An upgrade handler behind the test's own listener, which reads the first bytes itself (as a router would). */
const ownListener: TrackingServerFactory = (options, onConnection) => {
  const wss = createUpgradeHandler(options, onConnection);
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const accepting = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return; // closed
      }
      const buffer = new Uint8Array(4096);
      conn.read(buffer).then(
        (n) => {
          if (n === null) return conn.close();
          wss.handleSocket(conn, buffer.subarray(0, n));
          buffer.fill(0); // the router's buffer is its own again (the connection copied what it needs)
        },
        () => {},
      );
    }
  })();
  const { port } = listener.addr as Deno.NetAddr;
  const stop = async (): Promise<void> => {
    listener.close();
    await accepting;
  };
  return Promise.resolve({ server: wss, url: `ws://${HOST}:${port}`, port, stop });
};

const silentPeer: SilentPeer = async (port) => {
  const conn = await Deno.connect({ hostname: HOST, port });
  await writeAll(conn, new TextEncoder().encode(UPGRADE_REQUEST));
  await readHead(conn); // the 101, then never read again (nor answer a Close)
  return () => {
    try {
      conn.close();
    } catch {
      // already closed
    }
  };
};

for (const [name, factory] of [
  ['createServer', standalone],
  ['createUpgradeHandler.handleSocket', ownListener],
] as const) {
  Deno.test(`${name}: counts open connections; closeAll closes each with its code and reason and the server goes on`, () =>
    trackedAndCloseAll(factory, connect));
  Deno.test(`${name}: shutdown: a client that answers closes cleanly, a silent one is terminated after the shutdown timeout`, () =>
    gracefulShutdown(factory, connect, silentPeer));
}

Deno.test('handleSocket: a head that ends inside the first frame is the connection’s own copy; the frame comes back whole', () =>
  headEndingInAFrame(ownListener));

Deno.test('UpgradeHandler is the base of WebSocketServer; handleConnection is handleSocket; bad arguments throw', async () => {
  const server = createServer();
  assert(server instanceof UpgradeHandler);
  assertEquals(typeof server.handleConnection, 'function');
  let threw = false;
  try {
    server.closeAll(1005);
  } catch {
    threw = true;
  }
  assert(threw, 'closeAll(1005) throws');
  let rejected: unknown = null;
  await server.shutdown({ timeout: -1 }).catch((error) => (rejected = error));
  assert(rejected instanceof RangeError, 'a negative timeout is a RangeError');
  await within(server.close(), 5000, 'close');
});
