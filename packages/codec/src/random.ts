/**
 * Randomness, injected (RFC 6455 §5.3 wants mask keys an attacker cannot predict; §4.1 a random
 * Sec-WebSocket-Key). The host's `crypto.getRandomValues` is the default when it exists; tests
 * and bare engines pass their own source. Mask keys come from a pool refilled in one call, as ws
 * does, instead of one RNG call per frame.
 */
import { WebSocketUsageError, describe } from './errors.ts';

/** Fills `bytes` with cryptographically strong random values. */
export type RandomSource = (bytes: Uint8Array) => void;

/** `getRandomValues` refuses more than this many bytes per call (WebCrypto's QuotaExceededError). */
const GET_RANDOM_VALUES_MAX = 65_536;

type HostCrypto = { getRandomValues?: (bytes: Uint8Array) => unknown };

/** The host's `crypto.getRandomValues` as a {@link RandomSource}, or null when the host has none. */
export function defaultRandomSource(): RandomSource | null {
  let crypto: HostCrypto | undefined;
  try {
    crypto = (globalThis as { crypto?: HostCrypto }).crypto;
  } catch {
    return null;
  }
  const getRandomValues = crypto?.getRandomValues;
  if (typeof getRandomValues !== 'function') return null;
  const fill = getRandomValues.bind(crypto);
  return (bytes: Uint8Array): void => {
    const n = bytes.length;
    if (n <= GET_RANDOM_VALUES_MAX) {
      fill(bytes);
      return;
    }
    for (let i = 0; i < n; i += GET_RANDOM_VALUES_MAX) {
      fill(bytes.subarray(i, Math.min(i + GET_RANDOM_VALUES_MAX, n)));
    }
  };
}

/** Hands out 4-byte mask keys from a pool of random bytes refilled when used up. */
export class MaskKeyPool {
  private readonly random: RandomSource;
  private readonly pool: Uint8Array;
  /** Next unused byte of `pool`; `pool.length` means empty (filled on first use). */
  private pos: number;
  /** The key handed out; reused so `next()` allocates nothing. */
  private readonly key = new Uint8Array(4);

  constructor(random: RandomSource, poolSize = 4096) {
    if (typeof random !== 'function') {
      throw new WebSocketUsageError('INVALID_ARGUMENT', `random source: expected a function, got ${describe(random)}`);
    }
    if (!Number.isInteger(poolSize) || poolSize < 4 || poolSize % 4 !== 0 || poolSize > GET_RANDOM_VALUES_MAX) {
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `mask key pool size: expected a multiple of 4 from 4 to ${GET_RANDOM_VALUES_MAX}, got ${describe(poolSize)}`,
      );
    }
    this.random = random;
    this.pool = new Uint8Array(poolSize);
    this.pos = poolSize;
  }

  /** Four fresh random bytes. The array is reused: it is valid until the next call. */
  next(): Uint8Array {
    const pool = this.pool;
    let p = this.pos;
    if (p === pool.length) {
      this.random(pool);
      p = 0;
    }
    const key = this.key;
    // p + 3 < pool.length (a multiple of 4): `?? 0` is for the type checker, dropped by the JIT.
    key[0] = pool[p] ?? 0;
    key[1] = pool[p + 1] ?? 0;
    key[2] = pool[p + 2] ?? 0;
    key[3] = pool[p + 3] ?? 0;
    this.pos = p + 4;
    return key;
  }
}
