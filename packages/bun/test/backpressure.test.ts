// Backpressure over real sockets: a slow reader (bufferedAmount rises, drain resolves, every
// message arrives in order) and a peer that never reads (terminated at maxBufferedAmount), as in
// test/shared/backpressure.ts for every runtime; and the transport's own contract (partial writes kept in order, fresh data buffers from Bun, which the
// codec is told to copy short payloads out of rather than view).
import { describe, expect, it } from 'bun:test';
import { connect } from '../src/index.ts';
import { BunTransport } from '../src/transport.ts';
import { computeAcceptKey } from '@ws/codec';
import { HOST, ourServer, until } from './helpers.ts';
import { neverReads, slowReader, UPGRADE_REQUEST } from '../../../test/shared/backpressure.ts';

describe('backpressure', () => {
  it(
    "with a slow reader: send() returns 'buffered', drain() resolves, all messages arrive in order",
    () => slowReader(ourServer, connect),
    30_000,
  );

  it(
    'terminates a peer that never reads once maxBufferedAmount is exceeded',
    () =>
      neverReads(ourServer, async (port) => {
        let first = true;
        const socket = await Bun.connect({
          hostname: HOST,
          port,
          socket: {
            data(s) {
              if (first) s.pause(); // read the 101, then never again
              first = false;
            },
            error() {},
          },
        });
        socket.write(UPGRADE_REQUEST);
        return () => socket.terminate();
      }),
    30_000,
  );
});

describe('BunTransport', () => {
  /** A listener that records what it receives, and a connected transport. */
  async function pair(): Promise<{
    transport: BunTransport;
    received: () => Uint8Array;
    peer: () => import('bun').Socket<undefined> | null;
    stop: () => void;
    drains: () => number;
  }> {
    const chunks: Uint8Array[] = [];
    let peer: import('bun').Socket<undefined> | null = null;
    const listener = Bun.listen({
      hostname: HOST,
      port: 0,
      socket: {
        open: (s) => {
          peer = s;
          s.pause();
        },
        data: (_s, d) => void chunks.push(new Uint8Array(d)),
      },
    });
    const transport = new BunTransport();
    let drains = 0;
    let closed = false;
    transport.attach({ onData: () => {}, onDrain: () => drains++, onEnd: () => {}, onClose: () => (closed = true) });
    const { socketHandlers } = await import('../src/transport.ts');
    await Bun.connect<BunTransport>({
      hostname: HOST,
      port: listener.port,
      allowHalfOpen: true,
      data: transport,
      socket: socketHandlers,
    });
    await until(() => peer !== null, 'accept');
    return {
      transport,
      received: () => Buffer.concat(chunks),
      peer: () => peer,
      drains: () => drains,
      stop: () => {
        if (!closed) transport.destroy();
        listener.stop(true);
      },
    };
  }

  it('keeps what the socket did not take and writes it on drain, in order; bufferedAmount is exact', async () => {
    const { transport, received, peer, stop, drains } = await pair();
    try {
      // Many small chunks and some large ones, far more than the kernel's buffers hold.
      const chunks: Uint8Array[] = [];
      let total = 0;
      for (let i = 0; i < 400; i++) {
        const size = i % 50 === 0 ? 2_000_000 : (i * 37) % 1000; // ≈ 16 MiB
        const chunk = new Uint8Array(size);
        for (let j = 0; j < size; j++) chunk[j] = (i + j) & 0xff;
        chunks.push(chunk);
        total += size;
      }
      for (let i = 0; i < chunks.length; i += 3) transport.write(chunks.slice(i, i + 3));
      expect(transport.bufferedAmount).toBeGreaterThan(0); // the reader is paused
      expect(transport.bufferedAmount).toBeLessThan(total);
      const before = transport.bufferedAmount;
      peer()!.resume();
      await until(() => transport.bufferedAmount === 0, 'drained');
      expect(drains()).toBeGreaterThan(0);
      expect(before).toBeGreaterThan(0);
      await until(() => received().length === total, 'all bytes');
      expect(Buffer.compare(received(), Buffer.concat(chunks))).toBe(0);
    } finally {
      stop();
    }
  }, 20_000);

  it('one chunk per write (the direct path): a partial write is kept and finished on drain, in order', async () => {
    const { transport, received, peer, stop } = await pair();
    try {
      const chunks: Uint8Array[] = [];
      let total = 0;
      for (let i = 0; i < 300; i++) {
        const size = i % 40 === 0 ? 1_500_000 : 1 + ((i * 53) % 3000);
        const chunk = new Uint8Array(size);
        for (let j = 0; j < size; j++) chunk[j] = (i * 7 + j) & 0xff;
        chunks.push(chunk);
        total += size;
        transport.write([chunk]);
      }
      expect(transport.bufferedAmount).toBeGreaterThan(0); // the reader is paused
      expect(transport.bufferedAmount).toBeLessThan(total);
      peer()!.resume();
      await until(() => transport.bufferedAmount === 0, 'drained');
      await until(() => received().length === total, 'all bytes');
      expect(Buffer.compare(received(), Buffer.concat(chunks))).toBe(0);
    } finally {
      stop();
    }
  }, 20_000);

  it('hands the session every chunk as Bun gave it (a fresh buffer per callback: see below)', () => {
    const got: Uint8Array[] = [];
    const transport = new BunTransport();
    transport.attach({
      onData: (chunk) => void got.push(chunk),
      onDrain: () => {},
      onEnd: () => {},
      onClose: () => {},
    });
    const chunks = [new Uint8Array(3).fill(1), new Uint8Array(5000).fill(9)];
    for (const chunk of chunks) transport.received(chunk);
    expect(got).toEqual(chunks);
    expect(got[0]).toBe(chunks[0]!);
    expect(got[1]).toBe(chunks[1]!);
  });

  it('tunes its connections for JavaScriptCore: short payloads come in arrays of their own, not views of a read', async () => {
    expect(new BunTransport().engine).toMatchObject({ freshArrays: true });
    const atServer: Uint8Array[] = [];
    const { server, url } = await ourServer({}, (ws) => {
      ws.on('message', (data) => {
        atServer.push(data as Uint8Array);
        ws.send(Uint8Array.of(4, 5));
      });
    });
    try {
      const client = await connect(url);
      const atClient: Uint8Array[] = [];
      client.on('message', (data) => void atClient.push(data as Uint8Array));
      client.send(Uint8Array.of(1, 2, 3));
      await until(() => atClient.length === 1, 'the answer');
      // A view would keep the whole read (the frame's header too) as its buffer.
      expect(atServer.map((d) => [[...d], d.byteOffset, d.buffer.byteLength])).toEqual([[[1, 2, 3], 0, 3]]);
      expect(atClient.map((d) => [[...d], d.byteOffset, d.buffer.byteLength])).toEqual([[[4, 5], 0, 2]]);
      client.terminate();
    } finally {
      await server.close();
    }
  });

  it("hashes Sec-WebSocket-Accept with Bun's SHA-1: the same answer as the codec's own, which a client checks", async () => {
    const hash = new BunTransport().engine.sha1Base64;
    if (hash === undefined) throw new Error('no sha1Base64 in the engine tuning');
    for (let i = 0; i < 200; i++) {
      const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64');
      expect(computeAcceptKey(key, hash)).toBe(computeAcceptKey(key));
    }
    expect(hash(`dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    // A raw client that checks the 101 itself, against our server on Bun.
    const { server, url } = await ourServer({}, () => {});
    try {
      const key = 'x3JJHMbDL1EzLkh9GBhXDw==';
      const head = await rawUpgrade(new URL(url), key);
      expect(head).toContain(`\r\nSec-WebSocket-Accept: ${computeAcceptKey(key)}\r\n`);
    } finally {
      await server.close();
    }
  });

  it('end() waits for the queued bytes, then half-closes', async () => {
    const { transport, received, peer, stop } = await pair();
    try {
      const big = new Uint8Array(8 * 1024 * 1024).fill(7);
      transport.write([big]);
      transport.end();
      transport.write([new Uint8Array([1])]); // after end(): dropped
      expect(transport.bufferedAmount).toBeGreaterThan(0);
      peer()!.resume();
      await until(() => received().length === big.length, 'all bytes before FIN', 15_000);
      await Bun.sleep(20);
      expect(received().length).toBe(big.length);
    } finally {
      stop();
    }
  }, 20_000);

  it('gets a fresh buffer for every data callback from Bun (so large chunks are not copied)', async () => {
    const kept: Uint8Array[] = [];
    const listener = Bun.listen({
      hostname: HOST,
      port: 0,
      socket: { binaryType: 'uint8array', data: (_s, d: Uint8Array) => void kept.push(d) },
    });
    const socket = await Bun.connect({ hostname: HOST, port: listener.port, socket: { data() {} } });
    try {
      let sent = 0;
      for (let i = 0; i < 100; i++) {
        const chunk = new Uint8Array(2000).fill(i);
        let at = 0;
        while (at < chunk.length) {
          const n = socket.write(chunk, at, chunk.length - at);
          if (n > 0) at += n;
          else await Bun.sleep(1);
        }
        sent += chunk.length;
        await Bun.sleep(0);
      }
      await until(() => kept.reduce((a, c) => a + c.length, 0) === sent, 'all bytes');
      // Every chunk still holds what it held when delivered: Bun did not reuse a buffer.
      const all = Buffer.concat(kept);
      for (let i = 0; i < all.length; i++) if (all[i] !== Math.floor(i / 2000)) throw new Error(`byte ${i} changed`);
      expect(new Set(kept.map((c) => c.buffer)).size).toBe(kept.length);
    } finally {
      socket.terminate();
      listener.stop(true);
    }
  });
});

/** Send an upgrade request with `key` over a plain Bun socket; the response head as text. */
async function rawUpgrade(url: URL, key: string): Promise<string> {
  let text = '';
  let done: () => void = () => {};
  const ended = new Promise<void>((resolve) => (done = resolve));
  const socket = await Bun.connect({
    hostname: url.hostname,
    port: Number(url.port),
    socket: {
      data(_s, chunk) {
        text += Buffer.from(chunk).toString('latin1');
        if (text.includes('\r\n\r\n')) done();
      },
      close: () => done(),
    },
  });
  socket.write(
    `GET / HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await ended;
  socket.terminate();
  return text;
}
