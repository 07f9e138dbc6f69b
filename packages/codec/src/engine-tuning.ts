/**
 * Engine tuning: choices that make the codec faster on one JavaScript engine and change nothing
 * else (no event, no result, no byte on the wire). Each connection takes its own, as the
 * `engine` option of `serverConnection()`/`clientConnection()`; the session layer passes what the
 * transport declares (`Transport.engine`), so `@ws/bun` tunes its connections for
 * JavaScriptCore and `@ws/deno` its for Deno without a process-wide switch: two connections in
 * one process may be tuned differently. The defaults suit V8 (Node.js, browsers).
 */
export interface EngineTuning {
  /**
   * Give the small byte arrays the connection makes (payloads it parses, frames and handshake
   * heads it writes) memory of their own instead of views of shared buffers. Views suit V8 (the
   * default, false): there a `new Uint8Array(n)` past 64 bytes is an off-heap allocation
   * (≈ 0.5 µs) and a view ≈ 40 ns. Fresh arrays suit JavaScriptCore (Bun), where it is the other
   * way round: a view costs ≈ 275 ns (Bun 1.4, 34 bytes), and a first view of a small array that
   * has no ArrayBuffer yet ≈ 1 µs more, while a fresh array of up to 1,000 bytes costs ≈ 55 ns.
   */
  freshArrays?: boolean;
  /**
   * Check and decode a whole text message with one call of the host's strict (fatal)
   * `TextDecoder` (default true, where the host has one) rather than the built-in validator
   * followed by a plain decode. Faster on V8 (Node 20: ≈ 0.5× the time at 1 KB, 0.4× at 8 KB of
   * ASCII) and JavaScriptCore (Bun 1.4: ≈ 0.8×, 0.55×); slower on Deno 2.9, whose strict decode
   * costs ≈ 0.3 µs more per call and 3.5× as much at 8 KB of ASCII (`@ws/deno` turns it off).
   * Ignored when the connection has a `utf8Validator`.
   */
  strictDecoder?: boolean;
  /**
   * The host's SHA-1, for the opening handshake's `Sec-WebSocket-Accept` (RFC 6455 §4.2.2): the
   * base64 of the SHA-1 digest of `text`, which is ASCII (a validated key and the GUID; the codec
   * composes them). Default: the codec's own SHA-1 in JavaScript. A native one saves ≈ 1–5 µs per
   * handshake (`@ws/bun` passes `Bun.SHA1`); the answer must be the same bytes.
   */
  sha1Base64?: (text: string) => string;
}
