// WebSockets over HTTP/2 (RFC 8441) on a runtime's own `node:http2`, once for Deno and Bun (Node
// has its own vitest files): our upgrade handler attached to an h2c or TLS `node:http2` server,
// driven by the runtime's own `http2` client doing the extended CONNECT by hand (frames built
// and parsed here, not by our codec), and our `connect(url, { http2: true })` against it: many
// WebSockets on one session, permessage-deflate, HTTP/1.1 on the same port, the fall back to
// HTTP/1.1. Each runtime's test file passes what differs; a failed check throws.
import http2 from 'node:http2';
import { inflateRawSync, constants as zlibConstants } from 'node:zlib';
import { assert, assertEquals } from './assert.ts';
import { concat as concatBytes } from './bytes.ts';
import { until, within } from './wait.ts';

export const HOST = '127.0.0.1';

/** A connection of ours, as far as these scenarios use it. */
export interface Connection {
  readonly httpVersion: '1.1' | '2';
  readonly extensions: string;
  readonly protocol: string;
  readonly readyState: string;
  readonly bufferedAmount: number;
  drain(): Promise<void>;
  send(data: string | Uint8Array): unknown;
  on(event: 'message', listener: (data: string | Uint8Array) => void): unknown;
  once(event: 'message', listener: (data: string | Uint8Array) => void): unknown;
  close(code?: number, reason?: string): void;
  readonly closed: Promise<{ code: number; reason: string; wasClean: boolean }>;
}

export interface Request {
  method: string;
  path: string;
  query: string;
  host: string | null;
  secure: boolean;
}

/** Our upgrade handler (`createUpgradeHandler`). */
export interface Handler {
  attach(server: http2.Http2Server | http2.Http2SecureServer): unknown;
  readonly connections: { readonly size: number };
  close(): Promise<void>;
}

export interface Http2Runtime {
  createUpgradeHandler(
    options: Record<string, unknown>,
    onConnection: (ws: Connection, request: Request) => void,
  ): Handler;
  connect(url: string, options: Record<string, unknown>): Promise<Connection>;
  createConnection(url: string, options: Record<string, unknown>): unknown;
  permessageDeflate(): unknown;
  /** An HTTP/1.1-only echo server of ours (the adapter's `createServer`) on 127.0.0.1. */
  http1Echo(): Promise<{ url: string; close(): Promise<unknown> }>;
  /** A certificate and key (PEM) that `trust` makes our client and the runtime's http2 client accept for `HOST`. */
  cert: string;
  key: string;
  /** Client options of our `connect` that trust `cert` for `HOST`. */
  trust: Record<string, unknown>;
  /** `http2.connect` options that trust `cert` for `HOST`. */
  nodeTrust: Record<string, unknown>;
}

/** What the scenarios need of an adapter (`@ws/deno`, `@ws/bun`): its exports, loosely typed. */
export interface Adapter {
  connect(url: string, options: never): Promise<unknown>;
  createConnection(url: string, options: never): unknown;
  createServer(
    options: Record<string, never>,
    onConnection: (ws: {
      on(event: 'message', listener: (data: never) => void): unknown;
      send(data: never): unknown;
    }) => void,
  ): { listen(port: number, host: string): Promise<{ port: number }>; close(): Promise<void> };
  createUpgradeHandler(options: never, onConnection: never): unknown;
  permessageDeflate(): unknown;
}

/** The scenarios' view of an adapter, with a certificate for `HOST` that `ca` trusts. */
export function http2Runtime(adapter: Adapter, tls: { cert: string; key: string }): Http2Runtime {
  const loose = adapter as unknown as {
    connect(url: string, options: Record<string, unknown>): Promise<Connection>;
    createConnection(url: string, options: Record<string, unknown>): unknown;
    createUpgradeHandler(
      options: Record<string, unknown>,
      onConnection: (ws: Connection, request: Request) => void,
    ): Handler;
  };
  return {
    createUpgradeHandler: (options, onConnection) => loose.createUpgradeHandler(options, onConnection),
    connect: (url, options) => loose.connect(url, options),
    createConnection: (url, options) => loose.createConnection(url, options),
    permessageDeflate: () => adapter.permessageDeflate(),
    http1Echo: async () => {
      const server = adapter.createServer({}, (ws) => ws.on('message', (data) => ws.send(data)));
      const { port } = await server.listen(0, HOST);
      return { url: `ws://${HOST}:${port}/`, close: () => server.close() };
    },
    cert: tls.cert,
    key: tls.key,
    trust: { ca: tls.cert },
    nodeTrust: { ca: tls.cert },
  };
}

/** Starts, and remembers to stop, what a scenario opens. */
class Cleanups {
  readonly #steps: Array<() => unknown> = [];
  add(step: () => unknown): void {
    this.#steps.push(step);
  }
  async run(): Promise<void> {
    for (const step of this.#steps.splice(0).reverse()) await within(Promise.resolve(step()), 10_000, 'cleanup');
  }
}

function closeServer(server: http2.Http2Server | http2.Http2SecureServer): Promise<void> {
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

async function listen(server: http2.Http2Server | http2.Http2SecureServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  return (server.address() as { port: number }).port;
}

/** An echo handler of ours attached to a fresh `node:http2` server; counts TCP connections, extended CONNECTs and upgrades. */
async function served(
  rt: Http2Runtime,
  cleanups: Cleanups,
  opts: { secure?: boolean; connectProtocol?: boolean; options?: Record<string, unknown> } = {},
) {
  const seen = { sockets: 0, extendedConnects: 0, upgrades: 0 };
  const requests: Request[] = [];
  const connections: Connection[] = [];
  const wss = rt.createUpgradeHandler(opts.options ?? {}, (ws, request) => {
    requests.push(request);
    connections.push(ws);
    ws.on('message', (data) => ws.send(data));
  });
  const settings = { enableConnectProtocol: opts.connectProtocol ?? true };
  const server = opts.secure
    ? http2.createSecureServer({ cert: rt.cert, key: rt.key, settings, allowHTTP1: true }, (_req, res) => {
        res.end('plain');
      })
    : http2.createServer({ settings });
  server.on(opts.secure ? 'secureConnection' : 'connection', () => seen.sockets++);
  server.on('stream', (stream, headers) => {
    if (headers[':protocol'] !== undefined) seen.extendedConnects++;
    // The application's own streams: a plain GET still works beside the WebSockets.
    else if (!opts.secure && headers[':method'] === 'GET') {
      stream.respond({ ':status': 200 }, { endStream: false });
      stream.end('plain');
    }
  });
  server.on('upgrade', () => seen.upgrades++);
  wss.attach(server);
  const port = await listen(server);
  cleanups.add(async () => {
    await wss.close();
    await closeServer(server);
  });
  return { port, seen, wss, requests, connections, server };
}

/** A masked client frame (RFC 6455 §5.2), payload < 64 KiB. */
export function clientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const mask = [0x12, 0x34, 0x56, 0x78];
  const head =
    payload.length < 126
      ? [0x80 | opcode, 0x80 | payload.length]
      : [0x80 | opcode, 0x80 | 126, payload.length >> 8, payload.length & 0xff];
  const out = new Uint8Array(head.length + 4 + payload.length);
  out.set(head, 0);
  out.set(mask, head.length);
  for (let i = 0; i < payload.length; i++) out[head.length + 4 + i] = (payload[i] as number) ^ (mask[i % 4] as number);
  return out;
}

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** The close info's code, reason and wasClean (the rest differs by who closed). */
async function closeInfo(ws: Connection): Promise<{ code: number; reason: string; wasClean: boolean }> {
  const { code, reason, wasClean } = await within(ws.closed, 10_000, 'the close');
  return { code, reason, wasClean };
}

export function closePayload(code: number, reason: string): Uint8Array {
  const r = utf8(reason);
  const out = new Uint8Array(2 + r.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}

interface Frame {
  opcode: number;
  rsv1: boolean;
  payload: Uint8Array;
}

/** Unmasked server frames parsed from a byte stream. */
class FrameReader {
  #buffer = new Uint8Array(0);
  readonly frames: Frame[] = [];
  #wake: (() => void) | null = null;

  push(chunk: Uint8Array): void {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer, 0);
    joined.set(chunk, this.#buffer.length);
    this.#buffer = joined;
    for (;;) {
      const b = this.#buffer;
      if (b.length < 2) break;
      let length = (b[1] as number) & 0x7f;
      let at = 2;
      if (length === 126) {
        if (b.length < 4) break;
        length = ((b[2] as number) << 8) | (b[3] as number);
        at = 4;
      } else if (length === 127) {
        if (b.length < 10) break;
        length = Number(new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0));
        at = 10;
      }
      if (b.length < at + length) break;
      const first = b[0] as number;
      this.frames.push({ opcode: first & 0x0f, rsv1: (first & 0x40) !== 0, payload: b.slice(at, at + length) });
      this.#buffer = b.slice(at + length);
    }
    this.#wake?.();
  }

  async next(): Promise<Frame> {
    await within(
      (async () => {
        while (this.frames.length === 0) await new Promise<void>((resolve) => (this.#wake = resolve));
      })(),
      10_000,
      'a frame from the server',
    );
    return this.frames.shift() as Frame;
  }
}

async function clientSession(port: number, secure: boolean, rt: Http2Runtime): Promise<http2.ClientHttp2Session> {
  const client = secure
    ? http2.connect(`https://${HOST}:${port}`, rt.nodeTrust)
    : http2.connect(`http://${HOST}:${port}`);
  client.on('error', () => {});
  const settings = await within(
    new Promise<http2.Settings>((resolve) => client.once('remoteSettings', resolve)),
    10_000,
    'SETTINGS',
  );
  assertEquals(settings.enableConnectProtocol, true, 'SETTINGS_ENABLE_CONNECT_PROTOCOL');
  return client;
}

const connectHeaders = (extra: http2.OutgoingHttpHeaders = {}): http2.OutgoingHttpHeaders => ({
  ':method': 'CONNECT',
  ':protocol': 'websocket',
  ':scheme': 'http',
  ':path': '/chat?x=1',
  ':authority': HOST,
  'sec-websocket-version': '13',
  origin: 'http://good.example',
  ...extra,
});

/** An extended CONNECT by hand: the stream, its frames, and the response headers. */
export async function openStream(client: http2.ClientHttp2Session, extra: http2.OutgoingHttpHeaders = {}) {
  const stream = client.request(connectHeaders(extra), { endStream: false });
  stream.on('error', () => {});
  const reader = new FrameReader();
  const body: Uint8Array[] = [];
  stream.on('data', (chunk: Uint8Array) => {
    body.push(chunk);
    reader.push(chunk);
  });
  const ended = new Promise<void>((resolve) => stream.once('end', () => resolve()));
  const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
  const headers = await within(
    new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once('response', (h) => resolve(h))),
    10_000,
    'the response to an extended CONNECT',
  );
  return { stream, reader, headers, ended, closed, body: () => text(concatBytes(body)) };
}

/**
 * The runtime's own `http2` client against our handler on an h2c server: SETTINGS, text and
 * binary, subprotocol, the request as `verifyClient` sees it, a plain GET beside it, close code
 * and reason both ways with END_STREAM, a reset as 1006, bad requests as 4xx, permessage-deflate.
 */
export async function byHand(rt: Http2Runtime): Promise<void> {
  const cleanups = new Cleanups();
  try {
    const { port, requests, connections } = await served(rt, cleanups, {
      options: { protocols: ['chat'], origins: ['http://good.example'], extensions: [rt.permessageDeflate()] },
    });
    const client = await clientSession(port, false, rt);
    cleanups.add(() => client.destroy());

    const first = await openStream(client, { 'sec-websocket-protocol': 'other, chat' });
    assertEquals(first.headers[':status'], 200, 'status');
    assertEquals(first.headers['sec-websocket-protocol'], 'chat', 'subprotocol');
    assertEquals(first.headers['sec-websocket-accept'], undefined, 'no accept header over HTTP/2');
    first.stream.write(clientFrame(1, utf8('hello h2')));
    const echoed = await first.reader.next();
    assertEquals([echoed.opcode, text(echoed.payload)], [1, 'hello h2'], 'text echo');
    first.stream.write(clientFrame(2, new Uint8Array([0, 1, 2, 255])));
    const binary = await first.reader.next();
    assertEquals([binary.opcode, [...binary.payload]], [2, [0, 1, 2, 255]], 'binary echo');
    const request = requests[0] as Request;
    assertEquals(
      [request.method, request.path, request.query, request.host, request.secure],
      ['CONNECT', '/chat', 'x=1', HOST, false],
      'the request',
    );
    assertEquals((connections[0] as Connection).httpVersion, '2', 'httpVersion');

    // A plain request on the same session is still the application's.
    const get = client.request({ ':path': '/' });
    let plain = '';
    get.on('data', (d: Uint8Array) => (plain += text(d)));
    await within(new Promise((resolve) => get.once('end', resolve)), 10_000, 'GET');
    assertEquals(plain, 'plain', 'a plain GET beside the WebSockets');

    // The client closes: the close is echoed, then both ends end the stream.
    first.stream.write(clientFrame(8, closePayload(4000, 'client bye')));
    const closeEcho = await first.reader.next();
    assertEquals(
      [closeEcho.opcode, (closeEcho.payload[0] as number) * 256 + (closeEcho.payload[1] as number)],
      [8, 4000],
    );
    first.stream.end();
    await within(first.closed, 10_000, 'the stream closing');
    assertEquals(
      await closeInfo(connections[0] as Connection),
      { code: 4000, reason: 'client bye', wasClean: true },
      'client close',
    );

    // The server closes: its Close, our answer, its END_STREAM.
    const second = await openStream(client);
    await until(() => connections.length === 2, 'the second connection');
    (connections[1] as Connection).close(4001, 'server bye');
    const serverClose = await second.reader.next();
    assertEquals([serverClose.opcode, text(serverClose.payload.subarray(2))], [8, 'server bye'], 'server close');
    second.stream.write(clientFrame(8, serverClose.payload));
    await within(second.ended, 10_000, 'END_STREAM from the server');
    second.stream.end();
    const closedByServer = await within((connections[1] as Connection).closed);
    assertEquals([closedByServer.code, closedByServer.wasClean], [4001, true], 'server close info');

    // A reset is an abnormal closure.
    const third = await openStream(client);
    third.stream.write(clientFrame(1, utf8('x')));
    await third.reader.next();
    const closedByReset = (connections[2] as Connection).closed;
    third.stream.close(http2.constants.NGHTTP2_CANCEL);
    const reset = await within(closedByReset);
    assertEquals([reset.code, reset.wasClean], [1006, false], 'a reset is 1006');

    // Bad requests: a status, never a throw, no connection.
    const refused = async (extra: http2.OutgoingHttpHeaders) => {
      const r = await openStream(client, extra);
      await within(r.ended, 10_000, 'the end of a refusal');
      r.stream.close();
      return { status: r.headers[':status'], version: r.headers['sec-websocket-version'], body: r.body() };
    };
    const before = connections.length;
    const wrongVersion = await refused({ 'sec-websocket-version': '8' });
    assertEquals([wrongVersion.status, wrongVersion.version], [426, '13'], 'version 8');
    assertEquals((await refused({ origin: 'http://evil.example' })).status, 403, 'origin not allowed');
    assertEquals((await refused({ 'sec-websocket-extensions': ';;' })).status, 400, 'malformed extensions');
    assertEquals(connections.length, before, 'no connection for a refusal');

    // permessage-deflate: our uncompressed message answered compressed (RSV1).
    const deflated = await openStream(client, {
      'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
    });
    assert(/^permessage-deflate/.test(String(deflated.headers['sec-websocket-extensions'])), 'deflate negotiated');
    const long = 'squeeze '.repeat(200);
    deflated.stream.write(clientFrame(1, utf8(long)));
    const compressed = await deflated.reader.next();
    assertEquals(compressed.rsv1, true, 'RSV1 on the answer');
    assert(compressed.payload.length < 100, `compressed to ${compressed.payload.length} bytes`);
    const inflated = inflateRawSync(concatBytes([compressed.payload, new Uint8Array([0, 0, 0xff, 0xff])]), {
      finishFlush: zlibConstants.Z_SYNC_FLUSH,
    });
    assertEquals(text(inflated), long, 'inflated');
    deflated.stream.close(http2.constants.NGHTTP2_CANCEL);
  } finally {
    await cleanups.run();
  }
}

/**
 * TLS with `allowHTTP1` and the compatibility API: the runtime's own client by hand (its CONNECT
 * arrives as 'connect'), our client over HTTP/2 and over HTTP/1.1 (an 'upgrade') on one port.
 */
export async function tlsAndHttp1OnOnePort(rt: Http2Runtime): Promise<void> {
  const cleanups = new Cleanups();
  try {
    const { port, connections, seen, requests } = await served(rt, cleanups, { secure: true });
    const client = await clientSession(port, true, rt);
    cleanups.add(() => client.destroy());
    const byHandStream = await openStream(client, { ':scheme': 'https' });
    assertEquals(byHandStream.headers[':status'], 200, 'status over TLS');
    byHandStream.stream.write(clientFrame(1, utf8('via compat')));
    assertEquals(text((await byHandStream.reader.next()).payload), 'via compat', 'echo over TLS by hand');
    // A plain CONNECT (no :protocol) is refused as the runtime would.
    const plainConnect = client.request({ ':method': 'CONNECT', ':authority': 'example.com:443' });
    plainConnect.on('error', () => {});
    const plainHeaders = await within(
      new Promise<http2.IncomingHttpHeaders>((resolve) => plainConnect.once('response', resolve)),
    );
    assertEquals(plainHeaders[':status'], 405, 'a plain CONNECT');

    const over2 = await within(rt.connect(`wss://${HOST}:${port}/two`, { ...rt.trust, http2: true }));
    const over1 = await within(rt.connect(`wss://${HOST}:${port}/one`, { ...rt.trust }));
    assertEquals([over2.httpVersion, over1.httpVersion], ['2', '1.1'], 'httpVersion of each');
    for (const [ws, message] of [
      [over2, 'over h2'],
      [over1, 'over http/1.1'],
    ] as const) {
      const echoed = new Promise((resolve) => ws.once('message', resolve));
      ws.send(message);
      assertEquals(await within(echoed), message, `echo ${message}`);
    }
    assertEquals(seen.upgrades, 1, 'one HTTP/1.1 upgrade');
    assertEquals(connections.map((c) => c.httpVersion).sort(), ['1.1', '2', '2'], 'the server saw both versions');
    assert(
      requests.every((r) => r.secure),
      'every request is secure',
    );
    over2.close(4003, 'tls bye');
    over1.close(4004, 'h1 bye');
    assertEquals((await closeInfo(over2)).code, 4003, 'h2 close');
    assertEquals((await closeInfo(over1)).code, 4004, 'h1 close');
    const serverH2 = connections.slice(1).find((c) => c.httpVersion === '2');
    const serverH1 = connections.find((c) => c.httpVersion === '1.1');
    assertEquals(
      await closeInfo(serverH2 as Connection),
      { code: 4003, reason: 'tls bye', wasClean: true },
      'h2 close, server side',
    );
    assertEquals(
      await closeInfo(serverH1 as Connection),
      { code: 4004, reason: 'h1 bye', wasClean: true },
      'h1 close, server side',
    );
    byHandStream.stream.close(http2.constants.NGHTTP2_CANCEL);
  } finally {
    await cleanups.run();
  }
}

/** `connect(url, { http2: true })` × n on one session (one TCP connection): text, binary, close code and reason. */
export async function manyOnOneSession(rt: Http2Runtime, n = 100): Promise<void> {
  const cleanups = new Cleanups();
  try {
    const { port, seen, wss, requests, connections } = await served(rt, cleanups);
    const sockets = await within(
      Promise.all(Array.from({ length: n }, (_, i) => rt.connect(`ws://${HOST}:${port}/n${i}`, { http2: true }))),
      20_000,
      `${n} connects`,
    );
    assert(
      sockets.every((ws) => ws.httpVersion === '2'),
      'every WebSocket over HTTP/2',
    );
    const echoes = await within(
      Promise.all(
        sockets.map((ws, i) => {
          const next = new Promise<string | Uint8Array>((resolve) => ws.once('message', resolve));
          ws.send(i % 2 === 0 ? `text ${i}` : new Uint8Array([i & 0xff, 1, 2]));
          return next;
        }),
      ),
      20_000,
      `${n} echoes`,
    );
    echoes.forEach((echo, i) => {
      if (i % 2 === 0) assertEquals(echo, `text ${i}`, `echo ${i}`);
      else assertEquals([...(echo as Uint8Array)], [i & 0xff, 1, 2], `echo ${i}`);
    });
    assertEquals(seen.sockets, 1, 'one TCP connection');
    assertEquals(seen.extendedConnects, n, 'one extended CONNECT each');
    assertEquals(wss.connections.size, n, 'tracked by the handler');
    const first = sockets[0] as Connection;
    first.close(4002, 'done');
    assertEquals((await closeInfo(first)).code, 4002, 'close code');
    const served0 = connections[requests.findIndex((r) => r.path === '/n0')] as Connection;
    assertEquals(
      await closeInfo(served0),
      { code: 4002, reason: 'done', wasClean: true },
      'close code and reason, server side',
    );
    await within(Promise.all(sockets.slice(1).map((ws) => (ws.close(), ws.closed))), 20_000, 'the others closing');
    await until(() => wss.connections.size === 0, 'the handler seeing every close');
  } finally {
    await cleanups.run();
  }
}

/** permessage-deflate both ways with our client over HTTP/2 on TLS. */
export async function deflateOverTls(rt: Http2Runtime): Promise<void> {
  const cleanups = new Cleanups();
  try {
    const { port } = await served(rt, cleanups, { secure: true, options: { extensions: [rt.permessageDeflate()] } });
    const ws = await within(
      rt.connect(`wss://${HOST}:${port}/`, { ...rt.trust, http2: true, extensions: [rt.permessageDeflate()] }),
    );
    assertEquals(ws.httpVersion, '2', 'httpVersion');
    assert(/^permessage-deflate/.test(ws.extensions), `extensions: ${ws.extensions}`);
    const long = 'deflate me '.repeat(500);
    const echoed = new Promise((resolve) => ws.once('message', resolve));
    ws.send(long);
    assertEquals(await within(echoed), long, 'compressed echo');
    ws.close(1000, 'bye');
    const { code, wasClean } = await closeInfo(ws);
    assertEquals([code, wasClean], [1000, true], 'close');
  } finally {
    await cleanups.run();
  }
}

/** The fall back to HTTP/1.1: a TLS server without `enableConnectProtocol` (same port, `allowHTTP1`), an HTTP/1.1-only server. */
export async function fallback(rt: Http2Runtime): Promise<void> {
  const cleanups = new Cleanups();
  try {
    const { port, seen } = await served(rt, cleanups, { secure: true, connectProtocol: false });
    const ws = await within(rt.connect(`wss://${HOST}:${port}/`, { ...rt.trust, http2: true }));
    assertEquals(ws.httpVersion, '1.1', 'without the setting: HTTP/1.1');
    assertEquals([seen.upgrades, seen.extendedConnects], [1, 0], 'an upgrade, no extended CONNECT');
    const echoed = new Promise((resolve) => ws.once('message', resolve));
    ws.send('over 1.1');
    assertEquals(await within(echoed), 'over 1.1', 'echo');
    ws.close();
    await within(ws.closed);

    const http1 = await rt.http1Echo();
    cleanups.add(() => http1.close());
    const plain = await within(rt.connect(http1.url, { http2: true }));
    assertEquals(plain.httpVersion, '1.1', 'no HTTP/2 there: HTTP/1.1');
    plain.close();
    await within(plain.closed);
  } finally {
    await cleanups.run();
  }
}

/** A refusal over HTTP/2 rejects with its status; `createConnection` refuses the option. */
export async function refusalAndMisuse(rt: Http2Runtime): Promise<void> {
  const cleanups = new Cleanups();
  try {
    const { port } = await served(rt, cleanups, { options: { verifyClient: () => ({ status: 403, body: 'nope' }) } });
    const error = await within(rt.connect(`ws://${HOST}:${port}/`, { http2: true }).catch((e: unknown) => e));
    assertEquals((error as { status?: number }).status, 403, 'the refusal status');
    let thrown: unknown = null;
    try {
      rt.createConnection(`ws://${HOST}:1/`, { http2: true });
    } catch (e) {
      thrown = e;
    }
    assert(
      thrown instanceof TypeError && /connect\(url, \{ http2: true \}\)/.test(thrown.message),
      'createConnection refuses http2',
    );
    const proxied = await rt
      .connect(`ws://${HOST}:${port}/`, { http2: true, proxy: 'http://127.0.0.1:1' })
      .catch((e: unknown) => e);
    assert(proxied instanceof TypeError, 'http2 with proxy is refused');
  } finally {
    await cleanups.run();
  }
}

/**
 * Backpressure is the stream's flow control: a peer that stops reading leaves what its window
 * does not take in `bufferedAmount`; once it reads again, `drain()` resolves and every byte arrives.
 */
export async function flowControl(rt: Http2Runtime): Promise<void> {
  const cleanups = new Cleanups();
  try {
    const { port, connections } = await served(rt, cleanups);
    const client = await clientSession(port, false, rt);
    cleanups.add(() => client.destroy());
    const opened = await openStream(client);
    opened.stream.pause();
    await until(() => connections.length === 1, 'the connection');
    const ws = connections[0] as Connection;
    const chunk = new Uint8Array(64 * 1024).fill(7);
    for (let i = 0; i < 16; i++) ws.send(chunk);
    // HTTP/2's initial window is 64 KiB a stream: most of the 1 MiB waits for the reader.
    await until(() => ws.bufferedAmount > 512 * 1024, `bufferedAmount past 512 KiB (it is ${ws.bufferedAmount})`);
    const drained = ws.drain();
    opened.stream.resume();
    await within(drained, 10_000, 'drain');
    assertEquals(ws.bufferedAmount, 0, 'bufferedAmount once drained');
    for (let i = 0; i < 16; i++) {
      const frame = await opened.reader.next();
      assertEquals([frame.opcode, frame.payload.length], [2, 64 * 1024], `frame ${i}`);
    }
    opened.stream.close(http2.constants.NGHTTP2_CANCEL);
  } finally {
    await cleanups.run();
  }
}

/** The first ```ts block after `heading` in a README (the HTTP/2 example each adapter's test runs). */
export function readmeExample(readme: string, heading: string): string {
  const at = readme.indexOf(heading);
  assert(at >= 0, `the README has a section ${heading}`);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  assert(block !== null, `a ts block under ${heading}`);
  return block[1] as string;
}

/** What `run` prints with `console.log`, one string per call (printed nowhere else meanwhile). */
export async function printed(run: () => Promise<unknown>): Promise<string[]> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
  try {
    await within(run(), 10_000, 'the README example');
  } finally {
    console.log = log;
  }
  return lines;
}
