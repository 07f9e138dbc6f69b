// WebSockets over HTTP/2 (RFC 8441) on our Node server, driven by Node's own `http2` client doing
// the extended CONNECT by hand: frames built and parsed here, not by our codec.
import { once } from 'node:events';
import http2 from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createUpgradeHandler,
  permessageDeflate,
  type SessionRequest,
  type UpgradeHandler,
  type WebSocketConnection,
} from '../src/index.ts';
import { HOST, selfSigned, within, wsClient } from './helpers.ts';

/** A masked client frame (RFC 6455 §5.2), payload < 64 KiB. */
function clientFrame(opcode: number, payload: Uint8Array, fin = true): Buffer {
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const head =
    payload.length < 126
      ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | payload.length])
      : Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([head, mask, body]);
}

function closePayload(code: number, reason: string): Buffer {
  const out = Buffer.alloc(2 + Buffer.byteLength(reason));
  out.writeUInt16BE(code, 0);
  out.write(reason, 2);
  return out;
}

/** Unmasked server frames parsed from a byte stream. */
class FrameReader {
  #buffer = Buffer.alloc(0);
  frames: Array<{ opcode: number; payload: Buffer; rsv1: boolean }> = [];
  #waiters: Array<() => void> = [];
  push(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const b = this.#buffer;
      if (b.length < 2) break;
      let length = b[1]! & 0x7f;
      let at = 2;
      if (length === 126) {
        if (b.length < 4) break;
        length = b.readUInt16BE(2);
        at = 4;
      } else if (length === 127) {
        if (b.length < 10) break;
        length = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      if (b.length < at + length) break;
      this.frames.push({ opcode: b[0]! & 0x0f, rsv1: (b[0]! & 0x40) !== 0, payload: b.subarray(at, at + length) });
      this.#buffer = b.subarray(at + length);
    }
    for (const wake of this.#waiters.splice(0)) wake();
  }
  async next(): Promise<{ opcode: number; payload: Buffer; rsv1: boolean }> {
    for (let i = 0; i < 1000 && this.frames.length === 0; i++) {
      await within(new Promise<void>((resolve) => this.#waiters.push(resolve)), 5000, 'a frame');
    }
    return this.frames.shift()!;
  }
}

interface Served {
  h2: http2.Http2Server | http2.Http2SecureServer;
  wss: UpgradeHandler;
  port: number;
  requests: SessionRequest[];
  connections: WebSocketConnection[];
}

let served: Served | null = null;
let pair: { key: Buffer; cert: Buffer } | null = null;
const tlsPair = () => (pair ??= selfSigned());

async function serve(
  options: Parameters<typeof createUpgradeHandler>[0] = {},
  settings: http2.Settings = { enableConnectProtocol: true },
  compat = false,
): Promise<Served> {
  const requests: SessionRequest[] = [];
  const connections: WebSocketConnection[] = [];
  const wss = createUpgradeHandler(options, (ws, request) => {
    requests.push(request);
    connections.push(ws);
    ws.on('message', (data) => ws.send(data));
  });
  // The compatibility API with allowHTTP1 needs TLS (HTTP/1.1 or h2 is chosen by ALPN).
  const h2 = compat
    ? http2.createSecureServer({ ...tlsPair(), settings, allowHTTP1: true }, (_req, res) => res.end('plain'))
    : http2.createServer({ settings });
  if (!compat) {
    // The application's own streams: a plain GET still works beside the WebSockets.
    h2.on('stream', (stream, headers) => {
      if (headers[':method'] === 'GET') stream.respond({ ':status': 200 }, { endStream: false }), stream.end('plain');
    });
  }
  wss.attach(h2);
  await new Promise<void>((resolve) => h2.listen(0, HOST, resolve));
  const port = (h2.address() as { port: number }).port;
  served = { h2, wss, port, requests, connections };
  return served;
}

afterEach(async () => {
  if (served === null) return;
  const { h2, wss } = served;
  served = null;
  await within(wss.close(), 5000, 'wss.close');
  h2.close();
});

async function session(port: number, secure = false): Promise<http2.ClientHttp2Session> {
  const client = secure
    ? http2.connect(`https://${HOST}:${port}`, { ca: tlsPair().cert })
    : http2.connect(`http://${HOST}:${port}`);
  client.on('error', () => {});
  await within(once(client, 'remoteSettings'), 5000, 'SETTINGS');
  return client;
}

const connectHeaders = (extra: http2.OutgoingHttpHeaders = {}): http2.OutgoingHttpHeaders => ({
  ':method': 'CONNECT',
  ':protocol': 'websocket',
  ':scheme': 'https',
  ':path': '/chat?x=1',
  ':authority': `${HOST}`,
  'sec-websocket-version': '13',
  ...extra,
});

async function open(client: http2.ClientHttp2Session, extra: http2.OutgoingHttpHeaders = {}) {
  const stream = client.request(connectHeaders(extra), { endStream: false });
  const reader = new FrameReader();
  stream.on('data', (chunk: Buffer) => reader.push(chunk));
  const [headers] = (await within(once(stream, 'response'), 5000, 'response')) as [http2.IncomingHttpHeaders];
  return { stream, reader, headers };
}

describe('our server over HTTP/2 (RFC 8441), with Node http2 as the client', () => {
  it('announces SETTINGS_ENABLE_CONNECT_PROTOCOL and echoes text and binary', async () => {
    const { port, requests, connections } = await serve({ protocols: ['chat'] });
    const client = await session(port);
    expect(client.remoteSettings.enableConnectProtocol).toBe(true);
    const { stream, reader, headers } = await open(client, { 'sec-websocket-protocol': 'other, chat' });
    expect(headers[':status']).toBe(200);
    expect(headers['sec-websocket-protocol']).toBe('chat');
    expect(headers['sec-websocket-accept']).toBeUndefined();
    stream.write(clientFrame(1, Buffer.from('hello h2')));
    expect(await reader.next()).toMatchObject({ opcode: 1, payload: Buffer.from('hello h2') });
    stream.write(clientFrame(2, Buffer.from([0, 1, 2, 255])));
    expect(await reader.next()).toMatchObject({ opcode: 2, payload: Buffer.from([0, 1, 2, 255]) });
    expect(requests[0]).toMatchObject({ method: 'CONNECT', path: '/chat', query: 'x=1', host: HOST, secure: false });
    expect(connections[0]!.httpVersion).toBe('2');
    // A plain request on the same session is still the application's.
    const get = client.request({ ':path': '/' });
    let body = '';
    get.on('data', (d: Buffer) => (body += d));
    await within(once(get, 'end'), 5000, 'GET');
    expect(body).toBe('plain');
    client.destroy();
  });

  it('closes with code and reason both ways, then ends the stream', async () => {
    const { port, connections } = await serve();
    const client = await session(port);
    const { stream, reader } = await open(client);
    await within(
      (async () => {
        while (connections.length === 0) await new Promise((r) => setTimeout(r, 5));
      })(),
    );
    const closed = connections[0]!.closed;
    stream.write(clientFrame(8, closePayload(4000, 'client bye')));
    const echo = await reader.next();
    expect(echo.opcode).toBe(8);
    expect(echo.payload.readUInt16BE(0)).toBe(4000);
    stream.end();
    await within(once(stream, 'close'), 5000, 'stream close');
    expect(await within(closed)).toMatchObject({ code: 4000, reason: 'client bye', wasClean: true });

    // The server's side closing.
    const second = await open(client);
    await within(
      (async () => {
        while (connections.length < 2) await new Promise((r) => setTimeout(r, 5));
      })(),
    );
    connections[1]!.close(4001, 'server bye');
    const frame = await second.reader.next();
    expect(frame.opcode).toBe(8);
    expect(frame.payload.subarray(2).toString()).toBe('server bye');
    second.stream.write(clientFrame(8, frame.payload));
    await within(once(second.stream, 'end'), 5000, 'END_STREAM from the server');
    second.stream.end();
    expect(await within(connections[1]!.closed)).toMatchObject({ code: 4001, wasClean: true });
    client.destroy();
  });

  it('answers bad requests with a 4xx, never a throw', async () => {
    const { port, connections } = await serve({ origins: ['http://good.example'] });
    const client = await session(port);
    const status = async (extra: http2.OutgoingHttpHeaders) => {
      const stream = client.request(connectHeaders(extra), { endStream: false });
      stream.on('error', () => {});
      const [headers] = (await within(once(stream, 'response'), 5000, 'response')) as [http2.IncomingHttpHeaders];
      let body = '';
      stream.on('data', (d: Buffer) => (body += d));
      await within(once(stream, 'end'), 5000, 'end of the refusal');
      stream.close();
      return { status: headers[':status'], version: headers['sec-websocket-version'], body };
    };
    expect(await status({ 'sec-websocket-version': '8', origin: 'http://good.example' })).toMatchObject({
      status: 426,
      version: '13',
    });
    expect(await status({ origin: 'http://evil.example' })).toMatchObject({
      status: 403,
      body: 'origin not allowed\n',
    });
    expect(await status({ origin: 'http://good.example', 'sec-websocket-extensions': ';;' })).toMatchObject({
      status: 400,
    });
    expect(connections).toHaveLength(0);
    client.destroy();
  });

  it('negotiates permessage-deflate and echoes compressed messages', async () => {
    const { port } = await serve({ extensions: [permessageDeflate()] });
    const client = await session(port);
    const { stream, reader, headers } = await open(client, {
      'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
    });
    expect(headers['sec-websocket-extensions']).toMatch(/^permessage-deflate/);
    // An uncompressed message from us (allowed), answered compressed (RSV1) by the server.
    const text = 'squeeze '.repeat(200);
    stream.write(clientFrame(1, Buffer.from(text)));
    const frame = await reader.next();
    expect(frame.rsv1).toBe(true);
    expect(frame.payload.length).toBeLessThan(100);
    const { inflateRawSync } = await import('node:zlib');
    const { constants } = await import('node:zlib');
    const inflated = inflateRawSync(Buffer.concat([frame.payload, Buffer.from([0, 0, 0xff, 0xff])]), {
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    expect(inflated.toString()).toBe(text);
    client.destroy();
  });

  it('a stream reset is an abnormal closure (1006)', async () => {
    const { port, connections } = await serve();
    const client = await session(port);
    const { stream, reader } = await open(client);
    stream.write(clientFrame(1, Buffer.from('x')));
    await reader.next();
    const closed = connections[0]!.closed;
    stream.close(http2.constants.NGHTTP2_CANCEL);
    expect(await within(closed)).toMatchObject({ code: 1006, wasClean: false });
    client.destroy();
  });

  it('works beside the compatibility API and HTTP/1.1 upgrades on one port (allowHTTP1)', async () => {
    const { port, connections } = await serve({}, { enableConnectProtocol: true }, true);
    const client = await session(port, true);
    const { stream, reader, headers } = await open(client);
    expect(headers[':status']).toBe(200);
    stream.write(clientFrame(1, Buffer.from('via compat')));
    expect((await reader.next()).payload.toString()).toBe('via compat');
    // A plain CONNECT (no :protocol) is refused as Node would.
    const plain = client.request({ ':method': 'CONNECT', ':authority': 'example.com:443' });
    plain.on('error', () => {});
    const [plainHeaders] = (await within(once(plain, 'response'))) as [http2.IncomingHttpHeaders];
    expect(plainHeaders[':status']).toBe(405);
    // HTTP/1.1 on the same port.
    const h1 = await wsClient(`wss://${HOST}:${port}/h1`, undefined, { ca: tlsPair().cert });
    const echoed = once(h1, 'message');
    h1.send('over http/1.1');
    expect(String((await within(echoed))[0])).toBe('over http/1.1');
    expect(connections.map((c) => c.httpVersion).sort()).toEqual(['1.1', '2']);
    h1.close();
    client.destroy();
  });

  it('leaves a server without enableConnectProtocol alone: Node refuses :protocol there', async () => {
    const { port, connections } = await serve({}, {});
    const client = await session(port);
    expect(client.remoteSettings.enableConnectProtocol).toBe(false);
    const get = client.request({ ':path': '/' });
    let body = '';
    get.on('data', (d: Buffer) => (body += d));
    await within(once(get, 'end'));
    expect(body).toBe('plain');
    const refused = client.request(connectHeaders(), { endStream: false });
    const [error] = (await within(once(refused, 'error'))) as [Error & { code?: string }];
    expect(error.message).toMatch(/PROTOCOL_ERROR/);
    expect(connections).toHaveLength(0);
    client.destroy();
  });
});
