// The WHATWG WebSocket class on Node, against our server and ws's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocketServer as WsServer } from 'ws';
import { WebSocket, type WebSocketServer } from '../src/index.ts';
import { closeWsServer, ourServer, within, wsServer } from './helpers.ts';
import { readyStates } from '../../../test/shared/ready-states.ts';

type AnyEvent = Event & { data?: unknown; code?: number; reason?: string; wasClean?: boolean };

function events(ws: InstanceType<typeof WebSocket>): { log: string[]; done: Promise<AnyEvent>; messages: unknown[] } {
  const log: string[] = [];
  const messages: unknown[] = [];
  const done = new Promise<AnyEvent>((resolve) => {
    ws.addEventListener('open', () => log.push('open'));
    ws.addEventListener('message', (e) => {
      log.push('message');
      messages.push(e.data);
    });
    ws.addEventListener('error', () => log.push('error'));
    ws.addEventListener('close', (e) => {
      log.push('close');
      resolve(e as AnyEvent);
    });
  });
  return { log, done, messages };
}

describe('WebSocket (WHATWG) on Node', () => {
  let server: WebSocketServer;
  let url: string;
  let ws: WsServer;
  let wsUrl: string;

  beforeAll(async () => {
    ({ server, url } = await ourServer(
      { protocols: ['chat'], verifyClient: (r) => r.path !== '/deny' },
      (conn, request) => {
        if (request.path === '/bye') conn.close(4005, 'see you');
        conn.on('message', (data) => conn.send(data));
      },
    ));
    ({ server: ws, url: wsUrl } = await wsServer());
    ws.on('connection', (c) => c.on('message', (data, isBinary) => c.send(data, { binary: isBinary })));
  });
  afterAll(async () => {
    await within(server.close(), 15_000);
    await closeWsServer(ws);
  });

  it('has the standard shape', () => {
    expect([WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED]).toEqual([0, 1, 2, 3]);
    expect(WebSocket.prototype.OPEN).toBe(1);
    expect(() => new WebSocket('ftp://x')).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    expect(() => new WebSocket('ws://x/#frag')).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    expect(() => new WebSocket(url, ['a', 'a'])).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    expect(() => new WebSocket(url, 'bad protocol')).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
  });

  it('opens, echoes with every binaryType, and closes cleanly', async () => {
    const client = new WebSocket(`${url.replace('ws:', 'http:')}/echo`, 'chat');
    expect(client.url).toBe(`${url}/echo`);
    expect(client.readyState).toBe(WebSocket.CONNECTING);
    expect(client.binaryType).toBe('blob');
    expect(() => client.send('too early')).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
    const { log, done, messages } = events(client);
    await within(new Promise((resolve) => (client.onopen = resolve)));
    expect(client.readyState).toBe(WebSocket.OPEN);
    expect(client.protocol).toBe('chat');
    expect(client.extensions).toBe('');

    let taken = 0;
    const next = async (): Promise<unknown> => {
      while (messages.length <= taken) await new Promise((resolve) => setTimeout(resolve, 2));
      return messages[taken++];
    };
    client.send('text');
    expect(await within(next())).toBe('text');
    client.send(new Uint8Array([1, 2, 3]));
    const blob = (await within(next())) as Blob;
    expect(blob).toBeInstanceOf(Blob);
    expect([...new Uint8Array(await blob.arrayBuffer())]).toEqual([1, 2, 3]);
    client.binaryType = 'arraybuffer';
    client.send(new Blob([new Uint8Array([4, 5])]));
    client.send(new Uint16Array([0x0101]));
    expect([...new Uint8Array((await within(next())) as ArrayBuffer)]).toEqual([4, 5]);
    expect([...new Uint8Array((await within(next())) as ArrayBuffer)]).toEqual([1, 1]);
    client.binaryType = 'nodebuffer';
    client.binaryType = 'nonsense'; // ignored
    expect(client.binaryType).toBe('nodebuffer');
    client.send(new ArrayBuffer(2));
    expect(Buffer.isBuffer(await within(next()))).toBe(true);

    expect(() => client.close(1001)).toThrow(expect.objectContaining({ name: 'InvalidAccessError' }));
    expect(() => client.close(1000, 'x'.repeat(124))).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    client.close(1000, 'bye');
    expect(client.readyState).toBe(WebSocket.CLOSING);
    client.send('dropped'); // no throw once closing; counted
    expect(client.bufferedAmount).toBeGreaterThanOrEqual(7);
    const close = await within(done);
    expect([close.code, close.reason, close.wasClean]).toEqual([1000, '', true]);
    expect(client.readyState).toBe(WebSocket.CLOSED);
    expect(log.filter((e) => e !== 'message')).toEqual(['open', 'close']);
    expect(messages.length).toBe(5);
  });

  it('reports the server closing with a code and reason', async () => {
    const client = new WebSocket(`${url}/bye`);
    const { log, done } = events(client);
    const close = await within(done);
    expect([close.code, close.reason, close.wasClean]).toEqual([4005, 'see you', true]);
    expect(log).toEqual(['open', 'close']);
  });

  it('fires error then close (1006) for a refused handshake, CONNECTING until then (never CLOSING)', async () => {
    const client = new WebSocket(`${url}/deny`);
    let handler = 0;
    client.onerror = () => handler++;
    const { log, done } = events(client);
    const states = readyStates(client, () => new Promise((resolve) => setImmediate(resolve)));
    const close = await within(done);
    // The standard: a failed handshake has no closing handshake; readyState goes from CONNECTING to CLOSED.
    expect(await states).toEqual([WebSocket.CONNECTING, WebSocket.CLOSED]);
    expect(log).toEqual(['error', 'close']);
    expect(handler).toBe(1);
    expect([close.code, close.wasClean]).toEqual([1006, false]);
  });

  it('fires error then close when closed while connecting', async () => {
    const client = new WebSocket(`${url}/echo`);
    const { log, done } = events(client);
    client.close();
    expect(client.readyState).toBe(WebSocket.CLOSING);
    const close = await within(done);
    expect(log).toEqual(['error', 'close']);
    expect(close.code).toBe(1006);
  });

  it('fails when it asked for subprotocols and the server chose none (WHATWG)', async () => {
    const client = new WebSocket(`${url}/echo`, ['v9']); // our server speaks only 'chat'
    const { log, done } = events(client);
    const close = await within(done);
    expect(log).toEqual(['error', 'close']);
    expect([close.code, close.wasClean, client.protocol]).toEqual([1006, false, '']);
  });

  it('talks to the ws server', async () => {
    const client = new WebSocket(wsUrl, { headers: { 'x-a': 'b' } });
    client.binaryType = 'arraybuffer';
    const { done, messages } = events(client);
    client.onopen = () => {
      client.send('a');
      client.send(new Uint8Array([9]));
    };
    client.onmessage = () => {
      if (messages.length === 2) client.close(3001);
    };
    const close = await within(done);
    expect(messages[0]).toBe('a');
    expect([...new Uint8Array(messages[1] as ArrayBuffer)]).toEqual([9]);
    expect([close.code, close.wasClean]).toEqual([3001, true]);
  });
});
