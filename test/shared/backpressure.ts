// Backpressure over real sockets, once for every runtime: a slow reader (bufferedAmount rises,
// drain resolves, every message arrives in order) and a peer that never reads (the send buffer
// hits maxBufferedAmount and the connection is terminated, so memory stays bounded). Each
// runtime's test file passes its server, its client and a raw socket; failures are thrown.
import type { SessionCloseInfo, WebSocketConnection } from '../../packages/codec/src/session/index.ts';
import { assert, assertEquals } from './assert.ts';
import { sleep, until, within } from './wait.ts';

/** A runtime's `ourServer` helper: its server on a free port of 127.0.0.1. */
export type OurServer = (
  options: { highWaterMark?: number; lowWaterMark?: number; maxBufferedAmount?: number },
  onConnection: (ws: WebSocketConnection) => void,
) => Promise<{ server: { close(): Promise<unknown> }; url: string; port: number }>;

/** What the slow-reader scenario needs of a client: pausable, and a close it can wait for. */
export interface PausableClient {
  pause(): void;
  resume(): void;
  on(event: 'message', listener: (data: string | Uint8Array) => void): unknown;
  close(): void;
  readonly closed: Promise<unknown>;
}

/** The upgrade request a raw socket sends (to a server on 127.0.0.1). */
export const UPGRADE_REQUEST =
  'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

/** A slow reader: send() returns 'buffered', drain() resolves, all messages arrive in order. */
export async function slowReader(
  ourServer: OurServer,
  connect: (url: string) => Promise<PausableClient>,
): Promise<void> {
  const N = 64;
  const SIZE = 256 * 1024; // 16 MiB in all
  const stats = { sawBuffered: 0, drains: 0, maxBuffered: 0, afterDrain: 0 };
  let sending: Promise<void> | undefined;
  const sendAll = async (ws: WebSocketConnection): Promise<void> => {
    for (let i = 0; i < N; i++) {
      const message = new Uint8Array(SIZE);
      new DataView(message.buffer).setUint32(0, i);
      message[SIZE - 1] = i & 0xff;
      const result = ws.send(message);
      stats.maxBuffered = Math.max(stats.maxBuffered, ws.bufferedAmount);
      assert(result !== 'dropped', `message ${i} dropped on an open connection`);
      if (result === 'buffered') {
        stats.sawBuffered++;
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
    const client = await within(connect(url), 10_000, 'connect');
    client.pause(); // read nothing for a while: the kernel's buffers fill, TCP pushes back
    const got: number[] = [];
    client.on('message', (data) => {
      if (typeof data === 'string') return void got.push(-1);
      const index = new DataView(data.buffer, data.byteOffset).getUint32(0);
      got.push(data.length === SIZE && data[SIZE - 1] === (index & 0xff) ? index : -1);
    });
    await until(() => sending !== undefined, 'server connection');
    await sleep(300);
    assertEquals(got.length, 0, 'nothing is delivered while paused');
    assert(
      stats.maxBuffered > 512 * 1024,
      `bufferedAmount rose while the peer did not read (max ${stats.maxBuffered})`,
    );
    // The kernel's socket buffers absorb a few MiB first; then the sender waits in drain().
    assert(stats.sawBuffered > 0, "send() returned 'buffered'");
    assertEquals(stats.drains, stats.sawBuffered - 1, 'the sender waits in drain()');
    client.resume();
    await within(sending!, 20_000, 'sending');
    await until(() => got.length === N, 'receiving', 20_000);
    assertEquals(
      got,
      Array.from({ length: N }, (_, i) => i),
      'every message, in order',
    );
    assertEquals(stats.drains, stats.sawBuffered, 'every drain() resolved');
    assert(stats.afterDrain <= 128 * 1024, `drain() resolved at ≤ lowWaterMark (${stats.afterDrain})`);
    client.close();
    await within(client.closed, 10_000, 'client close');
  } finally {
    await within(server.close(), 15_000, 'server.close');
  }
}

/**
 * A peer that never reads is terminated once maxBufferedAmount is exceeded. `silentPeer(port)`
 * opens a raw TCP connection, sends UPGRADE_REQUEST, reads the 101 and then never reads again;
 * it returns how to drop that connection.
 */
export async function neverReads(
  ourServer: OurServer,
  silentPeer: (port: number) => Promise<() => void>,
): Promise<void> {
  const MAX = 4 * 1024 * 1024;
  const stats = { sends: 0, maxBuffered: 0, error: null as string | null, sendAfter: '' as string };
  let closed: Promise<SessionCloseInfo> | undefined;
  const { server, port } = await ourServer({ highWaterMark: 1024 * 1024, maxBufferedAmount: MAX }, (ws) => {
    ws.on('error', (error) => (stats.error = error.code));
    // A careless sender: ignores send()'s 'buffered' and keeps going while the connection lives.
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
  let drop: (() => void) | undefined;
  try {
    drop = await within(silentPeer(port), 10_000, 'raw upgrade');
    await until(() => closed !== undefined, 'handshake');
    const info = await within(closed!, 20_000, 'overflow');
    assertEquals(
      [info.error, info.wasClean, info.code],
      ['SEND_BUFFER_OVERFLOW', false, 1006],
      'closed by the overflow',
    );
    assertEquals(stats.error, 'SEND_BUFFER_OVERFLOW', "the 'error' event");
    assertEquals(stats.sendAfter, 'dropped', 'send() after the close');
    // Bounded: at most the limit plus one message and its frame header.
    assert(stats.maxBuffered <= MAX + 64 * 1024 + 14, `bounded: ${stats.maxBuffered}`);
    assert(stats.sends < 20_000, 'stopped by the limit');
  } finally {
    drop?.();
    await within(server.close(), 15_000, 'server.close');
  }
}
