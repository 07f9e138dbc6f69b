// Faults only our Node adapter's own tests can set up (the server side of peers that vanish,
// half-close, send after their Close or misbehave by the hundred runs on every runtime in
// test/adapters/hardening.test.ts): our Node client when the server vanishes mid-handshake or
// mid-close (no timer left, counted by injected timers), and TLS failures both ways against a
// real @ws/node TLS server (the echo bins that suite starts speak plain TCP only). Through the
// TLS cases a bystander connection keeps echoing, and afterwards the server holds no socket, no
// connection and no armed timer.
import net from 'node:net';
import tls from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { computeAcceptKey } from '@ws/codec';
import { HandshakeError, connect, type CloseInfo, type WebSocketConnection } from '../src/index.ts';
import { RawClient, countingTimers, expectDrained, hardenedServer, until, upgradeRequest } from './hardening-raw.ts';
import { HOST, hasOpenssl, selfSigned, within } from './helpers.ts';

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

describe('our client when the server vanishes', () => {
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

describe.skipIf(!hasOpenssl())('TLS failures', () => {
  let key: Buffer;
  let cert: Buffer;
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
