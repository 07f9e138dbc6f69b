/**
 * The public shapes of a {@link WebSocketConnection}: its states, the upgrade request a server
 * sees, its events and their arguments, and what a send returns. Types only: the behaviour is in
 * `websocket-connection.ts` and the modules it names.
 */
import type { MessageKind } from '../events.ts';
import type { HttpHeaders } from '../http/headers.ts';
import type { SessionCloseInfo, WebSocketError } from './errors.ts';

/**
 * Derived from the codec's state (see `readyState`): `connecting` during the handshake, `open`,
 * `closing` from the first Close (or a termination) until the transport is gone, then `closed`.
 */
export type ReadyState = 'connecting' | 'open' | 'closing' | 'closed';

/** A server connection's upgrade request, as the application sees it. */
export interface SessionRequest {
  method: string;
  /** The request-target as sent, e.g. `/chat?room=1`. */
  url: string;
  path: string;
  /** Without the `?`; `''` when absent. */
  query: string;
  headers: HttpHeaders;
  host: string;
  origin: string | null;
  /** Subprotocols the client offered, most preferred first. */
  protocols: readonly string[];
  remoteAddress: string | null;
  remotePort: number | null;
  secure: boolean;
}

export interface FragmentInfo {
  kind: MessageKind;
  /** The message's first chunk. */
  first: boolean;
  /** The message's last chunk. */
  fin: boolean;
}

/**
 * The connection's events and their listeners' arguments. Closed: `on('mesage', …)` does not
 * compile, nor does a listener with the wrong arguments.
 */
export interface ConnectionEvents {
  open: [];
  /**
   * A whole message: a string for text, bytes for binary. `isBinary` narrows `data`:
   * `(data, isBinary) => { if (isBinary) data.byteLength }`.
   */
  message: [data: string, isBinary: false] | [data: Uint8Array, isBinary: true];
  /** Streaming mode (`assembleMessages: false`): part of a message as it arrived. */
  fragment: [data: Uint8Array, info: FragmentInfo];
  ping: [data: Uint8Array];
  pong: [data: Uint8Array];
  /** `bufferedAmount` fell to the low-water mark after a send returned `'buffered'`. */
  drain: [];
  /** A violation, limit, timeout or transport failure; `close` follows. */
  error: [error: WebSocketError];
  /** The connection is gone (TCP closed). Always the last event. */
  close: [info: SessionCloseInfo];
}

/**
 * What became of a `send()` (and `sendFragment`, `ping`, `pong`):
 * - `'sent'`: accepted, and `bufferedAmount` is below `highWaterMark`: send more.
 * - `'buffered'`: accepted (it will go out, do not send it again), but `bufferedAmount` has
 *   reached `highWaterMark`: wait for `drain()` (or the `drain` event) before sending more.
 * - `'dropped'`: not sent: the connection is closing or closed (as browsers drop silently).
 *
 * Every value is a non-empty string, so `if (!ws.send(x))` is never true: compare with
 * `=== 'buffered'` (backpressure) or `!== 'sent'` instead.
 */
export type SendResult = 'sent' | 'buffered' | 'dropped';

export interface SendOptions {
  /** Per-message compression wish when an extension such as permessage-deflate is active. */
  compress?: boolean;
}

export interface FragmentOptions extends SendOptions {
  /**
   * The message's kind when `data` is bytes (default `'binary'`). `'text'` sends bytes as part of
   * a text message unchanged, e.g. a proxy forwarding a 'fragment' event whose chunk may end in
   * the middle of a UTF-8 character (the receiving codec validated it). A string is always text.
   */
  kind?: MessageKind;
}
