// The WHATWG WebSocket class over in-memory sessions: with the host's EventTarget/Event/Blob
// (Node's) and with the stand-ins a bare engine gets.
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as session from '../../src/session/index.ts';
import type { ServerSessionOptions, WebSocketConnection } from '../../src/session/index.ts';
import { settle, transportPair } from './memory-transport.ts';

type Mod = typeof session;
type AnyEvent = { type: string; data?: unknown; code?: number; reason?: string; wasClean?: boolean; error?: unknown };

/** A WebSocket class whose connect() reaches an in-memory echo server. */
function makeClass(
  mod: Mod,
  server: ServerSessionOptions = {},
  extra: Partial<Parameters<Mod['createWebSocketClass']>[0] & object> = {},
) {
  const servers: WebSocketConnection[] = [];
  const WebSocket = mod.createWebSocketClass({
    connect: (url, options) => {
      const [s, c] = transportPair();
      const serverSession = new mod.ServerSession(s, server, (ws) => {
        servers.push(ws);
        ws.on('message', (data) => ws.send(data));
      });
      s.handlers = serverSession;
      const client = mod.connectSession(c, url, options);
      c.handlers = mod.transportHandlers(client);
      return client;
    },
    ...extra,
  });
  return { WebSocket, servers };
}

function record(ws: EventTarget | { addEventListener: (t: string, l: (e: AnyEvent) => void) => void }) {
  const log: string[] = [];
  const messages: unknown[] = [];
  let resolveClose!: (e: AnyEvent) => void;
  const closed = new Promise<AnyEvent>((resolve) => (resolveClose = resolve));
  for (const type of ['open', 'message', 'error', 'close']) {
    (ws as { addEventListener: (t: string, l: (e: AnyEvent) => void) => void }).addEventListener(
      type,
      (e: AnyEvent) => {
        log.push(type);
        if (type === 'message') messages.push(e.data);
        if (type === 'close') resolveClose(e);
      },
    );
  }
  return { log, messages, closed };
}

async function exercise(mod: Mod, hasBlob: boolean): Promise<void> {
  const { WebSocket, servers } = makeClass(mod, { protocols: ['p'] });
  const ws = new WebSocket('ws://example.test/x', ['p', 'q']);
  const { log, messages, closed } = record(ws);
  let onopen = 0;
  ws.onopen = () => onopen++;
  ws.onopen = () => (onopen += 10); // replaces, does not add
  expect(typeof ws.onopen).toBe('function');
  ws.onmessage = null;
  expect(ws.onmessage).toBeNull();
  expect(ws.onerror).toBeNull();
  expect(ws.onclose).toBeNull();
  expect(ws.binaryType).toBe(hasBlob ? 'blob' : 'arraybuffer');
  ws.binaryType = 'arraybuffer';
  await settle(40);
  expect(onopen).toBe(10);
  expect([ws.readyState, ws.protocol, ws.extensions, ws.url]).toEqual([1, 'p', '', 'ws://example.test/x']);
  ws.send('t');
  ws.send(new Uint8Array([1, 2]).subarray(1));
  if (hasBlob) ws.send(new Blob(['blob!']));
  ws.send('after blob');
  await settle(60);
  await new Promise((r) => setTimeout(r, 5));
  const expected: unknown[] = ['t', [2]];
  if (hasBlob) expected.push([98, 108, 111, 98, 33]);
  expected.push('after blob');
  expect(messages.map((m) => (m instanceof ArrayBuffer ? [...new Uint8Array(m)] : m))).toEqual(expected);
  expect(ws.bufferedAmount).toBe(0);
  ws.close(3000, 'done');
  ws.close(); // a second call does nothing
  const before = ws.bufferedAmount; // our Close frame, not yet taken by the transport
  ws.send('dropped');
  expect(ws.bufferedAmount).toBe(before + 7);
  ws.send('é€😀'); // counted in UTF-8 bytes: 2 + 3 + 4
  ws.send(new Uint8Array(3));
  expect(ws.bufferedAmount).toBe(before + 7 + 9 + 3);
  expect(() => ws.send(42 as unknown as string)).toThrow(TypeError);
  const close = await closed;
  expect([close.code, close.reason, close.wasClean]).toEqual([3000, '', true]);
  expect(log.filter((e) => e !== 'message')).toEqual(['open', 'close']);
  expect(ws.readyState).toBe(3);
  expect((await servers[0]!.closed).reason).toBe('done');
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

describe('WHATWG WebSocket over the session', () => {
  it('works with the host event classes and Blob', async () => {
    await exercise(session, true);
  });

  it('works with the stand-ins on a host without EventTarget, Event, DOMException or Blob', async () => {
    for (const name of ['EventTarget', 'Event', 'MessageEvent', 'CloseEvent', 'DOMException', 'Blob'])
      vi.stubGlobal(name, undefined);
    vi.resetModules();
    const bare = (await import('../../src/session/index.ts')) as Mod;
    await exercise(bare, false);
    const { WebSocket } = makeClass(bare);
    expect(() => new WebSocket('nope')).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    const ws = new WebSocket('ws://h/');
    expect(() => ws.send('x')).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
    // Stand-in listeners: once, handleEvent objects, duplicates ignored, removal during dispatch.
    const calls: string[] = [];
    const handler = { handleEvent: (e: AnyEvent) => calls.push(`object ${e.type}`) };
    const once = (): void => void calls.push('once');
    const removed = (): void => void calls.push('removed');
    const remover = (): void => {
      calls.push('remover');
      ws.removeEventListener('open', removed);
    };
    ws.addEventListener('open', handler);
    ws.addEventListener('open', handler);
    ws.addEventListener('open', once, { once: true });
    ws.addEventListener('open', remover);
    ws.addEventListener('open', removed);
    ws.addEventListener('open', null);
    await settle(40);
    expect(calls).toEqual(['object open', 'once', 'remover']);
    ws.close();
    await settle(40);
  });

  it('validates close() arguments and throws SyntaxError for bad URLs and protocols', () => {
    const { WebSocket } = makeClass(session);
    expect(() => new WebSocket('ws://h/#f')).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    expect(() => new WebSocket('ws://h/', ['a', 'A'])).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    expect(() => new WebSocket('ws://h/', 'a b')).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    const ws = new WebSocket('ws://h/', { protocols: 'a' });
    expect(() => ws.close(1001)).toThrow(expect.objectContaining({ name: 'InvalidAccessError' }));
    expect(() => ws.close(5000)).toThrow(expect.objectContaining({ name: 'InvalidAccessError' }));
    expect(() => ws.close(1000, 'é'.repeat(62))).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    expect(() => ws.send(42 as unknown as string)).toThrow(); // CONNECTING first
    ws.close(1000, 'é'.repeat(61));
    expect(ws.readyState).toBe(2);
    expect(() => session.createWebSocketClass({} as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() =>
      session.createWebSocketClass({ connect: () => null as never, defaultBinaryType: 'nodebuffer' }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('fires error then close (1006) when the handshake fails, connect throws or rejects, or close() comes first', async () => {
    const refused = makeClass(session, { verifyClient: () => false }).WebSocket;
    const a = record(new refused('ws://h/'));
    expect((await a.closed).code).toBe(1006);
    expect(a.log).toEqual(['error', 'close']);

    const throwing = session.createWebSocketClass(() => {
      throw new Error('no route');
    });
    const bws = new throwing('ws://h/');
    const b = record(bws);
    const bclose = await b.closed;
    expect([b.log, bclose.code, bclose.wasClean, bws.readyState]).toEqual([['error', 'close'], 1006, false, 3]);

    const rejecting = session.createWebSocketClass(() => Promise.reject(new Error('dns')));
    const c = record(new rejecting('ws://h/'));
    expect((await c.closed).code).toBe(1006);
    expect(c.log).toEqual(['error', 'close']);

    const { WebSocket } = makeClass(session);
    const early = new WebSocket('ws://h/');
    const d = record(early);
    early.close();
    expect(early.readyState).toBe(2);
    await d.closed;
    expect(d.log).toEqual(['error', 'close']);

    // An async connect that lands after close(): the connection is dropped as it arrives.
    let land!: (c: WebSocketConnection) => void;
    const slow = session.createWebSocketClass(() => new Promise<WebSocketConnection>((resolve) => (land = resolve)));
    const e = new slow('ws://h/');
    const er = record(e);
    e.close();
    const [s, cl] = transportPair();
    s.handlers = new session.ServerSession(s, {}, () => {});
    const conn = session.connectSession(cl, 'ws://h/', {});
    cl.handlers = session.transportHandlers(conn);
    land(conn);
    await er.closed;
    expect(er.log).toEqual(['error', 'close']);
  });

  it('an async connect works, and adapters can add binary types', async () => {
    const servers: WebSocketConnection[] = [];
    const WebSocket = session.createWebSocketClass({
      connect: async (url, options) => {
        await settle();
        const [s, c] = transportPair();
        s.handlers = new session.ServerSession(s, {}, (ws) => {
          servers.push(ws);
          ws.send(new Uint8Array([7]));
          ws.close(4000, 'bye');
        });
        const client = session.connectSession(c, url, options);
        c.handlers = session.transportHandlers(client);
        return client;
      },
      binaryTypes: { hex: (d) => [...d].map((x) => x.toString(16)).join('') },
      defaultBinaryType: 'hex',
    });
    const ws = new WebSocket('ws://h/');
    const r = record(ws);
    const close = await r.closed;
    expect(r.messages).toEqual(['7']);
    expect([close.code, close.reason]).toEqual([4000, 'bye']);
  });

  it('a protocol violation by the server fires error before close', async () => {
    const { WebSocket } = makeClass(session, { limits: {} });
    // Client limit: messages over 4 bytes fail the connection (1009).
    const ws = new WebSocket('ws://h/', { limits: { maxMessageSize: 4 } });
    const r = record(ws);
    ws.onopen = () => ws.send('12345678');
    const close = await r.closed;
    expect(r.log).toEqual(['open', 'error', 'close']);
    expect(close.wasClean).toBe(false);
  });
});
