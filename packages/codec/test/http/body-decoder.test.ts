// Request body framing (RFC 9112 §6.3) and the incremental body decoder: bytes in, body data and
// the end (or a refusal) out; every vector also fed at every split and one byte at a time.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { BodyDecoder, requestFraming } from '../../src/http/body-decoder.ts';
import { HttpHeaders } from '../../src/http/headers.ts';
import type { RequestHead } from '../../src/http/head-parser.ts';
import { splits } from '../helpers/split.ts';
import { latin1 } from '../helpers/heads.ts';
import { concat } from '../../../../test/shared/bytes.ts';

const text = (bytes: Uint8Array): string => String.fromCharCode(...bytes);

function head(fields: Array<[string, string]>, httpVersion = '1.1'): RequestHead {
  return { method: 'POST', target: '/', httpVersion, headers: HttpHeaders.fromTrusted(fields) };
}

describe('requestFraming', () => {
  it('reads Content-Length, chunked, and no body', () => {
    expect(requestFraming(head([['Content-Length', '12']]), 100)).toEqual({ type: 'length', length: 12 });
    expect(requestFraming(head([['Content-Length', '0']]), 100)).toEqual({ type: 'none' });
    expect(requestFraming(head([['content-length', '007']]), 100)).toEqual({ type: 'length', length: 7 });
    expect(requestFraming(head([['Transfer-Encoding', 'chunked']]), 100)).toEqual({ type: 'chunked' });
    expect(requestFraming(head([['Transfer-Encoding', 'Chunked']]), 100)).toEqual({ type: 'chunked' });
    expect(requestFraming(head([]), 100)).toEqual({ type: 'none' });
  });

  // Each of these is a way to make two parsers disagree on where a body ends (smuggling).
  it.each([
    [
      'Content-Length and Transfer-Encoding',
      [
        ['Content-Length', '5'],
        ['Transfer-Encoding', 'chunked'],
      ],
    ],
    ['Transfer-Encoding: gzip', [['Transfer-Encoding', 'gzip']]],
    ['Transfer-Encoding: gzip, chunked', [['Transfer-Encoding', 'gzip, chunked']]],
    [
      'two Transfer-Encoding fields',
      [
        ['Transfer-Encoding', 'chunked'],
        ['Transfer-Encoding', 'chunked'],
      ],
    ],
    ['Transfer-Encoding: chunked with junk', [['Transfer-Encoding', 'chunked, identity']]],
    [
      'two Content-Length fields',
      [
        ['Content-Length', '5'],
        ['Content-Length', '5'],
      ],
    ],
    ['a Content-Length list', [['Content-Length', '5, 5']]],
    ['a signed Content-Length', [['Content-Length', '+5']]],
    ['a hex Content-Length', [['Content-Length', '0x5']]],
    ['an empty Content-Length', [['Content-Length', '']]],
    ['a huge Content-Length', [['Content-Length', '9999999999999999999']]],
  ] as Array<[string, Array<[string, string]>]>)('refuses %s with 400', (_name, fields) => {
    expect(requestFraming(head(fields), 1 << 30)).toMatchObject({ code: 'BAD_BODY_FRAMING', status: 400 });
  });

  it('refuses Transfer-Encoding from an HTTP/1.0 client', () => {
    expect(requestFraming(head([['Transfer-Encoding', 'chunked']], '1.0'), 100)).toMatchObject({ status: 400 });
  });

  it('refuses a declared length over the limit with 413', () => {
    expect(requestFraming(head([['Content-Length', '101']]), 100)).toMatchObject({
      code: 'BODY_TOO_LARGE',
      status: 413,
    });
    expect(requestFraming(head([['Content-Length', '100']]), 100)).toEqual({ type: 'length', length: 100 });
  });
});

/** Decodes `wire` pushed as `chunks`: the body text, what follows it, or the error. */
function decode(framing: { type: 'length'; length: number } | { type: 'chunked' }, chunks: Uint8Array[], max = 1000) {
  const decoder = new BodyDecoder(framing, max, 200);
  const body: Uint8Array[] = [];
  for (let i = 0; i < chunks.length; i++) {
    const out = decoder.push(chunks[i]!);
    body.push(...out.data);
    if (out.error !== null) return { error: out.error.code, status: out.error.status, body: text(concat(body)) };
    if (out.rest !== null) return { body: text(concat(body)), rest: text(concat([out.rest, ...chunks.slice(i + 1)])) };
  }
  return { body: text(concat(body)), incomplete: true };
}

/** The same outcome at every split and one byte at a time. */
function decodeAll(framing: { type: 'length'; length: number } | { type: 'chunked' }, wire: string, max = 1000) {
  const data = latin1(wire);
  const whole = decode(framing, [data], max);
  for (const chunks of splits(data))
    expect(
      decode(
        framing,
        chunks.filter((c) => c.length > 0),
        max,
      ),
    ).toEqual(whole);
  return whole;
}

const CHUNKED = { type: 'chunked' } as const;

describe('BodyDecoder', () => {
  it('a Content-Length body, and the next request after it', () => {
    expect(decodeAll({ type: 'length', length: 5 }, 'helloGET / HTTP/1.1\r\n')).toEqual({
      body: 'hello',
      rest: 'GET / HTTP/1.1\r\n',
    });
    expect(decodeAll({ type: 'length', length: 5 }, 'hel')).toEqual({ body: 'hel', incomplete: true });
  });

  it('a chunked body: sizes in hex, extensions and trailers ignored', () => {
    const wire = '5\r\nhello\r\n1;name=value\r\n \r\nB\r\n wonderful \r\n0\r\nExpires: never\r\n\r\nNEXT';
    expect(decodeAll(CHUNKED, wire)).toEqual({ body: 'hello  wonderful ', rest: 'NEXT' });
    expect(decodeAll(CHUNKED, '000A\r\n0123456789\r\n0\r\n\r\n')).toEqual({ body: '0123456789', rest: '' });
  });

  it.each([
    ['a size that is not hex', 'zz\r\nhello\r\n0\r\n\r\n'],
    ['an empty size', '\r\nhello\r\n0\r\n\r\n'],
    ['a negative size', '-5\r\nhello\r\n0\r\n\r\n'],
    ['junk after the size', '5 x\r\nhello\r\n0\r\n\r\n'],
    ['a bare LF after the size', '5\nhello\r\n0\r\n\r\n'],
    ['data longer than its size', '3\r\nhello\r\n0\r\n\r\n'],
    ['data not followed by CRLF', '5\r\nhelloXX0\r\n\r\n'],
    ['a malformed trailer', '0\r\nno colon here\r\n\r\n'],
    ['a size line over 4 KiB', `1;${'x'.repeat(4100)}\r\n`],
  ])('refuses %s with 400', (_name, wire) => {
    expect(decodeAll(CHUNKED, wire)).toMatchObject({ error: expect.stringMatching(/^BAD_CHUNK$/), status: 400 });
  });

  it('refuses a chunked body over the limit with 413, before reading its data', () => {
    expect(decodeAll(CHUNKED, '5\r\nhello\r\n6\r\nhello!\r\n0\r\n\r\n', 10)).toMatchObject({
      error: 'BODY_TOO_LARGE',
      status: 413,
      body: 'hello',
    });
    expect(decodeAll(CHUNKED, 'FFFFFFFFFFFFFFFFFFFF\r\n', 10)).toMatchObject({ error: 'BODY_TOO_LARGE', status: 413 });
  });

  it('bounds the trailer section', () => {
    expect(decodeAll(CHUNKED, `0\r\nX: ${'y'.repeat(300)}\r\n\r\n`)).toMatchObject({ status: 431 });
  });

  it('never throws, on any bytes and any split', () => {
    const property = fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 1, max: 20 }), (data, step) => {
      const decoder = new BodyDecoder(CHUNKED, 1000, 200);
      for (let i = 0; i < data.length; i += step) {
        const out = decoder.push(data.subarray(i, i + step));
        if (out.error !== null || out.rest !== null) break;
      }
    });
    expect(() => fc.assert(property)).not.toThrow();
  });
});
