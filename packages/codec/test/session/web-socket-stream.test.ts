// WebSocketStream over an in-memory pair: the edges the socket tests do not reach (cancel and
// abort with a close code, close() while connecting, an unclean end, a write after close).
import { describe, expect, it } from 'vitest';
import {
  WebSocketError,
  WebSocketStreamBase,
  createWebSocketStreamClass,
  type WebSocketConnection,
} from '../../src/session/index.ts';
import { pair, settle } from './memory-transport.ts';

type Streams = { readable: ReadableStream<string | Uint8Array>; writable: WritableStream<string | Uint8Array> };

describe('WebSocketStream (session layer)', () => {
  it('cancel({ closeCode, reason }) closes with them; the peer sees them', async () => {
    const p = pair();
    const stream = new WebSocketStreamBase<ReadableStream, WritableStream>(p.client, 'ws://example.test/chat');
    const { readable } = (await stream.opened) as Streams;
    const server = await p.server;
    await readable.cancel({ closeCode: 4001, reason: 'enough' });
    const info = await server.closed;
    expect([info.code, info.reason]).toEqual([4001, 'enough']);
    expect(await stream.closed).toEqual({ closeCode: 4001, reason: '' });
  });

  it('abort(reason) without a code closes with 1000; a write after close rejects', async () => {
    const p = pair();
    const stream = new WebSocketStreamBase(p.client, 'ws://example.test/chat');
    const { writable } = (await stream.opened) as Streams;
    const server = await p.server;
    const writer = writable.getWriter();
    await writer.abort(new Error('no code'));
    expect((await server.closed).code).toBe(1000);

    const q = pair();
    const late = new WebSocketStreamBase(q.client, '');
    const streams = (await late.opened) as Streams;
    q.client.close(1000);
    await q.client.closed;
    await expect(streams.writable.getWriter().write('x')).rejects.toThrow(/closed/);
  });

  it('close() while connecting aborts; an unclean end errors the readable and rejects closed', async () => {
    const p = pair();
    const stream = new WebSocketStreamBase(p.client, 'ws://example.test/chat');
    stream.close({ closeCode: 1000 });
    await expect(stream.opened).rejects.toThrow();
    await expect(stream.closed).rejects.toBeInstanceOf(WebSocketError);

    const q = pair();
    const s2 = new WebSocketStreamBase(q.client, '');
    const { readable } = (await s2.opened) as Streams;
    const reader = readable.getReader();
    const read = reader.read();
    (await q.server).terminate();
    await expect(read).rejects.toBeInstanceOf(WebSocketError);
    await expect(s2.closed).rejects.toMatchObject({ closeCode: 1006 });
  });

  it('a class bound to a connect function: protocols as a string, close with a reason and no code', async () => {
    let made: WebSocketConnection | undefined;
    const p = pair();
    const Stream = createWebSocketStreamClass((url, options) => {
      expect(url).toBe('ws://example.test/x');
      expect(options.protocols).toEqual(['chat']);
      made = p.client;
      return p.client;
    });
    const stream = new Stream({ href: 'ws://example.test/x' }, { protocols: 'chat' });
    expect(made).toBe(p.client);
    await p.server;
    await settle();
    stream.close({ reason: 'bye' });
    expect((await (await p.server).closed).reason).toBe('bye');
    expect(Stream.from(p.client)).toBeInstanceOf(WebSocketStreamBase);
  });
});
