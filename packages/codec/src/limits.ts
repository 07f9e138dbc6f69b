/**
 * Resource limits and timeouts, with safe defaults. Each default names its precedent so a
 * reader can judge it. All sizes are bytes, all times milliseconds; 0 turns a timer off.
 */

export interface Limits {
  /** Bytes in an HTTP head (request or status line plus headers). Over it: 431 (server) / failure (client). */
  maxHeadBytes: number;
  /** Header fields in an HTTP head. Over it: 431. */
  maxHeaders: number;
  /** Payload bytes in one frame, before decompression. Over it: 1009. */
  maxFrameSize: number;
  /** Payload bytes in one message, after decompression. Over it: 1009. */
  maxMessageSize: number;
  /** Frames in one fragmented message. Over it: 1009. */
  maxFragments: number;
  /** Body bytes kept from a refused (non-101) handshake response. Beyond it the body is cut. */
  maxRejectBodyBytes: number;
  /** Server serving plain HTTP: a request body's bytes, declared or received. Over it: 413. */
  maxBodyBytes: number;
}

/**
 * The codec's deadlines (see `nextDeadline()` / `tick(now)` and deadlines.ts). Each has this one
 * meaning wherever it is set (the bare codec, a session, an adapter's options).
 */
export interface Timeouts {
  /** From creation (or, after plain HTTP requests, from the upgrade's head) until the handshake completes. */
  handshakeTimeout: number;
  /** From sending (or receiving) a Close until the TCP connection is gone. */
  closeTimeout: number;
  /**
   * Open: send a ping once nothing has arrived from the peer for this long. Checked at intervals,
   * not on every read: the ping goes out after between 1× and 2× this long of silence.
   */
  keepaliveInterval: number;
  /**
   * Fail with 1011 (error `PONG_TIMEOUT`) when nothing (no pong, no data) has arrived this long
   * after a keepalive ping. A driver whose ping waits behind queued output says so
   * (`noteOutputProgress(true)`): while that output moves, the wait starts again.
   */
  keepaliveTimeout: number;
  /**
   * Open: close with 1001 (error `IDLE_TIMEOUT`) after this long without activity in either
   * direction: bytes received, a message, ping or pong the application sends, or queued output
   * a driver reports moving (`noteOutputProgress`). Checked at intervals: after between 1× and
   * 2× this long.
   */
  idleTimeout: number;
  /** Server serving plain HTTP: how long a kept-alive connection waits for its next request. */
  httpKeepAliveTimeout: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  // Node's http.maxHeaderSize default (16 KiB since Node 13.13); nginx's default
  // large_client_header_buffers is 4 × 8 KiB. A browser's upgrade request is under 1 KiB.
  maxHeadBytes: 16 * 1024,
  // Apache httpd's LimitRequestFieldsCount default (LimitRequestFields 100).
  maxHeaders: 100,
  // No separate precedent: a frame can never usefully exceed a message.
  maxFrameSize: 64 * 1024 * 1024,
  // Between uWebSockets/Bun (16 MiB maxPayloadLength) and ws (100 MiB maxPayload); large
  // enough for Autobahn's 16 MiB cases (9.1.6, 9.2.6), small enough to bound a hostile peer.
  maxMessageSize: 64 * 1024 * 1024,
  // Autobahn 9.3.1 sends a 4 MiB message in 64-byte fragments (65,536 frames). Each fragment
  // costs us no memory beyond its payload, so the limit only caps per-frame work.
  maxFragments: 128 * 1024,
  // Enough for an error page; the WHATWG client discards it anyway.
  maxRejectBodyBytes: 64 * 1024,
  // Bun's maxRequestBodySize default. Bodies are streamed to the handler, not buffered.
  maxBodyBytes: 128 * 1024 * 1024,
});

export const DEFAULT_TIMEOUTS: Readonly<Timeouts> = Object.freeze({
  // python websockets' open_timeout default.
  handshakeTimeout: 10_000,
  // python websockets' close_timeout default.
  closeTimeout: 10_000,
  // Off in the bare codec and for clients (as ws, browsers, Bun's and Deno's clients); on for a
  // server session, see DEFAULT_SERVER_SESSION_TIMEOUTS.
  keepaliveInterval: 0,
  // python websockets' ping_timeout default, used once keepalive is on.
  keepaliveTimeout: 20_000,
  // Off: closing a quiet but live peer is the application's policy. A dead peer is keepalive's.
  idleTimeout: 0,
  // Node's http.Server keepAliveTimeout default.
  httpKeepAliveTimeout: 5_000,
});

/**
 * A server session's defaults (every adapter's `createServer`), where they differ from
 * {@link DEFAULT_TIMEOUTS}: keepalive on. Without it a peer that vanished without a FIN (a
 * dropped NAT mapping, a killed laptop) holds its connection and memory forever. A ping after
 * 30 s of silence finds it within 50 s (Deno's server: 30 s; Bun's: 120 s), and keeps a proxy
 * with a 60 s read timeout (nginx's `proxy_read_timeout`, AWS ALB's idle timeout) from cutting
 * a quiet connection. The comparison with ws, Bun and Deno is in docs/hardening.md.
 */
export const DEFAULT_SERVER_SESSION_TIMEOUTS: Readonly<Timeouts> = Object.freeze({
  ...DEFAULT_TIMEOUTS,
  // Under the 60 s read timeouts of common proxies; Deno's server pings after 15 s of silence.
  keepaliveInterval: 30_000,
});
