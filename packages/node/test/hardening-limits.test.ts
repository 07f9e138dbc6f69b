// Every limit hit on purpose against a real @ws/node server over 127.0.0.1, each with the answer
// the RFCs ask for (431, 1009, a dropped socket), and the server left with no socket, connection
// or timer afterwards. Peers are raw sockets so they can send exactly what breaks the limit.
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { permessageDeflate } from '@ws/codec/pako';
import { connect, type CloseInfo, type WebSocketConnection, type WebSocketError } from '../src/index.ts';
import {
  RawClient,
  clientFrame,
  expectDrained,
  hardenedServer,
  sleep,
  until,
  upgradeRequest,
} from './hardening-raw.ts';
import { within } from './helpers.ts';

/** Collects each server connection's errors and close info. */
function tracker() {
  const errors: string[] = [];
  const closes: CloseInfo[] = [];
  const handler = (ws: WebSocketConnection): void => {
    ws.on('error', (error: WebSocketError) => errors.push(error.code));
    ws.on('close', (info: CloseInfo) => closes.push(info));
  };
  return { errors, closes, handler };
}

describe('HTTP head limits (431)', () => {
  /** A raw client `send`s a head the server must refuse: answered 431 and closed, nothing left behind. */
  async function refused431(
    options: Parameters<typeof hardenedServer>[0],
    send: (client: RawClient) => void,
  ): Promise<void> {
    const h = await hardenedServer(options);
    try {
      const client = await RawClient.connect(h.port);
      send(client);
      await until(() => client.ended || client.closed, 'server closes');
      expect(client.status()).toBe(431);
      await expectDrained(h, 'after 431');
      client.destroy();
    } finally {
      await h.server.close();
    }
  }

  it('a head over maxHeadBytes is answered 431 and dropped', () =>
    refused431({ limits: { maxHeadBytes: 4096 } }, (client) =>
      client.write(upgradeRequest(`X-Big: ${'a'.repeat(5000)}\r\n`)),
    ));

  it('the default 16 KiB: a 17 KiB head is refused, sent in pieces or at once, before it ends', () =>
    refused431({}, (client) => {
      // No blank line ever comes: the limit, not the end of the head, stops the server reading.
      client.write(`GET / HTTP/1.1\r\nHost: a\r\n`);
      for (let i = 0; i < 17 && !client.closed; i++) client.write(`X-${i}: ${'b'.repeat(1020)}\r\n`);
    }));

  it('more than maxHeaders fields (default 100) is answered 431', async () => {
    const h = await hardenedServer();
    try {
      const client = await RawClient.connect(h.port);
      client.write(upgradeRequest(Array.from({ length: 100 }, (_, i) => `X-F${i}: v\r\n`).join('')));
      await until(() => client.ended || client.closed, 'server closes');
      expect(client.status()).toBe(431);
      // 94 extra fields + the 6 of the handshake = exactly 100: accepted.
      const ok = await RawClient.connect(h.port);
      ok.write(upgradeRequest(Array.from({ length: 94 }, (_, i) => `X-F${i}: v\r\n`).join('')));
      await until(() => ok.received.includes('\r\n\r\n'), 'response');
      expect(ok.status()).toBe(101);
      ok.destroy();
      client.destroy();
      await expectDrained(h, 'after 431 and 101');
    } finally {
      await h.server.close();
    }
  });
});

describe('frame and message limits (1009)', () => {
  async function violate(
    limits: Record<string, number>,
    bytes: Buffer[],
    expected: string,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    const t = tracker();
    const h = await hardenedServer({ limits, ...extra }, t.handler);
    try {
      const client = await RawClient.open(h.port);
      for (const b of bytes) if (!client.closed) client.write(b);
      await until(() => client.closeCode() !== null, 'Close frame from the server');
      expect(client.closeCode()).toBe(1009);
      client.socket.end(clientFrame(0x88, Buffer.from([0x03, 0xf1]))); // answer the Close, then FIN
      await until(() => t.closes.length === 1, 'server close');
      expect(t.errors).toEqual([expected]);
      expect(t.closes[0]!.error).toBe(expected);
      expect(t.closes[0]!.sentCode).toBe(1009);
      await expectDrained(h, expected);
      client.destroy();
    } finally {
      await h.server.close();
    }
  }

  it('a frame over maxFrameSize: refused from its header, before the payload', async () => {
    // Only the header is sent: the server must not wait for a megabyte it will refuse anyway.
    const header = clientFrame(0x82, Buffer.alloc(2000)).subarray(0, 8);
    await violate({ maxFrameSize: 1000 }, [header], 'FRAME_TOO_LARGE');
  });

  it('a message over maxMessageSize across fragments', async () => {
    await violate(
      { maxMessageSize: 1000 },
      [clientFrame(0x02, Buffer.alloc(600)), clientFrame(0x80, Buffer.alloc(600))],
      'MESSAGE_TOO_LARGE',
    );
  });

  it('a message declared over maxMessageSize in one 64-bit-length frame header', async () => {
    const header = Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]); // 2 GiB
    await violate({}, [header], 'FRAME_TOO_LARGE');
  });

  it('more than maxFragments frames in a message', async () => {
    const frames = [clientFrame(0x02, 'a'), ...Array.from({ length: 10 }, () => clientFrame(0x00, 'a'))];
    await violate({ maxFragments: 10 }, frames, 'TOO_MANY_FRAGMENTS');
  });

  // The zero-length continuation flood (default maxFragments) runs on every runtime: test/adapters/hardening.test.ts.

  it('a decompression bomb (16 MiB of zeros in ≈ 16 KB) stops at maxMessageSize', async () => {
    const compressed = deflateRawSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
    expect(compressed.length).toBeLessThan(64 * 1024);
    const t = tracker();
    const h = await hardenedServer(
      { limits: { maxMessageSize: 1024 * 1024 }, extensions: [permessageDeflate()] },
      t.handler,
    );
    try {
      const client = await RawClient.connect(h.port);
      client.write(upgradeRequest('Sec-WebSocket-Extensions: permessage-deflate\r\n'));
      await until(() => client.received.includes('\r\n\r\n'), '101');
      expect(client.text()).toMatch(/sec-websocket-extensions: permessage-deflate/i);
      client.received = client.received.subarray(client.received.indexOf('\r\n\r\n') + 4);
      // RSV1 + binary, FIN; the payload is the DEFLATE stream without its final sync tail.
      client.write(clientFrame(0xc2, compressed));
      await until(() => client.closeCode() !== null, 'Close frame');
      expect(client.closeCode()).toBe(1009);
      expect(t.errors).toEqual(['MESSAGE_TOO_LARGE']);
      client.destroy();
      await expectDrained(h, 'bomb');
    } finally {
      await h.server.close();
    }
  });
});

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

describe('timeouts on real sockets', () => {
  it('handshake timeout: a slow-loris client trickling its head is dropped', async () => {
    const h = await hardenedServer({ timeouts: { handshakeTimeout: 300 } });
    try {
      const client = await RawClient.connect(h.port);
      const request = upgradeRequest();
      // One byte every 20 ms: the whole head would take ≈ 3 s, ten handshake timeouts.
      let sent = 0;
      for (; sent < request.length - 4 && !client.closed; sent++) {
        client.write(request[sent]!);
        await sleep(20);
      }
      expect(client.closed).toBe(true);
      expect(sent).toBeLessThan(request.length - 4); // dropped while still trickling, not after the head
      expect(client.status()).toBeNull(); // nothing answered: the socket is just dropped
      await expectDrained(h, 'slow loris');
    } finally {
      await h.server.close();
    }
  });

  it('handshake timeout: a client that connects and says nothing', async () => {
    const h = await hardenedServer({ timeouts: { handshakeTimeout: 200 } });
    try {
      const clients = await Promise.all(Array.from({ length: 20 }, () => RawClient.connect(h.port)));
      await until(() => clients.every((c) => c.ended || c.closed), 'all dropped', 5000);
      expect(clients.map((c) => c.status())).toEqual(clients.map(() => null)); // dropped unanswered
      for (const c of clients) c.destroy();
      await expectDrained(h, 'silent clients');
    } finally {
      await h.server.close();
    }
  });

  it('idle timeout: a silent open connection is closed with 1001 on both sides', async () => {
    const t = tracker();
    const h = await hardenedServer({ timeouts: { idleTimeout: 300 } }, t.handler);
    try {
      const ws = await connect(h.url);
      const info = await within(ws.closed, 5000, 'client close');
      expect(info.code).toBe(1001);
      expect(info.wasClean).toBe(true);
      await until(() => t.closes.length === 1, 'server close');
      expect(t.closes[0]!.error).toBe('IDLE_TIMEOUT');
      expect(t.closes[0]!.sentCode).toBe(1001);
      await expectDrained(h, 'idle');
    } finally {
      await h.server.close();
    }
  });

  it('close timeout: a peer that never answers our Close is dropped', async () => {
    const t = tracker();
    let serverWs!: WebSocketConnection;
    const h = await hardenedServer({ timeouts: { closeTimeout: 300 } }, (ws) => {
      serverWs = ws;
      t.handler(ws);
    });
    try {
      const client = await RawClient.open(h.port);
      await until(() => serverWs !== undefined, 'server side open');
      serverWs.close(1000, 'bye');
      await until(() => client.closeCode() === 1000, 'Close frame');
      // The client neither answers nor closes TCP.
      await until(() => t.closes.length === 1, 'server gives up', 5000);
      expect(t.closes[0]!.error).toBe('CLOSE_TIMEOUT');
      expect(t.closes[0]!.wasClean).toBe(false);
      await until(() => client.closed || client.ended, 'socket dropped');
      client.destroy();
      await expectDrained(h, 'close timeout');
    } finally {
      await h.server.close();
    }
  });
});
