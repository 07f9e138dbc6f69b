// NodeTransport's shortcuts past Node's stream machinery: accepted plain TCP sockets read into a
// shared buffer (no 'data' listener), writes without callbacks until bytes stay queued. What they
// must keep: every byte, in order, even when messages are held across many reads; pause/resume
// of the inbound side; TLS and http 'upgrade' sockets on the public path.
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { computeAcceptKey } from '@ws/codec';
import { createHash, randomBytes } from 'node:crypto';
import { handleUpgrade, type WebSocketConnection } from '../src/index.ts';
import { HOST, ourServer, within, wsClient } from './helpers.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('NodeTransport', () => {
  it('reads accepted TCP sockets without a data listener, and keeps every message intact across reads', async () => {
    const received: Uint8Array[] = [];
    let serverSide!: WebSocketConnection;
    const { server, url } = await ourServer({}, (ws) => {
      serverSide = ws;
      ws.on('message', (data) => received.push(data as Uint8Array));
    });
    const dataListeners: number[] = [];
    server.server.on('connection', (socket: net.Socket) => dataListeners.push(socket.listenerCount('data')));
    try {
      const client = await wsClient(url);
      const N = 2000;
      const expected: Buffer[] = [];
      for (let i = 0; i < N; i++) {
        const message = randomBytes(1 + (i % 700));
        expected.push(message);
        client.send(message);
      }
      await within(
        (async () => {
          while (received.length < N) await sleep(5);
        })(),
        15_000,
        'receiving',
      );
      // Node 20+ stores `onread` as the feature test expects: the shortcut is on.
      expect(dataListeners).toEqual([0]);
      // Messages kept until the end still hold their own bytes (the read buffer is shared).
      expect(received.every((data, i) => Buffer.compare(Buffer.from(data), expected[i]!) === 0)).toBe(true);
      expect(serverSide.readyState).toBe('open');
      client.close();
    } finally {
      await within(server.close(), 15_000, 'server.close');
    }
  });

  it('pause() stops reading from the socket and resume() delivers the rest in order', async () => {
    const got: number[] = [];
    let serverSide!: WebSocketConnection;
    const { server, url } = await ourServer({}, (ws) => {
      serverSide = ws;
      ws.pause();
      ws.on('message', (data) =>
        got.push(new DataView((data as Uint8Array).buffer, (data as Uint8Array).byteOffset).getUint32(0)),
      );
    });
    try {
      const client = await wsClient(url);
      const N = 64;
      for (let i = 0; i < N; i++) {
        const message = Buffer.alloc(256 * 1024); // 16 MiB in all: more than the socket buffers hold
        message.writeUInt32BE(i, 0);
        client.send(message);
      }
      await sleep(300);
      expect(got.length).toBe(0);
      expect(client.bufferedAmount).toBeGreaterThan(0); // the kernel's buffers filled up
      serverSide.resume();
      await within(
        (async () => {
          while (got.length < N) await sleep(5);
        })(),
        20_000,
        'receiving after resume',
      );
      expect(got).toEqual(Array.from({ length: N }, (_, i) => i));
      client.close();
    } finally {
      await within(server.close(), 15_000, 'server.close');
    }
  });

  it('leaves http upgrade sockets on the public path', async () => {
    const http1 = http.createServer();
    const echoed = new Promise<string>((resolve) => {
      http1.on('upgrade', (req, socket, head) => {
        handleUpgrade(req, socket, head, (ws) => ws.on('message', (data) => ws.send(data)));
        expect(socket.listenerCount('data')).toBe(1);
        socket.once('close', () => undefined);
      });
      void (async () => {
        await new Promise<void>((r) => http1.listen(0, HOST, () => r()));
        const { port } = http1.address() as net.AddressInfo;
        const client = await wsClient(`ws://${HOST}:${port}`);
        client.send('over http');
        client.once('message', (data: Buffer) => {
          resolve(data.toString());
          client.close();
        });
      })();
    });
    try {
      expect(await within(echoed, 10_000, 'echo')).toBe('over http');
    } finally {
      http1.closeAllConnections();
      await new Promise<void>((r) => http1.close(() => r()));
    }
  });
});

describe('computeAcceptKey', () => {
  it('equals base64(SHA-1(key + GUID)) from node:crypto for keys of every length up to 3 blocks', () => {
    const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
    for (let length = 0; length < 200; length++) {
      const key = randomBytes(length).toString('latin1');
      expect(computeAcceptKey(key)).toBe(
        createHash('sha1')
          .update(Buffer.from(key + GUID, 'latin1'))
          .digest('base64'),
      );
    }
  });
});
