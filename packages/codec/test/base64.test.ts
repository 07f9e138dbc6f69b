import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { decodeBase64, encodeBase64 } from '../src/base64.ts';

function bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

describe('base64', () => {
  // RFC 4648 §10 test vectors.
  const vectors: Array<[string, string]> = [
    ['', ''],
    ['f', 'Zg=='],
    ['fo', 'Zm8='],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg=='],
    ['fooba', 'Zm9vYmE='],
    ['foobar', 'Zm9vYmFy'],
  ];

  it('encodes and decodes the RFC 4648 vectors', () => {
    for (const [plain, encoded] of vectors) {
      expect(encodeBase64(bytes(plain))).toBe(encoded);
      expect(decodeBase64(encoded)).toEqual(bytes(plain));
    }
  });

  it('uses the standard alphabet', () => {
    expect(encodeBase64(Uint8Array.of(0xfb, 0xff, 0xbf))).toBe('+/+/');
    expect(decodeBase64('+/+/')).toEqual(Uint8Array.of(0xfb, 0xff, 0xbf));
    expect(decodeBase64('dGhlIHNhbXBsZSBub25jZQ==')).toEqual(bytes('the sample nonce'));
  });

  it('refuses anything but canonical padded base64', () => {
    for (const bad of [
      'Zg',
      'Zg=',
      'Zm8',
      'Z===',
      '====',
      'Zg==Zg==',
      'Zm=v',
      '=Zm9',
      'Zm9v ',
      ' Zm9v',
      'Zm9\nv',
      'Zm9v-_',
      'Zm9v_w==',
      'Zh==',
      'Zm9=',
      'Zm\u00e99',
      'Zm\u20ac9',
      'Zg==\u0000'.slice(0, 5),
      // `-`/`_` are the URL-safe alphabet, not ours.
      'ab-_',
    ]) {
      expect(decodeBase64(bad), bad).toBeNull();
    }
    expect(decodeBase64(42 as unknown as string)).toBeNull();
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (data) => {
        const text = encodeBase64(data);
        expect(text.length % 4).toBe(0);
        expect(decodeBase64(text)).toEqual(data);
      }),
    );
  });

  it('decodes exactly the canonical encodings', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ '),
          maxLength: 12,
        }),
        (text) => {
          const decoded = decodeBase64(text);
          if (decoded !== null) expect(encodeBase64(decoded)).toBe(text);
        },
      ),
    );
  });
});
