// Shared helpers for the Bun adapter's tests: servers on 127.0.0.1 only, bounded waits.
import { createServer, type ServerOptions, type WebSocketServer } from '../src/index.ts';
import type { ConnectionHandler } from '@ws/codec/session';
import { within } from '../../../test/shared/wait.ts';

export const HOST = '127.0.0.1';
export const MIB16 = 16 * 1024 * 1024;
export const SIZES = [0, 125, 126, 65535, 65536];

/** Our server on a free port. */
export async function ourServer(
  options: ServerOptions = {},
  onConnection?: ConnectionHandler,
): Promise<{ server: WebSocketServer; url: string; port: number }> {
  const server = createServer(options, onConnection);
  const { port } = await server.listen(0, HOST);
  return { server, url: `ws://${HOST}:${port}`, port };
}

/** Bounded waits: `within(promise, ms, what)`, `until(condition, what, ms)`. */
export { until, within } from '../../../test/shared/wait.ts';

/** Deterministic pseudo-random bytes, and byte equality. */
export { bytes, sameBytes as equalBytes } from '../../../test/shared/bytes.ts';

export function text(n: number): string {
  const unit = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

/** Bun's built-in WebSocket client, opened (binaryType arraybuffer). */
export async function bunClient(url: string, protocols?: string | string[]): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols);
  ws.binaryType = 'arraybuffer';
  await within(
    new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error(`could not open ${url}`)), { once: true });
    }),
    10_000,
    `open ${url}`,
  );
  return ws;
}

/** The next `n` messages of a Bun WebSocket client. */
export function bunMessages(ws: WebSocket, n: number): Promise<Array<string | Uint8Array>> {
  return new Promise((resolve) => {
    const got: Array<string | Uint8Array> = [];
    const onMessage = (event: MessageEvent): void => {
      got.push(typeof event.data === 'string' ? event.data : new Uint8Array(event.data as ArrayBuffer));
      if (got.length === n) {
        ws.removeEventListener('message', onMessage);
        resolve(got);
      }
    };
    ws.addEventListener('message', onMessage);
  });
}

export function bunClosed(ws: WebSocket): Promise<{ code: number; reason: string; wasClean: boolean }> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve({ code: 1006, reason: '', wasClean: false });
    ws.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean }), {
      once: true,
    });
  });
}
