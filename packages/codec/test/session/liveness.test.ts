// Idle and keepalive timeouts against flow control and the send buffer, on a FakeClock: a
// connection that is paused, or busy sending, is not idle; a ping queued behind a backlog gets
// its keepaliveTimeout once it has left; a peer that takes our bytes but never answers still
// fails with PONG_TIMEOUT. Time moves only through `advance`. The codec checks idle and
// keepalive at intervals (see codec/src/deadlines.ts): a timeout acts no sooner than 1× and no
// later than 2× its value after the last activity, and the tests assert both bounds.
import { describe, expect, it } from 'vitest';
import type { WebSocketConnection } from '../../src/session/index.ts';
import { fakeTime } from './fake-time.ts';
import { pair, type Pair } from './memory-transport.ts';

/** Advance in 10 ms steps until `done()`, failing past `limit` ms; returns how long it took. */
async function within(t: ReturnType<typeof fakeTime>, limit: number, done: () => boolean): Promise<number> {
  let waited = 0;
  while (!done()) {
    if (waited >= limit) throw new Error(`not done within ${limit} ms`);
    await t.advance(10);
    waited += 10;
  }
  return waited;
}

async function open(p: Pair): Promise<{ client: WebSocketConnection; server: WebSocketConnection; errors: string[] }> {
  const client = await p.client.opened;
  const server = await p.server;
  const errors: string[] = [];
  server.on('error', (e) => errors.push(e.code));
  return { client, server, errors };
}

describe('session: idleTimeout counts activity both ways', () => {
  it('a server streaming to a silent peer is not idle; it is once it stops sending', async () => {
    const t = fakeTime();
    const { client, server } = await open(pair({ ...t.options, timeouts: { idleTimeout: 1000 } }, t.options));
    let received = 0;
    client.on('message', () => received++);
    for (let i = 0; i < 6; i++) {
      server.send(`tick ${i}`);
      await t.advance(600);
    }
    expect(received).toBe(6);
    expect(server.readyState).toBe('open');
    await t.advance(399); // 1000 ms after the last send, less 1
    expect(server.readyState).toBe('open');
    await within(t, 1010, () => server.readyState !== 'open'); // by 2 × idleTimeout after it
    const info = await server.closed;
    expect(info).toMatchObject({ error: 'IDLE_TIMEOUT', sentCode: 1001, wasClean: true });
    expect((await client.closed).reason).toBe('idle timeout');
  });

  it('sending is activity even before the bytes leave', async () => {
    const t = fakeTime();
    const p = pair({ ...t.options, timeouts: { idleTimeout: 1000 } }, t.options);
    const { server } = await open(p);
    p.clientTransport.reading = false;
    for (let i = 0; i < 5; i++) {
      expect(server.send(`queued ${i}`)).toBe('sent');
      await t.advance(900);
    }
    expect(server.readyState).toBe('open');
    await t.advance(99); // idleTimeout after the last send, less 1
    expect(server.readyState).toBe('open');
    await within(t, 1010, () => server.readyState === 'closing');
    p.clientTransport.reading = true;
    p.clientTransport.read();
    expect((await server.closed).error).toBe('IDLE_TIMEOUT');
  });

  it('a backlog still being flushed is activity; a stalled one is not', async () => {
    const t = fakeTime();
    const p = pair({ ...t.options, timeouts: { idleTimeout: 1000 }, highWaterMark: 1 << 20 }, t.options);
    const { server } = await open(p);
    p.clientTransport.reading = false;
    server.send(new Uint8Array(64 * 1024)); // one send, then only the transport moves
    for (let i = 0; i < 8; i++) {
      await t.advance(600);
      expect(p.clientTransport.read(4096)).toBe(4096); // the peer reads slowly: bytes keep leaving
    }
    expect(server.readyState).toBe('open'); // 4.8 s after the send
    await t.advance(999); // the peer stops reading
    expect(server.readyState).toBe('open');
    await within(t, 1010, () => server.readyState === 'closing'); // our Close waits behind the stalled backlog
    p.clientTransport.reading = true;
    p.clientTransport.read();
    expect(await server.closed).toMatchObject({ error: 'IDLE_TIMEOUT', sentCode: 1001 });
  });

  it('sees progress in a falling bufferedAmount when the transport reports none', async () => {
    const t = fakeTime();
    const p = pair({ ...t.options, timeouts: { idleTimeout: 1000 }, highWaterMark: 1 << 20 }, t.options);
    const { server } = await open(p);
    p.clientTransport.reading = false;
    const handlers = p.serverTransport.handlers!;
    p.serverTransport.handlers = { ...handlers, onDrain: () => {} }; // e.g. one callback per large write
    server.send(new Uint8Array(64 * 1024));
    for (let i = 0; i < 4; i++) {
      await t.advance(600);
      p.clientTransport.read(4096);
    }
    expect(server.readyState).toBe('open');
    await t.advance(2001); // no more progress: idle (noticed at most a timeout late)
    expect(server.readyState).toBe('closing');
    p.serverTransport.handlers = handlers;
    p.clientTransport.reading = true;
    p.clientTransport.read();
    expect((await server.closed).error).toBe('IDLE_TIMEOUT');
  });

  it('stands still while reading is paused and starts afresh on resume', async () => {
    const t = fakeTime();
    const { client, server } = await open(pair({ ...t.options, timeouts: { idleTimeout: 1000 } }, t.options));
    server.pause();
    client.send('unread while paused');
    await t.advance(10_000);
    expect(server.readyState).toBe('open');
    const messages: unknown[] = [];
    server.on('message', (m) => messages.push(m));
    server.resume();
    await t.advance(999);
    expect(messages).toEqual(['unread while paused']);
    expect(server.readyState).toBe('open');
    await within(t, 1010, () => server.readyState !== 'open');
    expect(await server.closed).toMatchObject({ error: 'IDLE_TIMEOUT' });
  });

  it('stands still while a full for-await queue holds reading', async () => {
    const t = fakeTime();
    const { client, server } = await open(
      pair({ ...t.options, timeouts: { idleTimeout: 1000 }, maxQueuedMessages: 1 }, t.options),
    );
    const iterator = server[Symbol.asyncIterator]();
    client.send('a');
    client.send('b');
    await t.advance(5000); // nobody takes the messages: reading is paused, the peer is not idle
    expect(server.readyState).toBe('open');
    expect(await iterator.next()).toEqual({ done: false, value: 'a' });
    await t.advance(10);
    expect(await iterator.next()).toEqual({ done: false, value: 'b' });
    await t.advance(990);
    expect(server.readyState).toBe('open');
    await within(t, 1020, () => server.readyState !== 'open');
    await iterator.return!();
    expect((await server.closed).error).toBe('IDLE_TIMEOUT');
  });
});

describe('session: keepalive and the send buffer', () => {
  it('a ping queued behind a backlog that keeps moving does not time out', async () => {
    const t = fakeTime();
    const p = pair({ ...t.options, timeouts: { keepaliveInterval: 1000, keepaliveTimeout: 500 } }, t.options);
    const { client, server, errors } = await open(p);
    let pings = 0;
    client.on('ping', () => pings++);
    p.clientTransport.reading = false;
    server.send(new Uint8Array(64 * 1024));
    await t.advance(1000); // nothing received: the ping goes out, behind 64 KiB
    expect(p.clientTransport.unread).toBeGreaterThan(64 * 1024);
    for (let i = 0; i < 10; i++) {
      await t.advance(400); // less than keepaliveTimeout between reads
      p.clientTransport.read(4096);
    }
    expect(errors).toEqual([]); // 4 s after the ping, still behind the backlog: never left
    expect(pings).toBe(0);
    p.clientTransport.reading = true;
    p.clientTransport.read();
    await t.advance(10);
    expect(pings).toBe(1); // it arrives, the pong comes back
    await t.advance(2000);
    expect(errors).toEqual([]);
    expect(pings).toBe(3);
    expect(server.readyState).toBe('open');
  });

  it('fails with PONG_TIMEOUT once the backlog stops moving', async () => {
    const t = fakeTime();
    const p = pair({ ...t.options, timeouts: { keepaliveInterval: 1000, keepaliveTimeout: 500 } }, t.options);
    const { server, errors } = await open(p);
    p.clientTransport.reading = false;
    server.send(new Uint8Array(64 * 1024));
    await t.advance(1000);
    await t.advance(300);
    p.clientTransport.read(4096); // the last progress
    await t.advance(499);
    expect(errors).toEqual([]);
    await within(t, 510, () => errors.length > 0); // by 2 × keepaliveTimeout after the progress
    expect(errors).toEqual(['PONG_TIMEOUT']);
    expect(server.readyState).toBe('closing');
    p.clientTransport.reading = true;
    p.clientTransport.read();
    expect(await server.closed).toMatchObject({ error: 'PONG_TIMEOUT', sentCode: 1011 });
  });

  it('traffic after the ping has left does not postpone PONG_TIMEOUT (a peer that reads but never answers)', async () => {
    const t = fakeTime();
    const p = pair(
      { ...t.options, timeouts: { keepaliveInterval: 1000, keepaliveTimeout: 500 } },
      { ...t.options, autoPong: false },
    );
    const { client, server, errors } = await open(p);
    let pings = 0;
    client.on('ping', () => pings++);
    await t.advance(1000);
    expect(pings).toBe(1);
    for (let i = 0; i < 4; i++) {
      server.send('still sending'); // read at once by the peer: the buffer moves, but after the ping
      await t.advance(100);
    }
    expect(errors).toEqual([]);
    // The ping left at once (nothing was queued before it): keepaliveTimeout after it, to the ms.
    await t.advance(101);
    expect(errors).toEqual(['PONG_TIMEOUT']);
    expect(await server.closed).toMatchObject({ error: 'PONG_TIMEOUT', sentCode: 1011 });
  });

  it('neither pings nor times out while reading is paused; resumes afterwards', async () => {
    const t = fakeTime();
    const p = pair(
      { ...t.options, timeouts: { keepaliveInterval: 1000, keepaliveTimeout: 500, idleTimeout: 3000 } },
      t.options,
    );
    const { client, server, errors } = await open(p);
    let pings = 0;
    client.on('ping', () => pings++);
    server.pause();
    await t.advance(10_000);
    expect(pings).toBe(0);
    expect(errors).toEqual([]);
    expect(server.readyState).toBe('open');
    server.resume();
    await t.advance(2500); // the peer answers each ping: not idle either
    expect(pings).toBe(2);
    expect(server.readyState).toBe('open');
    server.close();
    await Promise.all([server.closed, client.closed]);
  });

  it('a pong that arrives while paused counts once read', async () => {
    const t = fakeTime();
    const p = pair({ ...t.options, timeouts: { keepaliveInterval: 1000, keepaliveTimeout: 500 } }, t.options);
    const { client, server, errors } = await open(p);
    await t.advance(1000); // ping sent; the pong is on its way
    server.pause();
    await t.advance(5000);
    server.resume();
    await t.advance(900);
    expect(errors).toEqual([]);
    expect(server.readyState).toBe('open');
    client.terminate();
    await server.closed;
  });
});

describe('session: timeout options', () => {
  it('checks idle and keepalive timeouts with the others', () => {
    for (const timeouts of [
      { idleTimeout: -1 },
      { keepaliveInterval: Number.NaN },
      { keepaliveTimeout: 'x' as unknown as number },
    ]) {
      expect(() => pair({ timeouts })).toThrow(/timeouts\.\w+ must be a finite number/);
    }
  });
});
