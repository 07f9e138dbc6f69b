// Shared helpers for the Deno adapter's tests: servers on 127.0.0.1 only, bounded waits.
import {
  type ConnectOptions,
  connect,
  createServer,
  createUpgradeHandler,
  type ServerOptions,
  type WebSocketConnection,
  type WebSocketServer,
} from '../src/index.ts';
import type { ConnectionHandler } from '@ws/codec/session';
import { assert, assertEquals } from '../../../test/shared/assert.ts';
import { coreOp, type OpCheck, type SocketOp } from '../src/op-self-test.ts';
import { nextMessages } from '../../../test/shared/messages.ts';
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

/** Sockets this process holds (Linux: /proc/self/fd), or null where that cannot be read. */
export function openSockets(): number | null {
  try {
    let n = 0;
    for (const entry of Deno.readDirSync('/proc/self/fd')) {
      try {
        if (Deno.readLinkSync(`/proc/self/fd/${entry.name}`).startsWith('socket:')) n++;
      } catch {
        // closed while listed
      }
    }
    return n;
  } catch {
    return null;
  }
}

/** The prototype that holds Deno's `Conn.prototype.read` and `.write`, found on a real TCP conn. */
async function connPrototype(): Promise<
  Record<'read' | 'write', (this: Deno.Conn, buffer: Uint8Array) => Promise<unknown>>
> {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const client = await Deno.connect({ hostname: HOST, port: (listener.addr as Deno.NetAddr).port });
  const server = await listener.accept();
  client.close();
  server.close();
  listener.close();
  let proto: object | null = Object.getPrototypeOf(client);
  while (proto !== null && !(Object.hasOwn(proto, 'read') && Object.hasOwn(proto, 'write')))
    proto = Object.getPrototypeOf(proto);
  if (proto === null) throw new Error('Deno.Conn has read and write methods');
  return proto as Record<'read' | 'write', (this: Deno.Conn, buffer: Uint8Array) => Promise<unknown>>;
}

/**
 * Echo two messages between our server (or an upgrade handler) and our client with these
 * options; returns how many times `conn.read()` or `conn.write()` (`method`) was called meanwhile
 * (on any TCP conn: only theirs are open; the ops' self-tests, which call them, must be over).
 */
export async function connCallsDuringEcho(
  method: 'read' | 'write',
  serverOptions: ServerOptions,
  clientOptions: ConnectOptions,
  upgradeHandler = false,
): Promise<number> {
  const owner = await connPrototype();
  const original = owner[method];
  let calls = 0;
  owner[method] = function (buffer) {
    calls++;
    return original.call(this, buffer);
  };
  const echo = (ws: WebSocketConnection): void => {
    ws.on('message', (data) => ws.send(data));
    ws.on('error', () => {});
  };
  const listener = upgradeHandler ? Deno.listen({ hostname: HOST, port: 0 }) : null;
  const handler = upgradeHandler ? createUpgradeHandler(serverOptions, echo) : null;
  const server = upgradeHandler ? null : createServer(serverOptions, echo);
  try {
    const port =
      listener !== null
        ? (listener.addr as Deno.NetAddr).port
        : (await (server?.listen(0, HOST) ?? Promise.reject())).port;
    const accepted = listener?.accept().then((conn) => handler?.handleSocket(conn));
    const ws = await within(connect(`ws://${HOST}:${port}`, clientOptions));
    await accepted;
    const got = within(nextMessages(ws, 2), 10_000, 'two echoes');
    ws.send('through the op?');
    ws.send(Uint8Array.of(1, 2, 3));
    const [text, binary] = await got;
    assertEquals(text, 'through the op?');
    assertEquals(binary instanceof Uint8Array ? [...binary] : binary, [1, 2, 3]);
    ws.close();
    assertEquals((await within(ws.closed)).wasClean, true, 'a clean close');
  } finally {
    owner[method] = original;
    await server?.close();
    await handler?.close();
    listener?.close();
  }
  return calls;
}

/** Deno's own read or write op, looked up as the transport does (op-self-test.ts); the tests' fakes wrap it. */
export function denoOp<Op extends SocketOp>(name: 'read' | 'write'): Op {
  const op = coreOp<Op>(name);
  if (op === null) throw new Error(`this Deno has no ${name} op where @ws/deno looks for it`);
  return op;
}

/** A TCP connection over 127.0.0.1: the listener, both ends, and a close for all three (closed ones skipped). */
export async function loopbackPair(): Promise<{
  listener: Deno.Listener;
  client: Deno.Conn;
  server: Deno.Conn;
  close(): void;
}> {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const client = await Deno.connect({ hostname: HOST, port: (listener.addr as Deno.NetAddr).port });
  const server = await listener.accept();
  return {
    listener,
    client,
    server,
    close() {
      for (const resource of [client, server, listener])
        try {
          resource.close();
        } catch {
          // already closed
        }
    },
  };
}

/**
 * With `wrong` (a fake op) the self-test of `check` fails, and every connection, through our
 * server, an upgrade handler and our client, falls back on `conn.read()` or `conn.write()`
 * (`method`), echoing as before; with the real op again, it passes and is used again.
 */
export async function fallsBackAfterFailedSelfTest<Op extends SocketOp>(
  check: OpCheck<Op>,
  method: 'read' | 'write',
  wrong: (real: Op) => Op,
  /** The options that ask for the op (the write op is off unless asked for). */
  on: { rawWrites?: boolean } = {},
): Promise<void> {
  const real = denoOp<Op>(method);
  try {
    assertEquals(await check.retest(wrong(real)), false, 'the self-test fails');
    assertEquals(await check.works(), false, 'and that is the verdict for the process');
    assert((await connCallsDuringEcho(method, on, on)) > 0, 'createServer and connect fall back');
    assert((await connCallsDuringEcho(method, on, on, true)) > 0, 'an upgrade handler falls back');
  } finally {
    assertEquals(await check.retest(real), true, 'the real op passes again');
  }
  assertEquals(await connCallsDuringEcho(method, on, on), 0, 'and is used again');
}

/** `check` hands its op out for no conn but those of the class its self-test used: not a fake, not another class. */
export async function refusesOtherConns(check: OpCheck<SocketOp>): Promise<void> {
  const fake = { read: () => Promise.resolve(null), write: () => Promise.resolve(0) } as unknown as Deno.Conn;
  assertEquals(check.ridFor(fake), -1, 'a fake conn');
  // A conn of a class the self-test did not use (as a TLS or Unix conn is): the public methods.
  const pair = await loopbackPair();
  try {
    Object.defineProperty(pair.server, 'constructor', { value: class OtherConn {} });
    assertEquals(check.ridFor(pair.server), -1, 'another class of conn');
  } finally {
    pair.close();
  }
}

/**
 * `check` hands out nothing for `conn` before its self-test has run; the self-test passes on this
 * Deno (so the tests cover the fast path), once per process (asked again: the same verdict);
 * then `conn`'s op is returned.
 */
export async function opOnceSelfTested(
  check: OpCheck<SocketOp>,
  conn: Deno.Conn,
): Promise<(bytes: Uint8Array) => Promise<number>> {
  assertEquals([check.ridFor(conn), check.op], [-1, null], 'not before the self-test');
  assertEquals(await check.works(), true, 'the self-test passes on this Deno (the fast path is tested)');
  assertEquals(await check.works(), true, 'once per process: the same verdict');
  const rid = check.ridFor(conn);
  const op = check.op;
  assert(rid >= 0 && op !== null, 'a TCP conn uses the op once the self-test has passed');
  return (bytes) => op(rid, bytes);
}

/** Each self-test run with `op` and its time limit fails (it runs out of time) and leaves no socket open. */
export async function timedOutLeavesNoSocket<Op>(
  selfTest: (op: Op, timeoutMs: number) => Promise<unknown>,
  cases: ReadonlyArray<readonly [Op, number]>,
): Promise<void> {
  const before = openSockets();
  if (before === null) throw new Error('this test counts sockets in /proc/self/fd (Linux)');
  for (const [op, ms] of cases) {
    assertEquals(await selfTest(op, ms), null, `timed out after ${ms} ms`);
    assertEquals(openSockets(), before, `sockets left after a ${ms} ms self-test`);
  }
}

/** `op`, each call 50 ms late. */
export function slowOp(op: SocketOp): SocketOp {
  return (rid, bytes) => new Promise((resolve) => setTimeout(resolve, 50)).then(() => op(rid, bytes));
}
