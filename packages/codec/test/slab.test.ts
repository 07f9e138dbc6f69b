// Slab: small views cut from shared ArrayBuffers, never overlapping, 8-byte aligned.
import { describe, expect, it } from 'vitest';
import { Slab } from '../src/index.ts';

describe('Slab', () => {
  it('cuts aligned, disjoint views and starts a new buffer when one is full', () => {
    const slab = new Slab(64);
    const a = slab.alloc(5);
    const b = slab.alloc(20);
    expect(a.buffer).toBe(b.buffer);
    expect([a.byteOffset, b.byteOffset]).toEqual([0, 8]);
    a.fill(1);
    expect(b.every((x) => x === 0)).toBe(true);
    const c = slab.alloc(40); // 8 + 20 → 32; 32 + 40 > 64: a new buffer
    expect(c.buffer).not.toBe(a.buffer);
    expect([c.byteOffset, c.length]).toEqual([0, 40]);
  });

  it('copy() gives the bytes in a view of their own', () => {
    const slab = new Slab(1024);
    const source = Uint8Array.of(1, 2, 3);
    const first = slab.copy(source);
    source[0] = 9;
    const second = slab.copy(source);
    expect([...first]).toEqual([1, 2, 3]);
    expect([...second]).toEqual([9, 2, 3]);
    expect(first.buffer).toBe(second.buffer);
  });
});
