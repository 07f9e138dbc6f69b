// Raw TCP peers for the hardening tests: they send exactly the bytes a test chooses (malformed,
// slow, half a frame) and read back what the server said, so a test can check the HTTP status
// or the Close code on the wire. Servers from these tests count their timers.
import net from 'node:net';
import { createServer, type ServerOptions, type WebSocketServer } from '../src/index.ts';
import type { ConnectionHandler, Timers } from '@ws/codec/session';
import { HOST, sleep, until as untilWithin, within } from './helpers.ts';

export { sleep };

export const until = (condition: () => boolean, what: string, ms = 15_000): Promise<void> =>
  untilWithin(condition, what, ms);

export const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

export function upgradeRequest(extra = '', path = '/'): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
}

/** A client frame (masked with a zero key, so the payload is sent as is). */
export function clientFrame(b0: number, payload: Uint8Array | string = new Uint8Array(0)): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
  const n = data.length;
  const head =
    n < 126
      ? Buffer.from([b0, 0x80 | n])
      : n < 65536
        ? Buffer.from([b0, 0x80 | 126, n >> 8, n & 0xff])
        : Buffer.concat([Buffer.from([b0, 0x80 | 127]), u64(n)]);
  return Buffer.concat([head, Buffer.alloc(4), data]);
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** A raw client socket that records everything it reads and when it closed. */
export class RawClient {
  readonly socket: net.Socket;
  received = Buffer.alloc(0);
  ended = false;
  closed = false;
  error: Error | null = null;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk) => (this.received = Buffer.concat([this.received, chunk])));
    socket.on('end', () => (this.ended = true));
    socket.on('close', () => (this.closed = true));
    socket.on('error', (error) => (this.error = error));
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = net.connect({ host: HOST, port, allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  /** Connect and complete a plain upgrade; resolves once the 101 head has arrived. */
  static async open(port: number): Promise<RawClient> {
    const client = await RawClient.connect(port);
    client.socket.write(upgradeRequest());
    await until(() => client.received.includes('\r\n\r\n'), '101 response');
    if (!client.text().startsWith('HTTP/1.1 101')) throw new Error(`not upgraded: ${client.text()}`);
    client.received = client.received.subarray(client.received.indexOf('\r\n\r\n') + 4);
    return client;
  }

  write(bytes: Uint8Array | string): void {
    this.socket.write(bytes);
  }

  text(): string {
    return this.received.toString('latin1');
  }

  /** The HTTP status of a response read so far, or null. */
  status(): number | null {
    const match = /^HTTP\/1\.1 (\d{3})/.exec(this.text());
    return match ? Number(match[1]) : null;
  }

  /** Server frames read so far: [opcode, payload]. */
  frames(): Array<[number, Buffer]> {
    const out: Array<[number, Buffer]> = [];
    let at = 0;
    const b = this.received;
    while (at + 2 <= b.length) {
      let n = b[at + 1]! & 0x7f;
      let p = at + 2;
      if (n === 126) {
        if (p + 2 > b.length) break;
        n = b.readUInt16BE(p);
        p += 2;
      } else if (n === 127) {
        if (p + 8 > b.length) break;
        n = Number(b.readBigUInt64BE(p));
        p += 8;
      }
      if (p + n > b.length) break;
      out.push([b[at]! & 0x0f, b.subarray(p, p + n)]);
      at = p + n;
    }
    return out;
  }

  /** The code of the Close frame the server sent, or null. */
  closeCode(): number | null {
    const close = this.frames().find(([op]) => op === 8);
    return close && close[1].length >= 2 ? close[1].readUInt16BE(0) : null;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Timers for a server that count how many are armed, so a test can see none is left. */
export function countingTimers(): Timers & { readonly live: number; readonly armed: number } {
  const live = new Set<unknown>();
  let armed = 0;
  return {
    setTimeout(callback, ms) {
      armed++;
      const handle = setTimeout(() => {
        live.delete(handle);
        callback();
      }, ms);
      handle.unref();
      live.add(handle);
      return handle;
    },
    clearTimeout(handle) {
      live.delete(handle);
      clearTimeout(handle as NodeJS.Timeout);
    },
    get live() {
      return live.size;
    },
    get armed() {
      return armed;
    },
  };
}

/** Our server on 127.0.0.1 with counting timers; `sockets()` is the OS-level connection count. */
export async function hardenedServer(options: ServerOptions = {}, onConnection?: ConnectionHandler) {
  const timers = countingTimers();
  const server: WebSocketServer = createServer({ timers, ...options }, onConnection);
  const { port } = await server.listen(0, HOST);
  const sockets = (): Promise<number> =>
    new Promise((resolve, reject) => server.server.getConnections((error, n) => (error ? reject(error) : resolve(n))));
  return { server, port, url: `ws://${HOST}:${port}`, timers, sockets };
}

/** Wait until the server holds no socket, no open connection and no armed timer. */
export async function expectDrained(h: Awaited<ReturnType<typeof hardenedServer>>, what: string): Promise<void> {
  let sockets = -1;
  const stopAt = Date.now() + 16_000; // the poll ends soon after `within` gives up
  await within(
    (async () => {
      while (Date.now() < stopAt) {
        sockets = await h.sockets();
        if (sockets === 0 && h.server.connections.size === 0 && h.timers.live === 0) return;
        await sleep(10);
      }
    })(),
    15_000,
    `${what}: sockets ${sockets}, connections ${h.server.connections.size}, timers ${h.timers.live}`,
  );
}
