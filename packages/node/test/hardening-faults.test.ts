// Faults against a real @ws/node server (and our client) over 127.0.0.1: peers that vanish
// mid-handshake, mid-frame and mid-close, half-closed sockets, a peer that sends after its Close,
// TLS failures both ways. Through all of it a bystander connection keeps echoing, and afterwards
// the server holds no socket, no connection and no armed timer.
import net from 'node:net';
import tls from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { computeAcceptKey } from '@ws/codec';
import { HandshakeError, connect, type CloseInfo, type WebSocketConnection } from '../src/index.ts';
import {
  RawClient,
  clientFrame,
  countingTimers,
  expectDrained,
  hardenedServer,
  sleep,
  until,
  upgradeRequest,
} from './hardening-raw.ts';
import { HOST, hasOpenssl, selfSigned, within } from './helpers.ts';

type Harness = Awaited<ReturnType<typeof hardenedServer>>;

/** An echo server that records how each connection ended, plus a bystander client on it. */
async function echoHarness(options: Parameters<typeof hardenedServer>[0] = {}) {
  const closes: CloseInfo[] = [];
  const serverSide: WebSocketConnection[] = [];
  const h = await hardenedServer({ timeouts: { closeTimeout: 2000 }, ...options }, (ws) => {
    serverSide.push(ws);
    ws.on('message', (data) => ws.send(data));
    ws.on('error', () => {});
    ws.on('close', (info) => closes.push(info));
  });
  const bystander = await connect(h.url);
  let round = 0;
  /** The bystander still gets its echo. */
  const alive = async (): Promise<void> => {
    const text = `ping ${++round}`;
    const reply = new Promise<unknown>((resolve) => bystander.once('message', resolve));
    bystander.send(text);
    expect(await within(reply, 5000, 'bystander echo')).toBe(text);
  };
  /** Close the bystander and wait until nothing is left. */
  const drained = async (what: string): Promise<void> => {
    bystander.close(1000);
    await within(bystander.closed, 5000, 'bystander close');
    await expectDrained(h, what);
  };
  return { h, closes, serverSide, bystander, alive, drained };
}

describe('peers that vanish', () => {
  it('mid-handshake: half a request, then FIN or RST', async () => {
    const t = await echoHarness();
    try {
      const request = upgradeRequest();
      for (const cut of [1, 20, request.length - 3]) {
        const fin = await RawClient.connect(t.h.port);
        fin.write(request.slice(0, cut));
        fin.socket.end();
        const rst = await RawClient.connect(t.h.port);
        rst.write(request.slice(0, cut));
        await sleep(5);
        rst.socket.resetAndDestroy();
      }
      await t.alive();
      expect(t.closes).toHaveLength(0); // none of them ever opened
      await t.drained('vanished mid-handshake');
    } finally {
      await t.h.server.close();
    }
  });

  it('mid-frame: a header and half a payload, then gone', async () => {
    const t = await echoHarness();
    try {
      const client = await RawClient.open(t.h.port);
      await until(() => t.serverSide.length === 2, 'server side open');
      client.write(clientFrame(0x82, Buffer.alloc(1000)).subarray(0, 500));
      await sleep(20);
      client.socket.resetAndDestroy();
      await until(() => t.closes.length === 1, 'server notices');
      expect(t.closes[0]).toMatchObject({ code: 1006, wasClean: false });
      await t.alive();
      await t.drained('vanished mid-frame');
    } finally {
      await t.h.server.close();
    }
  });

  it('mid-close: the server sent its Close, the peer disappears without answering', async () => {
    const t = await echoHarness();
    try {
      const client = await RawClient.open(t.h.port);
      await until(() => t.serverSide.length === 2, 'server side open');
      t.serverSide[1]!.close(1000, 'bye');
      await until(() => client.closeCode() === 1000, 'Close frame');
      client.socket.resetAndDestroy();
      await until(() => t.closes.length === 1, 'server notices');
      // Gone well before the 2 s close timeout, without a clean close.
      expect(t.closes[0]).toMatchObject({ wasClean: false, sentCode: 1000 });
      await t.alive();
      await t.drained('vanished mid-close');
    } finally {
      await t.h.server.close();
    }
  });

  // A peer that sends its Close and resets before our echo: on every runtime in test/adapters/hardening.test.ts.

  it('our client: a server that vanishes mid-handshake or mid-close leaves no timer behind', async () => {
    let mode: 'handshake' | 'close' = 'handshake';
    const raw = net.createServer((socket) => {
      let head = '';
      socket.on('error', () => {});
      socket.on('data', (chunk) => {
        if (mode === 'handshake') return socket.destroy();
        head += chunk.toString('latin1');
        if (head.includes('\r\n\r\n') && !head.includes('answered')) {
          head += 'answered';
          const key = /sec-websocket-key: (.*)\r\n/i.exec(head)![1]!;
          socket.write(
            `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${computeAcceptKey(key)}\r\n\r\n`,
          );
        } else if (head.includes('answered') && chunk.length > 0 && (chunk[0]! & 0x0f) === 8) {
          socket.destroy(); // our Close arrived: vanish instead of answering it
        }
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, HOST, resolve));
    const url = `ws://${HOST}:${(raw.address() as net.AddressInfo).port}/`;
    try {
      const timers = countingTimers();
      const failed = await connect(url, { timers }).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(HandshakeError);
      mode = 'close';
      const ws = await connect(url, { timers, timeouts: { closeTimeout: 5000 } });
      ws.close(1000);
      const info = await within(ws.closed, 3000, 'client close');
      expect(info.wasClean).toBe(false);
      expect(timers.armed).toBeGreaterThan(0);
      expect(timers.live).toBe(0);
    } finally {
      raw.close();
    }
  });
});

describe('half-closed sockets and late data', () => {
  it('a peer that sends FIN without a Close: the server closes (1006) and frees the socket', async () => {
    const t = await echoHarness();
    try {
      const client = await RawClient.open(t.h.port);
      await until(() => t.serverSide.length === 2, 'server side open');
      client.write(clientFrame(0x81, 'last words'));
      client.socket.end();
      await until(() => t.closes.length === 1, 'server notices');
      expect(t.closes[0]).toMatchObject({ code: 1006, wasClean: false });
      await until(() => client.ended, 'server half-closes too');
      // The message before the FIN was still echoed.
      expect(client.frames().some(([op, data]) => op === 1 && data.toString() === 'last words')).toBe(true);
      await t.alive();
      await t.drained('half-closed');
    } finally {
      await t.h.server.close();
    }
  });

  it('a peer that keeps its write side open after the close handshake: the server still finishes', async () => {
    const t = await echoHarness();
    try {
      const client = await RawClient.open(t.h.port);
      await until(() => t.serverSide.length === 2, 'server side open');
      client.write(clientFrame(0x88, Buffer.from([0x03, 0xe8])));
      await until(() => client.closeCode() === 1000 && client.ended, 'echo and FIN');
      // We never send FIN: the server's close timeout (2 s here) ends it.
      await until(() => t.closes.length === 1, 'server finishes', 5000);
      expect(t.closes[0]!.wasClean).toBe(true);
      client.destroy();
      await t.drained('peer never sent FIN');
    } finally {
      await t.h.server.close();
    }
  });

  it('a peer that sends frames and garbage after its Close: ignored, no error, no echo', async () => {
    const t = await echoHarness();
    const errors: string[] = [];
    try {
      const client = await RawClient.open(t.h.port);
      await until(() => t.serverSide.length === 2, 'server side open');
      t.serverSide[1]!.on('error', (e) => errors.push(e.code));
      const messages: unknown[] = [];
      t.serverSide[1]!.on('message', (m) => messages.push(m));
      client.write(
        Buffer.concat([
          clientFrame(0x88, Buffer.from([0x03, 0xe8])),
          clientFrame(0x81, 'after close'),
          Buffer.from('garbage \x00\xff'),
          clientFrame(0x89),
        ]),
      );
      await until(() => client.ended, 'server FIN');
      await sleep(50);
      client.write(clientFrame(0x81, 'even later'));
      client.socket.end();
      await until(() => t.closes.length === 1, 'server close');
      expect(messages).toEqual([]);
      expect(errors).toEqual([]);
      expect(t.closes[0]).toMatchObject({ code: 1000, wasClean: true });
      // Only the Close echo came back: no pong, no echo of the late text.
      expect(client.frames().map(([op]) => op)).toEqual([8]);
      await t.alive();
      await t.drained('data after close');
    } finally {
      await t.h.server.close();
    }
  });
});

describe('many faults at once', () => {
  it('300 misbehaving peers in parallel; the bystander keeps echoing; everything is freed', async () => {
    const t = await echoHarness({ timeouts: { handshakeTimeout: 1000, closeTimeout: 1000 } });
    try {
      const faults: Array<() => Promise<void>> = [
        async () => {
          (await RawClient.connect(t.h.port)).socket.resetAndDestroy();
        },
        async () => {
          const c = await RawClient.connect(t.h.port);
          c.write('GET / HTTP/1.1\r\nHo');
        }, // stalls mid-handshake: the handshake timeout ends it
        async () => {
          const c = await RawClient.open(t.h.port);
          c.write(clientFrame(0x82, Buffer.alloc(300)).subarray(0, 100));
          c.socket.resetAndDestroy();
        },
        async () => {
          const c = await RawClient.open(t.h.port);
          c.write(Buffer.from([0x8f, 0x80, 0, 0, 0, 0])); // reserved opcode: 1002
          await until(() => c.ended, 'FIN after 1002');
          c.destroy();
        },
        async () => {
          const c = await RawClient.open(t.h.port);
          c.socket.end(clientFrame(0x88, Buffer.from([0x0b, 0xb8])));
        },
        async () => {
          const c = await RawClient.connect(t.h.port);
          c.write('\x16\x03\x01 this is not HTTP\r\n\r\n');
        },
      ];
      const pending: Array<Promise<void>> = [];
      for (let i = 0; i < 300; i++) {
        pending.push(faults[i % faults.length]!());
        if (i % 50 === 0) await t.alive();
      }
      await Promise.all(pending);
      await t.alive();
      await t.drained('300 faults');
      expect(t.h.timers.armed).toBeGreaterThan(0);
    } finally {
      await t.h.server.close();
    }
  });
});

describe.skipIf(!hasOpenssl())('TLS failures', () => {
  let key: Buffer;
  let cert: Buffer;
  let t: Awaited<ReturnType<typeof echoHarness>> & { h: Harness };
  let secure: WebSocketConnection;

  beforeAll(async () => {
    ({ key, cert } = selfSigned());
  });

  it('bad certificates, plain clients on the TLS port, TLS on the plain port: refused, the rest keeps working', async () => {
    const closes: CloseInfo[] = [];
    const h = await hardenedServer({ tls: { key, cert }, timeouts: { handshakeTimeout: 1000 } }, (ws) => {
      ws.on('message', (data) => ws.send(data));
      ws.on('close', (info) => closes.push(info));
    });
    const wss = `wss://${HOST}:${h.port}/`;
    try {
      secure = await connect(wss, { ca: cert });
      const echo = async (): Promise<void> => {
        const reply = new Promise((resolve) => secure.once('message', resolve));
        secure.send('still here');
        expect(await within(reply, 5000, 'secure echo')).toBe('still here');
      };

      // 1. Our client does not trust the certificate.
      const untrusted = await connect(wss).catch((e: unknown) => e);
      expect(untrusted).toBeInstanceOf(HandshakeError);
      expect((untrusted as HandshakeError).code).toBe('TRANSPORT_ERROR');
      // 2. The name does not match (trusted CA, wrong servername).
      const wrongName = await connect(wss, { ca: cert, servername: 'not-localhost.test' }).catch((e: unknown) => e);
      expect((wrongName as HandshakeError).code).toBe('TRANSPORT_ERROR');
      // 3. A raw TLS client that rejects the certificate itself, mid-TLS-handshake.
      await new Promise<void>((resolve) => {
        const s = tls.connect({ host: HOST, port: h.port, rejectUnauthorized: true });
        s.on('error', () => resolve());
        s.on('secureConnect', () => resolve());
      });
      // 4. A plain-text upgrade sent to the TLS port.
      const plain = await RawClient.connect(h.port);
      plain.write(upgradeRequest());
      await until(() => plain.closed || plain.ended, 'TLS server drops a plain client', 5000);
      plain.destroy();
      // 5. Our ws:// client on the TLS port.
      const wrongScheme = await connect(`ws://${HOST}:${h.port}/`, { timeouts: { handshakeTimeout: 2000 } }).catch(
        (e: unknown) => e,
      );
      expect(wrongScheme).toBeInstanceOf(HandshakeError);
      // 6. A client that opens TCP to the TLS port and never starts TLS (slow loris on wss:): dropped
      //    after handshakeTimeout (1 s here), not after Node's TLS default of 120 s: the wait is
      //    bounded by a few handshake timeouts, far below 120 s.
      const silent = await RawClient.connect(h.port);
      try {
        await until(
          () => silent.closed || silent.ended,
          'silent TLS client dropped within 5 handshake timeouts',
          5 * 1000,
        );
      } finally {
        silent.destroy();
      }

      await echo();
      secure.close(1000);
      await within(secure.closed, 5000, 'secure close');
      await expectDrained(h, 'TLS failures');
      expect(closes.every((c) => c.wasClean)).toBe(true);
    } finally {
      await h.server.close();
    }
  });

  it('a wss:// client on a plain port fails fast, and the plain server is unharmed', async () => {
    const t = await echoHarness();
    try {
      const failed = await connect(`wss://${HOST}:${t.h.port}/`, {
        ca: cert,
        timeouts: { handshakeTimeout: 3000 },
      }).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(HandshakeError);
      await t.alive();
      await t.drained('TLS client on a plain port');
    } finally {
      await t.h.server.close();
    }
  });
});
