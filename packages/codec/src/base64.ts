/**
 * Base64 with the standard alphabet and padding (RFC 4648 §4), as the opening handshake uses
 * it for `Sec-WebSocket-Key` and `Sec-WebSocket-Accept` (RFC 6455 §4.1, §4.2.2). Host-free:
 * no `btoa`/`atob`, no Node.js buffers. The decoder is strict: it returns null for anything but the
 * canonical encoding (no whitespace, no missing or extra padding, no non-zero pad bits).
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

// Char code → 6-bit value, or -1.
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

function sextet(text: string, index: number): number {
  const code = text.charCodeAt(index);
  // (NaN past the end of the text: not below 128.)
  return code < 128 ? (DECODE[code] ?? -1) : -1;
}

/** The character for the six bits of `n` from bit `shift` up. */
function char(n: number, shift: number): string {
  return ALPHABET.charAt((n >> shift) & 63);
}

export function encodeBase64(bytes: Uint8Array): string {
  let out = '';
  const whole = bytes.length - (bytes.length % 3);
  // Reads are in bounds (i + 2 < whole); `?? 0` is for the type checker, dropped by the JIT.
  for (let i = 0; i < whole; i += 3) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += char(n, 18) + char(n, 12) + char(n, 6) + char(n, 0);
  }
  const left = bytes.length - whole;
  if (left === 1) {
    const n = (bytes[whole] ?? 0) << 16;
    out += char(n, 18) + char(n, 12) + '==';
  } else if (left === 2) {
    const n = ((bytes[whole] ?? 0) << 16) | ((bytes[whole + 1] ?? 0) << 8);
    out += char(n, 18) + char(n, 12) + char(n, 6) + '=';
  }
  return out;
}

/** The bytes `text` encodes, or null if it is not canonical padded base64. */
export function decodeBase64(text: string): Uint8Array | null {
  const length = base64ByteLength(text);
  if (length < 0) return null;
  const out = new Uint8Array(length);
  scan(text, length, out);
  return out;
}

/**
 * How many bytes `text` encodes, or -1 if it is not canonical padded base64: what
 * {@link decodeBase64} would tell, without making the bytes.
 */
export function base64ByteLength(text: string): number {
  if (typeof text !== 'string' || text.length % 4 !== 0) return -1;
  let pad = 0;
  if (text.length > 0 && text.charCodeAt(text.length - 1) === 0x3d)
    pad = text.charCodeAt(text.length - 2) === 0x3d ? 2 : 1;
  const length = (text.length / 4) * 3 - pad;
  return scan(text, length, null) ? length : -1;
}

/** Checks `text` (of `length` bytes once decoded), writing the bytes into `out` if given. */
function scan(text: string, length: number, out: Uint8Array | null): boolean {
  const pad = (text.length / 4) * 3 - length;
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    const a = sextet(text, i);
    const b = sextet(text, i + 1);
    const c = last && pad === 2 ? 0 : sextet(text, i + 2);
    const d = last && pad >= 1 ? 0 : sextet(text, i + 3);
    if ((a | b | c | d) < 0) return false;
    // RFC 4648 §3.5: the bits under the padding must be zero in a canonical encoding.
    if (last && pad === 2 && (b & 15) !== 0) return false;
    if (last && pad === 1 && (c & 3) !== 0) return false;
    if (out === null) continue;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >> 16;
    if (o < length) out[o++] = (n >> 8) & 0xff;
    if (o < length) out[o++] = n & 0xff;
  }
  return true;
}
