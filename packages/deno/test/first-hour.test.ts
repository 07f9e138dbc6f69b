// What a new user runs into in their first hour, on Deno (as packages/node/test/first-hour.test.ts
// on Node): `protocols` as a string, unknown and `ws` option names refused with a TypeError,
// errors that say what happened, the WHATWG `error` event's shape, and `ws.data`.
import {
  HandshakeError,
  WebSocket as OurWebSocket,
  connect,
  createConnection,
  createServer,
  type WebSocketConnection,
} from '../src/index.ts';
import { assert, assertEquals, assertMatch } from '../../../test/shared/assert.ts';
import { HOST, denoClient, denoClose, ourServer, within } from './helpers.ts';

const FIXTURES = new URL('./fixtures/', import.meta.url);

function thrown(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function closedPort(): number {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** The `error` then `close` events of our WHATWG WebSocket. */
function failure(ws: InstanceType<typeof OurWebSocket>): Promise<{ log: string[]; error: unknown; message: unknown }> {
  const log: string[] = [];
  let error: unknown;
  let message: unknown;
  ws.addEventListener('open', () => log.push('open'));
  ws.addEventListener('error', (e) => {
    log.push('error');
    error = e.error;
    message = e.message;
  });
  return new Promise((resolve) =>
    ws.addEventListener('close', () => resolve({ log: [...log, 'close'], error, message })),
  );
}

Deno.test('protocols: "chat" (a string) is negotiated with Deno\'s WebSocket, our client and our WHATWG class', async () => {
  const { server, url } = await ourServer({ protocols: 'chat' });
  try {
    const builtIn = await denoClient(url, 'chat');
    assertEquals(builtIn.protocol, 'chat');
    await denoClose(builtIn);
    const ours = await within(connect(url, { protocols: 'chat' }));
    assertEquals(ours.protocol, 'chat');
    ours.close();
    await within(ours.closed);
    const w = new OurWebSocket(url, 'chat');
    await within(new Promise((resolve) => (w.onopen = resolve)));
    assertEquals(w.protocol, 'chat');
    w.close();
    await within(new Promise((resolve) => (w.onclose = resolve)));
  } finally {
    await server.close();
  }
});

Deno.test('unknown option keys and ws option names throw a TypeError naming the key and our equivalent', async () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ perMessageDeflate: true }, /unknown option "perMessageDeflate".*extensions: \[permessageDeflate\(\)\]/],
    [{ port: 8080 }, /unknown option "port".*server\.listen\(port/],
    [{ noServer: true }, /unknown option "noServer".*handleUpgrade/],
    [{ clientTracking: true }, /unknown option "clientTracking".*server\.connections/],
    [{ maxPayload: 1 }, /unknown option "maxPayload".*limits: \{ maxMessageSize \}/],
    [{ verifyclient: () => true }, /unknown option "verifyclient"$/],
  ];
  for (const [options, message] of cases) {
    const error = thrown(() => createServer(options as never));
    assert(error instanceof TypeError, `createServer(${Object.keys(options)[0]}) must throw a TypeError`);
    assertMatch(error.message, message);
  }
  // This adapter's own keys pass.
  createServer({ tls: undefined });
  const { server, url } = await ourServer();
  try {
    const rejected = await connect(url, { perMessageDeflate: true } as never).catch((e: unknown) => e);
    assert(rejected instanceof TypeError, 'connect rejects with a TypeError');
    assertMatch(rejected.message, /unknown option "perMessageDeflate".*extensions/);
    const direct = thrown(() => createConnection(url, { handshakeTimeout: 1 } as never));
    assert(
      direct instanceof TypeError && /timeouts: \{ handshakeTimeout \}/.test(direct.message),
      'createConnection names timeouts.handshakeTimeout',
    );
    const whatwg = thrown(() => new OurWebSocket(url, { protocols: 'chat', maxPayload: 1 } as never));
    assert(whatwg instanceof TypeError && /"maxPayload"/.test(whatwg.message), 'the WHATWG class throws at once');
    const ok = await within(connect(url, { servername: 'localhost', unsafelyDisableHostnameVerification: false }));
    ok.close();
    await within(ok.closed);
  } finally {
    await server.close();
  }
});

Deno.test('a closed port: the message says "connection refused", the cause is Deno\'s error', async () => {
  const port = closedPort();
  const error = await within(connect(`ws://${HOST}:${port}/`).catch((e: unknown) => e));
  assert(error instanceof HandshakeError, 'a HandshakeError');
  assertEquals(error.message, `could not connect to ${HOST}:${port}: connection refused (ECONNREFUSED)`);
  assert(error.cause instanceof Deno.errors.ConnectionRefused, "the cause is Deno's error");
});

Deno.test('an untrusted certificate: the message names TLS; a 403 names the status', async () => {
  const cert = await Deno.readTextFile(new URL('localhost-cert.pem', FIXTURES));
  const key = await Deno.readTextFile(new URL('localhost-key.pem', FIXTURES));
  const tlsServer = createServer({ tls: { cert, key } });
  const { port } = await tlsServer.listen(0, HOST);
  const refusing = await ourServer({ verifyClient: () => ({ status: 403 }) });
  try {
    const error = await within(connect(`wss://localhost:${port}/`).catch((e: unknown) => e));
    assert(error instanceof HandshakeError, 'a HandshakeError');
    assertMatch(error.message, new RegExp(`^TLS handshake with localhost:${port} failed: TLS failure: .*certificate`));
    assert(error.cause instanceof Error, "the cause is Deno's error");

    const forbidden = await within(connect(refusing.url).catch((e: unknown) => e));
    assert(forbidden instanceof HandshakeError && forbidden.status === 403, 'status 403');
    assertMatch(forbidden.message, /403 Forbidden/);
  } finally {
    await tlsServer.close();
    await refusing.server.close();
  }
});

Deno.test('WHATWG error event: an ErrorEvent whose error is an Error, and its message, refused or forbidden', async () => {
  const port = closedPort();
  const refused = await within(failure(new OurWebSocket(`ws://${HOST}:${port}/`)));
  assertEquals(refused.log, ['error', 'close']);
  assert(refused.error instanceof HandshakeError, 'error is a HandshakeError');
  assertEquals(refused.message, `could not connect to ${HOST}:${port}: connection refused (ECONNREFUSED)`);

  const { server, url } = await ourServer({ verifyClient: () => ({ status: 403 }) });
  try {
    const forbidden = await within(failure(new OurWebSocket(url)));
    assertEquals(forbidden.log, ['error', 'close']);
    assert(forbidden.error instanceof HandshakeError, 'error is a HandshakeError');
    assertMatch(String(forbidden.message), /403 Forbidden/);
  } finally {
    await server.close();
  }
});

Deno.test('ws.data: set by verifyClient answering { data }, typed by createServer<T>', async () => {
  const server = createServer<{ user: string }>(
    { verifyClient: (request) => ({ data: { user: new URLSearchParams(request.query).get('user') ?? 'nobody' } }) },
    (ws) => ws.send(`hello ${ws.data.user}`),
  );
  const { port } = await server.listen(0, HOST);
  try {
    // Listening before the handshake completes: the greeting may come with the 101.
    const client: WebSocketConnection = createConnection(`ws://${HOST}:${port}/?user=ada`);
    const greeting = new Promise((resolve) => client.once('message', resolve));
    assertEquals(await within(greeting), 'hello ada');
    assertEquals(
      [...server.connections].map((ws) => ws.data.user),
      ['ada'],
    );
    client.close();
    await within(client.closed);
  } finally {
    await server.close();
  }
});

// Type checks (deno test type-checks this file): a misspelt event does not compile.
export function typeChecks(ws: WebSocketConnection<{ n: number }>): void {
  ws.on('message', (data, isBinary) => (isBinary ? data.byteLength : data.length));
  // @ts-expect-error a misspelt event
  ws.on('mesage', () => {});
  // @ts-expect-error data is typed
  ws.data.m;
  // @ts-expect-error ws's option name
  createServer({ perMessageDeflate: true });
  const w = new OurWebSocket('ws://h/');
  w.addEventListener('message', (event) => event.data);
  w.onerror = (event) => event.error.message;
}
