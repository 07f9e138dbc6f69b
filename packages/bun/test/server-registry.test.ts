// The registry of live connections on Bun, for `createServer` and for an upgrade handler over
// sockets of a `Bun.listen` of the test's own (`handleSocket`): the scenarios in
// test/shared/server-registry.ts.
import { describe, expect, it } from 'bun:test';
import {
  gracefulShutdown,
  headEndingInAFrame,
  standaloneFactory,
  trackedAndCloseAll,
  type SilentPeer,
  type TrackingServerFactory,
} from '../../../test/shared/server-registry.ts';
import { UPGRADE_REQUEST } from '../../../test/shared/backpressure.ts';
import { BunTransport, socketHandlers } from '../src/transport.ts';
import { connect, createServer, createUpgradeHandler, UpgradeHandler } from '../src/index.ts';
import { HOST } from './helpers.ts';

const standalone = standaloneFactory(createServer);

/** An upgrade handler behind the test's own Bun.listen, which reads the first bytes itself (as a router would). */
const ownListener: TrackingServerFactory = (options, onConnection) => {
  const wss = createUpgradeHandler(options, onConnection);
  const listener = Bun.listen<BunTransport>({
    hostname: HOST,
    port: 0,
    allowHalfOpen: true,
    socket: {
      ...socketHandlers,
      open(socket) {
        const transport = new BunTransport();
        socket.data = transport;
        transport.attach({
          onData: (chunk) => {
            wss.handleSocket(socket, chunk); // the first read: hand the socket over with it
            chunk.fill(0); // the router's buffer is its own again (the connection copied what it needs)
          },
          onDrain() {},
          onEnd: () => transport.destroy(),
          onClose() {},
        });
        transport.opened(socket);
      },
    },
  });
  const stop = (): Promise<void> => {
    listener.stop(true);
    return Promise.resolve();
  };
  return Promise.resolve({ server: wss, url: `ws://${HOST}:${listener.port}`, port: listener.port, stop });
};

const silentPeer: SilentPeer = async (port) => {
  let first = true;
  let got101!: () => void;
  const answered = new Promise<void>((resolve) => (got101 = resolve));
  const socket = await Bun.connect({
    hostname: HOST,
    port,
    socket: {
      data(s) {
        if (first) s.pause(); // read the 101, then never again (nor answer a Close)
        first = false;
        got101();
      },
      error() {},
    },
  });
  socket.write(UPGRADE_REQUEST);
  await answered;
  return () => socket.terminate();
};

for (const [name, factory] of [
  ['createServer', standalone],
  ['createUpgradeHandler.handleSocket', ownListener],
] as const) {
  describe(`${name}: the registry of live connections`, () => {
    it(
      'counts open connections; closeAll closes each with its code and reason and the server goes on',
      () => trackedAndCloseAll(factory, connect),
      30_000,
    );
    it(
      'shutdown: a client that answers closes cleanly, a silent one is terminated after the shutdown timeout',
      () => gracefulShutdown(factory, connect, silentPeer),
      30_000,
    );
  });
}

it(
  'handleSocket: a head that ends inside the first frame is the connection’s own copy; the frame comes back whole',
  () => headEndingInAFrame(ownListener),
  30_000,
);

describe('UpgradeHandler', () => {
  it('is the base of WebSocketServer; bad arguments throw before anything is closed', async () => {
    const server = createServer();
    expect(server).toBeInstanceOf(UpgradeHandler);
    expect(() => server.closeAll(1005)).toThrow(/close code/);
    await expect(server.shutdown({ timeout: -1 })).rejects.toThrow(RangeError);
    await server.close();
  });
});
