// HTTP heads for the head-parser and handshake tests: Latin-1 bytes, the limits they parse with,
// a parse that checks every split agrees, and RFC 6455 §1.3's example request fields.
import { expect } from 'vitest';
import { HeadParser, type HeadResult, type RequestHead, type ResponseHead } from '../../src/http/head-parser.ts';
import { splits } from './split.ts';

export const LIMITS = { maxHeadBytes: 16 * 1024, maxHeaders: 100 };

/** `text` as bytes, one byte per character code (Latin-1). */
export function latin1(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** Parses a head, checking every split and one byte at a time give the same. */
export function parseHead<K extends 'request' | 'response'>(
  kind: K,
  data: Uint8Array,
): K extends 'request' ? RequestHead : ResponseHead {
  type H = K extends 'request' ? RequestHead : ResponseHead;
  let first: H | null = null;
  let firstJson = '';
  for (const chunks of [[data], ...splits(data)]) {
    const parser = new HeadParser(kind, LIMITS);
    let result: HeadResult<H> = null;
    for (const chunk of chunks) result ??= parser.push(chunk);
    if (result === null || !result.ok) throw new Error(`not a head: ${JSON.stringify(result)}`);
    const json = JSON.stringify({ ...result.head, headers: result.head.headers.entries() });
    if (first === null) [first, firstJson] = [result.head, json];
    else if (json !== firstJson) expect(json).toBe(firstJson);
  }
  return first!;
}

/** The fields of RFC 6455 §1.3's example request, in order. */
export const RFC_FIELDS: Array<[string, string]> = [
  ['Host', 'server.example.com'],
  ['Upgrade', 'websocket'],
  ['Connection', 'Upgrade'],
  ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
  ['Origin', 'http://example.com'],
  ['Sec-WebSocket-Protocol', 'chat, superchat'],
  ['Sec-WebSocket-Version', '13'],
];
