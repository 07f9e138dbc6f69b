/**
 * The opening handshake's key pair (RFC 6455 §4.1, §4.2.2): the client's random
 * `Sec-WebSocket-Key` and the server's `Sec-WebSocket-Accept`, which is
 * base64(SHA-1(key + GUID)). Randomness is injected so tests can fix it.
 */
import { encodeBase64 } from '../base64.ts';
import { WebSocketUsageError, describe } from '../errors.ts';
import { encodeLatin1 } from '../http/head-parser.ts';
import { sha1Into } from './sha1.ts';

/** RFC 6455 §1.3: the GUID every endpoint appends to the key. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Printable ASCII (a key from `validateRequest` is 24 base64 characters). */
const ASCII = /^[\x20-\x7e]*$/;

/** One digest buffer for every handshake (sha1.ts keeps its state module-wide too). */
const digest = new Uint8Array(20);

/**
 * The `Sec-WebSocket-Accept` value for `key` (RFC 6455 §4.2.2 step 5.4). `sha1Base64`: a host's
 * SHA-1 for an ASCII key (an engine's `sha1Base64`, see `engine-tuning.ts`); any other key is
 * hashed here (and one that is not Latin-1 throws, as always).
 */
export function computeAcceptKey(key: string, sha1Base64?: ((text: string) => string) | null): string {
  if (typeof key !== 'string') {
    throw new WebSocketUsageError('INVALID_ARGUMENT', `key must be a string, got ${describe(key)}`);
  }
  if (sha1Base64 != null && ASCII.test(key)) return sha1Base64(key + WEBSOCKET_GUID);
  const input = encodeLatin1(key + WEBSOCKET_GUID); // throws on text that is not Latin-1
  sha1Into(input, digest);
  return encodeBase64(digest);
}

/**
 * A fresh `Sec-WebSocket-Key`: 16 bytes from `random`, base64-encoded (RFC 6455 §4.1 item 7).
 * `random` fills its argument, as `crypto.getRandomValues` does.
 */
export function generateKey(random: (bytes: Uint8Array) => void): string {
  if (typeof random !== 'function') {
    throw new WebSocketUsageError(
      'NO_RANDOM_SOURCE',
      `generateKey needs a function that fills a Uint8Array, got ${describe(random)}`,
    );
  }
  const bytes = new Uint8Array(16);
  random(bytes);
  return encodeBase64(bytes);
}
