// Options pass through the adapter as on Node: permessage-deflate, keepalive, idle and handshake
// timeouts, limits; and `handleSocket(conn, head)` for a socket accepted elsewhere.
import { connect, createServer, permessageDeflate, type CloseInfo } from '../src/index.ts';
import { assert, assertEquals, assertMatch } from '../../../test/shared/assert.ts';
import {
  HOST,
  UPGRADE_REQUEST,
  bytes,
  equalBytes,
  ourServer,
  readAll,
  readHead,
  sleep,
  until,
  within,
  writeAll,
} from './helpers.ts';

Deno.test('createServer refuses options the session would refuse, before any socket', () => {
  // Checked at once: at the first accept they would take the process down.
  for (const options of [{ maxBufferedAmount: 1000 }, { limits: { maxFrameSize: -1 } }]) {
    let error: unknown = null;
    try {
      createServer(options);
    } catch (e) {
      error = e;
    }
    assert(
      error instanceof Error && error.name === 'WebSocketUsageError',
      `createServer(${JSON.stringify(options)}) must throw a WebSocketUsageError`,
    );
  }
});

Deno.test('permessage-deflate: negotiated between our client and server, messages round-trip', async () => {
  const { server, url } = await ourServer({ extensions: [permessageDeflate()] }, (ws) =>
    ws.on('message', (data) => ws.send(data)),
  );
  try {
    const ws = await within(connect(url, { extensions: [permessageDeflate()] }));
    assertMatch(ws.extensions, /^permessage-deflate/);
    const text = 'compress me '.repeat(10_000);
    const binary = bytes(200_000, 3);
    const got: Array<string | Uint8Array> = [];
    ws.on('message', (data) => got.push(data));
    ws.send(text);
    ws.send(binary);
    await until(() => got.length === 2, 'echoes');
    assertEquals(got[0], text);
    assert(got[1] instanceof Uint8Array && equalBytes(got[1], binary), 'binary round trip');
    ws.close();
    assertEquals((await within(ws.closed)).wasClean, true);
  } finally {
    await server.close();
  }
});

Deno.test('keepalive pings an idle peer; idleTimeout closes a silent one with 1001', async () => {
  let pings = 0;
  const infos: Array<Promise<CloseInfo>> = [];
  const { server, url } = await ourServer({ timeouts: { keepaliveInterval: 50 } }, (ws) => {
    infos.push(ws.closed);
  });
  try {
    const ws = await within(connect(url));
    ws.on('ping', () => pings++);
    await until(() => pings >= 2, 'two keepalive pings');
    ws.close();
    await within(ws.closed);
  } finally {
    await server.close();
  }

  const idle = await ourServer({ timeouts: { idleTimeout: 100 } });
  try {
    const ws = await within(connect(idle.url));
    const info = await within(ws.closed, 5_000, 'idle close');
    assertEquals(info.code, 1001);
  } finally {
    await idle.server.close();
  }
});

Deno.test('handshakeTimeout drops a client that never sends its request; limits apply', async () => {
  let connections = 0;
  const { server, port, url } = await ourServer(
    { timeouts: { handshakeTimeout: 100 }, limits: { maxMessageSize: 1000 } },
    (ws) => {
      connections++;
      ws.on('error', () => {});
      ws.on('message', (data) => ws.send(data));
    },
  );
  try {
    const conn = await Deno.connect({ hostname: HOST, port });
    try {
      // Closed without a word, within a bound of 50 handshake timeouts (the timeout is what closes it).
      assertEquals((await readAll(conn, 50 * 100)).length, 0);
    } finally {
      conn.close();
    }
    assertEquals(connections, 0);

    const ws = await within(connect(url));
    ws.send(new Uint8Array(1001));
    const info = await within(ws.closed);
    assertEquals([info.code, info.wasClean], [1009, true]);
  } finally {
    await server.close();
  }
});

Deno.test('handleSocket(conn, head): a socket accepted and read elsewhere', async () => {
  const server = createServer({}, (ws) => ws.on('message', (data) => ws.send(`echo: ${data}`)));
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const routing = (async () => {
    const conn = await listener.accept();
    // A router reads the first bytes to decide; the server gets them back as `head`.
    const buffer = new Uint8Array(16);
    const n = (await conn.read(buffer))!;
    server.handleSocket(conn, buffer.subarray(0, n));
  })();
  try {
    const ws = await within(connect(`ws://${HOST}:${port}/routed`));
    await within(routing);
    assertEquals(ws.readyState, 'open');
    const reply = new Promise<string | Uint8Array>((resolve) => ws.once('message', resolve));
    ws.send('hi');
    assertEquals(await within(reply), 'echo: hi');
    assertEquals(server.connections.size, 1);
  } finally {
    listener.close();
    await server.close();
  }
});

Deno.test('listen() reports its address; a second server on the same port is refused', async () => {
  const { server, port } = await ourServer();
  try {
    assertEquals(server.address(), { address: HOST, family: 'IPv4', port });
    const other = createServer();
    let refused: unknown = null;
    await other.listen(port, HOST).catch((error) => (refused = error));
    assert(refused instanceof Deno.errors.AddrInUse, `AddrInUse, got ${String(refused)}`);
    await other.close();
    // A raw client that sends a bad request gets a 400 and the connection closes.
    const conn = await Deno.connect({ hostname: HOST, port });
    try {
      await writeAll(conn, new TextEncoder().encode(UPGRADE_REQUEST.replace('Host: 127.0.0.1\r\n', '')));
      const { head } = await readHead(conn);
      assertMatch(head, /^HTTP\/1\.1 400 /);
    } finally {
      conn.close();
    }
    await sleep(0);
  } finally {
    await server.close();
  }
});
