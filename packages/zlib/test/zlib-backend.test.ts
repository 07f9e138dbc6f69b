// The node:zlib backend of permessage-deflate (src/index.ts): round trips through real
// Connection pairs with and without context takeover and every window size, interop with the
// codec's pako backend both ways, bounded inflation of bombs (1009) and corrupt data (1007, as
// with pako).
import { describe, expect, it } from 'vitest';
import { randomFillSync } from 'node:crypto';
import {
  Connection,
  permessageDeflate as codecPermessageDeflate,
  type Event,
  type Extension,
  type PerMessageDeflateOptions,
} from '@ws/codec';
import { serverConnection } from '@ws/codec/server';
import { pakoBackend } from '@ws/codec/pako';
import { ConnectionPair, hex } from '@ws/codec/testing';
import { deflateBomb, fixedBlockWithDistance } from '../../codec/test/helpers/deflate.ts';
import { clientFrame } from '../../codec/test/helpers/frames.ts';
import { permessageDeflate, zlibBackend } from '../src/index.ts';

const RSV1 = 0x4;
const backend = zlibBackend!;

function jsonLike(size: number, seed = 1): Uint8Array {
  let s = seed;
  const rnd = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const words = ['alpha', 'beta', 'gamma', 'delta', 'user', 'price', 'status', 'ok', 'error', 'value'];
  let text = '';
  while (text.length < size)
    text += `{"id":${Math.floor(rnd() * 1e6)},"type":"${words[Math.floor(rnd() * words.length)]}","n":${(rnd() * 100).toFixed(2)}},`;
  return new TextEncoder().encode(text.slice(0, size));
}

function randomBytes(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) randomFillSync(out, at, Math.min(65536, size - at));
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return (
    a.length === b.length &&
    Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length))
  );
}

function openPair(
  clientOptions: PerMessageDeflateOptions,
  serverOptions: PerMessageDeflateOptions,
  clientFactory = permessageDeflate,
  serverFactory = permessageDeflate,
): ConnectionPair {
  const p = new ConnectionPair({
    client: { extensions: [clientFactory(clientOptions)] },
    server: { extensions: [serverFactory(serverOptions)] },
  });
  p.pump();
  expect(p.client.extensions.map((e) => e.name)).toEqual(['permessage-deflate']);
  return p;
}

/** Send `data` compressed from one side, fragmented at `cuts`; check the other side gets it, and that RSV1 was on the wire. */
function roundTrip(p: ConnectionPair, from: 'client' | 'server', data: Uint8Array, cuts: number[] = []): void {
  const sender = from === 'client' ? p.client : p.server;
  const events = from === 'client' ? p.serverEvents : p.clientEvents;
  const outputs = from === 'client' ? p.clientOutputs : p.serverOutputs;
  const before = events.length;
  const wrote = outputs.length;
  if (cuts.length === 0) {
    sender.sendBinary(data, true);
  } else {
    const bounds = [0, ...cuts, data.length];
    for (let i = 0; i + 1 < bounds.length; i++) {
      sender.send({
        type: 'fragment',
        kind: 'binary',
        data: data.slice(bounds[i], bounds[i + 1]),
        fin: i + 2 === bounds.length,
        compress: true,
      });
    }
  }
  p.pump();
  const got = events.slice(before).filter((e) => e.type === 'binary');
  expect(got.length).toBe(1);
  const received = (got[0] as Extract<Event, { type: 'binary' }>).data;
  expect(sameBytes(received, data), `${data.length} bytes round-trip`).toBe(true);
  const first = outputs.slice(wrote).find((o) => o.type === 'write');
  expect(first && first.type === 'write' && (first.data[0]! & 0x40) !== 0, 'RSV1 set').toBe(true);
}

const MESSAGES = [
  new Uint8Array(0),
  jsonLike(125),
  jsonLike(4096, 2),
  randomBytes(4096),
  jsonLike(200_000, 3),
  randomBytes(1024 * 1024),
];

describe('zlib backend', () => {
  it('is available on Node and is what @ws/node permessageDeflate() uses', () => {
    expect(zlibBackend).not.toBeNull();
    expect(backend.name).toBe('node:zlib');
    const n = permessageDeflate().negotiate([[]])!;
    // Compress with the extension and check zlib did it: decode with a pako one.
    const frame = n.extension.encode(jsonLike(3000), true, true, true);
    const pako = codecPermessageDeflate({ backend: pakoBackend }).accept(n.params) as Extension;
    expect(pako.decodeStart(frame.rsv)).toBe(true);
    const pieces: Uint8Array[] = [];
    expect(pako.decode(frame.payload, true, (c) => (pieces.push(c), true))).toBeNull();
    expect(sameBytes(Buffer.concat(pieces), jsonLike(3000))).toBe(true);
    // An explicit backend wins.
    expect(() => permessageDeflate({ backend: pakoBackend })).not.toThrow();
    expect(() => permessageDeflate({ level: 42 })).toThrow(/level/);
  });

  for (const [label, options] of [
    ['with context takeover', {}],
    ['without context takeover', { serverNoContextTakeover: true, clientNoContextTakeover: true }],
  ] as const) {
    it(`messages of many sizes round-trip both ways, whole and fragmented, ${label}`, () => {
      const p = openPair(options, {});
      for (let repeat = 0; repeat < 2; repeat++) {
        for (const data of MESSAGES) {
          roundTrip(p, 'client', data);
          roundTrip(p, 'server', data);
        }
        roundTrip(p, 'client', jsonLike(70_000, 4), [1, 5000, 5000, 69_000]);
        roundTrip(p, 'server', randomBytes(70_000), [30_000]);
      }
    });
  }

  it('window bits 8–15 each way round-trip, and interoperate with pako in both directions', () => {
    for (let bits = 8; bits <= 15; bits++) {
      for (const noTakeover of [false, true]) {
        const options = {
          serverMaxWindowBits: bits,
          clientMaxWindowBits: bits,
          serverNoContextTakeover: noTakeover,
          clientNoContextTakeover: noTakeover,
        };
        const pairs = [
          openPair(options, {}),
          openPair(options, {}, permessageDeflate, (o) => codecPermessageDeflate({ ...o, backend: pakoBackend })),
          openPair(options, {}, (o) => codecPermessageDeflate({ ...o, backend: pakoBackend }), permessageDeflate),
        ];
        for (const p of pairs) {
          expect(p.client.extensions[0]!.params).toContainEqual({
            name: 'server_max_window_bits',
            value: String(bits),
          });
          for (const data of [jsonLike(3000, bits), jsonLike(3000, bits), randomBytes(700), jsonLike(40_000, bits)]) {
            roundTrip(p, 'client', data);
            roundTrip(p, 'server', data);
          }
        }
      }
    }
  });

  it('the deflater refuses options out of range; windowBits 8 compresses with distances ≤ 250', () => {
    expect(() => backend.createDeflater({ windowBits: 7, memLevel: 8, level: 1 })).toThrow(RangeError);
    expect(() => backend.createDeflater({ windowBits: 15, memLevel: 0, level: 1 })).toThrow(RangeError);
    expect(() => backend.createDeflater({ windowBits: 15, memLevel: 8, level: 10 })).toThrow(RangeError);
    expect(() => backend.createInflater(16)).toThrow(RangeError);
    // A 256-byte window inflater (pako, strict about distances) accepts what a "windowBits 8" zlib deflater makes.
    const deflater = backend.createDeflater({ windowBits: 8, memLevel: 8, level: 9 });
    const inflater = pakoBackend.createInflater(8);
    for (let i = 0; i < 5; i++) {
      const data = jsonLike(5000, i);
      inflater.push(deflater.compress(data));
      const out = new Uint8Array(10_000);
      const n = inflater.pull(out);
      expect(typeof n === 'number' && sameBytes(out.subarray(0, n), data)).toBe(true);
      expect(inflater.endMessage(true)).toBeNull();
    }
    deflater.dispose();
    inflater.dispose();
    expect(() => deflater.compress(new Uint8Array(1))).toThrow(/dispose/);
  });

  it('RFC 7692 §7.2.3 examples: "Hello", a shared window, BFINAL blocks with and without takeover', () => {
    const hello = new TextEncoder().encode('Hello');
    const decode = (ext: Extension, payload: Uint8Array): string => {
      expect(ext.decodeStart(RSV1)).toBe(true);
      const pieces: Uint8Array[] = [];
      const error = ext.decode(payload, true, (c) => (pieces.push(c), true));
      expect(error).toBeNull();
      return Buffer.concat(pieces).toString();
    };
    const takeover = permessageDeflate().negotiate([[]])!;
    expect(Buffer.from(takeover.extension.encode(hello, true, true, true).payload).toString('hex')).toBe(
      'f248cdc9c90700',
    );
    expect(Buffer.from(takeover.extension.encode(hello, true, true, true).payload).toString('hex')).toBe('f200110000');
    const client = permessageDeflate().accept(takeover.params) as Extension;
    for (let i = 0; i < 2; i++) expect(decode(client, hex('f3 48 cd c9 c9 07 00'))).toBe('Hello');
    expect(decode(client, hex('f3 48 cd c9 c9 07 00 00 ff'))).toBe('Hello'); // bytes after the final block are ignored
    // With context takeover the history survives the end of a stream: a new one may refer to it.
    expect(decode(client, hex('f2 00 11 00 00'))).toBe('Hello');
    expect(decode(client, hex('f2 48 cd c9 c9 07 00'))).toBe('Hello');
    expect(decode(client, hex('f2 00 11 00 00'))).toBe('Hello');
    const noTakeover = permessageDeflate().accept([{ name: 'server_no_context_takeover', value: null }]) as Extension;
    for (let i = 0; i < 3; i++) expect(decode(noTakeover, hex('f3 48 cd c9 c9 07 00'))).toBe('Hello');
    // Across BFINAL messages with a 512-byte window, longer messages than the window reaching back.
    const big = permessageDeflate().accept([{ name: 'server_max_window_bits', value: '9' }]) as Extension;
    const server = codecPermessageDeflate({ backend: pakoBackend }).negotiate([
      [{ name: 'server_max_window_bits', value: '9' }],
    ])!.extension;
    for (let i = 0; i < 3; i++) {
      const data = jsonLike(1500 + i * 100, i);
      const frame = server.encode(data, true, true, true);
      expect(decode(big, frame.payload)).toBe(Buffer.from(data).toString());
      expect(decode(big, hex('f3 48 cd c9 c9 07 00'))).toBe('Hello');
      server.encode(hello, true, true, true); // the sender's history holds that "Hello" too
    }
  });

  it('a bomb stops at the limit plus one piece, never holding the whole output', () => {
    const bomb = deflateBomb(1_000_000); // ≈ 250 KB → ≈ 258 MB
    const limit = 1024 * 1024;
    for (const maxDecodeChunk of [1024, 64 * 1024]) {
      const ext = permessageDeflate({ maxDecodeChunk }).negotiate([[]])!.extension;
      let seen = 0;
      let calls = 0;
      expect(ext.decodeStart(RSV1)).toBe(true);
      const result = ext.decode(bomb, true, (piece) => {
        calls++;
        seen += piece.length;
        expect(piece.length).toBeLessThanOrEqual(maxDecodeChunk);
        return seen <= limit;
      });
      expect(result).toBeNull();
      expect(seen).toBeGreaterThan(limit);
      expect(seen).toBeLessThanOrEqual(limit + maxDecodeChunk);
      expect(calls).toBe(Math.ceil((limit + 1) / maxDecodeChunk));
    }
  });

  const REQUEST =
    'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
    'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n';

  function server(factory: typeof permessageDeflate, maxMessageSize?: number): Connection {
    const conn = serverConnection({
      extensions: [factory()],
      limits: maxMessageSize === undefined ? {} : { maxMessageSize },
    });
    conn.receiveData(new TextEncoder().encode(REQUEST));
    conn.takeEvents();
    conn.send({ type: 'accept' });
    conn.takeEvents();
    conn.takeOutput();
    return conn;
  }

  function failure(events: Event[]): { code: string; closeCode: number | null } | null {
    const e = events.find((x) => x.type === 'protocol-error');
    return e && e.type === 'protocol-error' ? { code: e.code, closeCode: e.closeCode } : null;
  }

  const pako = (): ReturnType<typeof codecPermessageDeflate> => codecPermessageDeflate({ backend: pakoBackend });

  it('a bomb on a connection → 1009, in one frame or many, as with pako', () => {
    for (const factory of [permessageDeflate, pako]) {
      const one = server(factory, 1024 * 1024);
      one.receiveData(clientFrame(0xc2, deflateBomb(1_000_000)));
      const events = one.takeEvents();
      expect(failure(events)).toEqual({ code: 'MESSAGE_TOO_LARGE', closeCode: 1009 });
      expect(events.some((e) => e.type === 'binary')).toBe(false);
      const many = server(factory, 1024 * 1024);
      const bomb = deflateBomb(100_000);
      for (let at = 0; at < bomb.length; at += 1000) {
        many.receiveData(
          clientFrame((at === 0 ? 0x42 : 0x00) | (at + 1000 >= bomb.length ? 0x80 : 0), bomb.subarray(at, at + 1000)),
        );
      }
      expect(failure(many.takeEvents())).toEqual({ code: 'MESSAGE_TOO_LARGE', closeCode: 1009 });
    }
  });

  it('corrupt compressed data → the same close code as pako (1007)', () => {
    const corrupt = [
      hex('ff ff ff'),
      hex('00 05 00 00 00 48 65'),
      fixedBlockWithDistance(new TextEncoder().encode('ab'), 3),
    ];
    for (const payload of corrupt) {
      const codes = [permessageDeflate, pako].map((factory) => {
        const conn = server(factory);
        conn.receiveData(clientFrame(0xc2, payload));
        return failure(conn.takeEvents());
      });
      expect(codes[0]).toEqual({ code: 'EXTENSION_ERROR', closeCode: 1007 });
      expect(codes[0]).toEqual(codes[1]);
    }
  });

  it('after a corrupt message a pooled inflater is not reused broken', () => {
    const n = permessageDeflate({ clientNoContextTakeover: true }).negotiate([
      [{ name: 'client_no_context_takeover', value: null }],
    ])!;
    const ext = n.extension;
    expect(ext.decodeStart(RSV1)).toBe(true);
    expect(ext.decode(hex('ff ff ff'), true, () => true)).toEqual(expect.any(String));
    const client = permessageDeflate({ clientNoContextTakeover: true }).accept(n.params) as Extension;
    const data = jsonLike(3000);
    const frame = client.encode(data, true, true, true);
    const pieces: Uint8Array[] = [];
    expect(ext.decodeStart(frame.rsv)).toBe(true);
    expect(ext.decode(frame.payload, true, (c) => (pieces.push(c), true))).toBeNull();
    expect(sameBytes(Buffer.concat(pieces), data)).toBe(true);
  });
});
