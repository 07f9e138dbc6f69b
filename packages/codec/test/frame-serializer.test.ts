import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { COPY_THRESHOLD, frameHeaderLength, serializeFrame, writeFrameHeader } from '../src/frame-serializer.ts';
import { hex } from '../src/testing/index.ts';
import { concat, sameBytes as same } from '../../../test/shared/bytes.ts';
import { codeOf } from './helpers/usage-error.ts';

const KEY = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);
const HELLO = Uint8Array.of(0x48, 0x65, 0x6c, 0x6c, 0x6f);

/** A minimal reference parser for one complete frame. */
function parse(wire: Uint8Array) {
  const b0 = wire[0]!;
  const b1 = wire[1]!;
  let len = b1 & 0x7f;
  let o = 2;
  if (len === 126) {
    len = (wire[2]! << 8) | wire[3]!;
    o = 4;
  } else if (len === 127) {
    len = 0;
    for (let i = 2; i < 10; i++) len = len * 256 + wire[i]!;
    o = 10;
  }
  const masked = (b1 & 0x80) !== 0;
  const key = masked ? wire.slice(o, o + 4) : null;
  if (masked) o += 4;
  const payload = wire.slice(o, o + len);
  if (key) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ key[i & 3]!;
  return { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 15, masked, key, payload, total: o + len };
}

describe('serializeFrame: RFC 6455 §5.7 examples', () => {
  it('single-frame unmasked text "Hello"', () => {
    const out: Uint8Array[] = [];
    expect(serializeFrame(out, true, 0, 0x1, HELLO, null)).toBe(7);
    expect(out).toEqual([hex('81 05 48 65 6c 6c 6f')]);
  });

  it('single-frame masked text "Hello"', () => {
    const out: Uint8Array[] = [];
    const payload = HELLO.slice();
    expect(serializeFrame(out, true, 0, 0x1, payload, KEY)).toBe(11);
    expect(out).toEqual([hex('81 85 37 fa 21 3d 7f 9f 4d 51 58')]);
    expect(payload).toEqual(HELLO); // the caller's bytes are not changed
  });

  it('fragmented unmasked text "Hel" + "lo"', () => {
    const out: Uint8Array[] = [];
    serializeFrame(out, false, 0, 0x1, HELLO.subarray(0, 3), null);
    serializeFrame(out, true, 0, 0x0, HELLO.subarray(3), null);
    expect(out).toEqual([hex('01 03 48 65 6c'), hex('80 02 6c 6f')]);
  });

  it('unmasked ping "Hello"; masked pong "Hello"', () => {
    const out: Uint8Array[] = [];
    serializeFrame(out, true, 0, 0x9, HELLO, null);
    serializeFrame(out, true, 0, 0xa, HELLO, KEY);
    expect(out).toEqual([hex('89 05 48 65 6c 6c 6f'), hex('8a 85 37 fa 21 3d 7f 9f 4d 51 58')]);
  });

  it('256 bytes binary in a single unmasked frame: 16-bit length', () => {
    const out: Uint8Array[] = [];
    const payload = new Uint8Array(256).map((_, i) => i);
    expect(serializeFrame(out, true, 0, 0x2, payload, null)).toBe(260);
    expect(out.length).toBe(1);
    expect(out[0]!.subarray(0, 4)).toEqual(hex('82 7e 01 00'));
    expect(same(out[0]!.subarray(4), payload)).toBe(true);
  });

  it('64 KiB binary in a single unmasked frame: 64-bit length, payload not copied', () => {
    const out: Uint8Array[] = [];
    const payload = new Uint8Array(65536);
    expect(serializeFrame(out, true, 0, 0x2, payload, null)).toBe(65546);
    expect(out.length).toBe(2);
    expect(out[0]).toEqual(hex('82 7f 00 00 00 00 00 01 00 00'));
    expect(out[1]).toBe(payload);
  });
});

describe('serializeFrame', () => {
  it('lengths at the 7/16/64-bit boundaries, masked and not', () => {
    for (const n of [0, 1, 125, 126, 127, 65535, 65536, 65537]) {
      for (const key of [null, KEY]) {
        const payload = new Uint8Array(n).map((_, i) => i * 7);
        const out: Uint8Array[] = [];
        const written = serializeFrame(out, true, 0, 0x2, payload, key);
        const wire = concat(out);
        expect(written).toBe(wire.length);
        expect(written).toBe(frameHeaderLength(n, key !== null) + n);
        const f = parse(wire);
        expect(f.total).toBe(wire.length);
        expect(f.masked).toBe(key !== null);
        expect(same(f.payload, payload)).toBe(true);
        const lenField = wire[1]! & 0x7f;
        expect(lenField).toBe(n < 126 ? n : n <= 0xffff ? 126 : 127);
      }
    }
  });

  it('copies server payloads below the threshold, passes larger ones through', () => {
    const small = new Uint8Array(COPY_THRESHOLD - 1).fill(9);
    const large = new Uint8Array(COPY_THRESHOLD).fill(9);
    const out: Uint8Array[] = [];
    serializeFrame(out, true, 0, 0x2, small, null);
    expect(out.length).toBe(1);
    expect(out[0]!.length).toBe(frameHeaderLength(small.length, false) + small.length);
    serializeFrame(out, true, 0, 0x2, large, null);
    expect(out.length).toBe(3);
    expect(out[2]).toBe(large);
    // A client frame is always one buffer.
    const client: Uint8Array[] = [];
    serializeFrame(client, true, 0, 0x2, large, KEY);
    expect(client.length).toBe(1);
    expect(large.every((b) => b === 9)).toBe(true);
  });

  it('appends to what is already in `out`', () => {
    const first = Uint8Array.of(1, 2, 3);
    const out = [first];
    serializeFrame(out, true, 0, 0x1, HELLO, null);
    expect(out.length).toBe(2);
    expect(out[0]).toBe(first);
  });

  it('sets FIN, RSV1–3 and the opcode, including ones the protocol forbids', () => {
    const cases: [boolean, number, number, number][] = [
      [true, 4, 0x1, 0xc1], // RSV1 (permessage-deflate) on a text frame
      [true, 2, 0x2, 0xa2],
      [false, 1, 0x0, 0x10],
      [true, 7, 0xf, 0xff],
      [false, 0, 0x3, 0x03], // reserved opcode: encoded as asked
    ];
    for (const [fin, rsv, opcode, b0] of cases) {
      const out: Uint8Array[] = [];
      serializeFrame(out, fin, rsv, opcode, new Uint8Array(0), null);
      expect(out[0]).toEqual(Uint8Array.of(b0, 0));
    }
    // A control frame longer than 125 bytes can be built (for conformance testing).
    const out: Uint8Array[] = [];
    serializeFrame(out, true, 0, 0x9, new Uint8Array(200), null);
    expect(out[0]!.subarray(0, 4)).toEqual(hex('89 7e 00 c8'));
  });

  it('round-trips random frames through a reference parser', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 15 }),
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.integer({ min: 65530, max: 65540 }).map((n) => new Uint8Array(n).fill(n & 0xff)),
        ),
        fc.option(fc.uint8Array({ minLength: 4, maxLength: 4 })),
        (fin, rsv, opcode, payload, key) => {
          const before = payload.slice();
          const out: Uint8Array[] = [];
          const written = serializeFrame(out, fin, rsv, opcode, payload, key);
          const wire = concat(out);
          expect(written).toBe(wire.length);
          const f = parse(wire);
          expect([f.fin, f.rsv, f.opcode, f.masked]).toEqual([fin, rsv, opcode, key !== null]);
          if (key) expect(f.key).toEqual(key);
          expect(same(f.payload, payload)).toBe(true);
          expect(same(payload, before)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects what it cannot encode', () => {
    const out: Uint8Array[] = [];
    expect(codeOf(() => serializeFrame(out, true, 8, 0x1, HELLO, null))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => serializeFrame(out, true, -1, 0x1, HELLO, null))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => serializeFrame(out, true, 0.5, 0x1, HELLO, null))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => serializeFrame(out, true, 0, 16, HELLO, null))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => serializeFrame(out, true, 0, Number.NaN, HELLO, null))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => serializeFrame(out, true, 0, 0x1, 'Hello' as unknown as Uint8Array, null))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => serializeFrame(out, true, 0, 0x1, HELLO, new Uint8Array(3)))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => serializeFrame(out, true, 0, 0x1, HELLO, [1, 2, 3, 4] as unknown as Uint8Array))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(out).toEqual([]);
  });
});

describe('frameHeaderLength', () => {
  it('follows §5.2', () => {
    expect(frameHeaderLength(0, false)).toBe(2);
    expect(frameHeaderLength(125, false)).toBe(2);
    expect(frameHeaderLength(126, false)).toBe(4);
    expect(frameHeaderLength(65535, false)).toBe(4);
    expect(frameHeaderLength(65536, false)).toBe(10);
    expect(frameHeaderLength(Number.MAX_SAFE_INTEGER, false)).toBe(10);
    expect(frameHeaderLength(0, true)).toBe(6);
    expect(frameHeaderLength(126, true)).toBe(8);
    expect(frameHeaderLength(65536, true)).toBe(14);
  });
});

describe('writeFrameHeader', () => {
  it('writes 64-bit lengths as two 32-bit halves', () => {
    const cases: [number, string][] = [
      [2 ** 32, '00 00 00 01 00 00 00 00'],
      [2 ** 32 + 0x01020304, '00 00 00 01 01 02 03 04'],
      [2 ** 40 + 5, '00 00 01 00 00 00 00 05'],
      [0xffffffff, '00 00 00 00 ff ff ff ff'],
      [Number.MAX_SAFE_INTEGER, '00 1f ff ff ff ff ff ff'],
    ];
    for (const [n, lenHex] of cases) {
      const dst = new Uint8Array(12);
      expect(writeFrameHeader(dst, 1, true, 0, 0x2, n, null)).toBe(10);
      expect(dst).toEqual(hex(`00 82 7f ${lenHex} 00`));
    }
  });

  it('includes the mask key, then the payload can follow', () => {
    const dst = new Uint8Array(6 + 5);
    expect(writeFrameHeader(dst, 0, true, 0, 0x1, 5, KEY)).toBe(6);
    expect(dst.subarray(0, 6)).toEqual(hex('81 85 37 fa 21 3d'));
    const dst16 = new Uint8Array(8);
    expect(writeFrameHeader(dst16, 0, false, 4, 0x1, 300, KEY)).toBe(8);
    expect(dst16).toEqual(hex('41 fe 01 2c 37 fa 21 3d'));
  });

  it('rejects bad arguments and a destination too small', () => {
    const dst = new Uint8Array(14);
    expect(codeOf(() => writeFrameHeader(dst, 0, true, 8, 1, 5, null))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => writeFrameHeader(dst, 0, true, 0, 16, 5, null))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => writeFrameHeader(dst, 0, true, 0, 1, -1, null))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => writeFrameHeader(dst, 0, true, 0, 1, 1.5, null))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => writeFrameHeader(dst, 0, true, 0, 1, 2 ** 53, null))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => writeFrameHeader(dst, 0, true, 0, 1, 5, new Uint8Array(2)))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => writeFrameHeader(dst, 5, true, 0, 1, 70000, KEY))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => writeFrameHeader(dst, -1, true, 0, 1, 5, null))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => writeFrameHeader(dst, 0, true, 0, 1, 70000, KEY))).toBeUndefined();
  });
});
