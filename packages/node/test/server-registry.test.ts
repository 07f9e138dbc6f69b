// The registry of live connections on Node, for `createServer` and for an upgrade handler on a
// node:http server and on a raw net.Server: the scenarios in test/shared/server-registry.ts.
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  gracefulShutdown,
  headEndingInAFrame,
  standaloneFactory,
  trackedAndCloseAll,
  type SilentPeer,
  type TrackingServerFactory,
} from '../../../test/shared/server-registry.ts';
import { UPGRADE_REQUEST } from '../../../test/shared/backpressure.ts';
import {
  connect,
  createServer,
  createUpgradeHandler,
  handleUpgrade,
  UpgradeHandler,
  type WebSocketConnection,
} from '../src/index.ts';
import { HOST, until, within } from './helpers.ts';

const standalone = standaloneFactory(createServer);

/** The README's pattern: an upgrade handler on a node:http server that also serves plain HTTP. */
const onHttpServer: TrackingServerFactory = async (options, onConnection) => {
  const wss = createUpgradeHandler(options, onConnection);
  const httpServer = http.createServer((_req, res) => res.end('plain'));
  httpServer.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => httpServer.listen(0, HOST, resolve));
  const { port } = httpServer.address() as net.AddressInfo;
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      httpServer.closeAllConnections();
      httpServer.close(() => resolve());
    });
  return { server: wss, url: `ws://${HOST}:${port}`, port, stop };
};

/** `handleSocket` on sockets a plain net.Server accepted (after reading the first bytes itself). */
const onNetServer: TrackingServerFactory = async (options, onConnection) => {
  const wss = createUpgradeHandler(options, onConnection);
  const tcp = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.once('data', (first: Buffer) => {
      socket.pause();
      wss.handleSocket(socket, first);
      first.fill(0); // the router's buffer is its own again (the connection copied what it needs)
      socket.resume();
    });
  });
  await new Promise<void>((resolve) => tcp.listen(0, HOST, resolve));
  const { port } = tcp.address() as net.AddressInfo;
  const sockets = new Set<net.Socket>();
  tcp.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      tcp.close(() => resolve());
    });
  return { server: wss, url: `ws://${HOST}:${port}`, port, stop };
};

const silentPeer: SilentPeer = async (port) => {
  const socket = net.connect(port, HOST);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.on('error', () => {});
  socket.write(UPGRADE_REQUEST);
  await new Promise((resolve) => socket.once('data', resolve)); // the 101
  socket.pause(); // then never read (nor answer a Close)
  return () => socket.destroy();
};

describe.each([
  ['createServer', standalone],
  ['createUpgradeHandler on node:http', onHttpServer],
  ['createUpgradeHandler.handleSocket on net.Server', onNetServer],
] as const)('%s: the registry of live connections', (_name, factory) => {
  it('counts open connections; closeAll closes each with its code and reason and the server goes on', () =>
    trackedAndCloseAll(factory, connect));

  it('shutdown: a client that answers closes cleanly, a silent one is terminated after the shutdown timeout', () =>
    gracefulShutdown(factory, connect, silentPeer));
});

it('handleSocket: a head that ends inside the first frame is the connection’s own copy; the frame comes back whole', () =>
  headEndingInAFrame(onNetServer));

describe('UpgradeHandler', () => {
  it('tracks sockets still in their handshake: close() drops them', async () => {
    // verifyClient never answers: the connection stays in its handshake.
    const wss = createUpgradeHandler({ verifyClient: () => new Promise<boolean>(() => {}) }, () => {});
    const httpServer = http.createServer();
    httpServer.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head));
    await new Promise<void>((resolve) => httpServer.listen(0, HOST, resolve));
    const { port } = httpServer.address() as net.AddressInfo;
    try {
      const stuck = net.connect(port, HOST);
      stuck.on('error', () => {});
      await new Promise((resolve) => stuck.once('connect', resolve));
      stuck.write(UPGRADE_REQUEST);
      await until(() => wss.registry.size === 1, 'tracked during its handshake', 10_000);
      expect(wss.connections.size).toBe(0);
      const closed = new Promise((resolve) => stuck.once('close', resolve));
      await within(wss.close(), 10_000, 'close');
      await within(closed, 10_000, 'the socket dropped');
      expect(wss.registry.size).toBe(0);
    } finally {
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    }
  });

  it('the standalone handleUpgrade(req, socket, head, handler) still works, untracked', async () => {
    const opened: WebSocketConnection[] = [];
    const httpServer = http.createServer();
    httpServer.on('upgrade', (req, socket, head) => handleUpgrade(req, socket, head, (ws) => opened.push(ws)));
    await new Promise<void>((resolve) => httpServer.listen(0, HOST, resolve));
    const { port } = httpServer.address() as net.AddressInfo;
    try {
      const client = await within(connect(`ws://${HOST}:${port}`), 10_000, 'connect');
      await until(() => opened.length === 1, 'open');
      client.close();
      expect((await within(opened[0]!.closed, 10_000, 'closed')).wasClean).toBe(true);
    } finally {
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    }
  });

  it('is the base of WebSocketServer; bad arguments throw before anything is closed', async () => {
    const server = createServer();
    expect(server).toBeInstanceOf(UpgradeHandler);
    expect(() => server.closeAll(1005)).toThrow(/close code/);
    await expect(server.shutdown({ timeout: -1 })).rejects.toThrow(RangeError);
    expect(server.closing).toBe(false);
    expect(() => createUpgradeHandler({}, 42 as never)).toThrow(TypeError);
    await server.close();
  });
});
