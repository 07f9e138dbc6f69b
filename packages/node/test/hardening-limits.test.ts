// Limits hit by our Node client (the server side of every limit runs on every runtime in
// test/adapters/hardening.test.ts): a client writing to a server that never reads is terminated
// with SEND_BUFFER_OVERFLOW once its unsent bytes pass maxBufferedAmount. The peer is a raw
// node:net server so that it can answer the handshake and then read nothing.
import { describe, expect, it } from 'vitest';
import { connect, type WebSocketError } from '../src/index.ts';
import { sleep } from './hardening-raw.ts';
import { within } from './helpers.ts';

describe('a peer that does not read (send buffer)', () => {
  it('our client, sending to a server that never reads, terminates with SEND_BUFFER_OVERFLOW', async () => {
    // A raw server that answers the handshake and then reads nothing more.
    const net = await import('node:net');
    const { computeAcceptKey } = await import('@ws/codec');
    const raw = net.createServer((socket) => {
      let head = '';
      const onData = (chunk: Buffer): void => {
        head += chunk.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        socket.off('data', onData);
        socket.pause();
        const key = /sec-websocket-key: (.*)\r\n/i.exec(head)![1]!;
        socket.write(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${computeAcceptKey(key)}\r\n\r\n`,
        );
      };
      socket.on('data', onData);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    const port = (raw.address() as { port: number }).port;
    try {
      const ws = await connect(`ws://127.0.0.1:${port}/`, {
        highWaterMark: 256 * 1024,
        maxBufferedAmount: 4 * 1024 * 1024,
      });
      const errors: string[] = [];
      ws.on('error', (e: WebSocketError) => errors.push(e.code));
      const chunk = new Uint8Array(256 * 1024);
      let sent = 0;
      let maxBuffered = 0;
      while (ws.readyState === 'open' && sent < 4096) {
        ws.send(chunk);
        sent++;
        maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
        if (sent % 16 === 0) await sleep(1);
      }
      const info = await within(ws.closed, 10_000, 'client close');
      expect(errors).toEqual(['SEND_BUFFER_OVERFLOW']);
      expect(info.error).toBe('SEND_BUFFER_OVERFLOW');
      // Never more than the limit plus the message that crossed it.
      expect(maxBuffered).toBeLessThanOrEqual(4 * 1024 * 1024 + chunk.length + 64);
    } finally {
      raw.close();
    }
  });
});
