// The session layer's glue for Node-style streams (stream-transport.ts, stream-server.ts,
// http2-session-pool.ts, node-style.ts), written once for Deno and Bun, run here over Node's own
// `node:http2`, `node:http` and `node:net`: real sockets on 127.0.0.1, ports from the OS. Node's
// adapter has a tuned transport of its own for sockets, so its tests reach only part of this code
// (its HTTP/2 streams: 70 % of stream-transport.ts's statements). The "adapter" below is only the
// glue: a `StreamServer` with the HTTP/2 handshake, `connectOverHttp2` on an `Http2SessionPool`,
// and a `StreamTransport` over a socket for HTTP/1.1. First the shared RFC 8441 scenarios Deno and
// Bun run (test/shared/http2.ts), then what they do not reach: resets and terminate on each side,
// reading paused and resumed through the stream, many small frames gathered into one write and a
// large one written as is, a session gone before the request, the server's misuse and detach
// paths, and the header conversions and the pool's key. Not reachable on Node: data before the
// response (only Deno's node:http2 reports it so).
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { selfSignedCert } from '../../../../scripts/lib/self-signed-cert.mjs';
import * as scenario from '../../../../test/shared/http2.ts';
import { until, within } from '../../../../test/shared/wait.ts';
import { http2ClientConnection, http2ServerConnection } from '../../src/http2.ts';
import { WebSocketUsageError } from '../../src/index.ts';
import { permessageDeflate } from '../../src/pako.ts';
import {
  HTTP2_CANCEL,
  Http2ClientTransport,
  Http2SessionPool,
  StreamServer,
  StreamTransport,
  connectOverHttp2,
  headerList,
  headerRecord,
  refuseHttp2Option,
  startClient,
  type ClientSessionOptions,
  type ConnectionHandler,
  type ServerSessionOptions,
  type WebSocketConnection,
} from '../../src/session/index.ts';

const HOST = '127.0.0.1';
/** Real sockets: as long as the node project gives its tests (the scenarios wait up to 20 s for a step). */
const SOCKETS = { timeout: 30_000 };

/** What Deno's and Bun's upgrade handlers are, minus their own sockets: the shared `StreamServer` with the HTTP/2 handshake. */
class GlueHandler<T = unknown> extends StreamServer<T> {
  protected override readonly http2Connection = http2ServerConnection;
}

/** A `StreamServer` without the HTTP/2 handshake (an adapter that did not set `http2Connection`). */
class NoHttp2Handler extends StreamServer {}

const createUpgradeHandler = <T = unknown>(options: ServerSessionOptions<T>, onConnection: ConnectionHandler<T>) =>
  new GlueHandler<T>(options, onConnection);

const pool = new Http2SessionPool((authority, options) => http2.connect(authority, options));

interface GlueConnectOptions extends ClientSessionOptions {
  http2?: boolean;
  ca?: string;
}

/** HTTP/1.1: the session's `StreamTransport` over a TCP or TLS socket of Node's. */
function createConnection(url: string, options: GlueConnectOptions = {}): WebSocketConnection {
  const { http2: useHttp2, ca, ...session } = options;
  refuseHttp2Option(useHttp2);
  const target = new URL(url);
  const secure = target.protocol === 'wss:';
  const port = Number(target.port) || (secure ? 443 : 80);
  const socket = secure
    ? tls.connect({ host: target.hostname, port, ca, ALPNProtocols: ['http/1.1'] })
    : net.connect(port, target.hostname);
  return startClient(new StreamTransport(socket), url, session);
}

/** `connect(url, { http2 })` as Deno's and Bun's: an extended CONNECT on a pooled session, else HTTP/1.1. */
function connect(url: string, options: GlueConnectOptions = {}): Promise<WebSocketConnection> {
  if (options.http2 !== true) {
    try {
      return createConnection(url, options).opened;
    } catch (error) {
      return Promise.reject(error);
    }
  }
  const { http2: _h, ca, ...session } = options;
  const target = new URL(url);
  const secure = target.protocol === 'wss:';
  const port = Number(target.port) || (secure ? 443 : 80);
  return connectOverHttp2(
    pool,
    url,
    { secure, hostname: target.hostname, port, options: secure ? { ca } : {} },
    session,
    () => connect(url, { ...options, http2: false }),
    http2ClientConnection,
  );
}

/** An HTTP/1.1-only server (`node:http`) whose upgrades the glue takes over. */
function createServer(options: ServerSessionOptions, onConnection: ConnectionHandler) {
  const handler = createUpgradeHandler(options, onConnection);
  const server = http.createServer();
  handler.attach(server);
  return {
    async listen(port: number, host: string): Promise<{ port: number }> {
      await new Promise<void>((resolve) => server.listen(port, host, resolve));
      return { port: (server.address() as net.AddressInfo).port };
    },
    async close(): Promise<void> {
      await handler.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const { cert, key } = selfSignedCert();
const rt = scenario.http2Runtime(
  {
    connect: connect as never,
    createConnection: createConnection as never,
    createServer: createServer as never,
    createUpgradeHandler: createUpgradeHandler as never,
    permessageDeflate,
  },
  { cert, key },
);

/** Runs a shared scenario; a failed check throws, and the test counts one assertion for the whole. */
async function passes(run: () => Promise<void>): Promise<void> {
  await run();
  expect(true).toBe(true);
}

describe('the shared RFC 8441 scenarios on the session glue over Node', SOCKETS, () => {
  it('Node http2 client by hand: echoes, close both ways, a reset as 1006, refusals, deflate', () =>
    passes(() => scenario.byHand(rt)));
  it('TLS, the compatibility API and HTTP/1.1 upgrades on one port', () =>
    passes(() => scenario.tlsAndHttp1OnOnePort(rt)));
  it('connect(url, { http2: true }) × 100 on one session', () => passes(() => scenario.manyOnOneSession(rt, 100)));
  it('permessage-deflate over HTTP/2 on TLS', () => passes(() => scenario.deflateOverTls(rt)));
  it("backpressure is the stream's flow control", () => passes(() => scenario.flowControl(rt)));
  it('the fall back to HTTP/1.1 (a socket under StreamTransport on both ends)', () =>
    passes(() => scenario.fallback(rt)));
  it('a refusal, createConnection and proxy with http2', () => passes(() => scenario.refusalAndMisuse(rt)));
});

// ───────────────────────────── what the scenarios do not reach ─────────────────────────────

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await within(Promise.resolve(step()), 10_000, 'cleanup');
});

/** An h2c server with the glue attached; `onConnection` gets each server connection. */
async function h2Server(
  onConnection: ConnectionHandler = (ws) => ws.on('message', (data) => ws.send(data)),
  options: ServerSessionOptions = {},
) {
  const connections: WebSocketConnection[] = [];
  const handler = createUpgradeHandler(options, (ws, request) => {
    connections.push(ws);
    onConnection(ws, request);
  });
  const server = http2.createServer({ settings: { enableConnectProtocol: true } });
  handler.attach(server);
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const port = (server.address() as net.AddressInfo).port;
  cleanups.push(async () => {
    await handler.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port, handler, server, connections, url: `ws://${HOST}:${port}/` };
}

/** A Node http2 session to `port` whose SETTINGS have arrived (closed after the test). */
async function nodeSession(port: number): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(`http://${HOST}:${port}`);
  session.on('error', () => {});
  cleanups.push(() => session.destroy());
  await within(once(session, 'remoteSettings'), 10_000, 'SETTINGS');
  return session;
}

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** The messages `ws` receives, and a wait for the n-th. */
function collect(ws: WebSocketConnection) {
  const messages: Array<string | Uint8Array> = [];
  ws.on('message', (data) => messages.push(data));
  return { messages, count: (n: number, what: string) => until(() => messages.length >= n, what) };
}

describe('StreamTransport and the HTTP/2 transports over Node: what the scenarios leave out', SOCKETS, () => {
  it("the server's terminate() resets the stream with CANCEL; our client sees 1006", async () => {
    const { url, connections } = await h2Server();
    const ws = await within(connect(url, { http2: true }));
    await until(() => connections.length === 1, 'the server connection');
    const serverSide = connections[0] as WebSocketConnection;
    serverSide.terminate();
    const [client, server] = await within(Promise.all([ws.closed, serverSide.closed]), 10_000, 'both closes');
    expect(client).toMatchObject({ code: 1006, wasClean: false });
    expect(server).toMatchObject({ code: 1006, wasClean: false });
  });

  it("our client's terminate() resets its stream with CANCEL (RST_STREAM reaches the server's stream)", async () => {
    const resets: number[] = [];
    const { url, server, connections } = await h2Server();
    server.on('stream', (stream) => stream.on('close', () => resets.push(stream.rstCode)));
    const ws = await within(connect(url, { http2: true }));
    await until(() => connections.length === 1, 'the server connection');
    ws.terminate();
    expect(await within(ws.closed)).toMatchObject({ code: 1006, wasClean: false });
    expect(await within((connections[0] as WebSocketConnection).closed)).toMatchObject({ code: 1006 });
    await until(() => resets.length === 1, "the server's stream closing");
    expect(resets).toEqual([HTTP2_CANCEL]);
  });

  it('the server resetting the stream under our client is an abnormal closure (1006), data before it kept', async () => {
    const server = http2.createServer({ settings: { enableConnectProtocol: true } });
    // A server of Node's own: it accepts the extended CONNECT, sends one unmasked text frame, then resets.
    server.on('stream', (stream) => {
      stream.on('error', () => {}); // its own reset, reported to it as an error
      stream.respond({ ':status': 200 }, { endStream: false });
      stream.write(new Uint8Array([0x81, 2, 0x68, 0x69])); // "hi"
      stream.on('data', () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    });
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as net.AddressInfo).port;
    const ws = await within(connect(`ws://${HOST}:${port}/`, { http2: true }));
    const { messages, count } = collect(ws);
    await count(1, 'the frame before the reset');
    ws.send('go');
    // Node ends the stream's readable side as it closes it: the session sees the end of the
    // stream without a Close frame, as a TCP FIN, before the reset's close.
    expect(await within(ws.closed)).toMatchObject({ code: 1006, wasClean: false });
    expect(messages).toEqual(['hi']);
  });

  it("a paused reader stops the stream (the peer's window fills), and resuming delivers everything in order", async () => {
    const { url, connections } = await h2Server(() => {});
    const ws = await within(connect(url, { http2: true }));
    await until(() => connections.length === 1, 'the server connection');
    const serverSide = connections[0] as WebSocketConnection;
    serverSide.pause();
    const got = collect(serverSide);
    const chunk = new Uint8Array(32 * 1024).fill(3);
    const total = 32; // 1 MiB: far more than HTTP/2's 64 KiB initial window
    for (let i = 0; i < total; i++) ws.send(chunk);
    // Nobody reads on the server: the stream's window closes and the rest waits in our client.
    await until(() => ws.bufferedAmount > 512 * 1024, `the client holding bytes back (${ws.bufferedAmount})`);
    expect(got.messages.length).toBeLessThan(total);
    serverSide.resume();
    await within(ws.drain(), 10_000, "the client's drain");
    await got.count(total, 'every message once resumed');
    expect(got.messages.every((m) => m instanceof Uint8Array && m.length === chunk.length)).toBe(true);

    // The same the other way: our client pauses.
    ws.pause();
    const back = collect(ws);
    for (let i = 0; i < total; i++) serverSide.send(chunk);
    await until(
      () => serverSide.bufferedAmount > 512 * 1024,
      `the server holding bytes back (${serverSide.bufferedAmount})`,
    );
    ws.resume();
    await back.count(total, 'every message at the client once resumed');
    await until(() => serverSide.bufferedAmount === 0, "the server's buffer emptied");
    ws.close(1000);
    expect(await within(ws.closed)).toMatchObject({ code: 1000, wasClean: true });
  });

  it('echoes of a burst leave in one gathered write; a large message is written as is', async () => {
    const { port } = await h2Server((ws) => ws.on('message', (data) => ws.send(data)));
    const session = await nodeSession(port);
    const opened = await scenario.openStream(session);
    // Twenty frames in one DATA frame: the server's listener sends twenty echoes within one pump.
    const burst = Array.from({ length: 20 }, (_, i) => scenario.clientFrame(1, utf8(`m${i}`)));
    const joined = new Uint8Array(burst.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const frame of burst) {
      joined.set(frame, at);
      at += frame.length;
    }
    const chunks: number[] = [];
    opened.stream.on('data', (chunk: Uint8Array) => chunks.push(chunk.length));
    opened.stream.write(joined);
    const texts: string[] = [];
    for (let i = 0; i < 20; i++) texts.push(new TextDecoder().decode((await opened.reader.next()).payload));
    expect(texts).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    // One write of the 20 echoes (a 2-byte header and `m0`…`m19` each): they arrive as one DATA frame.
    expect(chunks[0]).toBe(10 * 4 + 10 * 5);

    // 40 KiB, over the gathering limit: header and payload go as two writes, the payload not copied.
    const large = new Uint8Array(40 * 1024).map((_, i) => i & 0xff);
    opened.stream.write(scenario.clientFrame(2, large));
    const echoed = await opened.reader.next();
    expect(echoed.opcode).toBe(2);
    expect(echoed.payload).toEqual(large);
    opened.stream.close(http2.constants.NGHTTP2_CANCEL);
  });

  it('a session that went away before the request: connecting fails with its error, nothing thrown', async () => {
    const { port } = await h2Server();
    const session = await nodeSession(port);
    session.destroy();
    const streams: unknown[] = [];
    const ws = startClient(
      new Http2ClientTransport(session, (stream) => streams.push(stream)),
      `ws://${HOST}:${port}/`,
      {},
      http2ClientConnection,
    );
    const error = await within(ws.opened.catch((e: unknown) => e));
    expect(error).toMatchObject({ name: 'HandshakeError' });
    expect(streams).toEqual([]);
    expect(await within(ws.closed)).toMatchObject({ code: 1006, wasClean: false });
  });

  it("a peer's reset with an error code (not CANCEL) closes the server's connection as 1006", async () => {
    const { port, connections } = await h2Server();
    const session = await nodeSession(port);
    const opened = await scenario.openStream(session);
    opened.stream.write(scenario.clientFrame(1, utf8('before')));
    expect(new TextDecoder().decode((await opened.reader.next()).payload)).toBe('before');
    await until(() => connections.length === 1, 'the server connection');
    opened.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    expect(await within((connections[0] as WebSocketConnection).closed)).toMatchObject({ code: 1006, wasClean: false });
  });

  it('HTTP/1.1 over StreamTransport: terminate() destroys the socket, the server sees 1006', async () => {
    const connections: WebSocketConnection[] = [];
    const server = createServer({}, (ws) => connections.push(ws));
    const { port } = await server.listen(0, HOST);
    cleanups.push(() => server.close());
    const ws = await within(connect(`ws://${HOST}:${port}/`));
    expect(ws.httpVersion).toBe('1.1');
    await until(() => connections.length === 1, 'the server connection');
    ws.terminate();
    expect(await within(ws.closed)).toMatchObject({ code: 1006, wasClean: false });
    expect(await within((connections[0] as WebSocketConnection).closed)).toMatchObject({ code: 1006, wasClean: false });
  });

  it('a client that cannot start (a bad URL) opens no stream on the session', async () => {
    const { port } = await h2Server();
    const session = await nodeSession(port);
    const streams: unknown[] = [];
    const transport = new Http2ClientTransport(session, (stream) => streams.push(stream));
    expect(() => startClient(transport, 'not a url', {}, http2ClientConnection)).toThrow();
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(streams).toEqual([]);
    expect(transport.bufferedAmount).toBe(0);
    // The session is still good for others.
    const opened = await scenario.openStream(session);
    expect(opened.headers[':status']).toBe(200);
    opened.stream.close(http2.constants.NGHTTP2_CANCEL);
  });

  it('an HTTP/1.1 CONNECT on an HTTP/2 server with allowHTTP1 is dropped, as without our listener', async () => {
    const server = http2.createSecureServer({ cert, key, allowHTTP1: true, settings: { enableConnectProtocol: true } });
    const handler = createUpgradeHandler({}, () => {});
    handler.attach(server);
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    cleanups.push(async () => {
      await handler.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const socket = tls.connect({
      host: HOST,
      port: (server.address() as net.AddressInfo).port,
      ca: cert,
      ALPNProtocols: ['http/1.1'],
    });
    cleanups.push(() => socket.destroy());
    await within(once(socket, 'secureConnect'), 10_000, 'TLS');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    await within(once(socket, 'close'), 10_000, 'the socket closing');
    expect(answer).toBe('');
  });

  it('handleStream without an HTTP/2 handshake is a usage error; close() detaches from the server', async () => {
    // A plain server of Node's hands its streams to a handler whose adapter set no HTTP/2 handshake.
    const handler = new NoHttp2Handler({}, () => {});
    const errors: unknown[] = [];
    const server = http2.createServer({ settings: { enableConnectProtocol: true } });
    server.on('stream', (stream, headers) => {
      try {
        handler.handleStream(stream, headers);
      } catch (error) {
        errors.push(error);
        stream.respond({ ':status': 501 });
        stream.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const session = await nodeSession((server.address() as net.AddressInfo).port);
    const opened = await scenario.openStream(session);
    expect(opened.headers[':status']).toBe(501);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(WebSocketUsageError);
    expect(errors[0]).toMatchObject({ code: 'INVALID_STATE' });
    expect(handler.connections.size).toBe(0);

    // attach() listens to 'upgrade', 'stream' and 'connect'; close() takes every listener off again.
    const other = http2.createServer({ settings: { enableConnectProtocol: true } });
    const glue = createUpgradeHandler({}, () => {});
    glue.attach(other);
    const counts = () => ['upgrade', 'stream', 'connect'].map((event) => other.listenerCount(event));
    expect(counts()).toEqual([1, 1, 1]);
    await glue.close();
    expect(counts()).toEqual([0, 0, 0]);
  });
});

describe("the conversions between the codec's header lists and Node's records, and the pool's key", () => {
  it('a repeated name becomes an array in a record, and a record becomes a list again (values as text)', () => {
    const record = headerRecord([
      [':status', '200'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['set-cookie', 'c=3'],
      ['x-one', 'only'],
    ]);
    expect(record).toEqual({ ':status': '200', 'set-cookie': ['a=1', 'b=2', 'c=3'], 'x-one': 'only' });
    expect(headerList({ ...record, 'content-length': 12, absent: undefined })).toEqual([
      [':status', '200'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['set-cookie', 'c=3'],
      ['x-one', 'only'],
      ['content-length', '12'],
    ]);
    // A raw list keeps order and repeats; a dangling name is left out.
    expect(headerList(['b', '1', 'a', '2', 'b', '3', 'dangling'])).toEqual([
      ['b', '1'],
      ['a', '2'],
      ['b', '3'],
    ]);
  });

  it('sessions are shared by the same options only: bytes and arrays by content, other objects by identity', () => {
    const origin = (options: Record<string, unknown>) => ({ secure: true, hostname: '::1', port: 8443, options });
    const key = (options: Record<string, unknown>) => Http2SessionPool.key(origin(options));
    const context = { any: 'object' };
    const check = () => undefined;
    expect(Http2SessionPool.authority(origin({}))).toBe('https://[::1]:8443');
    expect(key({ ca: new Uint8Array([1, 2]), servername: 'a' })).toBe(
      key({ servername: 'a', ca: new Uint8Array([1, 2]) }),
    );
    expect(key({ ca: new Uint8Array([1, 2]) })).not.toBe(key({ ca: new Uint8Array([1, 3]) }));
    expect(key({ ca: ['x', new Uint8Array([9])] })).toBe(key({ ca: ['x', new Uint8Array([9])] }));
    expect(key({ ca: ['x', 'y'] })).not.toBe(key({ ca: ['x', 'z'] }));
    expect(key({ secureContext: context, checkServerIdentity: check })).toBe(
      key({ checkServerIdentity: check, secureContext: context }),
    );
    expect(key({ secureContext: context })).not.toBe(key({ secureContext: { any: 'object' } }));
    expect(key({ rejectUnauthorized: false, ca: null })).toBe(key({ rejectUnauthorized: false, ca: undefined }));
    expect(key({ rejectUnauthorized: false })).not.toBe(key({ rejectUnauthorized: true }));
  });
});
