import { afterEach, describe, expect, it, vi } from 'vitest';
import { MaskKeyPool, defaultRandomSource } from '../src/random.ts';
import type { RandomSource } from '../src/random.ts';
import { codeOf } from './helpers/usage-error.ts';

/** A deterministic source: 0, 1, 2, … across calls; records each call's length. */
function counter(): { source: RandomSource; calls: number[] } {
  let x = 0;
  const calls: number[] = [];
  return {
    calls,
    source: (bytes) => {
      calls.push(bytes.length);
      for (let i = 0; i < bytes.length; i++) bytes[i] = x++ & 0xff;
    },
  };
}

describe('defaultRandomSource', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('uses crypto.getRandomValues when the host has it (Node does)', () => {
    const random = defaultRandomSource();
    expect(random).not.toBeNull();
    const a = new Uint8Array(64);
    const b = new Uint8Array(64);
    random!(a);
    random!(b);
    expect(a.some((x) => x !== 0)).toBe(true);
    expect(a).not.toEqual(b);
  });

  it('fills more than 65,536 bytes in chunks getRandomValues accepts', () => {
    const random = defaultRandomSource()!;
    const big = new Uint8Array(200_000);
    random(big); // the real getRandomValues throws QuotaExceededError above 65,536
    expect(big.subarray(196_000).some((x) => x !== 0)).toBe(true);

    const lengths: number[] = [];
    vi.stubGlobal('crypto', {
      getRandomValues(bytes: Uint8Array) {
        lengths.push(bytes.length);
        bytes.fill(1);
        return bytes;
      },
    });
    const fake = defaultRandomSource()!;
    const buf = new Uint8Array(65_536 * 2 + 10);
    fake(buf);
    expect(lengths).toEqual([65_536, 65_536, 10]);
    expect(buf.every((x) => x === 1)).toBe(true);
  });

  it('calls getRandomValues with crypto as `this`', () => {
    const crypto = {
      getRandomValues(this: unknown, bytes: Uint8Array) {
        expect(this).toBe(crypto);
        return bytes;
      },
    };
    vi.stubGlobal('crypto', crypto);
    defaultRandomSource()!(new Uint8Array(4));
  });

  it('is null on a host without crypto', () => {
    vi.stubGlobal('crypto', undefined);
    expect(defaultRandomSource()).toBeNull();
    vi.stubGlobal('crypto', {});
    expect(defaultRandomSource()).toBeNull();
    vi.stubGlobal('crypto', { getRandomValues: 42 });
    expect(defaultRandomSource()).toBeNull();
  });

  it('is null when reading crypto throws', () => {
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
    Object.defineProperty(globalThis, 'crypto', {
      configurable: true,
      get() {
        throw new Error('denied');
      },
    });
    try {
      expect(defaultRandomSource()).toBeNull();
    } finally {
      if (saved) Object.defineProperty(globalThis, 'crypto', saved);
    }
  });
});

describe('MaskKeyPool', () => {
  it('hands out consecutive 4-byte keys and refills once per pool', () => {
    const { source, calls } = counter();
    const pool = new MaskKeyPool(source, 8);
    expect(calls).toEqual([]); // filled lazily
    expect(Array.from(pool.next())).toEqual([0, 1, 2, 3]);
    expect(calls).toEqual([8]);
    expect(Array.from(pool.next())).toEqual([4, 5, 6, 7]);
    expect(Array.from(pool.next())).toEqual([8, 9, 10, 11]);
    expect(calls).toEqual([8, 8]);
  });

  it('reuses one array (valid until the next call)', () => {
    const pool = new MaskKeyPool(counter().source, 4);
    const a = pool.next();
    const first = Array.from(a);
    const b = pool.next();
    expect(b).toBe(a);
    expect(b.length).toBe(4);
    expect(Array.from(b)).not.toEqual(first);
  });

  it('defaults to a 4096-byte pool', () => {
    const { source, calls } = counter();
    const pool = new MaskKeyPool(source);
    for (let i = 0; i < 1025; i++) pool.next();
    expect(calls).toEqual([4096, 4096]);
  });

  it('works with the default source', () => {
    const pool = new MaskKeyPool(defaultRandomSource()!);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const k = pool.next();
      seen.add(((k[0]! << 24) | (k[1]! << 16) | (k[2]! << 8) | k[3]!) >>> 0);
    }
    expect(seen.size).toBeGreaterThan(1990);
  });

  it('rejects a bad source or pool size', () => {
    expect(codeOf(() => new MaskKeyPool(null as unknown as RandomSource))).toBe('INVALID_ARGUMENT');
    for (const size of [0, 2, 6, 4.5, -4, 65_540, Number.NaN]) {
      expect(codeOf(() => new MaskKeyPool(counter().source, size))).toBe('INVALID_ARGUMENT');
    }
    expect(codeOf(() => new MaskKeyPool(counter().source, 65_536))).toBeUndefined();
  });
});
