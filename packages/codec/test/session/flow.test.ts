// Flow control in memory: the send buffer (bufferedAmount, drain, the overflow bound) and the
// receive side (iteration queue pausing the transport).
import { describe, expect, it } from 'vitest';
import { pair, settle } from './memory-transport.ts';

describe('session: send backpressure', () => {
  it('bufferedAmount rises while the peer does not read; drain() resolves; N messages arrive in order', async () => {
    const p = pair({ highWaterMark: 64 * 1024, lowWaterMark: 16 * 1024 });
    const client = await p.client.opened;
    const server = await p.server;
    const got: number[] = [];
    client.on('message', (data) =>
      got.push(new DataView((data as Uint8Array).buffer, (data as Uint8Array).byteOffset).getUint32(0)),
    );
    p.clientTransport.reading = false;

    const N = 40;
    let falses = 0;
    let drains = 0;
    const drainEvents: number[] = [];
    server.on('drain', () => drainEvents.push(server.bufferedAmount));
    const sending = (async () => {
      for (let i = 0; i < N; i++) {
        const message = new Uint8Array(8 * 1024);
        new DataView(message.buffer).setUint32(0, i);
        if (server.send(message) === 'buffered') {
          falses++;
          expect(server.bufferedAmount).toBeGreaterThanOrEqual(64 * 1024);
          await server.drain();
          drains++;
          expect(server.bufferedAmount).toBeLessThanOrEqual(16 * 1024);
        }
      }
    })();
    await settle();
    expect(falses).toBe(1);
    expect(drains).toBe(0);
    expect(server.bufferedAmount).toBe(p.serverTransport.bufferedAmount);
    expect(server.bufferedAmount).toBeGreaterThanOrEqual(64 * 1024);
    // Read in small bites until everything is through.
    for (let round = 0; got.length < N; round++) {
      if (round > 2000)
        throw new Error(
          `stuck: got ${got.length}, falses ${falses}, drains ${drains}, buffered ${server.bufferedAmount}, unread ${p.clientTransport.unread}`,
        );
      p.clientTransport.read(5000);
      await settle();
    }
    await sending;
    expect(got).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(falses).toBeGreaterThan(1);
    expect(drains).toBe(falses);
    expect(drainEvents.length).toBe(falses);
    await expect(server.drain()).resolves.toBeUndefined(); // already low: at once
    p.clientTransport.reading = true;
    client.close();
    await server.closed;
  });

  it('terminates a peer that never reads once maxBufferedAmount is exceeded', async () => {
    const p = pair({ highWaterMark: 32 * 1024, maxBufferedAmount: 256 * 1024 });
    const client = await p.client.opened;
    const server = await p.server;
    p.clientTransport.reading = false;
    const errors: string[] = [];
    server.on('error', (e) => errors.push(e.code));
    const waiting = server.drain(); // resolved by the close
    let sent = 0;
    let max = 0;
    while (server.readyState === 'open' && sent < 1000) {
      server.send(new Uint8Array(10_000));
      sent++;
      max = Math.max(max, server.bufferedAmount);
    }
    expect(server.readyState).not.toBe('open');
    expect(sent).toBeLessThan(30);
    expect(max).toBeLessThanOrEqual(256 * 1024 + 10_004);
    expect(server.send('more')).toBe('dropped');
    await waiting;
    const info = await server.closed;
    expect(info).toMatchObject({ error: 'SEND_BUFFER_OVERFLOW', code: 1006, wasClean: false });
    expect(errors).toEqual(['SEND_BUFFER_OVERFLOW']);
    expect(p.serverTransport.destroyed).toBe(true);
    await client.closed;
  });

  it('queues pongs up to highWaterMark, then one for the latest ping, to a peer that pings but never reads', async () => {
    const p = pair({ maxBufferedAmount: 4096, highWaterMark: 1024, lowWaterMark: 0 });
    const client = await p.client.opened;
    const server = await p.server;
    p.clientTransport.reading = false;
    let pings = 0;
    server.on('ping', () => pings++);
    for (let i = 0; i < 1000; i++) client.ping(new TextEncoder().encode(`${i}`.padEnd(125, '.')));
    await settle(50);
    // 1000 × 127 bytes of pongs would be 127 KB: pongs go to the transport until it holds
    // highWaterMark (1024) of them, then only the latest waits in the codec.
    expect(pings).toBe(1000);
    expect(server.readyState).toBe('open');
    expect(server.bufferedAmount).toBeLessThanOrEqual(1024 + 2 * 127);
    const pongs: string[] = [];
    client.on('pong', (d) => pongs.push(new TextDecoder().decode(d).replace(/\.+$/, '')));
    p.clientTransport.reading = true;
    p.clientTransport.read();
    await settle(50);
    expect(pongs.length).toBeLessThanOrEqual(Math.ceil(1024 / 127) + 2);
    expect(pongs.at(-1)).toBe('999');
    client.close();
    await server.closed;
  });

  it('answers every ping while the transport holds only a few frames (a peer that reads a moment later)', async () => {
    const p = pair();
    const client = await p.client.opened;
    const server = await p.server;
    p.clientTransport.reading = false;
    for (let i = 0; i < 10; i++) client.ping(new TextEncoder().encode(`p${i}`));
    await settle(50);
    expect(server.bufferedAmount).toBeGreaterThan(0); // the pongs wait in the transport
    const pongs: string[] = [];
    client.on('pong', (d) => pongs.push(new TextDecoder().decode(d)));
    p.clientTransport.reading = true;
    p.clientTransport.read();
    await settle(50);
    expect(pongs).toEqual(Array.from({ length: 10 }, (_, i) => `p${i}`));
    client.close();
    await server.closed;
  });
});

describe('session: for await iteration', () => {
  it('yields messages in order, pauses reading when the queue is full, resumes when drained, ends on close', async () => {
    const p = pair({ maxQueuedMessages: 4 });
    const client = await p.client.opened;
    const server = await p.server;
    const listener: unknown[] = [];
    server.on('message', (d) => listener.push(d));
    for (let i = 0; i < 10; i++) client.send(`m${i}`);
    await settle();
    expect(listener.length).toBe(10); // not iterating: nothing is queued, listeners still see all

    const iterator = server[Symbol.asyncIterator]();
    expect(() => server[Symbol.asyncIterator]()).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    for (let i = 0; i < 10; i++) client.send(i % 2 === 0 ? `n${i}` : new Uint8Array([i]));
    await settle();
    expect(p.serverTransport.paused).toBe(true);
    const seen: unknown[] = [];
    for (let i = 0; i < 10; i++) {
      const { value } = await iterator.next();
      seen.push(value);
      await settle();
    }
    expect(seen).toEqual([
      'n0',
      new Uint8Array([1]),
      'n2',
      new Uint8Array([3]),
      'n4',
      new Uint8Array([5]),
      'n6',
      new Uint8Array([7]),
      'n8',
      new Uint8Array([9]),
    ]);
    expect(p.serverTransport.paused).toBe(false);
    const pending = iterator.next();
    client.close();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it('for await … break releases the queue without closing; the next loop gets what it left', async () => {
    const p = pair({ maxQueuedMessages: 2 });
    const client = await p.client.opened;
    const server = await p.server;
    for (let i = 0; i < 5; i++) client.send(`x${i}`);
    const seen: unknown[] = [];
    for await (const message of server) {
      seen.push(message);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual(['x0', 'x1']);
    expect(server.readyState).toBe('open');
    await settle();
    // x2… are held again (2 of them fill the bound: reading pauses until a consumer comes).
    expect(p.serverTransport.paused).toBe(true);
    client.send('after');
    const again: unknown[] = [];
    for await (const message of server) {
      again.push(message);
      if (message === 'after') break;
    }
    expect(again).toEqual(['x2', 'x3', 'x4', 'after']);
    expect(p.serverTransport.paused).toBe(false);
    client.close();
    await server.closed;
    // Iterating a closed connection ends at once.
    expect(await server[Symbol.asyncIterator]().next()).toEqual({ done: true, value: undefined });
  });

  it('pause() and resume() stop and restart reading', async () => {
    const p = pair();
    const client = await p.client.opened;
    const server = await p.server;
    const got: unknown[] = [];
    server.on('message', (d) => got.push(d));
    server.pause();
    client.send('a');
    await settle();
    expect(got).toEqual([]);
    server.resume();
    await settle();
    expect(got).toEqual(['a']);
    client.close();
    await server.closed;
  });

  it('many queued messages and many waiting next() calls', async () => {
    const p = pair({ maxQueuedMessages: 5000 });
    const client = await p.client.opened;
    const server = await p.server;
    const iterator = server[Symbol.asyncIterator]();
    const early = [iterator.next(), iterator.next()];
    for (let i = 0; i < 3000; i++) client.send(String(i));
    await settle();
    expect((await Promise.all(early)).map((r) => r.value)).toEqual(['0', '1']);
    for (let i = 2; i < 3000; i++) expect((await iterator.next()).value).toBe(String(i));
    client.close();
    expect((await iterator.next()).done).toBe(true);
  });
});
