// Our client (`connect`, and the WHATWG `WebSocket` class) against Deno's own server
// (`Deno.serve` + `Deno.upgradeWebSocket`): echo of every size class, fragmentation, ping/pong,
// close both ways, subprotocols, a refused handshake's status and body, a refused connection.
import { HandshakeError, WebSocket as OurWebSocket, connect, type WebSocketConnection } from '../src/index.ts';
import { assert, assertEquals, assertRejects } from '../../../test/shared/assert.ts';
import { HOST, bytes, denoServer, equalBytes, within } from './helpers.ts';
import { nextMessages } from '../../../test/shared/messages.ts';
import { readyStates } from '../../../test/shared/ready-states.ts';

/** A Deno.serve server that echoes every message; `events` logs what its sockets saw. */
function denoEcho(options: Parameters<typeof denoServer>[1] = {}) {
  const events: string[] = [];
  const closes: Array<Promise<CloseEvent>> = [];
  const server = denoServer((socket, request) => {
    socket.onmessage = (event) => socket.send(event.data);
    closes.push(new Promise((resolve) => socket.addEventListener('close', (e) => resolve(e), { once: true })));
    socket.onopen = () => {
      const path = new URL(request.url).pathname;
      events.push(`open ${path}`);
      if (path === '/server-closes') socket.close(4003, 'deno bye');
    };
  }, options);
  return { ...server, events, closes };
}

/** The next `n` messages of our connection, within `ms`. */
const messages = (ws: WebSocketConnection, n: number, ms = 10_000): Promise<Array<string | Uint8Array>> =>
  within(nextMessages(ws, n), ms, `${n} messages`);

Deno.test('connect: echo of text and binary of every length class, and a 16 MiB message', async () => {
  const server = denoEcho();
  try {
    const ws = await within(connect(server.url));
    assertEquals(ws.readyState, 'open');
    const sizes = [0, 1, 125, 126, 127, 65535, 65536, 100_000];
    const sent: Array<string | Uint8Array> = [];
    for (const size of sizes) {
      sent.push(bytes(size, size + 3));
      sent.push('ü'.repeat(Math.floor(size / 2)) + (size % 2 === 1 ? 'z' : ''));
    }
    const got = messages(ws, sent.length);
    for (const m of sent) ws.send(m);
    const received = await got;
    for (let i = 0; i < sent.length; i++) {
      const expected = sent[i]!;
      if (typeof expected === 'string') assertEquals(received[i], expected, `text message ${i}`);
      else
        assert(
          received[i] instanceof Uint8Array && equalBytes(received[i] as Uint8Array, expected),
          `binary message ${i} (${expected.length} B)`,
        );
    }
    const big = bytes(16 * 1024 * 1024, 9);
    const back = messages(ws, 1, 30_000);
    ws.send(big);
    const [echoed] = await back;
    assert(echoed instanceof Uint8Array && equalBytes(echoed, big), '16 MiB echo');
    ws.close();
    assertEquals((await within(ws.closed)).wasClean, true);
  } finally {
    await server.close();
  }
});

Deno.test('connect: fragments we send arrive as one message', async () => {
  const server = denoEcho();
  try {
    const ws = await within(connect(server.url));
    const got = messages(ws, 2);
    ws.sendFragment('one ', false);
    ws.sendFragment('two ', false);
    ws.sendFragment('three', true);
    ws.sendFragment(Uint8Array.of(9), false);
    ws.sendFragment(Uint8Array.of(8, 7), true);
    const [text, binary] = await got;
    assertEquals(text, 'one two three');
    assertEquals(binary, Uint8Array.of(9, 8, 7));
    ws.close();
    await within(ws.closed);
  } finally {
    await server.close();
  }
});

Deno.test('connect: ping gets its pong', async () => {
  const server = denoEcho();
  try {
    const ws = await within(connect(server.url));
    const pong = new Promise<Uint8Array>((resolve) => ws.once('pong', resolve));
    ws.ping('hello?');
    assertEquals(new TextDecoder().decode(await within(pong)), 'hello?');
    ws.close();
    await within(ws.closed);
  } finally {
    await server.close();
  }
});

Deno.test('connect: close codes and reasons travel both ways', async () => {
  const server = denoEcho();
  try {
    const a = await within(connect(server.url));
    a.close(4002, 'our bye');
    const info = await within(a.closed);
    assertEquals([info.code, info.wasClean, info.initiator, info.error], [4002, true, 'local', null]);
    const seen = await within(server.closes[0]!);
    assertEquals([seen.code, seen.reason], [4002, 'our bye']);

    const b = await within(connect(`${server.url}/server-closes`));
    const theirs = await within(b.closed);
    assertEquals([theirs.code, theirs.reason, theirs.wasClean, theirs.initiator], [4003, 'deno bye', true, 'remote']);
  } finally {
    await server.close();
  }
});

Deno.test('connect: the subprotocol the server chose', async () => {
  const server = denoEcho({ protocol: 'chat.v2' });
  try {
    const ws = await within(connect(server.url, { protocols: ['chat.v1', 'chat.v2'] }));
    assertEquals(ws.protocol, 'chat.v2');
    ws.close();
    await within(ws.closed);
  } finally {
    await server.close();
  }
});

Deno.test('connect: a refused handshake rejects with its status, headers and body', async () => {
  const server = denoEcho({ refuse: () => new Response('go away', { status: 403, headers: { 'x-why': 'test' } }) });
  try {
    const error = await assertRejects(within(connect(server.url)), (e) => e instanceof HandshakeError);
    const refusal = error as HandshakeError;
    assertEquals(refusal.code, 'BAD_STATUS');
    assertEquals(refusal.status, 403);
    assertEquals(refusal.headers?.get('x-why'), 'test');
    assertEquals(new TextDecoder().decode(refusal.body!), 'go away');
  } finally {
    await server.close();
  }
});

Deno.test('connect: a refused TCP connection rejects with TRANSPORT_ERROR', async () => {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close(); // nothing listens there now
  const error = await assertRejects(within(connect(`ws://${HOST}:${port}`)), (e) => e instanceof HandshakeError);
  assertEquals((error as HandshakeError).code, 'TRANSPORT_ERROR');
  assert((error as HandshakeError).cause instanceof Deno.errors.ConnectionRefused, "the cause is Deno's error");
});

Deno.test('WebSocket (WHATWG class): a refused handshake is CONNECTING until error and close (never CLOSING)', async () => {
  const server = denoEcho({ refuse: () => new Response('go away', { status: 403 }) });
  try {
    const ws = new OurWebSocket(server.url);
    const log: string[] = [];
    ws.onerror = () => log.push(`error ${ws.readyState}`);
    ws.onclose = (event: CloseEvent) => log.push(`close ${event.code} ${event.wasClean} ${ws.readyState}`);
    // The standard: a failed handshake has no closing handshake, so CONNECTING turns into CLOSED.
    assertEquals(await within(readyStates(ws)), [OurWebSocket.CONNECTING, OurWebSocket.CLOSED]);
    assertEquals(log, ['error 3', 'close 1006 false 3']);
  } finally {
    await server.close();
  }
});

Deno.test('WebSocket (WHATWG class): open, message and close events in order', async () => {
  const server = denoEcho();
  try {
    const ws = new OurWebSocket(server.url);
    ws.binaryType = 'arraybuffer';
    const log: string[] = [];
    const done = new Promise<void>((resolve) => {
      ws.onopen = () => {
        log.push(`open ${ws.readyState}`);
        ws.send('hi');
        ws.send(new Uint8Array([1, 2, 3]));
      };
      ws.onmessage = (event: MessageEvent) => {
        log.push(
          typeof event.data === 'string' ? `text ${event.data}` : `binary ${new Uint8Array(event.data).join(',')}`,
        );
        if (log.length === 3) ws.close(1000, 'done');
      };
      ws.onerror = () => log.push('error');
      ws.onclose = (event: CloseEvent) => {
        log.push(`close ${event.code} ${event.wasClean}`);
        resolve();
      };
    });
    await within(done);
    assertEquals(log, ['open 1', 'text hi', 'binary 1,2,3', 'close 1000 true']);
  } finally {
    await server.close();
  }
});
