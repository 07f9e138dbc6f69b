// The WebAssembly SIMD masking path (runs of ≥ 1 KiB) and its pure-JS fallback (hosts without
// WebAssembly, e.g. QuickJS) give the same bytes, at every phase, byteOffset, block boundary and tail.
import { afterAll, describe, expect, it } from 'vitest';
import { applyMask, maskCopy, useWasmMask } from '../src/mask.ts';
import { bytes as pattern, sameBytes as equal } from '../../../test/shared/bytes.ts';

const KEY = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);
const LENGTHS = [1023, 1024, 1025, 1087, 1088, 4099, 16383, 16384, 16385, 16448, 40000, 70001];

function reference(data: Uint8Array, phase: number): Uint8Array {
  return data.map((b, i) => b ^ KEY[(phase + i) & 3]!);
}

afterAll(() => {
  useWasmMask(true);
});

describe.each([
  ['WebAssembly SIMD', true],
  ['pure JS', false],
])('long runs, %s', (_name, wasm) => {
  it('is the path asked for (Node has WebAssembly SIMD)', () => {
    expect(useWasmMask(wasm)).toBe(wasm);
  });

  it('applyMask agrees with a byte loop: every phase and byteOffset, nothing outside touched', () => {
    useWasmMask(wasm);
    for (const n of LENGTHS) {
      const src = pattern(n, n);
      for (const phase of [0, 1, 2, 3]) {
        for (const byteOffset of [0, 1, 3, 8]) {
          const backing = new Uint8Array(n + 16).fill(0x55);
          const view = backing.subarray(byteOffset, byteOffset + n);
          view.set(src);
          applyMask(view, KEY, phase);
          expect(equal(view, reference(src, phase))).toBe(true);
          expect(backing.subarray(0, byteOffset).every((b) => b === 0x55)).toBe(true);
          expect(backing.subarray(byteOffset + n).every((b) => b === 0x55)).toBe(true);
        }
      }
    }
  });

  it('maskCopy agrees with a byte loop and leaves the source alone', () => {
    useWasmMask(wasm);
    for (const n of LENGTHS) {
      const src = pattern(n, n + 1);
      const before = src.slice();
      for (const dstOffset of [0, 3, 10]) {
        const dst = new Uint8Array(n + 20).fill(0xaa);
        maskCopy(src, dst, dstOffset, KEY);
        expect(equal(dst.subarray(dstOffset, dstOffset + n), reference(src, 0))).toBe(true);
        expect(dst.subarray(0, dstOffset).every((b) => b === 0xaa)).toBe(true);
        expect(dst.subarray(dstOffset + n).every((b) => b === 0xaa)).toBe(true);
        expect(equal(src, before)).toBe(true);
      }
    }
  });

  it('maskCopy at every phase agrees with a byte loop (unmasking a payload that arrives in pieces)', () => {
    useWasmMask(wasm);
    for (const n of LENGTHS) {
      const src = pattern(n, 2 * n + 5);
      for (let phase = 0; phase < 8; phase++) {
        const dst = new Uint8Array(n + 9).fill(0xaa);
        maskCopy(src, dst, 7, KEY, phase);
        expect(equal(dst.subarray(7, 7 + n), reference(src, phase & 3))).toBe(true);
        expect(dst.subarray(7 + n).every((b) => b === 0xaa)).toBe(true);
      }
    }
  });

  it('masks views of many buffers in turn (the cached word view follows the buffer)', () => {
    useWasmMask(wasm);
    for (let round = 0; round < 3; round++) {
      for (const n of [64, 100, 700, 2000]) {
        const a = pattern(n + 4, round * 31 + n);
        const b = pattern(n + 4, round * 37 + n);
        const va = a.subarray(2, 2 + n);
        const vb = b.subarray(1, 1 + n);
        const ea = reference(va, 1);
        const eb = reference(vb, 2);
        applyMask(va, KEY, 1);
        applyMask(vb, KEY, 2);
        expect(equal(va, ea) && equal(vb, eb)).toBe(true);
      }
    }
  });
});
