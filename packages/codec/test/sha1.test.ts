// The codec's own SHA-1 (src/handshake/sha1.ts) against node:crypto's at every length that
// crosses a block or padding boundary, and RFC 6455's worked example of an accept key.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha1Into } from '../src/handshake/sha1.ts';
import { computeAcceptKey } from '../src/handshake/accept-key.ts';
import { seededRandom } from '../src/testing/index.ts';

describe('sha1Into', () => {
  it('matches node:crypto for every length 0..300 and a few large ones', () => {
    const random = seededRandom(7);
    const out = new Uint8Array(20);
    for (const length of [...Array.from({ length: 301 }, (_, i) => i), 4095, 4096, 65_537]) {
      const input = new Uint8Array(length);
      random(input);
      sha1Into(input, out);
      expect(Buffer.from(out).toString('hex'), `length ${length}`).toBe(createHash('sha1').update(input).digest('hex'));
    }
  });

  it('hashes a view into a larger buffer by its own bytes only', () => {
    const backing = new Uint8Array(200).fill(0xab);
    const view = backing.subarray(3, 150);
    const out = new Uint8Array(20);
    sha1Into(view, out);
    expect(Buffer.from(out).toString('hex')).toBe(createHash('sha1').update(view).digest('hex'));
  });

  it("gives RFC 6455's accept key for its sample nonce (§1.3)", () => {
    expect(computeAcceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });
});
