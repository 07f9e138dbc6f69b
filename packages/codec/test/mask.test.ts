import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyMask, maskCopy } from '../src/mask.ts';
import { bytes as pattern, sameBytes as same } from '../../../test/shared/bytes.ts';
import { codeOf } from './helpers/usage-error.ts';

const KEY = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

function reference(data: Uint8Array, key: Uint8Array, phase: number): Uint8Array {
  return data.map((b, i) => b ^ key[(phase + i) & 3]!);
}

// 0..70 as the brief asks, plus lengths around the word-path threshold and some long ones.
const LENGTHS = [
  ...Array.from({ length: 71 }, (_, i) => i),
  126,
  127,
  128,
  129,
  130,
  131,
  132,
  133,
  200,
  255,
  256,
  257,
  1000,
  4099,
];

describe('applyMask', () => {
  it('RFC 6455 §5.7: masked "Hello"', () => {
    const data = Uint8Array.of(0x7f, 0x9f, 0x4d, 0x51, 0x58);
    applyMask(data, KEY);
    expect(Array.from(data)).toEqual([0x48, 0x65, 0x6c, 0x6c, 0x6f]); // "Hello"
  });

  it('agrees with a byte loop for every length, phase and byteOffset', () => {
    for (const n of LENGTHS) {
      const src = pattern(n, n + 7);
      for (const offset of [0, 1, 2, 3, 4, 5, 6, 7, 1001]) {
        const expected = reference(src, KEY, offset);
        for (let byteOffset = 0; byteOffset < 4; byteOffset++) {
          const backing = new Uint8Array(n + 8).fill(0x55);
          const view = backing.subarray(byteOffset, byteOffset + n);
          view.set(src);
          applyMask(view, KEY, offset);
          expect(same(view, expected)).toBe(true);
          // Nothing outside the view is touched.
          expect(backing.subarray(0, byteOffset).every((b) => b === 0x55)).toBe(true);
          expect(backing.subarray(byteOffset + n).every((b) => b === 0x55)).toBe(true);
        }
      }
    }
  });

  it('unmasking in pieces with the running phase equals unmasking at once', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.array(fc.nat({ max: 300 }), { maxLength: 6 }),
        (data, key, cuts) => {
          const expected = reference(data, key, 0);
          const work = data.slice();
          const points = [...new Set(cuts.map((c) => Math.min(c, work.length)))].sort((a, b) => a - b);
          let from = 0;
          for (const to of [...points, work.length]) {
            applyMask(work.subarray(from, to), key, from);
            from = to;
          }
          expect(same(work, expected)).toBe(true);
          applyMask(work, key);
          expect(same(work, data)).toBe(true); // masking twice is the identity
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects a key that is not 4 bytes', () => {
    expect(codeOf(() => applyMask(new Uint8Array(8), new Uint8Array(3)))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => applyMask(new Uint8Array(8), new Uint8Array(5)))).toBe('INVALID_ARGUMENT');
  });
});

describe('maskCopy', () => {
  it('masks while copying; the source is unchanged', () => {
    for (const n of LENGTHS) {
      const src0 = pattern(n, 3 * n + 1);
      const expected = reference(src0, KEY, 0);
      for (let srcOff = 0; srcOff < 4; srcOff++) {
        const srcBacking = new Uint8Array(n + 4);
        const src = srcBacking.subarray(srcOff, srcOff + n);
        src.set(src0);
        for (const dstOffset of [0, 1, 2, 3, 6, 10, 14]) {
          const dst = new Uint8Array(dstOffset + n + 3).fill(0x55);
          maskCopy(src, dst, dstOffset, KEY);
          expect(same(dst.subarray(dstOffset, dstOffset + n), expected)).toBe(true);
          expect(dst.subarray(0, dstOffset).every((b) => b === 0x55)).toBe(true);
          expect(dst.subarray(dstOffset + n).every((b) => b === 0x55)).toBe(true);
        }
        expect(same(src, src0)).toBe(true);
      }
    }
  });

  it('at every phase equals the byte loop from that phase', () => {
    for (const n of LENGTHS) {
      const src = pattern(n, 5 * n + 2);
      for (let phase = 0; phase < 8; phase++) {
        const dst = new Uint8Array(n + 3).fill(0x55);
        maskCopy(src, dst, 1, KEY, phase);
        expect(same(dst.subarray(1, 1 + n), reference(src, KEY, phase & 3))).toBe(true);
        expect(dst[0]).toBe(0x55);
      }
    }
  });

  it('works on a destination view with its own byteOffset', () => {
    const src = pattern(300);
    const dst = new Uint8Array(320).subarray(3, 310);
    maskCopy(src, dst, 5, KEY);
    expect(same(dst.subarray(5, 305), reference(src, KEY, 0))).toBe(true);
  });

  it('rejects a bad key or a destination too small', () => {
    expect(codeOf(() => maskCopy(new Uint8Array(4), new Uint8Array(8), 0, new Uint8Array(2)))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => maskCopy(new Uint8Array(4), new Uint8Array(8), 5, KEY))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => maskCopy(new Uint8Array(4), new Uint8Array(8), -1, KEY))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => maskCopy(new Uint8Array(4), new Uint8Array(8), 4, KEY))).toBeUndefined();
  });
});
