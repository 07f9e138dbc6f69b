// Held messages, in memory: the exact rules of WebSocketConnection's doc comment (nothing
// received is dropped for want of a consumer; delivery on a microtask, in order; the bound and
// reading paused; close ordering; a loop left early; streaming fragments; close() while held).
// The same patterns over real sockets on every runtime: test/shared/receive.ts.
import { describe, expect, it } from 'vitest';
import type { FragmentInfo } from '../../src/session/index.ts';
import { pair, settle } from './memory-transport.ts';

describe('session: held messages', () => {
  it('a listener attached after an await gets every held message in order, on a microtask', async () => {
    const p = pair();
    const client = await p.client.opened;
    const server = await p.server;
    client.send('a');
    client.send(Uint8Array.of(1));
    client.send('c');
    await settle();
    expect(server.queuedMessages).toBe(3);
    const got: Array<[string | Uint8Array, boolean]> = [];
    server.on('message', (data, isBinary) => got.push([data, isBinary]));
    expect(got).toEqual([]); // not inside on(): the caller's setup finishes first
    await Promise.resolve();
    expect(got).toEqual([
      ['a', false],
      [Uint8Array.of(1), true],
      ['c', false],
    ]);
    expect(server.queuedMessages).toBe(0);
    client.send('live');
    await settle();
    expect(got.map(([d]) => d)).toEqual(['a', Uint8Array.of(1), 'c', 'live']);
    client.close();
    await server.closed;
  });

  it('messages arriving while held ones wait for their microtask queue behind them', async () => {
    const p = pair();
    const client = await p.client.opened;
    const server = await p.server;
    client.send('1');
    await settle();
    const got: unknown[] = [];
    server.on('message', (data) => {
      got.push(data);
      if (data === '1') client.send('3'); // arrives after '2' was sent: order is the wire's
    });
    client.send('2'); // reaches the server before the flush has run
    await settle();
    expect(got).toEqual(['1', '2', '3']);
    client.close();
    await server.closed;
  });

  it('a listener and a loop present together each get every message, held ones included', async () => {
    const p = pair();
    const client = await p.client.opened;
    const server = await p.server;
    client.send('x');
    client.send('y');
    await settle();
    const heard: unknown[] = [];
    server.on('message', (data) => heard.push(data));
    const iterator = server[Symbol.asyncIterator]();
    client.send('z');
    const looped = [(await iterator.next()).value, (await iterator.next()).value, (await iterator.next()).value];
    expect(looped).toEqual(['x', 'y', 'z']);
    expect(heard).toEqual(['x', 'y', 'z']);
    await iterator.return!();
    client.close();
    await server.closed;
  });

  it("once('message') takes one held message; the rest wait for the next consumer", async () => {
    const p = pair();
    const client = await p.client.opened;
    const server = await p.server;
    for (const m of ['1', '2', '3']) client.send(m);
    await settle();
    const first = await new Promise((resolve) => server.once('message', resolve));
    expect(first).toBe('1');
    await settle();
    expect(server.queuedMessages).toBe(2);
    const rest: unknown[] = [];
    for await (const message of server) {
      rest.push(message);
      if (rest.length === 2) break;
    }
    expect(rest).toEqual(['2', '3']);
    client.close();
    await server.closed;
  });

  it('holds at most maxQueuedMessages with reading paused, then delivers everything in order', async () => {
    const p = pair({ maxQueuedMessages: 4 });
    const client = await p.client.opened;
    const server = await p.server;
    for (let i = 0; i < 50; i++) client.send(`m${i}`);
    await settle(50);
    expect(server.queuedMessages).toBe(4);
    expect(p.serverTransport.paused).toBe(true);
    const got: unknown[] = [];
    let most = 0;
    server.on('message', (data) => {
      got.push(data);
      most = Math.max(most, server.queuedMessages);
    });
    await settle(50);
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    expect(most).toBeLessThanOrEqual(4);
    expect(p.serverTransport.paused).toBe(false);
    client.close();
    await server.closed;
  });

  it('close: held messages stay for a consumer that comes after it; close is not delayed', async () => {
    const p = pair();
    const client = await p.client.opened;
    const server = await p.server;
    const order: unknown[] = [];
    server.on('close', () => order.push('close'));
    client.send('before');
    client.send('close');
    client.close(1000);
    const info = await server.closed;
    expect(info).toMatchObject({ code: 1000, wasClean: true });
    expect(order).toEqual(['close']);
    expect(server.queuedMessages).toBe(2);
    const rest: unknown[] = [];
    for await (const message of server) rest.push(message); // yields the held ones, then ends
    expect(rest).toEqual(['before', 'close']);
  });

  it('close: a consumer attached before the close gets the held messages before close fires', async () => {
    const p = pair();
    const client = await p.client.opened;
    const server = await p.server;
    client.send('one');
    client.send('two');
    await settle();
    const order: unknown[] = [];
    server.on('close', () => order.push('close'));
    server.on('message', (data) => order.push(data));
    client.close();
    await server.closed;
    expect(order).toEqual(['one', 'two', 'close']);
  });

  it('a loop that starts before the close and is waiting ends only after the held messages', async () => {
    const p = pair();
    const client = await p.client.opened;
    const server = await p.server;
    client.send('p');
    client.send('q');
    client.close();
    const got: unknown[] = [];
    for await (const message of server) got.push(message);
    expect(got).toEqual(['p', 'q']);
    expect(server.readyState).toBe('closed');
  });

  it("streaming mode: fragments are held for the first 'fragment' listener", async () => {
    const p = pair({ assembleMessages: false });
    const client = await p.client.opened;
    const server = await p.server;
    client.sendFragment('ab', false);
    client.sendFragment('cd', true);
    await settle();
    expect(server.queuedMessages).toBe(2);
    const got: Array<[string, FragmentInfo]> = [];
    server.on('fragment', (data, info) => got.push([new TextDecoder().decode(data), info]));
    await settle();
    expect(got).toEqual([
      ['ab', { kind: 'text', first: true, fin: false }],
      ['cd', { kind: 'text', first: false, fin: true }],
    ]);
    client.close();
    await server.closed;
  });

  it('close() with messages held and nobody reading still completes the closing handshake', async () => {
    const p = pair({}, { maxQueuedMessages: 2 });
    const client = await p.client.opened;
    const server = await p.server;
    for (let i = 0; i < 20; i++) server.send(`s${i}`);
    await settle(50);
    expect(client.queuedMessages).toBe(2);
    expect(p.clientTransport.paused).toBe(true);
    client.close(1000);
    // The peer's Close is behind the 18 unread messages: the session reads on to find it.
    expect(await client.closed).toMatchObject({ code: 1000, wasClean: true, error: null });
    const kept: unknown[] = [];
    for await (const message of client) kept.push(message);
    expect(kept).toEqual(['s0', 's1']); // the bound's worth; the rest came after our close()
  });

  it('after terminate(), held messages stay and new ones are dropped', async () => {
    const p = pair();
    const client = await p.client.opened;
    const server = await p.server;
    client.send('kept');
    await settle();
    server.terminate();
    client.send('lost'); // the socket is gone: never read
    await server.closed;
    const got: unknown[] = [];
    for await (const message of server) got.push(message);
    expect(got).toEqual(['kept']);
  });
});
