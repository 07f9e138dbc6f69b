// Backpressure over real sockets: a slow reader (bufferedAmount rises, drain resolves, every
// message arrives in order) and a peer that never reads (the send buffer hits maxBufferedAmount
// and the connection is terminated, so memory stays bounded).
import { connect, type CloseInfo, type WebSocketConnection } from '../src/index.ts';
import { assert, assertEquals } from './assert.ts';
import { HOST, UPGRADE_REQUEST, ourServer, readHead, sleep, until, within, writeAll } from './helpers.ts';

Deno.test('a slow reader: send() returns false, drain() resolves, all messages arrive in order', async () => {
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
    client.pause(); // our transport stops reading: the kernel's buffers fill, TCP pushes back
    const got: number[] = [];
    client.on('message', (data) => {
      const bytes = data as Uint8Array;
      const index = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0);
      got.push(bytes.length === SIZE && bytes[SIZE - 1] === (index & 0xff) ? index : -1);
    });
    await until(() => sending !== undefined, 'server connection');
    await sleep(300);
    assertEquals(got.length, 0, 'nothing is delivered while paused');
    assert(stats.maxBuffered > 512 * 1024, `bufferedAmount rose (max ${stats.maxBuffered})`);
    assert(stats.sawFalse > 0, 'send() returned false');
    assertEquals(stats.drains, stats.sawFalse - 1, 'the sender waits in drain()');
    client.resume();
    await within(sending, 20_000, 'sending');
    await until(() => got.length === N, 'receiving', 20_000);
    assertEquals(got, Array.from({ length: N }, (_, i) => i));
    assertEquals(stats.drains, stats.sawFalse);
    assert(stats.afterDrain <= 128 * 1024, `drain() resolved at ≤ lowWaterMark (${stats.afterDrain})`);
    client.close();
    await within(client.closed);
  } finally {
    await within(server.close(), 15_000, 'server.close');
  }
});

Deno.test('a peer that never reads is terminated once maxBufferedAmount is exceeded', async () => {
  const MAX = 4 * 1024 * 1024;
  const stats = { sends: 0, maxBuffered: 0, error: null as string | null };
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
    closed = ws.closed;
  });
  const conn = await Deno.connect({ hostname: HOST, port });
  try {
    await writeAll(conn, new TextEncoder().encode(UPGRADE_REQUEST));
    await readHead(conn); // the 101, then never read again
    await until(() => closed !== undefined, 'handshake');
    const info = await within(closed!, 20_000, 'overflow');
    assertEquals([info.error, info.wasClean, info.code], ['SEND_BUFFER_OVERFLOW', false, 1006]);
    assertEquals(stats.error, 'SEND_BUFFER_OVERFLOW');
    assert(stats.maxBuffered <= MAX + 64 * 1024 + 14, `bounded: ${stats.maxBuffered}`);
    assert(stats.sends < 20_000, 'stopped by the limit');
  } finally {
    conn.close();
    await within(server.close(), 15_000, 'server.close');
  }
});
