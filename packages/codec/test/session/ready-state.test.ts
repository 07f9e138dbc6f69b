// The WHATWG WebSocket's readyState is read from the codec's state, not kept beside it: at every
// step of a connection's life (sampled on each microtask, as the in-memory transport moves bytes
// on microtasks) readyState is what the client codec's state says, until the close event makes
// it CLOSED. Open, closing from either side, a protocol failure, a refused handshake and an abort
// during the handshake, on the in-memory transport. One exception, the standard's: a handshake
// that fails (a refusal, a bad answer) fails the WebSocket connection without a closing
// handshake, so readyState stays CONNECTING until the close task makes it CLOSED, though the
// codec is closed; only close() sets CLOSING before the connection opened.
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../src/connection.ts';
import { clientConnection } from '../../src/handshake/client-connection.ts';
import * as session from '../../src/session/index.ts';
import type { ServerSessionOptions, WebSocketConnection } from '../../src/session/index.ts';
import type { ConnectionState } from '../../src/transitions.ts';
import { type MemoryTransport, transportPair } from './memory-transport.ts';

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** What readyState must be for the client codec's `state`, before the close task (CLOSED from its error or close event). */
const EXPECTED: Record<ConnectionState, number> = {
  handshake: CONNECTING,
  'awaiting-accept': CONNECTING,
  open: OPEN,
  closing: CLOSING,
  closed: CLOSING,
};

interface Rig {
  ws: InstanceType<ReturnType<typeof session.createWebSocketClass>>;
  codec: () => Connection;
  server: () => WebSocketConnection | null;
  serverTransport: () => MemoryTransport;
  /** [codec state, readyState] at every step so far, and whether the close task had begun (error or close fired). */
  samples: Array<[ConnectionState, number, boolean]>;
  events: string[];
  sample: () => void;
  /** Sample on every microtask until the close event (bounded). */
  runToClose: () => Promise<void>;
  /** Sample on every microtask until `done()` (bounded). */
  runUntil: (done: () => boolean) => Promise<void>;
}

function rig(serverOptions: ServerSessionOptions = {}): Rig {
  let codec: Connection | null = null;
  let server: WebSocketConnection | null = null;
  let serverTransport: MemoryTransport | null = null;
  const WebSocket = session.createWebSocketClass({
    connect: (url, options) => {
      const [s, c] = transportPair();
      serverTransport = s;
      s.handlers = new session.ServerSession(s, serverOptions, (ws) => {
        server = ws;
      });
      const client = session.connectSession(c, url, options, (u, o) => (codec = clientConnection(u, o)));
      c.handlers = session.transportHandlers(client);
      return client;
    },
  });
  const ws = new WebSocket('ws://example.test/');
  const samples: Rig['samples'] = [];
  const events: string[] = [];
  let closeFired = false;
  const sample = (): void => {
    if (codec === null) throw new Error('no codec yet');
    samples.push([codec.state, ws.readyState, closeFired]);
  };
  for (const type of ['open', 'message', 'error', 'close'] as const) {
    ws.addEventListener(type, () => {
      // The standard's close task sets CLOSED, then fires error (when failed) and close.
      if (type === 'close' || type === 'error') closeFired = true;
      events.push(type);
      sample(); // inside each event, too
    });
  }
  const runUntil = async (done: () => boolean): Promise<void> => {
    for (let i = 0; i < 5000 && !done(); i++) {
      sample();
      await Promise.resolve();
    }
    sample();
    expect(done()).toBe(true);
  };
  return {
    ws,
    codec: () => {
      if (codec === null) throw new Error('no codec yet');
      return codec;
    },
    server: () => server,
    serverTransport: () => {
      if (serverTransport === null) throw new Error('no transport yet');
      return serverTransport;
    },
    samples,
    events,
    sample,
    runToClose: () => runUntil(() => closeFired),
    runUntil,
  };
}

/**
 * Every sample agrees with the codec's state (`failedHandshake`: the connection never opened and
 * was failed, not closed by close(): CONNECTING until the close task; `closedWithoutClose`: what a
 * closed codec reads as otherwise, OPEN when no Close frame was exchanged); returns the distinct
 * (codec state, readyState) pairs seen, in order.
 */
function check(samples: Rig['samples'], failedHandshake = false, closedWithoutClose = CLOSING): string[] {
  const seen: string[] = [];
  for (const [state, readyState, closeFired] of samples) {
    const closed = failedHandshake ? CONNECTING : closedWithoutClose;
    const expected = closeFired ? CLOSED : state === 'closed' ? closed : EXPECTED[state];
    expect([state, readyState]).toEqual([state, expected]);
    const pair = `${state}:${readyState}`;
    if (seen[seen.length - 1] !== pair) seen.push(pair);
  }
  return seen;
}

describe('WHATWG readyState follows the codec state', () => {
  it('open, then closed by us: CONNECTING, OPEN, CLOSING at close(), CLOSED at the close event', async () => {
    const r = rig();
    r.sample();
    await r.runUntil(() => r.ws.readyState === OPEN && r.server() !== null);
    r.ws.close(1000, 'bye');
    r.sample();
    expect(r.codec().state).toBe('closing');
    await r.runToClose();
    expect(check(r.samples)).toEqual(['handshake:0', 'open:1', 'closing:2', 'closed:2', 'closed:3']);
    expect(r.events).toEqual(['open', 'close']);
  });

  it('closed by the peer: CLOSING as soon as its Close is read, before the close event', async () => {
    const r = rig();
    await r.runUntil(() => r.ws.readyState === OPEN && r.server() !== null);
    r.server()?.close(1001, 'going away');
    await r.runToClose();
    // The peer's Close moves the codec straight to closed (it answers at once): CLOSING until the event.
    expect(check(r.samples)).toEqual(['handshake:0', 'open:1', 'closed:2', 'closed:3']);
    expect(r.events).toEqual(['open', 'close']);
  });

  it('failed by a protocol error from the peer: CLOSING, then error and close', async () => {
    const r = rig();
    await r.runUntil(() => r.ws.readyState === OPEN && r.server() !== null);
    // A frame with a reserved opcode (0x3), written under the server's session: the client fails it.
    r.serverTransport().write([new Uint8Array([0x83, 0x00])]);
    await r.runToClose();
    expect(check(r.samples)).toEqual(['handshake:0', 'open:1', 'closed:2', 'closed:3']);
    expect(r.events).toEqual(['open', 'error', 'close']);
  });

  it('the peer goes away without a Close: OPEN until the close task (no closing handshake)', async () => {
    const r = rig();
    await r.runUntil(() => r.ws.readyState === OPEN && r.server() !== null);
    r.serverTransport().destroy();
    await r.runToClose();
    // The codec is closed by the EOF; neither side sent a Close frame, so the standard's readyState is still OPEN.
    const seen = check(r.samples, false, OPEN);
    expect(seen).toEqual(['handshake:0', 'open:1', 'closed:1', 'closed:3']);
    expect(r.codec().closeInfo).toMatchObject({ code: 1006, initiator: null, wasClean: false });
    expect(r.events).toEqual(['open', 'close']);
  });

  it('refused by the server: CONNECTING until the close task (no closing handshake), never OPEN or CLOSING', async () => {
    const r = rig({ verifyClient: () => false });
    await r.runToClose();
    // The codec is closed once the refusal (a 401) is read; the standard's readyState is still CONNECTING.
    expect(check(r.samples, true)).toEqual(['handshake:0', 'closed:0', 'closed:3']);
    expect(r.codec().closeInfo?.error).toBe('BAD_STATUS');
    expect(r.events).toEqual(['error', 'close']);
  });

  it('a failed handshake (the server breaks HTTP): CONNECTING until the close task', async () => {
    const r = rig();
    r.sample();
    // Before the server answers, an answer a client cannot take: a malformed head.
    r.serverTransport().write([new TextEncoder().encode('HTTP/1.1 101 Switching\r\nBroken header\r\n\r\n')]);
    await r.runToClose();
    expect(check(r.samples, true)).toEqual(['handshake:0', 'closed:0', 'closed:3']);
    expect(r.events).toEqual(['error', 'close']);
  });

  it('aborted during the handshake: CLOSING at once, CLOSED at the close event', async () => {
    const r = rig();
    r.sample();
    r.ws.close();
    r.sample();
    expect(r.codec().state).toBe('closed');
    await r.runToClose();
    expect(check(r.samples)).toEqual(['handshake:0', 'closed:2', 'closed:3']);
    expect(r.events).toEqual(['error', 'close']);
  });
});
