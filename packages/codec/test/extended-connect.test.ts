/**
 * RFC 8441 (WebSockets over HTTP/2) in the codec: the header-list functions, and a client and a
 * server `Connection` in `http2` mode talking through arrays (heads handed across as lists, then
 * frames as over TCP), the stream's end and reset.
 */
import { describe, expect, it } from 'vitest';
import type { Connection } from '../src/connection.ts';
import { http2ClientConnection, http2ServerConnection } from '../src/http2.ts';
import { serverConnection } from '../src/server.ts';
import type { Output } from '../src/events.ts';
import {
  buildExtendedConnectAccept,
  buildExtendedConnectReject,
  buildExtendedConnectRequest,
  readExtendedConnectResponse,
  validateExtendedConnect,
  verifyExtendedConnectResponse,
  type HeaderList,
} from '../src/handshake/extended-connect.ts';
import { parseWsUrl } from '../src/handshake/client.ts';
import { pakoPermessageDeflate } from '../src/extensions/pako-backend.ts';

const GOOD: HeaderList = [
  [':method', 'CONNECT'],
  [':protocol', 'websocket'],
  [':scheme', 'https'],
  [':path', '/chat?room=1'],
  [':authority', 'example.com'],
  ['sec-websocket-version', '13'],
  ['sec-websocket-protocol', 'chat, superchat'],
  ['sec-websocket-extensions', 'permessage-deflate; client_max_window_bits'],
  ['origin', 'https://example.com'],
];

const without = (name: string, list = GOOD): HeaderList => list.filter(([n]) => n !== name);
const replaced = (name: string, value: string, list = GOOD): HeaderList =>
  list.map(([n, v]) => (n === name ? [n, value] : [n, v]));

function refusal(list: ReadonlyArray<readonly [string, string]>, options = {}) {
  const verdict = validateExtendedConnect(list, options);
  if (verdict.ok) throw new Error('expected a refusal');
  return verdict;
}

describe('validateExtendedConnect', () => {
  it('accepts a well-formed extended CONNECT and reports it like an HTTP/1.1 request', () => {
    const verdict = validateExtendedConnect(GOOD);
    expect(verdict.ok).toBe(true);
    if (!verdict.ok) return;
    expect(verdict.request).toMatchObject({
      method: 'CONNECT',
      target: '/chat?room=1',
      path: '/chat',
      query: 'room=1',
      httpVersion: '2',
      host: 'example.com',
      origin: 'https://example.com',
      key: '',
      protocols: ['chat', 'superchat'],
    });
    expect(verdict.request.extensions).toEqual([
      { name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: null }] },
    ]);
    expect(verdict.request.headers.get('sec-websocket-version')).toBe('13');
  });

  it('refuses another method with 405 and allow: CONNECT', () => {
    const r = refusal(replaced(':method', 'GET'));
    expect(r).toMatchObject({ status: 405, code: 'BAD_METHOD', headers: [['allow', 'CONNECT']] });
  });

  it('refuses a CONNECT without :protocol, or with another protocol, with 400', () => {
    expect(refusal(without(':protocol'))).toMatchObject({ status: 400, code: 'BAD_UPGRADE' });
    expect(refusal(replaced(':protocol', 'h2c'))).toMatchObject({ status: 400, code: 'BAD_UPGRADE' });
  });

  it.each([':scheme', ':path', ':authority', ':method'])('refuses a request without %s with 400', (name) => {
    expect(refusal(without(name))).toMatchObject({ status: 400, code: 'MALFORMED_HEAD' });
  });

  it.each([':method', ':protocol', ':scheme', ':path', ':authority'])('refuses a repeated %s', (name) => {
    const value = GOOD.find(([n]) => n === name)![1];
    const list: HeaderList = [[name, value], ...GOOD];
    expect(refusal(list)).toMatchObject({ status: 400, message: `more than one ${name}` });
  });

  it('refuses upper-case names, unknown pseudo-headers and pseudo-headers after regular fields', () => {
    expect(refusal([...GOOD, ['X-Upper', '1']])).toMatchObject({ status: 400, code: 'MALFORMED_HEAD' });
    expect(refusal([[':Method', 'CONNECT'], ...without(':method')])).toMatchObject({ status: 400 });
    expect(refusal([[':status', '200'], ...GOOD])).toMatchObject({
      status: 400,
      message: 'unknown pseudo-header :status',
    });
    expect(refusal([...without(':path'), [':path', '/']])).toMatchObject({ status: 400 });
  });

  it('refuses connection-specific fields (RFC 9113 §8.2.2), allows te: trailers', () => {
    for (const [name, value] of [
      ['connection', 'upgrade'],
      ['upgrade', 'websocket'],
      ['keep-alive', '5'],
      ['transfer-encoding', 'chunked'],
      ['te', 'gzip'],
    ] as const) {
      expect(refusal([...GOOD, [name, value]])).toMatchObject({ status: 400, code: 'MALFORMED_HEAD' });
    }
    expect(validateExtendedConnect([...GOOD, ['te', 'trailers']]).ok).toBe(true);
  });

  it('refuses a wrong or missing version with 426 and sec-websocket-version: 13', () => {
    for (const list of [replaced('sec-websocket-version', '8'), without('sec-websocket-version')]) {
      expect(refusal(list)).toMatchObject({
        status: 426,
        code: 'UNSUPPORTED_VERSION',
        headers: [['sec-websocket-version', '13']],
      });
    }
  });

  it('ignores a sec-websocket-key (RFC 8441 has none) and checks host against :authority', () => {
    expect(validateExtendedConnect([...GOOD, ['sec-websocket-key', 'x']]).ok).toBe(true);
    expect(validateExtendedConnect([...GOOD, ['host', 'EXAMPLE.com']]).ok).toBe(true);
    expect(refusal([...GOOD, ['host', 'other.example']])).toMatchObject({ status: 400 });
  });

  it('refuses a bad :scheme, :path or :authority, a body, and CR/LF/NUL in values', () => {
    expect(refusal(replaced(':scheme', 'ftp'))).toMatchObject({ status: 400 });
    expect(refusal(replaced(':path', 'chat'))).toMatchObject({ status: 400 });
    expect(refusal(replaced(':path', '/a#b'))).toMatchObject({ status: 400 });
    expect(refusal(replaced(':authority', 'user@host'))).toMatchObject({ status: 400 });
    expect(refusal([...GOOD, ['content-length', '5']])).toMatchObject({ status: 400 });
    expect(validateExtendedConnect([...GOOD, ['content-length', '0']]).ok).toBe(true);
    expect(refusal([...GOOD, ['x', 'a\r\nb']])).toMatchObject({ status: 400 });
  });

  it('applies the HTTP/1.1 rules for subprotocols, extensions and origins', () => {
    expect(refusal(replaced('sec-websocket-protocol', 'a b'))).toMatchObject({ status: 400 });
    expect(refusal(replaced('sec-websocket-extensions', ';;'))).toMatchObject({
      status: 400,
      code: 'BAD_EXTENSION_HEADER',
    });
    expect(refusal(GOOD, { origins: ['https://other.example'] })).toMatchObject({
      status: 403,
      code: 'ORIGIN_NOT_ALLOWED',
    });
    expect(validateExtendedConnect(GOOD, { origins: ['HTTPS://example.com:443'] }).ok).toBe(true);
    expect(refusal(without('origin'), { origins: ['https://example.com'] })).toMatchObject({ status: 403 });
    expect(refusal([...GOOD, ['origin', 'https://example.com']])).toMatchObject({ status: 400 });
  });

  it('never throws on malformed entries from the peer', () => {
    expect(refusal([...GOOD, ['x'] as unknown as [string, string]])).toMatchObject({ status: 400 });
    expect(refusal([...GOOD, [1, 2] as unknown as [string, string]])).toMatchObject({ status: 400 });
    expect(refusal([])).toMatchObject({ status: 400 });
  });
});

describe('the client side', () => {
  it('builds the extended CONNECT: pseudo-headers first, version 13, offers, origin, no key', () => {
    const list = buildExtendedConnectRequest(parseWsUrl('wss://Example.com:8443/chat?x=1'), {
      protocols: ['chat'],
      extensions: [{ name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: null }] }],
      origin: 'https://example.com',
      headers: { Authorization: 'Bearer t' },
    });
    expect(list).toEqual([
      [':method', 'CONNECT'],
      [':protocol', 'websocket'],
      [':scheme', 'https'],
      [':path', '/chat?x=1'],
      [':authority', 'example.com:8443'],
      ['sec-websocket-version', '13'],
      ['sec-websocket-protocol', 'chat'],
      ['sec-websocket-extensions', 'permessage-deflate; client_max_window_bits'],
      ['origin', 'https://example.com'],
      ['authorization', 'Bearer t'],
    ]);
    expect(buildExtendedConnectRequest(parseWsUrl('ws://h/'))[2]).toEqual([':scheme', 'http']);
    expect(validateExtendedConnect(list).ok).toBe(true);
  });

  it('refuses caller headers the handshake owns, and bad subprotocols (a throw: caller misuse)', () => {
    const url = parseWsUrl('ws://h/');
    expect(() => buildExtendedConnectRequest(url, { headers: { connection: 'x' } })).toThrow(/set by the handshake/);
    expect(() => buildExtendedConnectRequest(url, { headers: { 'sec-websocket-key': 'x' } })).toThrow();
    expect(() => buildExtendedConnectRequest(url, { protocols: ['a', 'a'] })).toThrow(/twice/);
  });

  it('checks the answer: 200, a subprotocol offered, extensions offered', () => {
    const expected = { protocols: ['chat'], offeredExtensions: ['permessage-deflate'] };
    const ok = verifyExtendedConnectResponse(
      readExtendedConnectResponse([
        [':status', '200'],
        ['sec-websocket-protocol', 'chat'],
        ['sec-websocket-extensions', 'permessage-deflate'],
      ]),
      expected,
    );
    expect(ok).toMatchObject({ ok: true, protocol: 'chat' });
    const other = (list: HeaderList) => verifyExtendedConnectResponse(readExtendedConnectResponse(list), expected);
    expect(other([[':status', '204']])).toMatchObject({ ok: false, code: 'BAD_STATUS' });
    expect(
      other([
        [':status', '200'],
        ['sec-websocket-protocol', 'other'],
      ]),
    ).toMatchObject({
      ok: false,
      code: 'UNEXPECTED_PROTOCOL',
    });
    expect(
      other([
        [':status', '200'],
        ['sec-websocket-extensions', 'x-other'],
      ]),
    ).toMatchObject({
      ok: false,
      code: 'UNEXPECTED_EXTENSION',
    });
    for (const bad of [
      [],
      [
        [':status', '200'],
        [':status', '200'],
      ],
      [
        ['x', '1'],
        [':status', '200'],
      ],
      [[':status', 'abc']],
      [
        [':status', '200'],
        ['X', '1'],
      ],
      [
        [':path', '/'],
        [':status', '200'],
      ],
    ] as HeaderList[]) {
      expect(other(bad)).toMatchObject({ ok: false, code: 'MALFORMED_HEAD' });
    }
  });
});

describe('the server answer', () => {
  it('accepts with :status 200, the chosen subprotocol and extensions; refuses unoffered ones', () => {
    const verdict = validateExtendedConnect(GOOD);
    if (!verdict.ok) throw new Error('refused');
    expect(
      buildExtendedConnectAccept(verdict.request, {
        protocol: 'chat',
        extensions: 'permessage-deflate',
        headers: { 'X-Server': 'us' },
      }),
    ).toEqual([
      [':status', '200'],
      ['sec-websocket-protocol', 'chat'],
      ['sec-websocket-extensions', 'permessage-deflate'],
      ['x-server', 'us'],
    ]);
    expect(() => buildExtendedConnectAccept(verdict.request, { protocol: 'nope', extensions: null })).toThrow();
    expect(() =>
      buildExtendedConnectAccept(verdict.request, { protocol: null, extensions: null, headers: { Upgrade: 'x' } }),
    ).toThrow();
  });

  it('refuses with a status, lower-case headers and a body, without connection fields', () => {
    const { headers, body } = buildExtendedConnectReject(403, {
      headers: { 'X-Why': 'no', Connection: 'close' },
      body: 'go away',
    });
    expect(headers).toEqual([
      [':status', '403'],
      ['x-why', 'no'],
      ['content-type', 'text/plain; charset=utf-8'],
      ['content-length', '7'],
    ]);
    expect(new TextDecoder().decode(body)).toBe('go away');
    expect(() => buildExtendedConnectReject(200)).toThrow(/400 to 599/);
  });
});

/** Moves a connection's outputs to the peer: heads through `receiveHeaders`, bytes as data. Returns the kinds seen. */
function pass(from: Connection, to: Connection): string[] {
  const kinds: string[] = [];
  for (const output of from.takeOutput()) {
    kinds.push(output.type);
    if (output.type === 'head') to.receiveHeaders(output.headers);
    else if (output.type === 'write') to.receiveData(output.data.slice());
    else if (output.type === 'shutdown') to.receiveEof();
  }
  return kinds;
}

function pair(serverOptions = {}, clientOptions = {}) {
  const client = http2ClientConnection('wss://example.com/chat', clientOptions);
  const server = http2ServerConnection(serverOptions);
  expect(pass(client, server)).toEqual(['head']);
  return { client, server };
}

describe('Connection in http2 mode', () => {
  it('opens with a 200 and then carries frames as over TCP, both ways', () => {
    const { client, server } = pair({}, { protocols: ['chat'] });
    const request = server.nextEvent();
    expect(request).toMatchObject({ type: 'request', request: { method: 'CONNECT', path: '/chat', httpVersion: '2' } });
    server.send({ type: 'accept', protocol: 'chat' });
    const outputs = server.takeOutput();
    expect(outputs).toEqual([
      {
        type: 'head',
        headers: [
          [':status', '200'],
          ['sec-websocket-protocol', 'chat'],
        ],
      },
    ]);
    client.receiveHeaders((outputs[0] as Extract<Output, { type: 'head' }>).headers);
    expect(client.nextEvent()).toMatchObject({
      type: 'open',
      protocol: 'chat',
      response: { status: 200, httpVersion: '2' },
    });
    expect(server.nextEvent()).toMatchObject({ type: 'open', protocol: 'chat' });
    client.send({ type: 'text', data: 'hello' });
    client.send({ type: 'binary', data: new Uint8Array([1, 2, 3]) });
    pass(client, server);
    expect(server.nextEvent()).toEqual({ type: 'text', data: 'hello' });
    expect(server.nextEvent()).toEqual({ type: 'binary', data: new Uint8Array([1, 2, 3]) });
    server.send({ type: 'text', data: 'back' });
    pass(server, client);
    expect(client.nextEvent()).toEqual({ type: 'text', data: 'back' });

    // The close handshake, then each side ends its half of the stream.
    client.send({ type: 'close', code: 4001, reason: 'bye' });
    pass(client, server);
    expect(server.nextEvent()).toEqual({ type: 'close', code: 4001, reason: 'bye' });
    expect(pass(server, client)).toEqual(['write', 'shutdown']);
    expect(client.takeEvents().map((e) => e.type)).toEqual(['close', 'closed']);
    expect(server.takeEvents().at(-1)).toMatchObject({ type: 'closed', info: { code: 4001, reason: 'bye' } });
  });

  it('negotiates permessage-deflate with the HTTP/1.1 code', () => {
    const { client, server } = pair(
      { extensions: [pakoPermessageDeflate()] },
      { extensions: [pakoPermessageDeflate()] },
    );
    expect(server.nextEvent()).toMatchObject({ type: 'request' });
    server.send({ type: 'accept' });
    const [head] = server.takeOutput() as Array<Extract<Output, { type: 'head' }>>;
    expect(head!.headers[1]![0]).toBe('sec-websocket-extensions');
    client.receiveHeaders(head!.headers);
    expect(client.nextEvent()).toMatchObject({ type: 'open', extensions: ['permessage-deflate'] });
    server.nextEvent();
    const text = 'compress me '.repeat(100);
    client.send({ type: 'text', data: text });
    const [write] = client.takeOutput() as Array<Extract<Output, { type: 'write' }>>;
    expect(write!.data.length).toBeLessThan(200);
    server.receiveData(write!.data.slice());
    expect(server.nextEvent()).toEqual({ type: 'text', data: text });
  });

  it('answers a bad request with a 4xx head, its body, and the end of the stream (no throw)', () => {
    const server = http2ServerConnection();
    server.receiveHeaders(replaced('sec-websocket-version', '12'));
    const outputs = server.takeOutput();
    expect(outputs.map((o) => o.type)).toEqual(['head', 'write', 'shutdown']);
    expect((outputs[0] as Extract<Output, { type: 'head' }>).headers.slice(0, 2)).toEqual([
      [':status', '426'],
      ['sec-websocket-version', '13'],
    ]);
    expect(server.takeEvents().map((e) => e.type)).toEqual(['protocol-error', 'closed']);
  });

  it('refuses too many header fields with 431', () => {
    const server = http2ServerConnection({ limits: { maxHeaders: 4 } });
    server.receiveHeaders(GOOD);
    const [head] = server.takeOutput() as Array<Extract<Output, { type: 'head' }>>;
    expect(head!.headers[0]).toEqual([':status', '431']);
  });

  it("a server's reject command becomes a head and a body", () => {
    const server = http2ServerConnection();
    server.receiveHeaders(GOOD);
    server.nextEvent();
    server.send({ type: 'reject', status: 401, body: 'who are you' });
    const outputs = server.takeOutput();
    expect(outputs.map((o) => o.type)).toEqual(['head', 'write', 'shutdown']);
    expect((outputs[0] as Extract<Output, { type: 'head' }>).headers[0]).toEqual([':status', '401']);
  });

  it('a client gets a refusal with its body once the stream ends', () => {
    const client = http2ClientConnection('ws://h/');
    client.takeOutput();
    client.receiveHeaders([
      [':status', '403'],
      ['content-type', 'text/plain'],
    ]);
    client.receiveData(new TextEncoder().encode('forbidden'));
    expect(client.nextEvent()).toBeNull();
    client.receiveEof();
    const rejected = client.nextEvent();
    expect(rejected).toMatchObject({ type: 'rejected', response: { status: 403, httpVersion: '2' } });
    expect(new TextDecoder().decode((rejected as { body: Uint8Array }).body)).toBe('forbidden');
  });

  it('a client fails on a bad 200 (unoffered subprotocol) or a malformed list, without a throw', () => {
    const client = http2ClientConnection('ws://h/');
    client.takeOutput();
    client.receiveHeaders([
      [':status', '200'],
      ['sec-websocket-protocol', 'x'],
    ]);
    expect(client.takeEvents()[0]).toMatchObject({ type: 'protocol-error', code: 'UNEXPECTED_PROTOCOL' });
    expect(client.takeOutput()).toEqual([{ type: 'destroy' }]);
    const other = http2ClientConnection('ws://h/');
    other.takeOutput();
    other.receiveHeaders([['x', '1']]);
    expect(other.takeEvents()[0]).toMatchObject({ type: 'protocol-error', code: 'MALFORMED_HEAD' });
  });

  it('the end of the stream without a Close is an abnormal closure (1006), as a TCP FIN is', () => {
    const { client, server } = pair();
    server.nextEvent();
    server.send({ type: 'accept' });
    pass(server, client);
    client.takeEvents();
    server.takeEvents();
    server.receiveEof();
    expect(server.takeEvents().at(-1)).toMatchObject({ type: 'closed', info: { code: 1006 } });
  });

  it('misuse throws: receiveHeaders twice, or on an HTTP/1.1 connection', () => {
    const server = http2ServerConnection();
    server.receiveHeaders(GOOD);
    expect(() => server.receiveHeaders(GOOD)).toThrow(/receiveHeaders/);
    expect(() => serverConnection().receiveHeaders(GOOD)).toThrow(/receiveHeaders/);
    const client = http2ClientConnection('ws://h/');
    expect(() => client.receiveHeaders([[':status', '200']])).toThrow(/receiveHeaders/);
  });

  it('data before the head is refused, never thrown', () => {
    const server = http2ServerConnection();
    server.receiveData(new Uint8Array([0x81, 0x80]));
    expect(server.takeEvents()[0]).toMatchObject({ type: 'protocol-error', status: 400 });
  });
});
