import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { HeadParser, decodeLatin1, encodeLatin1, serializeHead } from '../src/http/head-parser.ts';
import { WebSocketUsageError } from '../src/errors.ts';
import { splits } from './helpers/split.ts';
import { LIMITS, RFC_FIELDS, latin1 as bytes } from './helpers/heads.ts';
import { concat } from '../../../test/shared/bytes.ts';

type Kind = 'request' | 'response';

/** Feeds chunks; a plain, comparable outcome. Bytes after the head include the later chunks. */
function feed(kind: Kind, chunks: Uint8Array[], limits = LIMITS) {
  const parser = new HeadParser(kind, limits);
  for (let i = 0; i < chunks.length; i++) {
    const result = parser.push(chunks[i]!);
    if (result === null) continue;
    if (!result.ok) return { ok: false as const, code: result.error.code, status: result.error.status };
    const { headers, ...start } = result.head;
    return {
      ok: true as const,
      start,
      headers: headers.entries(),
      rest: Array.from(concat([result.rest, ...chunks.slice(i + 1)])),
    };
  }
  const eof = parser.eof();
  return { ok: false as const, code: eof.error.code, status: eof.error.status };
}

/** The outcome for `text`, after checking every split and one byte at a time give the same. */
function parse(kind: Kind, text: string | Uint8Array, limits = LIMITS) {
  const data = typeof text === 'string' ? bytes(text) : text;
  const whole = feed(kind, [data], limits);
  for (const chunks of splits(data)) expect(feed(kind, chunks, limits)).toEqual(whole);
  return whole;
}

function expectError(kind: Kind, text: string, code: string, status: number, limits = LIMITS) {
  expect(parse(kind, text, limits)).toEqual({ ok: false, code, status });
}

const RFC_REQUEST =
  'GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n' +
  'Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n';

describe('HeadParser: requests', () => {
  it('parses the RFC 6455 §1.3 request and returns the bytes after it', () => {
    const result = parse('request', RFC_REQUEST + '\x81\x05hello');
    expect(result).toEqual({
      ok: true,
      start: { method: 'GET', target: '/chat', httpVersion: '1.1' },
      headers: RFC_FIELDS,
      rest: Array.from(bytes('\x81\x05hello')),
    });
  });

  it('gives the head a working HttpHeaders', () => {
    const result = new HeadParser('request', LIMITS).push(bytes('GET / HTTP/1.1\r\nA: 1\r\na: 2\r\n\r\n'));
    expect(result?.ok).toBe(true);
    if (result?.ok) {
      expect(result.head.headers.getAll('A')).toEqual(['1', '2']);
      expect(result.head.headers.get('a')).toBe('1, 2');
      expect(result.rest.length).toBe(0);
    }
  });

  it('skips empty lines before the request-line (RFC 9112 §2.2)', () => {
    const result = parse('request', '\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(result).toMatchObject({ ok: true, start: { method: 'GET', target: '/' }, headers: [['Host', 'a']] });
  });

  it('trims OWS around values and keeps inner whitespace, empty values and obs-text', () => {
    const result = parse('request', 'GET / HTTP/1.1\r\nA:   x \t y\t \r\nB:\r\nC: \t\r\nD: caf\xe9\r\n\r\n');
    expect(result).toMatchObject({
      ok: true,
      headers: [
        ['A', 'x \t y'],
        ['B', ''],
        ['C', ''],
        ['D', 'caf\xe9'],
      ],
    });
  });

  it('accepts a head without fields, HTTP/1.0, other methods and targets (judged later)', () => {
    expect(parse('request', 'GET / HTTP/1.1\r\n\r\n')).toMatchObject({ ok: true, headers: [] });
    expect(parse('request', 'POST http://a/b?c HTTP/1.0\r\n\r\n')).toMatchObject({
      ok: true,
      start: { method: 'POST', target: 'http://a/b?c', httpVersion: '1.0' },
    });
    expect(parse('request', 'OPTIONS * HTTP/1.9\r\n\r\n')).toMatchObject({
      ok: true,
      start: { target: '*', httpVersion: '1.9' },
    });
  });

  it('refuses bare LF and bare CR (strict CRLF)', () => {
    expectError('request', 'GET / HTTP/1.1\nHost: a\r\n\r\n', 'MALFORMED_HEAD', 400);
    expectError('request', 'GET / HTTP/1.1\r\nHost: a\n\r\n', 'MALFORMED_HEAD', 400);
    expectError('request', 'GET / HTTP/1.1\r\nHost: a\r\n\n', 'MALFORMED_HEAD', 400);
    expectError('request', '\nGET / HTTP/1.1\r\n\r\n', 'MALFORMED_HEAD', 400);
    expectError('request', 'GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n', 'MALFORMED_HEAD', 400);
    expectError('request', 'GET / HTTP/1.1\r\r\n\r\n', 'MALFORMED_HEAD', 400);
  });

  it('refuses obs-fold and whitespace after the start-line (RFC 9112 §5.2, §2.2)', () => {
    expectError('request', 'GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n', 'MALFORMED_HEAD', 400);
    expectError('request', 'GET / HTTP/1.1\r\nHost: a\r\n\tb\r\n\r\n', 'MALFORMED_HEAD', 400);
    expectError('request', 'GET / HTTP/1.1\r\n Host: a\r\n\r\n', 'MALFORMED_HEAD', 400);
  });

  it('refuses bad field names (RFC 9112 §5.1)', () => {
    expectError('request', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 'MALFORMED_HEAD', 400);
    expectError('request', 'GET / HTTP/1.1\r\nHost\t: a\r\n\r\n', 'MALFORMED_HEAD', 400);
    expectError('request', 'GET / HTTP/1.1\r\nHo(st: a\r\n\r\n', 'MALFORMED_HEAD', 400);
    expectError('request', 'GET / HTTP/1.1\r\n: a\r\n\r\n', 'MALFORMED_HEAD', 400);
    expectError('request', 'GET / HTTP/1.1\r\nHost a\r\n\r\n', 'MALFORMED_HEAD', 400);
    expectError('request', 'GET / HTTP/1.1\r\nHost\r\n\r\n', 'MALFORMED_HEAD', 400);
    expectError('request', 'GET / HTTP/1.1\r\nH\xe9: a\r\n\r\n', 'MALFORMED_HEAD', 400);
  });

  it('refuses NUL and control characters in values', () => {
    expectError('request', 'GET / HTTP/1.1\r\nA: x\x00y\r\n\r\n', 'MALFORMED_HEAD', 400);
    expectError('request', 'GET / HTTP/1.1\r\nA: x\x01\r\n\r\n', 'MALFORMED_HEAD', 400);
    expectError('request', 'GET / HTTP/1.1\r\nA: \x7f\r\n\r\n', 'MALFORMED_HEAD', 400);
    expectError('request', 'GET / HTTP/1.1\r\nA: \x1b[31m\r\n\r\n', 'MALFORMED_HEAD', 400);
  });

  it('refuses malformed request-lines', () => {
    for (const line of [
      'GET /  HTTP/1.1',
      'GET  / HTTP/1.1',
      'GET / HTTP/1.1 ',
      ' GET / HTTP/1.1',
      'GET /',
      'GET',
      'GET / HTTP/1.1 extra',
      'G(T / HTTP/1.1',
      'GET /\xe9 HTTP/1.1',
      'GET /\x00 HTTP/1.1',
      'GET\t/ HTTP/1.1',
      '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', // a TLS ClientHello on a plain port
    ]) {
      expectError('request', line + '\r\nHost: a\r\n\r\n', 'MALFORMED_HEAD', 400);
    }
  });

  it('answers 400 to a malformed version and 505 to another major version', () => {
    expectError('request', 'GET / HTTP/1.10\r\n\r\n', 'BAD_HTTP_VERSION', 400);
    expectError('request', 'GET / http/1.1\r\n\r\n', 'BAD_HTTP_VERSION', 400);
    expectError('request', 'GET / HTTP/1\r\n\r\n', 'BAD_HTTP_VERSION', 400);
    expectError('request', 'GET / HTTP/2\r\n\r\n', 'BAD_HTTP_VERSION', 400);
    expectError('request', 'GET / HTTP/1.x\r\n\r\n', 'BAD_HTTP_VERSION', 400);
    expectError('request', 'GET / HTTP/2.0\r\n\r\n', 'BAD_HTTP_VERSION', 505);
    expectError('request', 'GET / HTTP/0.9\r\n\r\n', 'BAD_HTTP_VERSION', 505);
  });
});

describe('HeadParser: responses', () => {
  it('parses a 101 status-line', () => {
    const result = parse('response', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nrest');
    expect(result).toEqual({
      ok: true,
      start: { httpVersion: '1.1', status: 101, statusText: 'Switching Protocols' },
      headers: [['Upgrade', 'websocket']],
      rest: Array.from(bytes('rest')),
    });
  });

  it('accepts an empty reason phrase, with or without its SP', () => {
    expect(parse('response', 'HTTP/1.1 101 \r\n\r\n')).toMatchObject({
      ok: true,
      start: { status: 101, statusText: '' },
    });
    expect(parse('response', 'HTTP/1.1 404\r\n\r\n')).toMatchObject({
      ok: true,
      start: { status: 404, statusText: '' },
    });
    expect(parse('response', 'HTTP/1.0 200 O K\t\xe9\r\n\r\n')).toMatchObject({
      ok: true,
      start: { httpVersion: '1.0', status: 200, statusText: 'O K\t\xe9' },
    });
  });

  it('refuses malformed status-lines', () => {
    for (const line of [
      'HTTP/1.1 10 OK',
      'HTTP/1.1 1010 OK',
      'HTTP/1.1  101 OK',
      'HTTP/1.1 099 OK',
      'HTTP/1.1 1x1 OK',
      'HTTP/1.1 101 a\x01b',
      'HTTP/1.1',
      ' HTTP/1.1 101 OK',
      'HTTP/1.1 ',
    ]) {
      expectError('response', line + '\r\n\r\n', 'MALFORMED_HEAD', 400);
    }
    expectError('response', 'HTTP/2.0 101 OK\r\n\r\n', 'BAD_HTTP_VERSION', 505);
    expectError('response', 'HTTP/1.1.1 101 OK\r\n\r\n', 'BAD_HTTP_VERSION', 400);
    expectError('response', 'GET / HTTP/1.1\r\n\r\n', 'BAD_HTTP_VERSION', 400);
  });
});

describe('HeadParser: limits', () => {
  const head = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'; // 27 bytes

  it('counts bytes up to and including the final CRLFCRLF', () => {
    expect(head.length).toBe(27);
    expect(parse('request', head + 'xyz', { maxHeadBytes: 27, maxHeaders: 10 })).toMatchObject({
      ok: true,
      rest: Array.from(bytes('xyz')),
    });
    expectError('request', head, 'HEAD_TOO_LARGE', 431, { maxHeadBytes: 26, maxHeaders: 10 });
  });

  it('counts leading empty lines', () => {
    expect(parse('request', '\r\n' + head, { maxHeadBytes: 29, maxHeaders: 10 })).toMatchObject({ ok: true });
    expectError('request', '\r\n' + head, 'HEAD_TOO_LARGE', 431, { maxHeadBytes: 28, maxHeaders: 10 });
  });

  it('fails as soon as the limit is passed, however much arrives at once', () => {
    const parser = new HeadParser('request', { maxHeadBytes: 100, maxHeaders: 10 });
    const result = parser.push(new Uint8Array(1024 * 1024).fill(0x61));
    expect(result).toMatchObject({ ok: false, error: { code: 'HEAD_TOO_LARGE', status: 431 } });
    // One byte at a time: the error comes with byte 101, not later.
    const slow = new HeadParser('request', { maxHeadBytes: 100, maxHeaders: 10 });
    for (let i = 1; i <= 100; i++) expect(slow.push(Uint8Array.of(0x61))).toBeNull();
    expect(slow.push(Uint8Array.of(0x61))).toMatchObject({ ok: false, error: { code: 'HEAD_TOO_LARGE' } });
  });

  it('limits the number of fields', () => {
    const fields = (n: number) =>
      'GET / HTTP/1.1\r\n' + Array.from({ length: n }, (_, i) => `X-${i}: ${i}\r\n`).join('') + '\r\n';
    expect(parse('request', fields(3), { maxHeadBytes: 1000, maxHeaders: 3 })).toMatchObject({ ok: true });
    expectError('request', fields(4), 'TOO_MANY_HEADERS', 431, { maxHeadBytes: 1000, maxHeaders: 3 });
  });

  it('handles a head the size of the limit, one byte per push, in linear time', () => {
    // A quarter of a million one-byte pushes: done within the default timeout only if each push is O(1).
    const value = 'v'.repeat(256 * 1024);
    const text = bytes(`GET / HTTP/1.1\r\nBig: ${value}\r\n\r\n`);
    const parser = new HeadParser('request', { maxHeadBytes: text.length, maxHeaders: 1 });
    let result = null;
    for (let i = 0; i < text.length && result === null; i++) result = parser.push(text.subarray(i, i + 1));
    expect(result?.ok && result.head.headers.get('big')?.length).toBe(value.length);
  });
});

it('keeps each head its own when parsers take turns (heads split between pushes, others whole or refused between)', () => {
  // Parsers that have read part of a head hold its fields; a head that arrives whole (or fails)
  // in one push in between must neither see nor disturb them.
  const a = new HeadParser('request', LIMITS);
  const b = new HeadParser('request', LIMITS);
  expect(a.push(bytes('GET /a HTTP/1.1\r\nHost: a.example\r\nX-One: 1\r\nX-Tw'))).toBeNull();
  expect(b.push(bytes('GET /b HTTP/1.1\r\nHost: b.example\r\n'))).toBeNull();
  const whole = new HeadParser('request', LIMITS).push(bytes('GET /c HTTP/1.1\r\nHost: c.example\r\nX-C: c\r\n\r\n'));
  expect(whole?.ok && whole.head.headers.entries()).toEqual([
    ['Host', 'c.example'],
    ['X-C', 'c'],
  ]);
  const refused = new HeadParser('request', LIMITS).push(bytes('GET /d HTTP/1.1\r\nHost: d\r\nBad Name: x\r\n\r\n'));
  expect(refused?.ok).toBe(false);
  const endA = a.push(bytes('o: 2\r\n\r\n'));
  const endB = b.push(bytes('X-B: b\r\n\r\n'));
  expect(endA?.ok && { target: endA.head.target, fields: endA.head.headers.entries() }).toEqual({
    target: '/a',
    fields: [
      ['Host', 'a.example'],
      ['X-One', '1'],
      ['X-Two', '2'],
    ],
  });
  expect(endB?.ok && { target: endB.head.target, fields: endB.head.headers.entries() }).toEqual({
    target: '/b',
    fields: [
      ['Host', 'b.example'],
      ['X-B', 'b'],
    ],
  });
  // A head split after its start-line only, then a whole one, then the rest.
  const c = new HeadParser('request', LIMITS);
  expect(c.push(bytes('POST /e HTTP/1.0\r\n'))).toBeNull();
  expect(new HeadParser('request', LIMITS).push(bytes('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))?.ok).toBe(true);
  const endC = c.push(bytes('Host: e\r\n\r\n'));
  expect(endC?.ok && [endC.head.method, endC.head.target, endC.head.httpVersion, endC.head.headers.entries()]).toEqual([
    'POST',
    '/e',
    '1.0',
    [['Host', 'e']],
  ]);
});

describe('HeadParser: EOF and misuse', () => {
  it('reports EOF before the head is complete', () => {
    expectError('request', '', 'EOF_IN_HANDSHAKE', 400);
    expectError('request', 'GET / HTTP/1.1\r\nHost: a\r\n', 'EOF_IN_HANDSHAKE', 400);
    expectError('response', 'HTTP/1.1 101 OK\r\n\r', 'EOF_IN_HANDSHAKE', 400);
  });

  it('throws INVALID_STATE when used after a head, an error or EOF', () => {
    const done = new HeadParser('request', LIMITS);
    expect(done.push(bytes('GET / HTTP/1.1\r\n\r\n'))?.ok).toBe(true);
    expect(() => done.push(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    expect(() => done.eof()).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));

    const failed = new HeadParser('response', LIMITS);
    expect(failed.push(bytes('\n'))?.ok).toBe(false);
    expect(() => failed.push(new Uint8Array(0))).toThrow(WebSocketUsageError);

    const ended = new HeadParser('response', LIMITS);
    ended.eof();
    expect(() => ended.eof()).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
  });

  it('throws INVALID_ARGUMENT on bad construction or input', () => {
    const bad = (f: () => unknown) => expect(f).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    bad(() => new HeadParser('other' as 'request', LIMITS));
    bad(() => new HeadParser('request', null as unknown as typeof LIMITS));
    bad(() => new HeadParser('request', { maxHeadBytes: 0, maxHeaders: 1 }));
    bad(() => new HeadParser('request', { maxHeadBytes: 10, maxHeaders: 1.5 }));
    bad(() => new HeadParser('request', LIMITS).push('GET' as unknown as Uint8Array));
  });
});

describe('HeadParser: properties', () => {
  it('never throws on random bytes, whatever the split, and agrees with itself', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Kind>('request', 'response'),
        fc.uint8Array({ maxLength: 300 }),
        fc.nat(),
        (kind, data, cut) => {
          const at = data.length === 0 ? 0 : cut % (data.length + 1);
          const limits = { maxHeadBytes: 200, maxHeaders: 5 };
          expect(feed(kind, [data.subarray(0, at), data.subarray(at)], limits)).toEqual(feed(kind, [data], limits));
        },
      ),
    );
  });

  it('never throws on near-valid heads built from HTTP pieces', () => {
    const piece = fc.constantFrom(
      'GET',
      ' ',
      '/',
      'HTTP/1.1',
      'HTTP/1.0',
      '101',
      'OK',
      '\r\n',
      '\r',
      '\n',
      ':',
      'Host',
      '\t',
      'a',
      '\x00',
      '\xff',
      '"',
    );
    fc.assert(
      fc.property(fc.constantFrom<Kind>('request', 'response'), fc.array(piece, { maxLength: 40 }), (kind, pieces) => {
        const data = bytes(pieces.join(''));
        const whole = feed(kind, [data], { maxHeadBytes: 100, maxHeaders: 4 });
        expect(feed(kind, splits(data).at(-1)!, { maxHeadBytes: 100, maxHeaders: 4 })).toEqual(whole);
      }),
    );
  });

  it('parses back what serializeHead writes', () => {
    const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,12}$/);
    const value = fc.stringMatching(/^[\x21-\x7e\x80-\xff]([\t\x20-\x7e\x80-\xff]{0,20}[\x21-\x7e\x80-\xff])?$/);
    fc.assert(
      fc.property(token, fc.array(fc.tuple(token, value), { maxLength: 10 }), fc.nat(), (method, fields, cut) => {
        const data = serializeHead(`${method} /x HTTP/1.1`, fields);
        const at = cut % (data.length + 1);
        const result = feed('request', [data.subarray(0, at), data.subarray(at)]);
        expect(result).toEqual({
          ok: true,
          start: { method, target: '/x', httpVersion: '1.1' },
          headers: fields,
          rest: [],
        });
      }),
    );
  });
});

describe('text helpers', () => {
  it('converts Latin-1 both ways', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(encodeLatin1(decodeLatin1(all))).toEqual(all);
    const long = new Uint8Array(10_000).fill(0x41);
    expect(decodeLatin1(long)).toBe('A'.repeat(10_000));
    expect(decodeLatin1(bytes('abcdef'), 1, 3)).toBe('bc');
    expect(() => encodeLatin1('\u0100')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('reads every length and offset alike, short texts (made from one shared list of codes) and long', () => {
    const all = Uint8Array.from({ length: 300 }, (_, i) => (i * 7 + 3) & 0xff);
    for (let length = 0; length <= 80; length++) {
      for (const start of [0, 1, 13]) {
        const expected = Array.from(all.subarray(start, start + length), (b) => String.fromCharCode(b)).join('');
        expect(decodeLatin1(all, start, start + length)).toBe(expected);
      }
    }
    // A shorter text after a longer one keeps none of the longer one's codes.
    expect(decodeLatin1(bytes('x'.repeat(60)), 0, 60)).toBe('x'.repeat(60));
    expect(decodeLatin1(bytes('sec-websocket-key!'), 0, 17)).toBe('sec-websocket-key');
  });
});
