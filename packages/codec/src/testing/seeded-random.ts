/** A deterministic random source (xorshift32) for reproducible keys and masks in tests. Never use it in production. */
import type { RandomSource } from '../random.ts';

export function seededRandom(seed = 0x2545f491): RandomSource {
  let state = seed >>> 0 || 1;
  return (bytes: Uint8Array): void => {
    for (let i = 0; i < bytes.length; i++) {
      state ^= state << 13;
      state >>>= 0;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      bytes[i] = state & 0xff;
    }
  };
}
