// Handshakes through the Connection: both sides in memory, plus raw requests and responses.
import { describe, it, expect } from 'vitest';
import { computeAcceptKey } from '../src/index.ts';
import { clientConnection } from '../src/client.ts';
import { serverConnection } from '../src/server.ts';
import { ConnectionPair, seededRandom } from '../src/testing/index.ts';
import { REQUEST, ascii, clientFrame, openServer, written, outputKinds } from './helpers/frames.ts';
import { splits } from './helpers/split.ts';
import { decodeUtf8, encodeUtf8 } from '../src/utf8.ts';

const latin1 = (bytes: Uint8Array) => String.fromCharCode(...bytes);

describe('server handshake (RFC 6455 §4.2)', () => {
  it('surfaces the request and answers with the §1.3 accept value', () => {
    const server = serverConnection();
    server.receiveData(ascii(REQUEST));
    const [event] = server.takeEvents();
    expect(event?.type).toBe('request');
    if (event?.type !== 'request') return;
    expect(event.request).toMatchObject({
      path: '/chat',
      query: 'room=1',
      host: 'server.example.com',
      origin: 'http://example.com',
      protocols: ['chat', 'superchat'],
      extensions: [],
    });
    expect(server.request).toBe(event.request);
    server.send({ type: 'accept', protocol: 'chat' });
    const response = latin1(written(server));
    expect(response).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(response).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n');
    expect(response).toContain('Sec-WebSocket-Protocol: chat\r\n');
    expect(server.takeEvents()).toEqual([
      expect.objectContaining({ type: 'open', protocol: 'chat', extensions: [], request: event.request }),
    ]);
    expect(server.protocol).toBe('chat');
    // The 'open' event hands the request over; an open connection keeps none (a server holds many).
    expect(server.request).toBeNull();
  });

  it('gives the same result whatever the split', () => {
    for (const chunks of splits(ascii(REQUEST))) {
      const server = serverConnection();
      for (const chunk of chunks) server.receiveData(chunk.slice());
      expect(server.takeEvents().map((e) => e.type)).toEqual(['request']);
    }
  });

  it('keeps frames that arrive with the request and parses them once accepted', () => {
    const server = serverConnection();
    const bytes = new Uint8Array([...ascii(REQUEST), ...clientFrame(0x81, 'early')]);
    server.receiveData(bytes);
    expect(server.takeEvents().map((e) => e.type)).toEqual(['request']);
    server.send({ type: 'accept' });
    expect(server.takeEvents().map((e) => e.type)).toEqual(['open', 'text']);
  });

  it('refuses a subprotocol the client did not offer', () => {
    const server = serverConnection();
    server.receiveData(ascii(REQUEST));
    expect(() => server.send({ type: 'accept', protocol: 'other' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(server.state).toBe('awaiting-accept');
  });

  it('rejects with the status, headers and body the application chose', () => {
    const server = serverConnection();
    server.receiveData(ascii(REQUEST));
    server.takeEvents();
    server.send({ type: 'reject', status: 403, headers: { 'X-Why': 'banned' }, body: 'go away' });
    const out = server.takeOutput();
    expect(out.map((o) => o.type)).toEqual(['write', 'shutdown']);
    const text = latin1((out[0] as { data: Uint8Array }).data);
    expect(text).toMatch(/^HTTP\/1\.1 403 /);
    expect(text).toContain('X-Why: banned\r\n');
    expect(text.endsWith('\r\n\r\ngo away')).toBe(true);
    expect(server.takeEvents()).toEqual([expect.objectContaining({ type: 'closed' })]);
  });

  const bad: Array<[string, string, number, string]> = [
    ['version 8', REQUEST.replace('Version: 13', 'Version: 8'), 426, 'UNSUPPORTED_VERSION'],
    ['no Host', REQUEST.replace('Host: server.example.com\r\n', ''), 400, 'MISSING_HOST'],
    ['a short key', REQUEST.replace('dGhlIHNhbXBsZSBub25jZQ==', 'dGhlIHNhbXBsZQ=='), 400, 'BAD_KEY'],
    ['a POST', REQUEST.replace('GET', 'POST'), 405, 'BAD_METHOD'],
    ['no Connection: upgrade', REQUEST.replace('Connection: Upgrade', 'Connection: keep-alive'), 400, 'BAD_CONNECTION'],
    [
      'obs-fold',
      REQUEST.replace('Host: server.example.com\r\n', 'Host: server\r\n .example.com\r\n'),
      400,
      'MALFORMED_HEAD',
    ],
  ];
  for (const [name, request, status, code] of bad) {
    it(`answers ${status} to ${name}`, () => {
      const server = serverConnection();
      server.receiveData(ascii(request));
      const events = server.takeEvents();
      expect(events[0]).toMatchObject({ type: 'protocol-error', code, status, closeCode: null });
      expect(events[1]).toMatchObject({ type: 'closed', info: { code: 1006, error: code } });
      const out = server.takeOutput();
      expect(latin1((out[0] as { data: Uint8Array }).data)).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(out.at(-1)?.type).toBe('shutdown');
      if (status === 426)
        expect(latin1((out[0] as { data: Uint8Array }).data)).toContain('Sec-WebSocket-Version: 13\r\n');
    });
  }

  it('answers 431 to an oversized head', () => {
    const server = serverConnection({ limits: { maxHeadBytes: 256 } });
    server.receiveData(ascii(REQUEST.replace('\r\n\r\n', `\r\nX-Pad: ${'a'.repeat(300)}\r\n\r\n`)));
    expect(server.takeEvents()[0]).toMatchObject({ type: 'protocol-error', code: 'HEAD_TOO_LARGE', status: 431 });
  });

  it('enforces an Origin allow-list with 403', () => {
    const server = serverConnection({ origins: ['https://good.example'] });
    server.receiveData(ascii(REQUEST));
    expect(server.takeEvents()[0]).toMatchObject({ type: 'protocol-error', code: 'ORIGIN_NOT_ALLOWED', status: 403 });
    const ok = serverConnection({ origins: ['http://EXAMPLE.com'] });
    ok.receiveData(ascii(REQUEST));
    expect(ok.takeEvents()[0]?.type).toBe('request');
  });

  it('accepts a head parsed elsewhere (node:http upgrade)', () => {
    const server = serverConnection();
    const { HttpHeaders } = require_headers();
    server.receiveRequestHead({
      method: 'GET',
      target: '/x?y=1',
      httpVersion: '1.1',
      headers: new HttpHeaders([
        ['Host', 'h'],
        ['Upgrade', 'websocket'],
        ['Connection', 'Upgrade'],
        ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
        ['Sec-WebSocket-Version', '13'],
      ]),
    });
    expect(server.takeEvents()[0]).toMatchObject({ type: 'request', request: { path: '/x', query: 'y=1' } });
    expect(() => server.receiveRequestHead({} as never)).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
  });

  it('EOF in the middle of a request fails the handshake', () => {
    const server = serverConnection();
    server.receiveData(ascii(REQUEST.slice(0, 20)));
    server.receiveEof();
    expect(server.takeEvents()[0]).toMatchObject({ type: 'protocol-error', code: 'EOF_IN_HANDSHAKE' });
    expect(outputKinds(server)).toEqual(['destroy']);
  });

  it('accept and reject are only for a server awaiting its answer', () => {
    const server = serverConnection();
    expect(() => server.send({ type: 'accept' })).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    expect(() => server.send({ type: 'reject', status: 400 })).toThrow(
      expect.objectContaining({ code: 'INVALID_STATE' }),
    );
    expect(() => server.send({ type: 'text', data: 'x' })).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
  });
});

function require_headers() {
  return { HttpHeaders: HttpHeadersClass };
}
import { HttpHeaders as HttpHeadersClass } from '../src/index.ts';

describe('client handshake (RFC 6455 §4.1)', () => {
  it('sends a request with a fresh key, and verifies the accept value', () => {
    const client = clientConnection('ws://[::1]:8080/path?q=1', {
      random: seededRandom(7),
      protocols: ['a', 'b'],
      headers: [['X-Extra', '1']],
    });
    const request = latin1(written(client));
    expect(request).toMatch(/^GET \/path\?q=1 HTTP\/1\.1\r\n/);
    expect(request).toContain('Host: [::1]:8080\r\n');
    expect(request).toContain('Sec-WebSocket-Version: 13\r\n');
    expect(request).toContain('Sec-WebSocket-Protocol: a, b\r\n');
    expect(request).toContain('X-Extra: 1\r\n');
    const key = /Sec-WebSocket-Key: (\S+)\r\n/.exec(request)![1]!;
    client.receiveData(
      ascii(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${computeAcceptKey(key)}\r\nSec-WebSocket-Protocol: b\r\n\r\n`,
      ),
    );
    expect(client.takeEvents()).toEqual([expect.objectContaining({ type: 'open', protocol: 'b' })]);
    expect(client.state).toBe('open');
  });

  it('two keys are never the same', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 50; i++)
      keys.add(/Sec-WebSocket-Key: (\S+)/.exec(latin1(written(clientConnection('ws://h/'))))![1]!);
    expect(keys.size).toBe(50);
  });

  it('fails on a wrong accept value, without sending a close frame', () => {
    const client = clientConnection('ws://h/', { random: seededRandom() });
    client.takeOutput();
    client.receiveData(
      ascii(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n',
      ),
    );
    expect(client.takeEvents()[0]).toMatchObject({ type: 'protocol-error', code: 'BAD_ACCEPT', closeCode: null });
    expect(outputKinds(client)).toEqual(['destroy']);
  });

  it('reports a refusal with status, headers and body', () => {
    const client = clientConnection('ws://h/', { random: seededRandom() });
    client.takeOutput();
    const response = ascii('HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\nX-A: b\r\n\r\nnope');
    client.receiveData(response.subarray(0, response.length - 2));
    expect(client.takeEvents()).toEqual([]);
    client.receiveData(response.subarray(response.length - 2));
    const events = client.takeEvents();
    expect(events[0]).toMatchObject({ type: 'rejected', response: { status: 403, statusText: 'Forbidden' } });
    if (events[0]?.type === 'rejected') {
      expect(decodeUtf8(events[0].body)).toBe('nope');
      expect(events[0].response.headers.get('x-a')).toBe('b');
    }
    expect(events[1]).toMatchObject({ type: 'closed', info: { code: 1006, error: 'BAD_STATUS' } });
  });

  it('reads a refusal body without Content-Length until EOF, bounded', () => {
    const client = clientConnection('ws://h/', { random: seededRandom(), limits: { maxRejectBodyBytes: 5 } });
    client.takeOutput();
    client.receiveData(ascii('HTTP/1.1 500 Oops\r\n\r\nab'));
    client.receiveEof();
    const events = client.takeEvents();
    expect(events[0]?.type === 'rejected' && decodeUtf8(events[0].body)).toBe('ab');
    const capped = clientConnection('ws://h/', { random: seededRandom(), limits: { maxRejectBodyBytes: 5 } });
    capped.receiveData(ascii('HTTP/1.1 500 Oops\r\n\r\nabcdefgh'));
    const cappedEvents = capped.takeEvents();
    expect(cappedEvents[0]?.type === 'rejected' && decodeUtf8(cappedEvents[0].body)).toBe('abcde');
  });

  it('refuses URLs it cannot use, and needs a random source', () => {
    expect(() => clientConnection('http://h/#frag')).toThrow(expect.objectContaining({ code: 'INVALID_URL' }));
    expect(() => clientConnection('ftp://h/')).toThrow(expect.objectContaining({ code: 'INVALID_URL' }));
    const saved = globalThis.crypto;
    Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true });
    try {
      expect(() => clientConnection('ws://h/')).toThrow(expect.objectContaining({ code: 'NO_RANDOM_SOURCE' }));
    } finally {
      Object.defineProperty(globalThis, 'crypto', { value: saved, configurable: true });
    }
  });

  it('close() before the handshake completes aborts it', () => {
    const client = clientConnection('ws://h/', { random: seededRandom() });
    client.takeOutput();
    client.send({ type: 'close' });
    expect(outputKinds(client)).toEqual(['destroy']);
    expect(client.takeEvents()).toEqual([
      expect.objectContaining({ type: 'closed', info: expect.objectContaining({ code: 1006 }) }),
    ]);
  });
});

describe('a client and a server in memory', () => {
  it('handshake, messages both ways, close initiated by the client', () => {
    const pair = new ConnectionPair({ client: { protocols: ['v1'] }, answer: { type: 'accept', protocol: 'v1' } });
    pair.pump();
    expect(pair.client.state).toBe('open');
    expect(pair.server.state).toBe('open');
    pair.client.send({ type: 'text', data: 'héllo' });
    pair.server.send({ type: 'binary', data: encodeUtf8('bin') });
    const { client, server } = pair.pump();
    expect(server).toEqual([{ type: 'text', data: 'héllo' }]);
    expect(client).toEqual([{ type: 'binary', data: encodeUtf8('bin') }]);
    pair.client.send({ type: 'close', code: 4001, reason: 'bye' });
    pair.pump();
    expect(pair.server.closeInfo).toEqual({
      code: 4001,
      reason: 'bye',
      wasClean: true,
      initiator: 'remote',
      sentCode: 4001,
      error: null,
    });
    expect(pair.client.closeInfo).toEqual({
      code: 4001,
      reason: '',
      wasClean: true,
      initiator: 'local',
      sentCode: 4001,
      error: null,
    });
    // The server shut down first; the client followed on EOF (§7.1.1).
    expect(pair.serverOutputs.map((o) => o.type).at(-1)).toBe('shutdown');
    expect(pair.clientOutputs.map((o) => o.type).at(-1)).toBe('shutdown');
    expect(pair.client.finished && pair.server.finished).toBe(true);
  });

  it('works one byte at a time', () => {
    const pair = new ConnectionPair({ chunker: (b) => Array.from(b, (x) => Uint8Array.of(x)) });
    pair.pump();
    pair.client.send({ type: 'text', data: 'x'.repeat(300) });
    expect(pair.pump().server).toEqual([{ type: 'text', data: 'x'.repeat(300) }]);
  });
});

describe('frames are parsed as events are read', () => {
  it('an answer to one message leaves before the failure a later frame in the same read causes', () => {
    const server = openServer();
    server.receiveData(new Uint8Array([...clientFrame(0x81, 'first'), ...clientFrame(0xa1, 'bad rsv')]));
    expect(server.nextEvent()).toEqual({ type: 'text', data: 'first' });
    server.send({ type: 'text', data: 'echo' });
    expect(server.takeEvents()[0]).toMatchObject({ type: 'protocol-error', code: 'RESERVED_BITS' });
    const out = server.takeOutput();
    expect(out.map((o) => o.type)).toEqual(['write', 'write', 'shutdown']);
    expect((out[0] as { data: Uint8Array }).data[0]).toBe(0x81); // the echo
    expect((out[1] as { data: Uint8Array }).data[0]).toBe(0x88); // then the Close (1002)
  });

  it('EOF first parses everything already received', () => {
    const server = openServer();
    server.receiveData(new Uint8Array([...clientFrame(0x81, 'a'), ...clientFrame(0x88, new Uint8Array([3, 232]))]));
    server.receiveEof();
    expect(server.takeEvents().map((e) => e.type)).toEqual(['text', 'close', 'closed']);
    expect(server.closeInfo).toMatchObject({ code: 1000, wasClean: true });
  });
});

describe('options', () => {
  it('validates limits and timeouts', () => {
    expect(() => serverConnection({ limits: { maxFrameSize: -1 } })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => serverConnection({ timeouts: { closeTimeout: Number.NaN } })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => serverConnection(null as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
