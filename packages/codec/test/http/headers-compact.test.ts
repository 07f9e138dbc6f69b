// Parsed headers are kept in one flat array, with names and common values shared between heads
// (a bounded cache, emptied when full) and values unique to a request copied out of the head.
// Whatever the path a field took (whole ASCII head, split lines, non-ASCII bytes), the headers
// must read and change exactly as headers built by hand.
import { describe, expect, it } from 'vitest';
import { HeadParser } from '../../src/http/head-parser.ts';
import { HttpHeaders } from '../../src/http/headers.ts';

const LIMITS = { maxHeadBytes: 16 * 1024, maxHeaders: 100 };
const bytes = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

function parseWhole(text: string): HttpHeaders {
  const result = new HeadParser('request', LIMITS).push(bytes(text));
  if (result === null || !result.ok) throw new Error('no head');
  return result.head.headers;
}

function parseByteByByte(text: string): HttpHeaders {
  const parser = new HeadParser('request', LIMITS);
  const data = bytes(text);
  for (let i = 0; i < data.length; i++) {
    const result = parser.push(data.subarray(i, i + 1));
    if (result === null) continue;
    if (!result.ok) throw new Error(result.error.message);
    return result.head.headers;
  }
  throw new Error('no head');
}

const head = (fields: Array<[string, string]>): string =>
  `GET / HTTP/1.1\r\n${fields.map(([n, v]) => `${n}:  ${v} \r\n`).join('')}\r\n`;

describe('parsed headers, stored compactly', () => {
  it('read and change like headers built by hand, on every parse path', () => {
    const fields: Array<[string, string]> = [
      ['Host', 'example.test:8080'],
      ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
      ['Cookie', 'session=0123456789abcdef0123456789'],
      ['X-Repeat', 'one'],
      ['x-repeat', 'two-and-longer-than-a-slice'],
      ['Accept', ''],
    ];
    const text = head(fields);
    const latin1 = head([...fields, ['X-Latin', 'caf\xe9 cr\xe8me br\xfbl\xe9e']]);
    for (const headers of [parseWhole(text), parseByteByByte(text), parseWhole(latin1), parseByteByByte(latin1)]) {
      const byHand = new HttpHeaders(fields);
      expect(headers.entries().slice(0, fields.length)).toEqual(byHand.entries());
      expect(headers.get('x-repeat')).toBe('one, two-and-longer-than-a-slice');
      expect(headers.getAll('X-REPEAT')).toEqual(['one', 'two-and-longer-than-a-slice']);
      expect(headers.get('accept')).toBe('');
      expect(headers.get('missing')).toBeNull();
      expect(headers.has('cookie')).toBe(true);
      expect([...headers].length).toBe(headers.size);
      headers.delete('X-Repeat');
      expect(headers.has('x-repeat')).toBe(false);
      headers.append('X-Added', ' v ');
      expect(headers.get('x-added')).toBe('v');
      expect(headers.toObject()).toMatchObject({
        host: 'example.test:8080',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'x-added': 'v',
      });
      expect(new HttpHeaders(headers).entries()).toEqual(headers.entries());
    }
    expect(parseWhole(latin1).get('x-latin')).toBe('caf\xe9 cr\xe8me br\xfbl\xe9e');
  });

  it('heads parsed long ago keep their own values after the shared cache was emptied many times', () => {
    const kept: Array<[HttpHeaders, number]> = [];
    for (let i = 0; i < 3000; i++) {
      const headers = parseWhole(
        head([
          ['Host', 'h.test'],
          [`X-Name-${i % 700}`, `value number ${i} (longer than a slice)`],
          ['User-Agent', `agent ${i % 2}`],
        ]),
      );
      if (i % 97 === 0) kept.push([headers, i]);
    }
    for (const [headers, i] of kept) {
      expect(headers.entries()).toEqual([
        ['Host', 'h.test'],
        [`X-Name-${i % 700}`, `value number ${i} (longer than a slice)`],
        ['User-Agent', `agent ${i % 2}`],
      ]);
    }
  });

  it('fromTrusted wraps pairs as before', () => {
    const headers = HttpHeaders.fromTrusted([
      ['A', '1'],
      ['b', '2'],
      ['a', '3'],
    ]);
    expect(headers.get('a')).toBe('1, 3');
    expect(headers.size).toBe(3);
    expect(headers.entries()).toEqual([
      ['A', '1'],
      ['b', '2'],
      ['a', '3'],
    ]);
  });
});
