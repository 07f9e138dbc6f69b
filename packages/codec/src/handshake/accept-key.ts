/**
 * The opening handshake's key pair (RFC 6455 §4.1, §4.2.2): the client's random
 * `Sec-WebSocket-Key` and the server's `Sec-WebSocket-Accept`, which is
 * base64(SHA-1(key + GUID)). Randomness is injected so tests can fix it.
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { encodeBase64 } from '../base64.ts';
import { WebSocketUsageError, describe } from '../errors.ts';
import { encodeLatin1 } from '../http/head-parser.ts';

/** RFC 6455 §1.3: the GUID every endpoint appends to the key. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

// One SHA-1 state serves every handshake: `sha1(bytes)` would make a hasher with its own block
// buffer and DataView each time (on V8 an ArrayBuffer outside the heap, per connection a
// server accepts). `FRESH` is never fed; copying it into `hasher` (`_cloneInto`, the
// library's own way to reuse a state) starts a new digest.
const FRESH = sha1.create();
const hasher = sha1.create();
const digest = new Uint8Array(hasher.outputLen);

/** The `Sec-WebSocket-Accept` value for `key` (RFC 6455 §4.2.2 step 5.4). */
export function computeAcceptKey(key: string): string {
  if (typeof key !== 'string') {
    throw new WebSocketUsageError('INVALID_ARGUMENT', `key must be a string, got ${describe(key)}`);
  }
  const input = encodeLatin1(key + WEBSOCKET_GUID); // throws on text that is not Latin-1
  FRESH._cloneInto(hasher);
  hasher.update(input).digestInto(digest);
  return encodeBase64(digest);
}

/**
 * A fresh `Sec-WebSocket-Key`: 16 bytes from `random`, base64-encoded (RFC 6455 §4.1 item 7).
 * `random` fills its argument, as `crypto.getRandomValues` does.
 */
export function generateKey(random: (bytes: Uint8Array) => void): string {
  if (typeof random !== 'function') {
    throw new WebSocketUsageError('NO_RANDOM_SOURCE', `generateKey needs a function that fills a Uint8Array, got ${describe(random)}`);
  }
  const bytes = new Uint8Array(16);
  random(bytes);
  return encodeBase64(bytes);
}
