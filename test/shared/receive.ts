// Receiving from the user's side, once for every runtime (vitest for Node, deno test, bun test):
// nothing the peer sent is lost for want of a consumer, whenever and however the application
// starts to read (the rules are in WebSocketConnection's doc comment). Each runtime's test file
// passes its server, clients, WHATWG class and a raw TCP server; failures are thrown.
//
// `readmeClient` runs the READMEs' client snippet as written (root README's server, and
// packages/{deno,bun}/README.md's `await connect(…); ws.send('hello'); for await (…)`): the
// lines it mirrors are in README_SNIPPETS, and packages/node/test/receive.test.ts checks that
// every README still contains them.
import { computeAcceptKey } from '../../packages/codec/src/index.ts';
import type {
  ServerSessionOptions,
  SessionRequest,
  WebSocketClass,
  WebSocketConnection,
} from '../../packages/codec/src/session/index.ts';
import { assert, assertEquals } from './assert.ts';
import { concat } from './bytes.ts';
import { sleep, until, within } from './wait.ts';

/** What a runtime gives these scenarios. */
export interface ReceiveRuntime {
  createServer(
    options: ServerSessionOptions,
    onConnection: (ws: WebSocketConnection, request: SessionRequest) => void,
  ): { listen(port: number, host: string): Promise<{ port: number }>; close(): Promise<unknown> };
  connect(url: string, options?: { maxQueuedMessages?: number }): Promise<WebSocketConnection>;
  createConnection(url: string): WebSocketConnection;
  WebSocket: WebSocketClass;
  /**
   * A TCP server on 127.0.0.1: on each connection it reads the request head, answers it with
   * `respond(head)` in one write, and ends the socket once the client sends anything more (its
   * Close) or when `end` is true, right after that write.
   */
  rawServer(
    respond: (head: string) => Uint8Array,
    end?: boolean,
  ): Promise<{ port: number; close(): Promise<void> | void }>;
}

const HOST = '127.0.0.1';

/** The README lines `readmeClient` mirrors, by file (checked by packages/node/test/receive.test.ts). */
export const README_SNIPPETS: Record<string, string[]> = {
  'README.md': ["ws.on('message', (data, isBinary) => ws.send(data));"],
  'packages/deno/README.md': [
    "ws.on('message', (data, isBinary) => ws.send(data)); // echo, same type",
    "ws.send('hello');",
    'for await (const message of ws) console.log(message);',
  ],
  'packages/bun/README.md': ["ws.send('hello');", 'for await (const message of ws) console.log(message);'],
  'packages/node/README.md': ['for await (const message of ws) console.log(message);'],
};

async function listen(
  rt: ReceiveRuntime,
  options: ServerSessionOptions,
  onConnection: (ws: WebSocketConnection) => void,
) {
  const server = rt.createServer(options, onConnection);
  const { port } = await server.listen(0, HOST);
  return { server, url: `ws://${HOST}:${port}/` };
}

/** The first `n` messages of a `for await` loop over `ws` (then leaves the loop). */
async function iterate(ws: WebSocketConnection, n: number): Promise<Array<string | Uint8Array>> {
  const got: Array<string | Uint8Array> = [];
  if (n === 0) return got;
  for await (const message of ws) {
    got.push(message);
    if (got.length === n) break;
  }
  return got;
}

/**
 * The READMEs' client, 20 times: the server (the README's echo) also greets each client in its
 * handler; `await connect(url); ws.send('hello'); for await (…)` sees the greeting first, then
 * the echo. The greeting leaves in the same write as the 101, so it is read before `connect()`
 * resolves: it used to be lost every time.
 */
export async function readmeClient(rt: ReceiveRuntime, runs = 20): Promise<void> {
  const { server, url } = await listen(rt, {}, (ws) => {
    ws.send('welcome');
    ws.on('message', (data, isBinary) => ws.send(data));
  });
  try {
    for (let run = 0; run < runs; run++) {
      const ws = await within(rt.connect(url), 10_000, 'connect');
      ws.send('hello');
      const got: Array<string | Uint8Array> = [];
      await within(
        (async () => {
          for await (const message of ws) {
            got.push(message);
            if (got.length === 2) break;
          }
        })(),
        10_000,
        `run ${run}: two messages`,
      );
      assertEquals(got, ['welcome', 'hello'], `run ${run}`);
      ws.close();
      await within(ws.closed, 10_000, 'close');
    }
  } finally {
    await server.close();
  }
}

/** An unmasked server frame (payload < 64 KiB). */
export function serverFrame(opcode: number, payload: string | Uint8Array): Uint8Array {
  const data = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  const header =
    data.length < 126 ? [0x80 | opcode, data.length] : [0x80 | opcode, 126, data.length >> 8, data.length & 0xff];
  const frame = new Uint8Array(header.length + data.length);
  frame.set(header);
  frame.set(data, header.length);
  return frame;
}

/** The 101 for `head`'s key, followed by `frames`: one buffer, so one write. */
function switchingWith(head: string, frames: Uint8Array[]): Uint8Array {
  const key = /^sec-websocket-key:\s*(\S+)\s*$/im.exec(head)?.[1];
  assert(key !== undefined, 'the request has a Sec-WebSocket-Key');
  const response = new TextEncoder().encode(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${computeAcceptKey(key)}\r\n\r\n`,
  );
  return concat([response, ...frames]);
}

const FIRST = ['one', Uint8Array.of(2, 2), 'three'];
const firstFrames = (): Uint8Array[] => FIRST.map((m) => serverFrame(typeof m === 'string' ? 1 : 2, m));
const closeFrame = (): Uint8Array => serverFrame(8, Uint8Array.of(0x03, 0xe8)); // 1000

/**
 * A server that puts its first messages in the same write as its 101: every way of reading
 * gets all of them, in order, whenever it starts.
 */
export async function messagesWithThe101(rt: ReceiveRuntime): Promise<void> {
  const raw = await rt.rawServer((head) => switchingWith(head, firstFrames()));
  const url = `ws://${HOST}:${raw.port}/`;
  const clients: Array<{ close(): void }> = [];
  try {
    // connect(), then a timer's worth of other work, then for await.
    const a = await within(rt.connect(url), 10_000, 'connect');
    clients.push(a);
    await sleep(20);
    assertEquals(a.queuedMessages, 3, 'held while nobody reads');
    assertEquals(await within(iterate(a, 3), 10_000, 'for await after a timer'), FIRST, 'connect → sleep → for await');

    // createConnection(), await opened, then a 'message' listener after an await.
    const b = rt.createConnection(url);
    clients.push(b);
    await within(b.opened, 10_000, 'opened');
    await sleep(20);
    const viaListener: Array<string | Uint8Array> = [];
    b.on('message', (data) => viaListener.push(data));
    assertEquals(viaListener, [], 'delivered on a microtask, not inside on()');
    await until(() => viaListener.length === 3, "'message' listener after an await");
    assertEquals(viaListener, FIRST, "createConnection → opened → sleep → on('message')");

    // The WHATWG class: onmessage set after the constructor, in the same task.
    const c = new rt.WebSocket(url);
    clients.push(c);
    c.binaryType = 'arraybuffer';
    const viaOnmessage: unknown[] = [];
    c.onmessage = (event: unknown) => viaOnmessage.push(whatwgData(event));
    await until(() => viaOnmessage.length === 3, 'onmessage');
    assertEquals(viaOnmessage, FIRST, 'WebSocket onmessage');

    // … and addEventListener after `await`ing a resolved promise (still the same task).
    const d = new rt.WebSocket(url);
    clients.push(d);
    d.binaryType = 'arraybuffer';
    await null;
    const viaEventListener: unknown[] = [];
    d.addEventListener('message', (event: unknown) => viaEventListener.push(whatwgData(event)));
    await until(() => viaEventListener.length === 3, 'addEventListener');
    assertEquals(viaEventListener, FIRST, "WebSocket addEventListener('message') after await null");
  } finally {
    for (const client of clients) client.close();
    await raw.close();
  }
}

function whatwgData(event: unknown): unknown {
  const data = (event as { data: unknown }).data;
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

/**
 * The server's messages and its Close in the 101's write: messages that arrived before the
 * close are all delivered — to a loop started once `closed` resolved (it yields them, then
 * ends), and to a listener attached after an await but before the close completed (they come
 * before 'close').
 */
export async function messagesBeforeClose(rt: ReceiveRuntime): Promise<void> {
  const respond = (head: string): Uint8Array => switchingWith(head, [...firstFrames(), closeFrame()]);
  // This one ends TCP right after its write: the connection is gone before anyone reads.
  const gone = await rt.rawServer(respond, true);
  // This one ends TCP once our Close echo arrives: a round trip after the 101.
  const echoing = await rt.rawServer(respond);
  try {
    const a = await within(rt.connect(`ws://${HOST}:${gone.port}/`), 10_000, 'connect');
    const info = await within(a.closed, 10_000, 'closed');
    assertEquals(info.code, 1000, 'the server closed with 1000');
    assertEquals(a.queuedMessages, 3, 'still held after the close');
    assertEquals(
      await within(iterate(a, 4), 10_000, 'for await after close'),
      FIRST,
      'a loop started after the close yields every message, then ends',
    );

    const b = rt.createConnection(`ws://${HOST}:${echoing.port}/`);
    const order: unknown[] = [];
    b.on('close', () => order.push('close'));
    await within(b.opened, 10_000, 'opened');
    b.on('message', (data) => order.push(data));
    await within(b.closed, 10_000, 'closed');
    assertEquals(order, [...FIRST, 'close'], "a listener attached after opened gets every message before 'close'");
  } finally {
    await gone.close();
    await echoing.close();
  }
}

/**
 * Server handlers that start reading after an await (a timer, as for auth or a database): the
 * messages the client sent at once are all there, through `for await` and through a listener.
 */
export async function asyncHandlers(rt: ReceiveRuntime): Promise<void> {
  const results: Record<string, Array<string | Uint8Array>> = {};
  const { server, url } = await listen(rt, {}, async (ws) => {
    const path = ws.request!.path;
    await sleep(30);
    if (path === '/iterate') {
      results[path] = await iterate(ws, 3);
    } else {
      const got: Array<string | Uint8Array> = [];
      ws.on('message', (data) => {
        got.push(data);
        if (got.length === 3) results[path] = got;
      });
    }
  });
  try {
    for (const path of ['/iterate', '/listen']) {
      const ws = await within(rt.connect(url.slice(0, -1) + path), 10_000, 'connect');
      ws.send('a');
      ws.send(Uint8Array.of(1));
      ws.send('c');
      await until(() => results[path] !== undefined, `${path}: three messages`);
      assertEquals(results[path], ['a', Uint8Array.of(1), 'c'], `${path}: an async handler`);
      ws.close();
      await within(ws.closed, 10_000, 'close');
    }
  } finally {
    await server.close();
  }
}

/**
 * A peer that floods while nobody consumes: reading pauses with at most `maxQueuedMessages`
 * held (the sender's bufferedAmount grows instead), and everything arrives, in order, once the
 * application reads.
 */
export async function floodWhileNobodyReads(
  rt: ReceiveRuntime,
): Promise<{ maxQueued: number; senderBuffered: number }> {
  // 32 MB: more than the kernel's socket buffers on loopback hold, so the sender must wait.
  const N = 20_000;
  const MAX = 16;
  const payload = 'x'.repeat(1600);
  let sender: WebSocketConnection | undefined;
  const { server, url } = await listen(rt, { maxBufferedAmount: 64 * 1024 * 1024 }, (ws) => {
    sender = ws;
    for (let i = 0; i < N; i++) ws.send(`${i} ${payload}`); // a careless sender: ignores 'buffered'
  });
  try {
    const ws = await within(rt.connect(url, { maxQueuedMessages: MAX }), 10_000, 'connect');
    let maxQueued = ws.queuedMessages;
    // The sender's queue stops shrinking once our reading pauses (TCP pushes back).
    let last = -1;
    for (let i = 0; i < 400; i++) {
      await sleep(10);
      maxQueued = Math.max(maxQueued, ws.queuedMessages);
      const buffered = sender?.bufferedAmount ?? -1;
      if (buffered === last && buffered > 0) break;
      last = buffered;
    }
    const senderBuffered = sender!.bufferedAmount;
    assert(senderBuffered > 0, 'the sender is held back while nobody reads');
    assert(maxQueued <= MAX, `at most maxQueuedMessages held (${maxQueued})`);
    let next = 0;
    let inOrder = true;
    await within(
      (async () => {
        for await (const message of ws) {
          maxQueued = Math.max(maxQueued, ws.queuedMessages);
          if (message !== `${next} ${payload}`) inOrder = false;
          if (++next === N) break;
        }
      })(),
      60_000,
      'reading the flood',
    );
    assertEquals([next, inOrder], [N, true], 'every message, in order');
    assert(maxQueued <= MAX, `at most maxQueuedMessages waiting while read (${maxQueued})`);
    ws.close();
    await within(ws.closed, 10_000, 'close');
    return { maxQueued, senderBuffered };
  } finally {
    await server.close();
  }
}
