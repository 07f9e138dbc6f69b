// The receive data path: whole messages in one read (one view, no assembly), one-frame messages
// over many reads (unmasked straight into their final buffer), fragmented messages (parts), and
// the optional host UTF-8 check. Every message must come out byte-identical however it is cut.
import { describe, it, expect, vi } from 'vitest';
import { concat } from 'uint8arrays/concat';
import type { Event, ServerConnectionOptions } from '../src/index.ts';
import { hex } from '../src/testing/index.ts';
import { FrameParser, HEADER, PAYLOAD, NEED_MORE } from '../src/frame-parser.ts';
import { clientFrame, openClient, openServer, serverFrame } from './helpers/frames.ts';
import { encodeUtf8 } from '../src/utf8.ts';
import { useWasmMask } from '../src/mask.ts';

/** Deterministic pseudo-random bytes (xorshift), so a failure reproduces. */
function pseudoRandom(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Cut `bytes` into pieces of the given sizes, repeated; each piece a copy in its own, oddly aligned, buffer. */
function cut(bytes: Uint8Array, sizes: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0, k = 0; i < bytes.length; k++) {
    const n = Math.min(sizes[k % sizes.length]!, bytes.length - i);
    const shift = k % 3;
    const piece = new Uint8Array(n + shift).subarray(shift);
    piece.set(bytes.subarray(i, i + n));
    out.push(piece);
    i += n;
  }
  return out;
}

/** Feed pieces one at a time, reading events after each (as a transport does). */
function feed(conn: ReturnType<typeof openServer>, pieces: Uint8Array[]): Event[] {
  const events: Event[] = [];
  for (const piece of pieces) {
    conn.receiveData(piece);
    for (let e = conn.nextEvent(); e !== null; e = conn.nextEvent()) events.push(e);
  }
  return events;
}

function errorOf(events: Event[]) {
  const e = events.find((x) => x.type === 'protocol-error');
  return e && e.type === 'protocol-error' ? { code: e.code, closeCode: e.closeCode } : null;
}

const MiB = 1024 * 1024;
const ODD_SIZES: number[][] = [[1], [7, 4093, 65537], [65536], [3, 1, 100_003], [MiB + 14]];

describe('one-frame messages over many reads', () => {
  for (const sizes of ODD_SIZES) {
    for (const wasm of [true, false]) {
      it(`a 1 MiB masked binary message in pieces of ${sizes.join('/')} (${wasm ? 'SIMD' : 'JS'} unmask) is byte-identical`, () => {
        useWasmMask(wasm);
        try {
          const payload = pseudoRandom(MiB, sizes[0]);
          const key = Uint8Array.of(0x9b, 0x01, 0xfe, 0x37);
          const pieces =
            sizes[0] === 1
              ? cut(clientFrame(0x82, payload, key), [1, 2, 3, 50_000])
              : cut(clientFrame(0x82, payload, key), sizes);
          const events = feed(openServer({ limits: { maxMessageSize: 2 * MiB } }), pieces);
          expect(events.length).toBe(1);
          const event = events[0]!;
          expect(event.type).toBe('binary');
          expect(event.type === 'binary' && Buffer.from(event.data).equals(Buffer.from(payload))).toBe(true);
        } finally {
          useWasmMask(true);
        }
      });
    }
  }

  it('is unmasked straight into its final buffer: once that exists, the fed reads are left as they came', () => {
    const payload = pseudoRandom(MiB, 9);
    const wire = clientFrame(0x82, payload, Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
    const pieces = cut(wire, [65536]);
    const copies = pieces.map((p) => p.slice());
    const events = feed(openServer({ limits: { maxMessageSize: 2 * MiB } }), pieces);
    expect(events[0]!.type === 'binary' && Buffer.from(events[0]!.data).equals(Buffer.from(payload))).toBe(true);
    // The first read had the header: the buffer was allocated then, so no read was unmasked in place.
    pieces.forEach((p, i) => expect(Buffer.from(p).equals(Buffer.from(copies[i]!))).toBe(true));
  });

  it('a 1 MiB mixed-script text message in odd pieces decodes to the same string', () => {
    const unit = 'Grüße — 日本語 Ελληνικά 😀 ascii; ';
    const text = unit.repeat(Math.ceil(MiB / encodeUtf8(unit).length));
    const events = feed(
      openServer({ limits: { maxMessageSize: 4 * MiB } }),
      cut(clientFrame(0x81, text), [5, 65521, 999]),
    );
    expect(events).toEqual([{ type: 'text', data: text }]);
  });

  it('a large frame whose first reads are too small to justify the whole buffer still comes out whole', () => {
    // 300 KiB announced, then 100-byte reads: the buffer is allocated only once enough arrived.
    const payload = pseudoRandom(300 * 1024, 7);
    const frame = clientFrame(0x82, payload);
    const pieces = [...cut(frame.subarray(0, 20_000), [100]), ...cut(frame.subarray(20_000), [30_001])];
    const events = feed(openServer(), pieces);
    expect(events.length).toBe(1);
    expect(events[0]!.type === 'binary' && Buffer.from(events[0]!.data).equals(Buffer.from(payload))).toBe(true);
  });

  it('messages before and after, and a ping between, are unaffected', () => {
    const big = pseudoRandom(200_000, 3);
    const wire = concat([
      clientFrame(0x81, 'before'),
      clientFrame(0x82, big),
      clientFrame(0x89, 'p'),
      clientFrame(0x81, 'after'),
    ]);
    const events = feed(openServer(), cut(wire, [4096, 13]));
    expect(events.map((e) => e.type)).toEqual(['text', 'binary', 'ping', 'text']);
    expect(events[0]).toEqual({ type: 'text', data: 'before' });
    expect(events[1]!.type === 'binary' && Buffer.from(events[1]!.data).equals(Buffer.from(big))).toBe(true);
    expect(events[3]).toEqual({ type: 'text', data: 'after' });
  });

  it('a client receiving an unmasked server frame in pieces', () => {
    const payload = pseudoRandom(150_000, 11);
    const client = openClient();
    const events = feed(client, cut(serverFrame(0x82, payload), [1000, 65536]));
    expect(events.length).toBe(1);
    expect(events[0]!.type === 'binary' && Buffer.from(events[0]!.data).equals(Buffer.from(payload))).toBe(true);
  });

  it('invalid UTF-8 in a large one-frame text message fails as soon as it arrives (Autobahn 6.4.3)', () => {
    const payload = concat([
      encodeUtf8('a'.repeat(40_000)),
      Uint8Array.of(0xf4, 0x90, 0x80, 0x80),
      encodeUtf8('b'.repeat(100_000)),
    ]);
    const frame = clientFrame(0x81, payload);
    const server = openServer();
    const events = feed(server, [frame.subarray(0, 30_000).slice(), frame.subarray(30_000, 50_000).slice()]);
    expect(errorOf(events)).toEqual({ code: 'INVALID_UTF8', closeCode: 1007 });
    // Nothing more is parsed after the failure.
    expect(feed(server, [frame.subarray(50_000).slice()])).toEqual([]);
  });

  it('a message cut at the end of a code point, in pieces, still fails at its end', () => {
    const frame = clientFrame(0x81, concat([new Uint8Array(70_000).fill(0x41), Uint8Array.of(0xe2, 0x82)]));
    expect(errorOf(feed(openServer(), cut(frame, [65536])))).toEqual({ code: 'INVALID_UTF8', closeCode: 1007 });
  });

  it('EOF in the middle of such a message ends the connection with 1006 and no message', () => {
    const server = openServer();
    const frame = clientFrame(0x82, pseudoRandom(100_000));
    expect(feed(server, [frame.subarray(0, 70_000).slice()])).toEqual([]);
    server.receiveEof();
    const events = server.takeEvents();
    expect(events.map((e) => e.type)).toEqual(['closed']);
  });

  it('streaming mode still yields the payload in pieces, unchanged', () => {
    const payload = pseudoRandom(100_000, 5);
    const events = feed(openServer({ assembleMessages: false }), cut(clientFrame(0x82, payload), [7000]));
    const data = concat(events.map((e) => (e.type === 'fragment' ? e.data : new Uint8Array(0))));
    expect(Buffer.from(data).equals(Buffer.from(payload))).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'fragment', fin: true });
  });

  it('a fragmented message with large fragments in pieces is assembled', () => {
    const a = pseudoRandom(70_000, 21);
    const b = pseudoRandom(90_000, 22);
    const events = feed(
      openServer(),
      cut(concat([clientFrame(0x02, a), clientFrame(0x89, 'x'), clientFrame(0x80, b)]), [65536]),
    );
    expect(events.map((e) => e.type)).toEqual(['ping', 'binary']);
    expect(events[1]!.type === 'binary' && Buffer.from(events[1]!.data).equals(Buffer.from(concat([a, b])))).toBe(true);
  });
});

describe('whole messages in one read', () => {
  it('many small messages in one read come out in order, one event each, through nextEvent and takeEvents', () => {
    const wire = concat(
      Array.from({ length: 50 }, (_, i) =>
        clientFrame(i % 2 ? 0x82 : 0x81, i % 2 ? Uint8Array.of(i, 255 - i) : `m${i}`),
      ),
    );
    const server = openServer();
    server.receiveData(wire.slice());
    const first = [server.nextEvent(), server.nextEvent(), server.nextEvent()];
    const rest = server.takeEvents();
    const all = [...first, ...rest];
    expect(all.length).toBe(50);
    all.forEach((e, i) =>
      expect(e).toEqual(i % 2 ? { type: 'binary', data: Uint8Array.of(i, 255 - i) } : { type: 'text', data: `m${i}` }),
    );
    expect(server.nextEvent()).toBeNull();
  });

  it('payloads of every length up to 300 bytes, at every offset in the read, unmask correctly', () => {
    const frames: Uint8Array[] = [];
    const payloads: Uint8Array[] = [];
    for (let n = 0; n <= 300; n++) {
      const payload = pseudoRandom(n, n + 1);
      payloads.push(payload);
      frames.push(clientFrame(0x82, payload, Uint8Array.of(n, 0x5a, 0xa5, 255 - n)));
    }
    const events = feed(openServer(), [concat(frames)]);
    expect(events).toEqual(payloads.map((data) => ({ type: 'binary', data })));
  });

  it('RSV bits, continuations and limits still fail on this path', () => {
    expect(errorOf(feed(openServer(), [clientFrame(0xc2, 'x')]))?.code).toBe('RESERVED_BITS');
    expect(errorOf(feed(openServer(), [clientFrame(0x80, 'x')]))?.code).toBe('UNEXPECTED_CONTINUATION');
    expect(errorOf(feed(openServer({ limits: { maxMessageSize: 3 } }), [clientFrame(0x82, 'abcd')]))).toEqual({
      code: 'MESSAGE_TOO_LARGE',
      closeCode: 1009,
    });
    expect(errorOf(feed(openServer(), [clientFrame(0x01, 'a'), clientFrame(0x81, 'b')]))?.code).toBe(
      'EXPECTED_CONTINUATION',
    );
  });
});

describe('with engine.freshArrays (as on JavaScriptCore): short payloads copied out, never views', () => {
  const fresh: ServerConnectionOptions = { engine: { freshArrays: true } };

  it('payloads of every length up to 1100 bytes, in one read or byte by byte, come out unmasked in arrays of their own', () => {
    const frames: Uint8Array[] = [];
    const payloads: Uint8Array[] = [];
    for (let n = 0; n <= 1100; n += n < 300 ? 1 : 37) {
      const payload = pseudoRandom(n, n + 1);
      payloads.push(payload);
      frames.push(clientFrame(0x82, payload, Uint8Array.of(n, 0x5a, 0xa5, 255 - n)));
    }
    const wire = concat(frames);
    const expected = payloads.map((data) => ({ type: 'binary', data }));
    const whole = feed(openServer(fresh), [wire.slice()]);
    expect(whole).toEqual(expected);
    for (const e of whole) {
      const data = (e as { data: Uint8Array }).data;
      // Up to FRESH_MAX (1000) a fresh array; beyond, a view of the read as before.
      if (data.length > 0 && data.length <= 1000)
        expect([data.byteOffset, data.buffer.byteLength]).toEqual([0, data.length]);
    }
    expect(feed(openServer(fresh), cut(wire, [1, 2, 3, 5, 999]))).toEqual(expected);
    expect(wire).toEqual(concat(frames)); // the reads themselves are left masked
  });

  it('a large one-frame message in small pieces, pings split between reads, and text still come out right', () => {
    const big = pseudoRandom(20_000, 7);
    const ping = clientFrame(0x89, Uint8Array.of(1, 2, 3, 4, 5));
    const wire = concat([
      clientFrame(0x82, big),
      ping,
      clientFrame(0x81, 'héllo €'),
      clientFrame(0x01, 'a'),
      clientFrame(0x80, 'b'),
    ]);
    for (const sizes of [[1], [3, 700], [4096]]) {
      const events = feed(openServer(fresh), cut(wire, sizes));
      expect(events).toEqual([
        { type: 'binary', data: big },
        { type: 'ping', data: Uint8Array.of(1, 2, 3, 4, 5) },
        { type: 'text', data: 'héllo €' },
        { type: 'text', data: 'ab' },
      ]);
    }
    expect(errorOf(feed(openServer(fresh), cut(clientFrame(0x81, hex('ce bb e2 82')), [1])))).toEqual({
      code: 'INVALID_UTF8',
      closeCode: 1007,
    });
  });
});

describe('utf8Validator option (a host UTF-8 check for whole text messages)', () => {
  it('is used for a whole one-frame text message in one read, and its verdict is final', () => {
    const yes = vi.fn(() => true);
    expect(feed(openServer({ utf8Validator: yes }), [clientFrame(0x81, 'héllo')])).toEqual([
      { type: 'text', data: 'héllo' },
    ]);
    expect(yes).toHaveBeenCalledTimes(1);
    expect(Buffer.from((yes.mock.calls[0] as unknown as [Uint8Array])[0]).toString()).toBe('héllo'); // unmasked
    const no = vi.fn(() => false);
    expect(errorOf(feed(openServer({ utf8Validator: no }), [clientFrame(0x81, 'fine text')]))).toEqual({
      code: 'INVALID_UTF8',
      closeCode: 1007,
    });
  });

  it('agrees with the built-in check when it is a correct validator', () => {
    const isUtf8 = (b: Uint8Array) => {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(b);
        return true;
      } catch {
        return false;
      }
    };
    for (const payload of [
      encodeUtf8('ok ✓'),
      Uint8Array.of(0xed, 0xa0, 0x80),
      Uint8Array.of(0xc0, 0xaf),
      Uint8Array.of(0xe2, 0x82),
    ]) {
      const withHook = feed(openServer({ utf8Validator: isUtf8 }), [clientFrame(0x81, payload)]);
      const without = feed(openServer(), [clientFrame(0x81, payload)]);
      expect(withHook).toEqual(without);
    }
  });

  it('is not used for binary, fragmented, or multi-read messages: those are checked incrementally and fail fast', () => {
    const hook = vi.fn(() => true);
    const server = openServer({ utf8Validator: hook });
    expect(feed(server, [clientFrame(0x82, Uint8Array.of(0xff))])[0]!.type).toBe('binary');
    // Fragmented: the bad byte in the first fragment fails at once, before the message ends.
    expect(errorOf(feed(server, [clientFrame(0x01, Uint8Array.of(0x61, 0xff))]))?.code).toBe('INVALID_UTF8');
    // One frame over two reads.
    const frame = clientFrame(0x81, concat([new Uint8Array(100).fill(0x61), Uint8Array.of(0xc0, 0x80)]));
    expect(
      errorOf(feed(openServer({ utf8Validator: hook }), [frame.subarray(0, 60).slice(), frame.subarray(60).slice()]))
        ?.code,
    ).toBe('INVALID_UTF8');
    expect(hook).not.toHaveBeenCalled();
  });

  it('must be a function', () => {
    expect(() => openServer({ utf8Validator: 'yes' as unknown as () => boolean })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(feed(openServer({ utf8Validator: null }), [clientFrame(0x81, 'x')])).toEqual([{ type: 'text', data: 'x' }]);
  });
});

describe('FrameParser.payloadInto', () => {
  it('copies and unmasks the rest of a frame into the target at every phase, leaving the fed bytes masked', () => {
    for (let first = 0; first <= 9; first++) {
      const payload = pseudoRandom(3000, first + 1);
      const frame = clientFrame(0x82, payload, Uint8Array.of(1, 2, 3, 4));
      const parser = new FrameParser({ expectMasked: true, maxFrameSize: 1 << 20 });
      // Header plus `first` payload bytes in one chunk: those come unmasked in place.
      const head = frame.slice(0, 8 + first);
      const rest = frame.slice(8 + first);
      const restCopy = rest.slice();
      parser.push(head);
      expect(parser.next()).toBe(HEADER);
      expect(parser.payloadInOneChunk).toBe(false);
      const target = new Uint8Array(3000 + 5);
      if (first > 0) {
        expect(parser.next()).toBe(PAYLOAD);
        target.set(parser.payload, 5);
      }
      expect(parser.payloadRemaining).toBe(3000 - first);
      parser.payloadInto(target, 5 + first);
      expect(parser.next()).toBe(NEED_MORE);
      let stored = 5 + first;
      for (const piece of cut(rest, [1, 2, 1021])) {
        parser.push(piece);
        while (parser.next() === PAYLOAD) {
          // Each step writes into the target and makes no view: `stored` says how much.
          expect(parser.payload.length).toBe(0);
          expect(parser.stored).toBeGreaterThan(0);
          stored += parser.stored;
        }
      }
      expect(stored).toBe(target.length);
      expect(Buffer.from(target.subarray(5)).equals(Buffer.from(payload))).toBe(true);
      expect(Buffer.from(rest).equals(Buffer.from(restCopy))).toBe(true);
      expect(parser.payloadRemaining).toBe(0);
    }
  });

  it('fills a shorter target, then unmasks in place until given a larger one', () => {
    const payload = pseudoRandom(1000, 5);
    const frame = clientFrame(0x82, payload, Uint8Array.of(9, 8, 7, 6));
    const parser = new FrameParser({ expectMasked: true, maxFrameSize: 1 << 20 });
    parser.push(frame.slice(0, 8));
    expect(parser.next()).toBe(HEADER);
    const small = new Uint8Array(300);
    parser.payloadInto(small, 0);
    parser.push(frame.slice(8, 508));
    expect(parser.next()).toBe(PAYLOAD);
    expect([parser.stored, parser.payload.length, parser.frameEnd]).toEqual([300, 0, false]);
    // Full: the next 200 bytes of that read come unmasked in place.
    expect(parser.next()).toBe(PAYLOAD);
    expect([parser.stored, parser.payload.buffer === small.buffer, parser.payload.length]).toEqual([0, false, 200]);
    const out = new Uint8Array(1000);
    out.set(small, 0);
    out.set(parser.payload, 300);
    parser.payloadInto(out, 500);
    parser.push(frame.slice(508));
    expect(parser.next()).toBe(PAYLOAD);
    expect([parser.stored, parser.frameEnd]).toEqual([500, true]);
    expect(Buffer.from(out).equals(Buffer.from(payload))).toBe(true);
  });

  it('works for unmasked frames; refuses a control frame, no pending payload, or a target without room', () => {
    const parser = new FrameParser({ expectMasked: false, maxFrameSize: 1 << 20 });
    const payload = pseudoRandom(500);
    const frame = serverFrame(0x82, payload);
    parser.push(frame.slice(0, 4));
    expect(parser.next()).toBe(HEADER);
    expect(() => parser.payloadInto(new Uint8Array(499), 499)).toThrow(
      expect.objectContaining({ code: 'INVALID_STATE' }),
    );
    const target = new Uint8Array(500);
    parser.payloadInto(target, 0);
    parser.push(frame.slice(4));
    expect(parser.next()).toBe(PAYLOAD);
    expect([parser.frameEnd, parser.stored]).toEqual([true, 500]);
    expect(Buffer.from(target).equals(Buffer.from(payload))).toBe(true);
    expect(() => parser.payloadInto(new Uint8Array(10), 0)).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    parser.push(serverFrame(0x89, 'ping'));
    expect(parser.next()).toBe(HEADER);
    expect(() => parser.payloadInto(new Uint8Array(10), 0)).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    expect(parser.payloadInOneChunk).toBe(true);
  });
});
