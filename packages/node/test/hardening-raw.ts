// Raw TCP peers for the Node-only hardening tests (TLS failures): they send exactly the bytes a
// test chooses and see when the server drops them. Servers from these tests count their timers.
// (The cross-runtime suite has its own raw client: test/adapters/raw-client.ts.)
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

  write(bytes: Uint8Array | string): void {
    this.socket.write(bytes);
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
