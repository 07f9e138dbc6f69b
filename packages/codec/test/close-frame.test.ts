import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_CLOSE_REASON_BYTES, buildClosePayload, parseClosePayload } from '../src/close-frame.ts';
import { hex } from '../src/testing/index.ts';
import { codeOf } from './helpers/usage-error.ts';

function withCode(code: number, reason: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(2 + reason.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(reason, 2);
  return out;
}

/** Any Unicode scalar value (fast-check's 'binary' unit is slow to start). */
const codePoint = fc
  .integer({ min: 0, max: 0x10ffff })
  .filter((c) => c < 0xd800 || c > 0xdfff)
  .map((c) => String.fromCodePoint(c));

const WIRE_VALID = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];
// Autobahn 7.9.x and the reserved codes of §7.4.1.
const WIRE_INVALID = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];

describe('parseClosePayload', () => {
  it('empty payload → 1005, no reason (§7.1.5)', () => {
    expect(parseClosePayload(new Uint8Array(0))).toEqual({ ok: true, code: 1005, reason: '' });
  });

  it('1-byte payload → BAD_CLOSE_PAYLOAD, 1002', () => {
    expect(parseClosePayload(hex('03'))).toMatchObject({ ok: false, code: 'BAD_CLOSE_PAYLOAD', closeCode: 1002 });
  });

  it('accepts the codes valid on the wire', () => {
    for (const code of WIRE_VALID) expect(parseClosePayload(withCode(code))).toEqual({ ok: true, code, reason: '' });
  });

  it('rejects codes not valid on the wire → BAD_CLOSE_CODE, 1002', () => {
    for (const code of WIRE_INVALID) {
      expect(parseClosePayload(withCode(code))).toMatchObject({ ok: false, code: 'BAD_CLOSE_CODE', closeCode: 1002 });
      expect(parseClosePayload(withCode(code, hex('61')))).toMatchObject({ ok: false, code: 'BAD_CLOSE_CODE' });
    }
  });

  it('decodes the reason, keeping a BOM', () => {
    expect(parseClosePayload(hex('03 e8 62 79 65'))).toEqual({ ok: true, code: 1000, reason: 'bye' });
    expect(parseClosePayload(withCode(4000, hex('ef bb bf ce ba e1 bd b9 cf 83 ce bc ce b5')))).toEqual({
      ok: true,
      code: 4000,
      reason: '\ufeff\u03ba\u1f79\u03c3\u03bc\u03b5', // κόσμε as in Kuhn's test file
    });
    const max = new Uint8Array(MAX_CLOSE_REASON_BYTES).fill(0x2a);
    expect(parseClosePayload(withCode(1001, max))).toEqual({ ok: true, code: 1001, reason: '*'.repeat(123) });
  });

  it('invalid UTF-8 in the reason → INVALID_UTF8, 1007 (Autobahn 7.5.1)', () => {
    const bad = hex('ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64 69 74 65 64');
    expect(parseClosePayload(withCode(1000, bad))).toMatchObject({ ok: false, code: 'INVALID_UTF8', closeCode: 1007 });
    expect(parseClosePayload(withCode(1000, hex('e2 82')))).toMatchObject({
      ok: false,
      code: 'INVALID_UTF8',
      closeCode: 1007,
    });
    expect(parseClosePayload(withCode(1000, hex('ff')))).toMatchObject({
      ok: false,
      code: 'INVALID_UTF8',
      closeCode: 1007,
    });
  });

  it('never throws, and every failure carries a message', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 130 }), (payload) => {
        const r = parseClosePayload(payload);
        if (!r.ok) expect(typeof r.message).toBe('string');
        else expect(payload.length === 0 ? r.code === 1005 : r.code === ((payload[0]! << 8) | payload[1]!)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('buildClosePayload', () => {
  it('no code → empty payload', () => {
    expect(buildClosePayload()).toEqual(new Uint8Array(0));
    expect(buildClosePayload(undefined, '')).toEqual(new Uint8Array(0));
  });

  it('code only → 2 bytes, network byte order', () => {
    expect(buildClosePayload(1000)).toEqual(hex('03 e8'));
    expect(buildClosePayload(4999)).toEqual(hex('13 87'));
    expect(buildClosePayload(1000, '')).toEqual(hex('03 e8'));
  });

  it('code and reason', () => {
    expect(buildClosePayload(1001, 'bye')).toEqual(hex('03 e9 62 79 65'));
    expect(buildClosePayload(3000, '\u03ba\u1f79\u03c3\u03bc\u03b5')).toEqual(
      hex('0b b8 ce ba e1 bd b9 cf 83 ce bc ce b5'),
    );
    expect(buildClosePayload(1000, 'a\ud800')).toEqual(hex('03 e8 61 ef bf bd')); // lone surrogate → U+FFFD
  });

  it('accepts exactly 1000–1003, 1007–1014, 3000–4999', () => {
    for (const code of WIRE_VALID) expect(codeOf(() => buildClosePayload(code))).toBeUndefined();
    for (const code of [...WIRE_INVALID, 1000.5, Number.NaN, Infinity, -1000]) {
      expect(codeOf(() => buildClosePayload(code))).toBe('INVALID_CLOSE_CODE');
    }
    expect(codeOf(() => buildClosePayload('1000' as unknown as number))).toBe('INVALID_CLOSE_CODE');
  });

  it('reason up to 123 UTF-8 bytes (§5.5)', () => {
    expect(buildClosePayload(1000, 'x'.repeat(123)).length).toBe(125);
    expect(codeOf(() => buildClosePayload(1000, 'x'.repeat(124)))).toBe('REASON_TOO_LONG');
    expect(buildClosePayload(1000, '€'.repeat(41)).length).toBe(125); // 41 × 3 bytes
    expect(codeOf(() => buildClosePayload(1000, '€'.repeat(41) + 'a'))).toBe('REASON_TOO_LONG');
    expect(codeOf(() => buildClosePayload(1000, '😀'.repeat(31)))).toBe('REASON_TOO_LONG'); // 124 bytes, 62 units
  });

  it('a reason needs a code; a reason must be a string', () => {
    expect(codeOf(() => buildClosePayload(undefined, 'bye'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => buildClosePayload(1000, 42 as unknown as string))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => buildClosePayload(undefined, null as unknown as string))).toBe('INVALID_ARGUMENT');
  });

  it('round-trips through parseClosePayload', () => {
    const codes = fc.oneof(fc.constantFrom(...WIRE_VALID), fc.integer({ min: 3000, max: 4999 }));
    fc.assert(
      fc.property(codes, fc.string({ unit: codePoint, maxLength: 30 }), (code, reason) => {
        const payload = buildClosePayload(code, reason);
        expect(parseClosePayload(payload)).toEqual({ ok: true, code, reason });
      }),
      { numRuns: 500 },
    );
  });
});
