// The registry of live connections and the server core every adapter builds on (SessionServer),
// in memory with fake timers: tracking from the handshake to the end, the open connections as a
// Set, close-all, terminate-all, and a graceful shutdown bounded by its timeout.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ConnectionRegistry,
  SessionServer,
  connectSession,
  transportHandlers,
  type ServerSessionOptions,
  type WebSocketConnection,
} from '../../src/session/index.ts';
import { WebSocketUsageError } from '../../src/index.ts';
import { settle, transportPair, type MemoryTransport } from './memory-transport.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A server over in-memory sockets: `accept()` makes a client joined to a served socket. */
class MemoryServer extends SessionServer {
  stops = 0;
  constructor(options: ServerSessionOptions = {}, onConnection?: (ws: WebSocketConnection) => void) {
    super(options, onConnection);
  }

  accept(): {
    client: WebSocketConnection;
    server: WebSocketConnection;
    serverTransport: MemoryTransport;
    clientTransport: MemoryTransport;
  } {
    const [serverTransport, clientTransport] = transportPair();
    const server = this.serve(serverTransport, { remoteAddress: '192.0.2.1' });
    const client = connectSession(clientTransport, 'ws://example.test/', {});
    clientTransport.handlers = transportHandlers(client);
    return { client, server, serverTransport, clientTransport };
  }

  protected override stopAccepting(): void {
    this.stops++;
  }
}

describe('ConnectionRegistry through SessionServer', () => {
  it('tracks a connection from its handshake to its end; connections holds the open ones, in order', async () => {
    const opened: WebSocketConnection[] = [];
    const server = new MemoryServer({}, (ws) => opened.push(ws));
    const a = server.accept();
    expect(server.registry.size).toBe(1);
    expect(server.connections.size).toBe(0);
    expect(server.connections.has(a.server)).toBe(false);
    await a.client.opened;
    const b = server.accept();
    await b.client.opened;
    expect(opened).toEqual([a.server, b.server]);
    expect(server.connections.size).toBe(2);
    expect([...server.connections]).toEqual(opened);
    expect([...server.connections.keys()]).toEqual(opened);
    expect([...server.connections.entries()]).toEqual(opened.map((ws) => [ws, ws]));
    const seen: WebSocketConnection[] = [];
    server.connections.forEach((ws, same, set) => {
      expect(same).toBe(ws);
      expect(set).toBe(server.connections);
      seen.push(ws);
    });
    expect(seen).toEqual(opened);
    expect(server.connections.has(a.client)).toBe(false);
    expect(server.connections.has({} as WebSocketConnection)).toBe(false);

    // Leaves before its `close` event: a close listener sees the registry without it.
    let sizeInCloseListener = -1;
    a.server.on('close', () => (sizeInCloseListener = server.connections.size));
    a.client.close(1000);
    await vi.advanceTimersByTimeAsync(10);
    expect(a.server.readyState).toBe('closed');
    expect(sizeInCloseListener).toBe(1);
    expect([...server.connections]).toEqual([b.server]);
    expect(server.registry.size).toBe(1);

    // A failed handshake leaves too.
    const c = server.accept();
    c.clientTransport.destroy();
    await vi.advanceTimersByTimeAsync(10);
    expect(server.registry.size).toBe(1);
    expect(server.connections.size).toBe(1);
  });

  it('a loop that awaits sees every connection open when it began', async () => {
    const server = new MemoryServer();
    const pairs = [server.accept(), server.accept(), server.accept()];
    await Promise.all(pairs.map((p) => p.client.opened));
    const visited: WebSocketConnection[] = [];
    for (const ws of server.connections) {
      visited.push(ws);
      if (visited.length === 1) {
        pairs[1]!.server.terminate();
        pairs[0]!.server.terminate();
        await vi.advanceTimersByTimeAsync(10);
      }
    }
    expect(visited).toEqual(pairs.map((p) => p.server));
    expect([...server.connections]).toEqual([pairs[2]!.server]);
  });

  it('closeAll closes the open ones with the code and reason and aborts handshakes; the server goes on', async () => {
    // verifyClient never answers: the third connection stays in its handshake.
    let stall = false;
    const server = new MemoryServer({ verifyClient: () => (stall ? new Promise<boolean>(() => {}) : true) });
    const a = server.accept();
    const b = server.accept();
    await Promise.all([a.client.opened, b.client.opened]);
    stall = true;
    const c = server.accept();
    await vi.advanceTimersByTimeAsync(10);
    expect(server.registry.size).toBe(3);
    expect(server.connections.size).toBe(2);
    server.closeAll(4000, 'bye');
    const [ia, ib, ic] = await Promise.all([a.client.closed, b.client.closed, c.server.closed]);
    expect([ia.code, ia.reason, ia.wasClean]).toEqual([4000, 'bye', true]);
    expect([ib.code, ib.reason]).toEqual([4000, 'bye']);
    expect(ic.code).toBe(1006);
    expect(server.registry.size).toBe(0);
    expect(server.closing).toBe(false);
    const late = server.accept();
    stall = false;
    await late.client.opened;
    expect(server.connections.size).toBe(1);
  });

  it('shutdown: stops accepting, closes with 1001, terminates a silent peer once the timeout has passed', async () => {
    const server = new MemoryServer({ timeouts: { closeTimeout: 60_000 } });
    const polite = server.accept();
    const silent = server.accept();
    await Promise.all([polite.client.opened, silent.client.opened]);
    silent.clientTransport.reading = false; // never reads the Close, never answers it
    let done = false;
    const shutdown = server.shutdown({ timeout: 1000 }).then(() => (done = true));
    expect(server.closing).toBe(true);
    expect(server.stops).toBe(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    expect(polite.server.closeInfo).toMatchObject({ code: 1001, wasClean: true });
    expect((await polite.client.closed).reason).toBe('server shutting down');
    expect(silent.server.readyState).toBe('closing');
    await vi.advanceTimersByTimeAsync(2);
    await shutdown;
    expect(silent.server.closeInfo).toMatchObject({ code: 1006, wasClean: false });
    expect(server.registry.size).toBe(0);

    // Closing: a socket handed over now is dropped at once.
    const after = server.accept();
    await vi.advanceTimersByTimeAsync(10);
    expect(after.serverTransport.destroyed).toBe(true);
    await expect(after.client.opened).rejects.toThrow();
    expect(server.registry.size).toBe(0);
    // Again: nothing to do, the listener is not stopped twice.
    await server.shutdown({ timeout: 0 });
    await server.close();
    expect(server.stops).toBe(1);
  });

  it('shutdown resolves as soon as every peer answered, without waiting for the timeout', async () => {
    const server = new MemoryServer();
    const a = server.accept();
    await a.client.opened;
    let done = false;
    const shutdown = server.shutdown({ timeout: 60_000 }).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(10);
    expect(done).toBe(true);
    await shutdown;
    expect(vi.getTimerCount()).toBe(0); // the shutdown timer was cleared
  });

  it('shutdown with timeout 0 terminates at once; close() waits for the close handshakes', async () => {
    const server = new MemoryServer();
    const a = server.accept();
    await a.client.opened;
    await server.shutdown({ timeout: 0 });
    expect(a.server.closeInfo?.wasClean).toBe(false);

    const other = new MemoryServer();
    const b = other.accept();
    await b.client.opened;
    const closing = other.close(1012, 'restart');
    await vi.advanceTimersByTimeAsync(10);
    await closing;
    expect(await b.client.closed).toMatchObject({ code: 1012, reason: 'restart', wasClean: true });
  });

  it('misuse throws a typed error before anything is closed', async () => {
    const server = new MemoryServer();
    const a = server.accept();
    await a.client.opened;
    expect(() => server.closeAll(1006)).toThrow(WebSocketUsageError);
    expect(() => server.closeAll(1000, 'x'.repeat(200))).toThrow(WebSocketUsageError);
    await expect(server.shutdown({ timeout: Number.NaN })).rejects.toThrow(RangeError);
    await expect(server.shutdown(null as never)).rejects.toThrow(TypeError);
    expect(server.closing).toBe(false);
    expect(a.server.readyState).toBe('open');
    expect(() => server.registry.add(a.server)).toThrow(WebSocketUsageError);
    expect(() => new ConnectionRegistry().add({} as WebSocketConnection)).toThrow(TypeError);
    expect(() => new MemoryServer({}, 'no' as never)).toThrow(TypeError);
    a.server.terminate();
    await settle();
  });

  it('a registry on its own: add() of an ended connection tracks nothing; whenEmpty', async () => {
    const registry = new ConnectionRegistry();
    await registry.whenEmpty();
    const server = new MemoryServer();
    const a = server.accept();
    await a.client.opened;
    a.server.terminate();
    await vi.advanceTimersByTimeAsync(10);
    expect(a.server.readyState).toBe('closed');
    registry.add(a.server);
    expect(registry.size).toBe(0);
    const [t] = transportPair();
    const lone = connectSession(t, 'ws://example.test/', {});
    t.handlers = transportHandlers(lone);
    registry.add(lone);
    expect(registry.size).toBe(1);
    expect(registry.all()).toEqual([lone]);
    const empty = registry.whenEmpty();
    registry.terminateAll();
    await vi.advanceTimersByTimeAsync(10);
    await empty;
    expect(registry.size).toBe(0);
  });
});
