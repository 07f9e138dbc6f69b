// What a new user runs into in their first hour, on Bun (as packages/node/test/first-hour.test.ts
// on Node): `protocols` as a string, unknown and `ws` option names refused with a TypeError,
// errors that say what happened, the WHATWG `error` event's shape, and `ws.data`.
import { describe, expect, it } from 'bun:test';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import {
  HandshakeError,
  WebSocket as OurWebSocket,
  connect,
  createConnection,
  createServer,
  type WebSocketConnection,
} from '../src/index.ts';
import { HOST, bunClient, ourServer, within } from './helpers.ts';

const FIXTURES = path.join(import.meta.dir, 'fixtures');

function closedPort(): number {
  const listener = Bun.listen({ hostname: HOST, port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
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

describe('first hour on Bun', () => {
  it("protocols: 'chat' (a string) is negotiated with Bun's WebSocket, our client and our WHATWG class", async () => {
    const { server, url } = await ourServer({ protocols: 'chat' });
    try {
      const builtIn = await bunClient(url, 'chat');
      expect(builtIn.protocol).toBe('chat');
      builtIn.close();
      const ours = await within(connect(url, { protocols: 'chat' }));
      expect(ours.protocol).toBe('chat');
      ours.close();
      await within(ours.closed);
      const w = new OurWebSocket(url, 'chat');
      await within(new Promise((resolve) => (w.onopen = resolve)));
      expect(w.protocol).toBe('chat');
      w.close();
      await within(new Promise((resolve) => (w.onclose = resolve)));
    } finally {
      await within(server.close());
    }
  });

  it('unknown option keys and ws option names throw a TypeError naming the key and our equivalent', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ perMessageDeflate: true }, /unknown option "perMessageDeflate".*extensions: \[permessageDeflate\(\)\]/],
      [{ port: 8080 }, /unknown option "port".*server\.listen\(port/],
      [{ noServer: true }, /unknown option "noServer".*handleUpgrade/],
      [{ clientTracking: true }, /unknown option "clientTracking".*server\.connections/],
      [{ maxPayload: 1 }, /unknown option "maxPayload".*limits: \{ maxMessageSize \}/],
      [{ verifyclient: () => true }, /unknown option "verifyclient"$/],
    ];
    for (const [options, message] of cases) {
      expect(() => createServer(options as never)).toThrow(TypeError);
      expect(() => createServer(options as never)).toThrow(message);
    }
    expect(() => createServer({ tls: undefined })).not.toThrow(); // this adapter's own key
    const { server, url } = await ourServer();
    try {
      const rejected = await connect(url, { perMessageDeflate: true } as never).catch((e: unknown) => e);
      expect(rejected).toBeInstanceOf(TypeError);
      expect(String(rejected)).toMatch(/unknown option "perMessageDeflate".*extensions/);
      expect(() => createConnection(url, { handshakeTimeout: 1 } as never)).toThrow(/timeouts: \{ handshakeTimeout \}/);
      expect(() => new OurWebSocket(url, { protocols: 'chat', maxPayload: 1 } as never)).toThrow(TypeError);
      const ok = await within(connect(url, { servername: 'localhost', rejectUnauthorized: true }));
      ok.close();
      await within(ok.closed);
    } finally {
      await within(server.close());
    }
  });

  it('a closed port: the message says "connection refused", with the cause', async () => {
    const port = closedPort();
    const error = (await within(connect(`ws://${HOST}:${port}/`).catch((e: unknown) => e))) as HandshakeError;
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error.message).toBe(`could not connect to ${HOST}:${port}: connection refused (ECONNREFUSED)`);
    expect(error.cause).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('an untrusted certificate: the message names TLS; a 403 names the status', async () => {
    const tlsServer = createServer({
      tls: {
        key: readFileSync(path.join(FIXTURES, 'test-only-key.pem'), 'utf8'),
        cert: readFileSync(path.join(FIXTURES, 'test-only-cert.pem'), 'utf8'),
      },
    });
    const { port } = await tlsServer.listen(0, HOST);
    const refusing = await ourServer({ verifyClient: () => ({ status: 403 }) });
    try {
      const error = (await within(connect(`wss://localhost:${port}/`).catch((e: unknown) => e))) as HandshakeError;
      expect(error).toBeInstanceOf(HandshakeError);
      expect(error.message).toMatch(
        new RegExp(`^TLS handshake with localhost:${port} failed: TLS failure: .*certificate`),
      );
      expect(error.cause).toBeInstanceOf(Error);

      const forbidden = (await within(connect(refusing.url).catch((e: unknown) => e))) as HandshakeError;
      expect(forbidden).toBeInstanceOf(HandshakeError);
      expect(forbidden.status).toBe(403);
      expect(forbidden.message).toMatch(/403 Forbidden/);
    } finally {
      await within(tlsServer.close());
      await within(refusing.server.close());
    }
  });

  it('WHATWG error event: an ErrorEvent whose error is an Error, and its message, refused or forbidden', async () => {
    const port = closedPort();
    const refused = await within(failure(new OurWebSocket(`ws://${HOST}:${port}/`)));
    expect(refused.log).toEqual(['error', 'close']);
    expect(refused.error).toBeInstanceOf(HandshakeError);
    expect(refused.message).toBe(`could not connect to ${HOST}:${port}: connection refused (ECONNREFUSED)`);
    const { server, url } = await ourServer({ verifyClient: () => ({ status: 403 }) });
    try {
      const forbidden = await within(failure(new OurWebSocket(url)));
      expect(forbidden.log).toEqual(['error', 'close']);
      expect(forbidden.error).toBeInstanceOf(HandshakeError);
      expect(String(forbidden.message)).toMatch(/403 Forbidden/);
    } finally {
      await within(server.close());
    }
  });

  it('ws.data: set by verifyClient answering { data }, typed by createServer<T>', async () => {
    const server = createServer<{ user: string }>(
      { verifyClient: (request) => ({ data: { user: new URLSearchParams(request.query).get('user') ?? 'nobody' } }) },
      (ws) => ws.send(`hello ${ws.data.user}`),
    );
    const { port } = await server.listen(0, HOST);
    try {
      // Listening before the handshake completes: the greeting may come with the 101.
      const client: WebSocketConnection = createConnection(`ws://${HOST}:${port}/?user=ada`);
      const greeting = new Promise((resolve) => client.once('message', resolve));
      expect(await within(greeting)).toBe('hello ada');
      expect([...server.connections].map((ws) => ws.data.user)).toEqual(['ada']);
      client.close();
      await within(client.closed);
    } finally {
      await within(server.close());
    }
  });
});

// Type checks (packages/bun/tsconfig.json is typechecked in the bun stage): mistakes do not compile.
export function typeChecks(ws: WebSocketConnection<{ n: number }>): void {
  ws.on('message', (data, isBinary) => (isBinary ? data.byteLength : data.length));
  // @ts-expect-error a misspelt event
  ws.on('mesage', () => {});
  // @ts-expect-error data is typed
  void ws.data.m;
  // @ts-expect-error ws's option name
  createServer({ perMessageDeflate: true });
  const w = new OurWebSocket('ws://h/');
  w.addEventListener('message', (event) => event.data);
  w.onerror = (event) => event.error.message;
}
