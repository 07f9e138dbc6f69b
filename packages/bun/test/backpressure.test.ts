// Backpressure over real sockets: a slow reader (bufferedAmount rises, drain resolves, every
// message arrives in order), a peer that never reads (terminated at maxBufferedAmount), and the
// transport's own contract (partial writes kept in order, fresh data buffers from Bun, which the
// codec is told to copy short payloads out of rather than view).
import { describe, expect, it } from 'bun:test';
import { connect, type CloseInfo, type WebSocketConnection } from '../src/index.ts';
import { ConnectionPair } from '@ws/codec/testing';
import { BunTransport } from '../src/transport.ts';
import { HOST, ourServer, until, within } from './helpers.ts';

describe('backpressure', () => {
  it('with a slow reader: send() returns false, drain() resolves, all messages arrive in order', async () => {
    const N = 64;
    const SIZE = 256 * 1024; // 16 MiB in all
    const stats = { sawFalse: 0, drains: 0, maxBuffered: 0, afterDrain: 0 };
    let sending!: Promise<void>;
    const sendAll = async (ws: WebSocketConnection): Promise<void> => {
      for (let i = 0; i < N; i++) {
        const message = new Uint8Array(SIZE);
        new DataView(message.buffer).setUint32(0, i);
        message[SIZE - 1] = i & 0xff;
        const ok = ws.send(message);
        stats.maxBuffered = Math.max(stats.maxBuffered, ws.bufferedAmount);
        if (!ok) {
          stats.sawFalse++;
          await ws.drain();
          stats.drains++;
          stats.afterDrain = Math.max(stats.afterDrain, ws.bufferedAmount);
        }
      }
    };
    const { server, url } = await ourServer({ highWaterMark: 512 * 1024, lowWaterMark: 128 * 1024 }, (ws) => {
      sending = sendAll(ws);
    });
    try {
      const client = await within(connect(url));
      client.pause(); // read nothing for a while
      const got: number[] = [];
      client.on('message', (data) => {
        const bytes = data as Uint8Array;
        const i = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0);
        got.push(bytes.length === SIZE && bytes[SIZE - 1] === (i & 0xff) ? i : -1);
      });
      await Bun.sleep(300);
      expect(stats.maxBuffered).toBeGreaterThan(512 * 1024); // it rose while the peer did not read
      expect(stats.sawFalse).toBeGreaterThan(0);
      expect(stats.drains).toBe(stats.sawFalse - 1); // the sender waits in drain()
      expect(got.length).toBe(0);
      client.resume();
      await within(sending, 20_000, 'sending');
      await until(() => got.length === N, 'receiving', 20_000);
      expect(got).toEqual(Array.from({ length: N }, (_, i) => i));
      expect(stats.drains).toBe(stats.sawFalse);
      expect(stats.afterDrain).toBeLessThanOrEqual(128 * 1024);
      client.close();
      await within(client.closed);
    } finally {
      await within(server.close(), 15_000, 'server.close');
    }
  }, 30_000);

  it('terminates a peer that never reads once maxBufferedAmount is exceeded', async () => {
    const MAX = 4 * 1024 * 1024;
    const stats = { sends: 0, maxBuffered: 0, error: null as string | null, sendAfter: true };
    let closed: Promise<CloseInfo> | undefined;
    const { server, port } = await ourServer({ highWaterMark: 1024 * 1024, maxBufferedAmount: MAX }, (ws) => {
      ws.on('error', (error) => (stats.error = error.code));
      // A careless sender: ignores send()'s false and keeps going while the connection lives.
      const pump = (): void => {
        for (let i = 0; i < 8 && ws.readyState === 'open'; i++) {
          ws.send(new Uint8Array(64 * 1024));
          stats.sends++;
          stats.maxBuffered = Math.max(stats.maxBuffered, ws.bufferedAmount);
        }
        if (ws.readyState === 'open' && stats.sends < 20_000) setTimeout(pump, 0);
      };
      pump();
      closed = ws.closed.then((info) => {
        stats.sendAfter = ws.send('late');
        return info;
      });
    });
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
    try {
      socket.write(
        'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      );
      await until(() => closed !== undefined, 'handshake');
      const info = await within(closed!, 20_000, 'overflow');
      expect(info).toMatchObject({ error: 'SEND_BUFFER_OVERFLOW', wasClean: false, code: 1006 });
      expect(stats.error).toBe('SEND_BUFFER_OVERFLOW');
      expect(stats.sendAfter).toBe(false);
      expect(stats.maxBuffered).toBeLessThanOrEqual(MAX + 64 * 1024 + 14);
      expect(stats.sends).toBeLessThan(20_000);
    } finally {
      socket.terminate();
      await within(server.close(), 15_000, 'server.close');
    }
  }, 30_000);
});

describe('BunTransport', () => {
  /** A listener that records what it receives, and a connected transport. */
  async function pair(): Promise<{ transport: BunTransport; received: () => Uint8Array; peer: () => import('bun').Socket<undefined> | null; stop: () => void; drains: () => number }> {
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
    await Bun.connect<BunTransport>({ hostname: HOST, port: listener.port, allowHalfOpen: true, data: transport, socket: socketHandlers });
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
    transport.attach({ onData: (chunk) => void got.push(chunk), onDrain: () => {}, onEnd: () => {}, onClose: () => {} });
    const chunks = [new Uint8Array(3).fill(1), new Uint8Array(5000).fill(9)];
    for (const chunk of chunks) transport.received(chunk);
    expect(got).toEqual(chunks);
    expect(got[0]).toBe(chunks[0]!);
    expect(got[1]).toBe(chunks[1]!);
  });

  it('has the codec give short payloads and frames arrays of their own, not views (cheaper on JavaScriptCore)', () => {
    const pair = new ConnectionPair();
    pair.pump();
    pair.client.send({ type: 'binary', data: Uint8Array.of(1, 2, 3) });
    pair.server.send({ type: 'binary', data: Uint8Array.of(4, 5) });
    const { client, server } = pair.pump();
    const received = server.find((e) => e.type === 'binary')!.data as Uint8Array;
    expect([...received]).toEqual([1, 2, 3]);
    expect([received.byteOffset, received.buffer.byteLength]).toEqual([0, 3]);
    expect([...(client.find((e) => e.type === 'binary')!.data as Uint8Array)]).toEqual([4, 5]);
    const frame = pair.serverOutputs.findLast((o) => o.type === 'write')!;
    expect(frame.type === 'write' && [frame.data.byteOffset, frame.data.buffer.byteLength]).toEqual([0, 4]);
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
    const listener = Bun.listen({ hostname: HOST, port: 0, socket: { binaryType: 'uint8array', data: (_s, d: Uint8Array) => void kept.push(d) } });
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
