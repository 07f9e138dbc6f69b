// Backpressure over real sockets: a slow reader (bufferedAmount rises, drain resolves, every
// message arrives in order) and a peer that never reads (the send buffer hits maxBufferedAmount
// and the connection is terminated, so memory stays bounded).
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { CloseInfo, WebSocketConnection, WebSocketError } from '../src/index.ts';
import { HOST, ourServer, sleep, until as untilWithin, within, wsClient } from './helpers.ts';

const until = (condition: () => boolean, what: string): Promise<void> => untilWithin(condition, what, 20_000);

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
      const client = await wsClient(url);
      client.pause(); // read nothing for a while
      const got: number[] = [];
      client.on('message', (data: Buffer) => {
        if (data.length === SIZE && data[SIZE - 1] === (data.readUInt32BE(0) & 0xff)) got.push(data.readUInt32BE(0));
        else got.push(-1);
      });
      await sleep(300);
      expect(stats.maxBuffered).toBeGreaterThan(512 * 1024); // it rose while the peer did not read
      // The kernel's socket buffers absorb a few MiB first; then the sender waits in drain().
      expect(stats.sawFalse).toBeGreaterThan(0);
      expect(stats.drains).toBe(stats.sawFalse - 1);
      client.resume();
      await within(sending, 20_000, 'sending');
      await until(() => got.length === N, 'receiving');
      expect(got).toEqual(Array.from({ length: N }, (_, i) => i));
      expect(stats.drains).toBe(stats.sawFalse);
      expect(stats.afterDrain).toBeLessThanOrEqual(128 * 1024);
      client.close();
    } finally {
      await within(server.close(), 15_000, 'server.close');
    }
  });

  it('terminates a peer that never reads once maxBufferedAmount is exceeded', async () => {
    const MAX = 4 * 1024 * 1024;
    const stats = { sends: 0, maxBuffered: 0, error: null as string | null, sendAfter: true };
    let closed!: Promise<CloseInfo>;
    const { server, port } = await ourServer({ highWaterMark: 1024 * 1024, maxBufferedAmount: MAX }, (ws) => {
      ws.on('error', (error: WebSocketError) => (stats.error = error.code));
      // A careless sender: ignores send()'s false and keeps going while the connection lives.
      const pump = (): void => {
        for (let i = 0; i < 8 && ws.readyState === 'open'; i++) {
          ws.send(new Uint8Array(64 * 1024));
          stats.sends++;
          stats.maxBuffered = Math.max(stats.maxBuffered, ws.bufferedAmount);
        }
        if (ws.readyState === 'open' && stats.sends < 20_000) setImmediate(pump);
      };
      pump();
      closed = ws.closed.then((info) => {
        stats.sendAfter = ws.send('late');
        return info;
      });
    });
    const socket = net.connect(port, HOST);
    socket.on('error', () => {});
    try {
      socket.write(
        'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      );
      socket.once('data', () => socket.pause()); // read the 101, then never again
      await until(() => closed !== undefined, 'handshake');
      const info = await within(closed, 20_000, 'overflow');
      expect(info).toMatchObject({ error: 'SEND_BUFFER_OVERFLOW', wasClean: false, code: 1006 });
      expect(stats.error).toBe('SEND_BUFFER_OVERFLOW');
      expect(stats.sendAfter).toBe(false);
      // Bounded: at most the limit plus one message and its frame header.
      expect(stats.maxBuffered).toBeLessThanOrEqual(MAX + 64 * 1024 + 14);
      expect(stats.sends).toBeLessThan(20_000);
    } finally {
      socket.destroy();
      await within(server.close(), 15_000, 'server.close');
    }
  });
});
