// Shared helpers for the Deno adapter's tests: servers on 127.0.0.1 only, bounded waits.
import { createServer, type ServerOptions, type WebSocketServer } from '../src/index.ts';
import type { ConnectionHandler } from '@ws/codec/session';
import { concat } from '../../../test/shared/bytes.ts';
import { within } from '../../../test/shared/wait.ts';

export const HOST = '127.0.0.1';

/** Our server on a free port. */
export async function ourServer(
  options: ServerOptions = {},
  onConnection?: ConnectionHandler,
): Promise<{ server: WebSocketServer; url: string; port: number }> {
  const server = createServer(options, onConnection);
  const { port } = await server.listen(0, HOST);
  return { server, url: `ws://${HOST}:${port}`, port };
}

/** Bounded waits: `within(promise, ms, what)`, `until(condition, what, ms)`, and `sleep(ms)`. */
export { sleep, until, within } from '../../../test/shared/wait.ts';

/** Deterministic pseudo-random bytes, and byte equality. */
export { bytes, sameBytes as equalBytes } from '../../../test/shared/bytes.ts';

/** Every message a built-in WebSocket received from its creation on, and who waits for more. */
const inboxes = new WeakMap<
  WebSocket,
  { messages: Array<string | Uint8Array>; taken: number; wake: (() => void) | null }
>();

/** Record `ws`'s messages from now on, so that none dispatched before a test listens is lost. */
export function record(ws: WebSocket): WebSocket {
  const inbox = { messages: [] as Array<string | Uint8Array>, taken: 0, wake: null as (() => void) | null };
  inboxes.set(ws, inbox);
  ws.addEventListener('message', (event: MessageEvent) => {
    inbox.messages.push(typeof event.data === 'string' ? event.data : new Uint8Array(event.data as ArrayBuffer));
    inbox.wake?.();
  });
  return ws;
}

/** Deno's built-in WebSocket client, opened, with `binaryType` arraybuffer, its messages recorded. */
export async function denoClient(url: string, protocols?: string | string[]): Promise<WebSocket> {
  const ws = record(new WebSocket(url, protocols));
  ws.binaryType = 'arraybuffer';
  await within(
    new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = (event) => reject(new Error(`Deno WebSocket failed: ${(event as ErrorEvent).message ?? 'error'}`));
    }),
    10_000,
    'Deno WebSocket open',
  );
  ws.onerror = null;
  return ws;
}

/** The next `n` recorded messages of a built-in WebSocket (strings, or bytes for binary). */
export async function denoMessages(ws: WebSocket, n: number, ms = 10_000): Promise<Array<string | Uint8Array>> {
  const inbox = inboxes.get(ws);
  if (inbox === undefined) throw new Error('denoMessages needs a socket from record() or denoClient()');
  await within(
    (async () => {
      while (inbox.messages.length - inbox.taken < n) await new Promise<void>((resolve) => (inbox.wake = resolve));
      inbox.wake = null;
    })(),
    ms,
    `${n} messages`,
  );
  const out = inbox.messages.slice(inbox.taken, inbox.taken + n);
  inbox.taken += n;
  return out;
}

/** Resolves with a built-in WebSocket's close event. */
export function denoClosed(ws: WebSocket): Promise<CloseEvent> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.reject(new Error('already closed'));
  return new Promise((resolve) => ws.addEventListener('close', (event) => resolve(event), { once: true }));
}

/** Close a built-in WebSocket (if open) and wait for its close event. */
export async function denoClose(ws: WebSocket, code?: number, reason?: string): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return;
  const closed = denoClosed(ws);
  ws.close(code, reason);
  await within(closed, 10_000, 'Deno WebSocket close');
}

/** A `Deno.serve` server upgrading every request with `Deno.upgradeWebSocket`. */
export function denoServer(
  onSocket: (socket: WebSocket, request: Request) => void,
  options: { protocol?: string; refuse?: (request: Request) => Response | null } = {},
): { url: string; close: () => Promise<void> } {
  const server = Deno.serve({ hostname: HOST, port: 0, onListen: () => {} }, (request) => {
    const refusal = options.refuse?.(request) ?? null;
    if (refusal !== null) return refusal;
    const { socket, response } = Deno.upgradeWebSocket(
      request,
      options.protocol === undefined ? {} : { protocol: options.protocol },
    );
    socket.binaryType = 'arraybuffer';
    onSocket(socket, request);
    return response;
  });
  const addr = server.addr as Deno.NetAddr;
  return {
    url: `ws://${HOST}:${addr.port}`,
    close: async () => {
      await within(server.shutdown(), 10_000, 'Deno.serve shutdown');
    },
  };
}

/** An upgrade request a raw socket can send. */
export { UPGRADE_REQUEST } from '../../../test/shared/backpressure.ts';

/** Read from `conn` until EOF (bounded), collecting everything. */
export async function readAll(conn: Deno.Conn, ms = 10_000): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buffer = new Uint8Array(64 * 1024);
  await within(
    (async () => {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) return;
        parts.push(buffer.slice(0, n));
      }
    })(),
    ms,
    'reading to EOF',
  );
  return concat(parts);
}

/** Read until the end of an HTTP head; returns the head text and any bytes after it. */
export async function readHead(conn: Deno.Conn): Promise<{ head: string; rest: Uint8Array }> {
  let data = new Uint8Array(0);
  const buffer = new Uint8Array(4096);
  return await within(
    (async () => {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) throw new Error('EOF before the end of the head');
        const next = new Uint8Array(data.length + n);
        next.set(data);
        next.set(buffer.subarray(0, n), data.length);
        data = next;
        const text = new TextDecoder().decode(data);
        const end = text.indexOf('\r\n\r\n');
        if (end !== -1) {
          const headBytes = new TextEncoder().encode(text.slice(0, end + 4)).length;
          return { head: text.slice(0, end), rest: data.slice(headBytes) };
        }
      }
    })(),
    10_000,
    'reading a head',
  );
}

/** A masked client frame. */
export function clientFrame(opcode: number, payload: Uint8Array, fin = true, mask = true): Uint8Array {
  const length = payload.length;
  const header: number[] = [(fin ? 0x80 : 0) | opcode];
  const maskBit = mask ? 0x80 : 0;
  if (length < 126) header.push(maskBit | length);
  else if (length < 65536) header.push(maskBit | 126, length >> 8, length & 0xff);
  else throw new Error('test frames are small');
  const key = [0x12, 0x34, 0x56, 0x78];
  if (mask) header.push(...key);
  const out = new Uint8Array(header.length + length);
  out.set(header);
  for (let i = 0; i < length; i++) out[header.length + i] = mask ? payload[i]! ^ key[i & 3]! : payload[i]!;
  return out;
}

export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) offset += await conn.write(data.subarray(offset));
}
