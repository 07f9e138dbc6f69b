// NodeTransport's shortcuts past Node's stream machinery: accepted plain TCP sockets read into a
// shared buffer (no 'data' listener), writes without callbacks until bytes stay queued. What they
// must keep: every byte, in order, even when messages are held across many reads; pause/resume
// of the inbound side; TLS and http 'upgrade' sockets on the public path.
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { computeAcceptKey } from '@ws/codec';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, handleUpgrade, type WebSocketConnection } from '../src/index.ts';
import { readShared, sharedReadsSelfTest, sharedReadsVerified } from '../src/shared-reads.ts';
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
      // Node 20+ stores `onread` as expected and the self-test passed: the shortcut is on.
      expect(sharedReadsVerified()).toBe(true);
      expect(dataListeners).toEqual([0]);
      // Messages kept until the end still hold their own bytes (the read buffer is shared).
      expect(received.every((data, i) => Buffer.compare(Buffer.from(data), expected[i]!) === 0)).toBe(true);
      expect(serverSide.readyState).toBe('open');
      client.close();
    } finally {
      await within(server.close(), 15_000, 'server.close');
    }
  });

  it('sharedReadBuffer: false keeps accepted sockets on the public path, every message intact', async () => {
    const received: Uint8Array[] = [];
    const { server, url } = await ourServer({ sharedReadBuffer: false }, (ws) => {
      ws.on('message', (data) => received.push(data as Uint8Array));
    });
    const dataListeners: number[] = [];
    server.server.on('connection', (socket: net.Socket) => dataListeners.push(socket.listenerCount('data')));
    try {
      const client = await wsClient(url);
      const expected = Array.from({ length: 200 }, (_, i) => randomBytes(1 + ((i * 37) % 900)));
      for (const message of expected) client.send(message);
      await within(
        (async () => {
          while (received.length < expected.length) await sleep(5);
        })(),
        15_000,
        'receiving',
      );
      expect(dataListeners).toEqual([1]);
      expect(received.every((data, i) => Buffer.compare(Buffer.from(data), expected[i]!) === 0)).toBe(true);
      client.close();
    } finally {
      await within(server.close(), 15_000, 'server.close');
    }
    expect(() => createServer({ sharedReadBuffer: 'yes' as never })).toThrow(TypeError);
  });

  it('the shared-read self-test passes with this Node, and fails (so servers keep the public path) when the internals misbehave', async () => {
    expect(await sharedReadsSelfTest()).toBe(true);
    // Internals that deliver wrong bytes: caught by comparing with the known data.
    const corrupting: typeof readShared = (socket, onRead) =>
      readShared(socket, function (length, buffer) {
        buffer[0] = buffer[0]! ^ 1;
        onRead.call(this, length, buffer);
      });
    expect(await sharedReadsSelfTest(corrupting)).toBe(false);
    // Internals that are not there: the switch is refused.
    expect(await sharedReadsSelfTest(() => false)).toBe(false);
    // Internals that accept the switch but never call back: the bytes never arrive (bounded wait).
    expect(await sharedReadsSelfTest(() => true)).toBe(false);
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
