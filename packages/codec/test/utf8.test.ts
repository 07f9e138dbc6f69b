import { concat } from 'uint8arrays/concat';
import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import {
  Utf8Validator,
  SCRATCH_BYTES,
  decodeUtf8,
  decodeUtf8Fallback,
  decodeValidUtf8,
  encodeUtf8,
  encodeUtf8Fallback,
  encodeUtf8Into,
  encodeUtf8Transient,
  isValidUtf8,
  utf8ByteLength,
} from '../src/utf8.ts';
import { COPY_THRESHOLD } from '../src/frame-serializer.ts';

// The DOM lib is not in our `lib`; Node (where tests run) has both classes.
type Decoder = { decode(b: Uint8Array): string };
type Host = {
  TextDecoder: new (label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean }) => Decoder;
  TextEncoder: new () => { encode(s: string): Uint8Array };
};
const host = globalThis as unknown as Host;
const fatal = new host.TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenient = new host.TextDecoder('utf-8', { ignoreBOM: true });
const encoder = new host.TextEncoder();

function hostValid(bytes: Uint8Array): boolean {
  try {
    fatal.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** `fail`: index of the first invalid byte; 'cut': every byte is accepted but the text ends mid-code-point. */
type Vector = { name: string; hex: string; fail?: number | 'cut' };

const KOSME = 'ce ba e1 bd b9 cf 83 ce bc ce b5'; // κόσμε, 11 bytes

// Autobahn 6.x (after Markus Kuhn's UTF-8 decoder capability and stress test) and boundaries.
const VECTORS: Vector[] = [
  { name: '6.1 empty', hex: '' },
  { name: '6.2 Hello-µ@ßöäüàá-UTF-8!!', hex: '48656c6c6f2dc2b540c39fc3b6c3a4c3bcc3a0c3a12d5554462d382121' },
  { name: '6.3.1 κόσμε', hex: KOSME },
  { name: '6.3.2 κόσμε + surrogate', hex: `${KOSME} ed a0 80 65 64 69 74 65 64`, fail: 12 },
  { name: '6.4.1 κόσμε + U+110000', hex: `${KOSME} f4 90 80 80 65 64 69 74 65 64`, fail: 12 },
  { name: '6.4.4 κόσμε + F4 90', hex: `${KOSME} f4 90`, fail: 12 },
  // 6.5–6.7: first possible sequence of each length, U+0000 included.
  { name: 'U+0000', hex: '00' },
  { name: 'U+0080 first 2-byte', hex: 'c2 80' },
  { name: 'U+0800 first 3-byte', hex: 'e0 a0 80' },
  { name: 'U+10000 first 4-byte', hex: 'f0 90 80 80' },
  // 6.8: first 5- and 6-byte forms.
  { name: '6.8.1 5-byte F8', hex: 'f8 88 80 80 80', fail: 0 },
  { name: '6.8.2 6-byte FC', hex: 'fc 84 80 80 80 80', fail: 0 },
  // 6.9: last possible sequence of each length.
  { name: 'U+007F last 1-byte', hex: '7f' },
  { name: 'U+07FF last 2-byte', hex: 'df bf' },
  { name: 'U+FFFF last 3-byte', hex: 'ef bf bf' },
  { name: 'U+10FFFF last valid', hex: 'f4 8f bf bf' },
  // 6.10: last possible 4/5/6-byte forms, beyond U+10FFFF.
  { name: '6.10.1 F7 BF BF BF', hex: 'f7 bf bf bf', fail: 0 },
  { name: '6.10.2 FB BF BF BF BF', hex: 'fb bf bf bf bf', fail: 0 },
  { name: '6.10.3 FD BF BF BF BF BF', hex: 'fd bf bf bf bf bf', fail: 0 },
  // 6.11: other boundaries.
  { name: 'U+D7FF', hex: 'ed 9f bf' },
  { name: 'U+E000', hex: 'ee 80 80' },
  { name: 'U+FFFD', hex: 'ef bf bd' },
  { name: '0x110000', hex: 'f4 90 80 80', fail: 1 },
  { name: '0x13FFFF', hex: 'f4 bf bf bf', fail: 1 },
  // 6.12: unexpected continuation bytes.
  { name: 'lone 80', hex: '80', fail: 0 },
  { name: 'lone BF', hex: 'bf', fail: 0 },
  { name: '80 BF', hex: '80 bf', fail: 0 },
  { name: 'a 80 after ASCII', hex: '61 62 80', fail: 2 },
  { name: 'extra continuation', hex: 'c2 80 80', fail: 2 },
  { name: 'extra continuation after 4', hex: 'f0 90 80 80 80', fail: 4 },
  // 6.13: lonely start bytes followed by a space.
  { name: 'C0 space', hex: 'c0 20', fail: 0 },
  { name: 'C2 space', hex: 'c2 20', fail: 1 },
  { name: 'DF space', hex: 'df 20', fail: 1 },
  { name: 'E0 space', hex: 'e0 20', fail: 1 },
  { name: 'EF space', hex: 'ef 20', fail: 1 },
  { name: 'F0 space', hex: 'f0 20', fail: 1 },
  { name: 'F4 space', hex: 'f4 20', fail: 1 },
  { name: 'F8 space', hex: 'f8 20', fail: 0 },
  { name: 'FC space', hex: 'fc 20', fail: 0 },
  // 6.14: last continuation byte missing.
  { name: 'C2 at end', hex: 'c2', fail: 'cut' },
  { name: 'DF at end', hex: 'df', fail: 'cut' },
  { name: 'E0 A0 at end', hex: 'e0 a0', fail: 'cut' },
  { name: 'EF BF at end', hex: 'ef bf', fail: 'cut' },
  { name: 'F0 90 80 at end', hex: 'f0 90 80', fail: 'cut' },
  { name: 'F4 8F BF at end', hex: 'f4 8f bf', fail: 'cut' },
  { name: 'E0 80 (overlong prefix)', hex: 'e0 80', fail: 1 },
  { name: 'F0 80 80 (overlong prefix)', hex: 'f0 80 80', fail: 1 },
  { name: 'F7 BF BF', hex: 'f7 bf bf', fail: 0 },
  { name: 'cut then ASCII', hex: 'e1 80 41', fail: 2 },
  {
    name: '6.15 incomplete sequences concatenated',
    hex: 'c0 e0 80 f0 80 80 f8 80 80 80 fc 80 80 80 80 df ef bf f7 bf bf fb bf bf bf fd bf bf bf bf',
    fail: 0,
  },
  // 6.16: impossible bytes.
  { name: 'FE', hex: 'fe', fail: 0 },
  { name: 'FF', hex: 'ff', fail: 0 },
  { name: 'FE FE FF FF', hex: 'fe fe ff ff', fail: 0 },
  { name: 'F5', hex: 'f5 80 80 80', fail: 0 },
  // 6.17–6.19: overlong forms of '/', of the maximum, and of NUL.
  { name: 'overlong / 2', hex: 'c0 af', fail: 0 },
  { name: 'overlong / 3', hex: 'e0 80 af', fail: 1 },
  { name: 'overlong / 4', hex: 'f0 80 80 af', fail: 1 },
  { name: 'overlong / 5', hex: 'f8 80 80 80 af', fail: 0 },
  { name: 'overlong / 6', hex: 'fc 80 80 80 80 af', fail: 0 },
  { name: 'max overlong 2 (C1 BF)', hex: 'c1 bf', fail: 0 },
  { name: 'max overlong 3 (E0 9F BF)', hex: 'e0 9f bf', fail: 1 },
  { name: 'max overlong 4 (F0 8F BF BF)', hex: 'f0 8f bf bf', fail: 1 },
  { name: 'overlong NUL 2', hex: 'c0 80', fail: 0 },
  { name: 'overlong NUL 3', hex: 'e0 80 80', fail: 1 },
  { name: 'overlong NUL 4', hex: 'f0 80 80 80', fail: 1 },
  // 6.20–6.21: UTF-16 surrogates, single and paired.
  { name: 'U+D800', hex: 'ed a0 80', fail: 1 },
  { name: 'U+DB7F', hex: 'ed ad bf', fail: 1 },
  { name: 'U+DB80', hex: 'ed ae 80', fail: 1 },
  { name: 'U+DBFF', hex: 'ed af bf', fail: 1 },
  { name: 'U+DC00', hex: 'ed b0 80', fail: 1 },
  { name: 'U+DF80', hex: 'ed be 80', fail: 1 },
  { name: 'U+DFFF', hex: 'ed bf bf', fail: 1 },
  { name: 'U+D800 U+DC00', hex: 'ed a0 80 ed b0 80', fail: 1 },
  { name: 'U+DBFF U+DFFF', hex: 'ed af bf ed bf bf', fail: 1 },
  // 6.22: noncharacters are valid UTF-8.
  { name: 'U+FFFE', hex: 'ef bf be' },
  { name: 'U+1FFFE', hex: 'f0 9f bf be' },
  { name: 'U+10FFFE', hex: 'f4 8f bf be' },
  { name: 'U+FDD0', hex: 'ef b7 90' },
  // Every lead, valid continuation ranges at their edges.
  { name: 'E1 80 80', hex: 'e1 80 80' },
  { name: 'EC BF BF', hex: 'ec bf bf' },
  { name: 'F1 80 80 80', hex: 'f1 80 80 80' },
  { name: 'F3 BF BF BF', hex: 'f3 bf bf bf' },
  { name: 'F1 C0', hex: 'f1 c0 80 80', fail: 1 },
  { name: 'mixed text', hex: '41 c3 a9 e2 82 ac f0 9f 98 80 42' },
];

function bytesOf(v: Vector): Uint8Array {
  return hex(v.hex);
}

describe('UTF-8 vectors (Autobahn 6.x)', () => {
  for (const v of VECTORS) {
    const valid = v.fail === undefined;
    describe(v.name, () => {
      const bytes = bytesOf(v);

      it('whole: isValidUtf8 and TextDecoder agree', () => {
        expect(isValidUtf8(bytes)).toBe(valid);
        expect(hostValid(bytes)).toBe(valid);
      });

      it('byte by byte: fails at the expected index and stays failed', () => {
        const val = new Utf8Validator();
        let failedAt = -1;
        for (let i = 0; i < bytes.length; i++) {
          const ok = val.push(bytes, i, i + 1);
          if (!ok && failedAt < 0) failedAt = i;
          if (failedAt >= 0) expect(ok).toBe(false);
        }
        if (typeof v.fail === 'number') {
          expect(failedAt).toBe(v.fail);
          expect(val.failed).toBe(true);
          expect(val.offset).toBe(v.fail);
          expect(val.complete).toBe(false);
        } else {
          expect(failedAt).toBe(-1);
          expect(val.complete).toBe(valid);
        }
      });

      it('split at every point', () => {
        for (let k = 0; k <= bytes.length; k++) {
          const val = new Utf8Validator();
          const a = val.push(bytes.subarray(0, k));
          const b = val.push(bytes, k, bytes.length);
          if (typeof v.fail === 'number') {
            expect(a).toBe(v.fail >= k);
            expect(b).toBe(false);
            expect(val.offset).toBe(v.fail);
          } else {
            expect(a && b).toBe(true);
            expect(val.complete).toBe(valid);
          }
        }
      });

      it('embedded in long ASCII (word and inline paths): same failure, shifted', () => {
        const pre = 301;
        const big = new Uint8Array(pre + bytes.length + 300).fill(0x61);
        big.set(bytes, pre + 0);
        const val = new Utf8Validator();
        const ok = val.push(big.subarray(1)); // unaligned view
        if (typeof v.fail === 'number') {
          expect(ok).toBe(false);
          expect(val.offset).toBe(pre - 1 + v.fail);
          expect(isValidUtf8(big)).toBe(false);
        } else if (v.fail === 'cut') {
          // ASCII after a cut sequence breaks it at the first ASCII byte.
          expect(ok).toBe(false);
          expect(val.offset).toBe(pre - 1 + bytes.length);
        } else {
          expect(ok).toBe(true);
          expect(val.complete).toBe(true);
          expect(isValidUtf8(big)).toBe(true);
        }
      });
    });
  }
});

describe('Utf8Validator', () => {
  it('pushing to a failed validator returns false; reset clears it', () => {
    const v = new Utf8Validator();
    expect(v.push(hex('ff'))).toBe(false);
    expect(v.push(hex('41'))).toBe(false);
    expect(v.failed).toBe(true);
    v.reset();
    expect(v.failed).toBe(false);
    expect(v.offset).toBe(0);
    expect(v.push(hex('41'))).toBe(true);
    expect(v.complete).toBe(true);
    expect(v.offset).toBe(1);
  });

  it('carries a code point across pushes of different arrays', () => {
    const v = new Utf8Validator();
    expect(v.push(hex('f0'))).toBe(true);
    expect(v.complete).toBe(false);
    expect(v.push(hex('9f 98'))).toBe(true);
    expect(v.push(hex('80'))).toBe(true);
    expect(v.complete).toBe(true);
  });

  it('defaults: whole array; empty push is a no-op', () => {
    const v = new Utf8Validator();
    expect(v.push(new Uint8Array(0))).toBe(true);
    expect(v.push(hex('c3'))).toBe(true);
    expect(v.push(new Uint8Array(0))).toBe(true);
    expect(v.complete).toBe(false);
  });

  it('a long message of non-ASCII text in 1..7-byte pieces', () => {
    const text = 'Привет, мир! こんにちは世界 — héllo wörld 😀 '.repeat(50);
    const bytes = encoder.encode(text);
    const v = new Utf8Validator();
    for (let i = 0, step = 1; i < bytes.length; i += step, step = (step % 7) + 1) {
      expect(v.push(bytes, i, Math.min(i + step, bytes.length))).toBe(true);
    }
    expect(v.complete).toBe(true);
  });
});

/** Any Unicode scalar value, biased to the encoding boundaries (fast-check's 'binary' unit is slow to start). */
const codePoint = fc
  .oneof(
    fc.integer({ min: 0, max: 0x10ffff }),
    fc.constantFrom(0, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfeff, 0xfffd, 0xffff, 0x10000, 0x10ffff),
  )
  .filter((c) => c < 0xd800 || c > 0xdfff)
  .map((c) => String.fromCodePoint(c));
/** Bytes biased toward the interesting ones, so random input reaches every DFA state. */
const interestingByte = fc.oneof(
  fc.constantFrom(
    0x00,
    0x41,
    0x7f,
    0x80,
    0x8f,
    0x90,
    0x9f,
    0xa0,
    0xbf,
    0xc0,
    0xc1,
    0xc2,
    0xdf,
    0xe0,
    0xe1,
    0xec,
    0xed,
    0xee,
    0xef,
    0xf0,
    0xf1,
    0xf3,
    0xf4,
    0xf5,
    0xf8,
    0xfe,
    0xff,
  ),
  fc.integer({ min: 0, max: 255 }),
);
const wellFormed = fc.string({ unit: codePoint, maxLength: 40 }).map((s) => encoder.encode(s));
const randomBytes = fc
  .array(
    fc.oneof(
      wellFormed,
      fc.array(interestingByte, { maxLength: 8 }).map((a) => Uint8Array.from(a)),
    ),
    { maxLength: 12 },
  )
  .map((parts) => concat(parts));
/** Any UTF-16 string, lone surrogates included. */
const anyUtf16 = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  maxLength: 60,
});

/** Index of the first invalid byte by brute force: the shortest prefix no valid text starts with. */
function firstInvalidIndex(bytes: Uint8Array): number {
  // A prefix is completable iff it is valid once we append the continuation bytes it awaits;
  // try appending up to 3 bytes from a small set that completes any well-started sequence.
  const tails = [[], [0x80], [0x80, 0x80], [0x80, 0x80, 0x80], [0xa0, 0x80], [0x90, 0x80, 0x80], [0x80, 0x80, 0x80]];
  const completable = (n: number): boolean =>
    tails.some((t) => {
      const b = new Uint8Array(n + t.length);
      b.set(bytes.subarray(0, n));
      b.set(t, n);
      return hostValid(b);
    });
  for (let n = 1; n <= bytes.length; n++) if (!completable(n)) return n - 1;
  return -1;
}

describe('UTF-8 properties', () => {
  it('validator agrees with TextDecoder (fatal) on random bytes, whole and split', () => {
    fc.assert(
      fc.property(randomBytes, fc.nat(), (bytes, cut) => {
        const expected = hostValid(bytes);
        expect(isValidUtf8(bytes)).toBe(expected);
        const k = bytes.length === 0 ? 0 : cut % (bytes.length + 1);
        const v = new Utf8Validator();
        const ok = v.push(bytes, 0, k) && v.push(bytes, k);
        expect(ok && v.complete).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('fails at the first byte no valid text could continue with', () => {
    fc.assert(
      fc.property(randomBytes, (bytes) => {
        const v = new Utf8Validator();
        let at = -1;
        for (let i = 0; i < bytes.length && at < 0; i++) if (!v.push(bytes, i, i + 1)) at = i;
        expect(at).toBe(firstInvalidIndex(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('text-like input (ASCII runs of every length between code points and bad bytes), fed in random pieces, agrees with TextDecoder and fails at the first bad byte', () => {
    // Runs of 0–300 ASCII bytes reach the byte, 4-byte and word passes; code points and bad
    // bytes between them reach the inline checks of whole sequences and the DFA.
    const segment = fc.oneof(
      { weight: 3, arbitrary: wellFormed },
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 300 }).map((n) => new Uint8Array(n).fill(0x61)) },
      { weight: 1, arbitrary: fc.array(interestingByte, { maxLength: 4 }).map((a) => Uint8Array.from(a)) },
    );
    const textLike = fc.array(segment, { maxLength: 10 }).map((parts) => concat(parts));
    /** Index of the first byte no valid text could continue with (a prefix's completability is monotone: bisect). */
    const completable = (bytes: Uint8Array, n: number): boolean =>
      [[], [0x80], [0x80, 0x80], [0x80, 0x80, 0x80], [0xa0, 0x80], [0x90, 0x80, 0x80]].some((t) => {
        const b = new Uint8Array(n + t.length);
        b.set(bytes.subarray(0, n));
        b.set(t, n);
        return hostValid(b);
      });
    const firstBad = (bytes: Uint8Array): number => {
      if (completable(bytes, bytes.length)) return -1;
      let lo = 0; // completable
      let hi = bytes.length; // not
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (completable(bytes, mid)) lo = mid;
        else hi = mid;
      }
      return hi - 1;
    };
    fc.assert(
      fc.property(
        textLike,
        fc.integer({ min: 0, max: 3 }),
        fc.array(fc.integer({ min: 1, max: 70 }), { minLength: 1, maxLength: 8 }),
        (text, shift, sizes) => {
          const backing = new Uint8Array(text.length + 4);
          const bytes = backing.subarray(shift, shift + text.length);
          bytes.set(text);
          const expected = hostValid(bytes);
          expect(isValidUtf8(bytes)).toBe(expected);
          const v = new Utf8Validator();
          let ok = true;
          for (let i = 0, k = 0; i < bytes.length && ok; k++) {
            const end = Math.min(bytes.length, i + sizes[k % sizes.length]!);
            ok = v.push(bytes, i, end);
            i = end;
          }
          expect(ok && v.complete).toBe(expected);
          if (!ok) expect(v.offset).toBe(firstBad(bytes));
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('long inputs in unaligned views (word path) agree with TextDecoder', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 300 }),
        randomBytes,
        randomBytes,
        (shift, ascii, head, tail) => {
          const n = head.length + ascii + tail.length;
          const backing = new Uint8Array(n + 4);
          const view = backing.subarray(shift, shift + n);
          view.set(head);
          view.fill(0x20, head.length, head.length + ascii);
          view.set(tail, head.length + ascii);
          expect(isValidUtf8(view)).toBe(hostValid(view));
        },
      ),
      { numRuns: 1000 },
    );
    const view = new Uint8Array(400).fill(0x41).subarray(1, 399);
    view[0] = 0xc3;
    view[1] = 0xa9;
    expect(isValidUtf8(view)).toBe(true);
    view[1] = 0x41;
    expect(isValidUtf8(view)).toBe(false);
    // Non-ASCII in the unaligned head of the word pass (right after the 64-byte probe).
    for (let shift = 0; shift < 4; shift++) {
      const v = new Uint8Array(404).fill(0x41).subarray(shift, shift + 400);
      for (let at = 60; at < 72; at++) {
        v.fill(0x41);
        v[at] = 0xc3;
        v[at + 1] = 0xa9;
        expect(isValidUtf8(v)).toBe(true);
        v[at + 1] = 0x41;
        const val = new Utf8Validator();
        expect(val.push(v)).toBe(false);
        expect(val.offset).toBe(at + 1);
      }
    }
  });

  it('encodeUtf8 matches TextEncoder, is valid, and round-trips', () => {
    fc.assert(
      fc.property(anyUtf16, (s) => {
        const bytes = encodeUtf8(s);
        expect(bytes).toEqual(encoder.encode(s));
        expect(encodeUtf8Fallback(s)).toEqual(bytes);
        expect(utf8ByteLength(s)).toBe(bytes.length);
        expect(isValidUtf8(bytes)).toBe(true);
        expect(decodeUtf8(bytes)).toBe(lenient.decode(bytes));
        expect(decodeUtf8Fallback(bytes)).toBe(lenient.decode(bytes));
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: codePoint, maxLength: 60 }), (s) => {
        expect(decodeUtf8(encodeUtf8(s))).toBe(s);
        expect(decodeUtf8Fallback(encodeUtf8Fallback(s))).toBe(s);
      }),
      { numRuns: 1000 },
    );
  });

  it('decodeUtf8Fallback replaces invalid bytes exactly as TextDecoder does', () => {
    fc.assert(
      fc.property(randomBytes, (bytes) => {
        expect(decodeUtf8Fallback(bytes)).toBe(lenient.decode(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('encodeUtf8Into writes at an offset and returns the byte count', () => {
    fc.assert(
      fc.property(anyUtf16, fc.integer({ min: 0, max: 5 }), (s, offset) => {
        const expected = encoder.encode(s);
        const dst = new Uint8Array(offset + utf8ByteLength(s) + 2).fill(0xaa);
        expect(encodeUtf8Into(s, dst, offset)).toBe(expected.length);
        expect(dst.subarray(offset, offset + expected.length)).toEqual(expected);
        expect(dst[offset + expected.length]).toBe(0xaa);
        expect(dst.subarray(0, offset).every((b) => b === 0xaa)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('decodeValidUtf8 (check and decode a whole text message)', () => {
  for (const strict of [true, false]) {
    describe(strict ? "the host's strict TextDecoder" : 'our validator, then a plain decode', () => {
      it('the Autobahn vectors: null exactly for the invalid ones, else their text', () => {
        for (const v of VECTORS) {
          // Each vector alone, and inside longer text (short inputs skip the host decoder).
          for (const bytes of [bytesOf(v), concat([hex('61 62 63 64 65 66 67 68 69'), bytesOf(v)])]) {
            const text = decodeValidUtf8(bytes, strict);
            if (v.fail === undefined) expect(text).toBe(lenient.decode(bytes));
            else expect(text).toBeNull();
          }
        }
      });

      it('random bytes: a text exactly when TextDecoder (fatal) accepts them, and the same text', () => {
        fc.assert(
          fc.property(randomBytes, (bytes) => {
            const text = decodeValidUtf8(bytes, strict);
            if (hostValid(bytes)) expect(text).toBe(lenient.decode(bytes));
            else expect(text).toBeNull();
          }),
          { numRuns: 1000 },
        );
      });

      it('keeps a leading BOM', () => {
        expect(decodeValidUtf8(hex('ef bb bf 68 69 20 74 68 65 72 65'), strict)).toBe('\ufeffhi there');
      });
    });
  }
});

describe('encodeUtf8Transient (a view of a shared scratch buffer)', () => {
  it('encodes as encodeUtf8 does, for short, scratch-sized and longer text', () => {
    for (const s of [
      '',
      'abc',
      'héllo wörld, this is longer',
      '😀\ud800x'.repeat(40),
      'é'.repeat(16 * 1024),
      'x'.repeat(16 * 1024 + 1),
    ]) {
      expect(same(encodeUtf8Transient(s), encoder.encode(s))).toBe(true);
    }
  });

  it('a fresh module: either function may be the first to use the scratch buffer', async () => {
    for (const first of ['encodeUtf8', 'encodeUtf8Transient'] as const) {
      vi.resetModules();
      const m = await import('../src/utf8.ts');
      expect(same(m[first]('x'.repeat(100)), encoder.encode('x'.repeat(100)))).toBe(true);
    }
    vi.resetModules();
  });

  it('is overwritten by the next call: a caller must copy at once', () => {
    const first = encodeUtf8Transient('a'.repeat(100));
    encodeUtf8Transient('b'.repeat(100));
    expect(first[0]).toBe(0x62);
    expect(encodeUtf8('a'.repeat(100))[0]).toBe(0x61);
  });

  it('never returns a view as long as COPY_THRESHOLD, so the connection always copies it into its frame', () => {
    expect(SCRATCH_BYTES).toBeLessThan(COPY_THRESHOLD);
    const widest = encodeUtf8Transient('\u0800'.repeat(16 * 1024)); // 3 bytes per unit, at the scratch limit
    expect(widest.length).toBe(SCRATCH_BYTES);
  });
});

describe('UTF-8 helpers', () => {
  it('keeps a leading BOM as U+FEFF', () => {
    const bytes = hex('ef bb bf 68 69 20 74 68 65 72 65');
    expect(decodeUtf8(bytes)).toBe('\ufeffhi there');
    expect(decodeUtf8(hex('ef bb bf'))).toBe('\ufeff');
    expect(decodeUtf8Fallback(bytes)).toBe('\ufeffhi there');
  });

  it('short and long inputs take every path', () => {
    for (const s of [
      '',
      'a',
      'abc',
      'é',
      'aé',
      'hello world!',
      '€uro',
      'x'.repeat(20000),
      'é'.repeat(20000),
      '😀'.repeat(9000),
    ]) {
      const b = encoder.encode(s);
      expect(same(encodeUtf8(s), b)).toBe(true);
      expect(same(encodeUtf8Fallback(s), b)).toBe(true);
      expect(decodeUtf8(b)).toBe(s);
      expect(decodeUtf8Fallback(b)).toBe(s);
      expect(utf8ByteLength(s)).toBe(b.length);
      expect(isValidUtf8(b)).toBe(true);
    }
  });

  it('lone surrogates encode as U+FFFD and count 3 bytes', () => {
    for (const s of ['\ud800', '\udc00', 'a\ud800b', '\udc00\ud800', '\ud800\ud800\udc00', 'x\udbff']) {
      expect(encodeUtf8(s)).toEqual(encoder.encode(s));
      expect(encodeUtf8Fallback(s)).toEqual(encoder.encode(s));
      expect(utf8ByteLength(s)).toBe(encoder.encode(s).length);
    }
    expect(encodeUtf8Fallback('\ud800')).toEqual(hex('ef bf bd'));
  });

  it('utf8ByteLength at the boundaries', () => {
    expect(utf8ByteLength('\u007f')).toBe(1);
    expect(utf8ByteLength('\u0080')).toBe(2);
    expect(utf8ByteLength('\u07ff')).toBe(2);
    expect(utf8ByteLength('\u0800')).toBe(3);
    expect(utf8ByteLength('\uffff')).toBe(3);
    expect(utf8ByteLength('\u{10000}')).toBe(4);
    expect(utf8ByteLength('\u{10ffff}')).toBe(4);
  });

  it('decodeUtf8Fallback handles output longer than one chunk, ending mid-sequence', () => {
    const b = new Uint8Array(10001).fill(0x61);
    b[10000] = 0xe2;
    expect(decodeUtf8Fallback(b)).toBe('a'.repeat(10000) + '\ufffd');
    expect(decodeUtf8Fallback(encoder.encode('ж'.repeat(5000)))).toBe('ж'.repeat(5000));
  });
});

describe('bare engine (no TextEncoder/TextDecoder)', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it('falls back to pure JS when the host has neither class', async () => {
    vi.stubGlobal('TextDecoder', undefined);
    vi.stubGlobal('TextEncoder', undefined);
    vi.resetModules();
    const m = await import('../src/utf8.ts');
    for (const s of ['', 'abc', 'héllo wörld, this is longer', '😀\ud800', 'x'.repeat(100)]) {
      const expected = encoder.encode(s);
      expect(m.encodeUtf8(s)).toEqual(expected);
      const dst = new Uint8Array(expected.length + 1);
      expect(m.encodeUtf8Into(s, dst, 1)).toBe(expected.length);
      expect(dst.subarray(1)).toEqual(expected);
      expect(m.decodeUtf8(expected)).toBe(lenient.decode(expected));
    }
  });

  it('falls back when the host constructors throw', async () => {
    const Throwing = function (): never {
      throw new Error('no');
    };
    vi.stubGlobal('TextDecoder', Throwing);
    vi.stubGlobal('TextEncoder', Throwing);
    vi.resetModules();
    const m = await import('../src/utf8.ts');
    expect(m.decodeUtf8(hex('68 c3 a9 6c 6c 6f 20 77 6f 72 6c 64'))).toBe('héllo world');
    expect(m.encodeUtf8('héllo world')).toEqual(encoder.encode('héllo world'));
  });
});
