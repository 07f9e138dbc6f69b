/**
 * The contract between the session layer and a runtime's socket: the whole of what an adapter
 * (`@ws/node`, `@ws/deno`, `@ws/bun`, a test's in-memory pipe) must provide, and the handlers
 * it calls back. The session never touches host I/O itself.
 */
import type { EngineTuning } from '../engine-tuning.ts';

/** What the session asks of a byte stream. */
export interface Transport {
  /**
   * Queue `chunks` for writing, in order, as one vectored write (cork/writev) so a frame's
   * header and payload leave together. The chunks are the transport's to keep (the session does
   * not touch them afterwards); the array is only lent for the call (the session reuses it):
   * keep the chunks, not the array. Never an empty list. Never throws for a closed socket: such
   * writes are dropped.
   */
  write(chunks: Uint8Array[]): void;
  /** Bytes accepted by `write` and not yet handed to the operating system (0 once destroyed). */
  readonly bufferedAmount: number;
  /** Send FIN after the queued bytes (half-close); keep reading until the peer's EOF. */
  end(): void;
  /** Tear the connection down now, dropping queued bytes. `onClose` must follow. */
  destroy(): void;
  /**
   * HTTP/2 only (RFC 8441): send this header list, pseudo-headers first, before any write: a
   * client's extended CONNECT (which opens the stream) or a server's answer to one. A transport
   * without it cannot carry an `http2` connection (the session destroys it).
   */
  head?(headers: Array<[string, string]>): void;
  /** Stop delivering `onData` until `resume()` (inbound flow control). Optional. */
  pause?(): void;
  resume?(): void;
  /**
   * How to tune the codec for the JavaScript engine this transport runs on (speed only, never
   * results; see {@link EngineTuning}): the session passes it to each connection's codec.
   * Optional: absent, the codec is tuned for V8. Read once, when the connection is made.
   */
  readonly engine?: EngineTuning;
}

/** What the adapter calls on the session. Every call may come at any time, in this order of life. */
export interface TransportHandlers {
  /** Bytes from the peer. The session takes ownership: copy first if the runtime reuses the buffer. */
  onData(chunk: Uint8Array): void;
  /**
   * `bufferedAmount` went down. Must be called at least whenever it reaches 0 after being
   * non-zero; calling it more often (e.g. after every flushed write) is fine and cheap.
   */
  onDrain(): void;
  /** HTTP/2 only: the peer's header list (the server's answer to a client's extended CONNECT). */
  onHeaders?(headers: Array<[string, string]>): void;
  /** The peer half-closed (EOF). */
  onEnd(): void;
  /** The socket is gone (both directions), with the error if it failed. Called once, last. */
  onClose(error?: unknown): void;
}

/** What an adapter knows about the peer of an accepted connection. */
export interface PeerInfo {
  remoteAddress?: string | null;
  remotePort?: number | null;
  /** The connection is TLS (wss). */
  secure?: boolean;
}
