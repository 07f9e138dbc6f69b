/**
 * The codec's three vocabularies, as discriminated unions on `type`:
 * - {@link Event}: what the peer did (read with `nextEvent()`),
 * - {@link Command}: what the application asks for (given to `send()`),
 * - {@link Output}: what the transport must do (read with `takeOutput()`).
 */
import type { ProtocolErrorCode } from './errors.ts';
import type { HttpHeaders, HeadersInit } from './http/headers.ts';
import type { RequestHead } from './http/head-parser.ts';
import type { ExtensionOffer } from './extensions/extension.ts';

/** A validated WebSocket upgrade request, as a server sees it (RFC 6455 §4.2.1). */
export interface HandshakeRequest {
  method: string;
  /** The request-target exactly as sent. */
  target: string;
  /** Path part of the target, always starting with `/`. */
  path: string;
  /** Query part of the target without the `?`, or `''`. */
  query: string;
  /** E.g. `'1.1'`. */
  httpVersion: string;
  headers: HttpHeaders;
  /** The `Host` value, checked (RFC 3986 authority characters); an absolute-form target's authority must equal it (ASCII case ignored) or the request is refused with 400. */
  host: string;
  origin: string | null;
  /** The `Sec-WebSocket-Key` value. */
  key: string;
  /** Subprotocols the client offered, in its order of preference. */
  protocols: string[];
  /** Extensions the client offered, in its order of preference. */
  extensions: ExtensionOffer[];
}

/** A parsed HTTP response head, as a client sees it. */
export interface HandshakeResponse {
  status: number;
  statusText: string;
  httpVersion: string;
  headers: HttpHeaders;
}

export type MessageKind = 'text' | 'binary';

/** Who closed the connection first. */
export type CloseInitiator = 'local' | 'remote';

export type Event =
  /** Server: a valid upgrade request arrived; answer with an `accept` or `reject` command. */
  | { type: 'request'; request: HandshakeRequest }
  /** The handshake completed; messages may flow. */
  | {
      type: 'open';
      protocol: string | null;
      extensions: string[];
      request: HandshakeRequest | null;
      response: HandshakeResponse | null;
    }
  /** Client: the server answered with something other than 101. */
  | { type: 'rejected'; response: HandshakeResponse; body: Uint8Array }
  | { type: 'text'; data: string }
  | { type: 'binary'; data: Uint8Array }
  /**
   * Streaming mode (`assembleMessages: false`): part of a data message, as it arrived.
   * `first` marks the message's first chunk, `fin` its last. Text is UTF-8 validated
   * incrementally but delivered as bytes. Compressed messages arrive decompressed.
   */
  | { type: 'fragment'; kind: MessageKind; data: Uint8Array; first: boolean; fin: boolean }
  | { type: 'ping'; data: Uint8Array }
  | { type: 'pong'; data: Uint8Array }
  /** The peer sent a Close frame (1005 if it carried no code). The codec answers it itself. */
  | { type: 'close'; code: number; reason: string }
  /** The peer broke the protocol, or a limit or timeout fired. The connection is failed. */
  | {
      type: 'protocol-error';
      code: ProtocolErrorCode;
      /** The close code we sent, or null if none could be sent (e.g. during the handshake). */
      closeCode: number | null;
      /** During a server handshake: the HTTP status we answered with. */
      status: number | null;
      message: string;
    }
  /** The WebSocket is finished. Always the last event. */
  | { type: 'closed'; info: CloseInfo }
  /**
   * Server with `http` serving: a plain (not upgrade) request. Answer it with `http-response`,
   * then `http-body` commands and `http-end`; with `body: true` its body follows as
   * `http-body` events and `http-body-end`.
   */
  | { type: 'http-request'; request: RequestHead; body: boolean }
  /** Part of a plain request's body, as it arrived (chunked framing removed). */
  | { type: 'http-body'; data: Uint8Array }
  /** The plain request's body is complete. */
  | { type: 'http-body-end' };

/** How a connection ended. */
export interface CloseInfo {
  /** The code from the peer's Close frame; 1005 if it had none; 1006 if none arrived. */
  code: number;
  reason: string;
  /** Both Close frames were exchanged. */
  wasClean: boolean;
  /** Who sent the first Close frame, or null if none was sent. */
  initiator: CloseInitiator | null;
  /** The code we sent in our Close frame, or null. */
  sentCode: number | null;
  /** What failed the connection (a violation, a limit, a timeout), or null. */
  error: ProtocolErrorCode | null;
}

export type Command =
  /** Server: accept the upgrade. Extensions are negotiated from the configured factories unless `extensions: false`. */
  | { type: 'accept'; protocol?: string | null; headers?: HeadersInit; extensions?: boolean }
  /** Server: refuse the upgrade with an HTTP response. */
  | { type: 'reject'; status: number; statusText?: string; headers?: HeadersInit; body?: Uint8Array | string }
  | { type: 'text'; data: string; compress?: boolean }
  | { type: 'binary'; data: Uint8Array; compress?: boolean }
  /** Streaming send: one frame of a data message; `fin` ends the message. */
  | { type: 'fragment'; kind: MessageKind; data: Uint8Array; fin: boolean; compress?: boolean }
  | { type: 'ping'; data?: Uint8Array }
  | { type: 'pong'; data?: Uint8Array }
  | { type: 'close'; code?: number; reason?: string }
  /**
   * Server with `http` serving: the head of the answer to the current plain request. `bodyLength`
   * null: unknown (sent chunked, or to an HTTP/1.0 client until the connection closes).
   */
  | { type: 'http-response'; status: number; statusText?: string; headers?: HeadersInit; bodyLength: number | null }
  /** Bytes of the answer's body (none are sent for HEAD, 204 or 304). */
  | { type: 'http-body'; data: Uint8Array }
  /** The answer is complete: the connection waits for the next request or closes. */
  | { type: 'http-end' }
  /** Send `100 Continue` if the request asked for it (`Expect`) and nothing was answered yet. */
  | { type: 'http-continue' };

export type Output =
  /** Write these bytes, in order after the previous outputs. */
  | { type: 'write'; data: Uint8Array }
  /** Send FIN: no more bytes will be written (half-close). Keep reading until EOF. */
  | { type: 'shutdown' }
  /** Tear the socket down now (reset if needed); the codec is done with it. */
  | { type: 'destroy' }
  /**
   * HTTP/2 (the `http2` option, RFC 8441): send this header list, pseudo-headers first, before
   * any write. A client's is its extended CONNECT (it opens the stream); a server's answers it
   * (`:status` 200, or a refusal whose body follows as writes, then a shutdown).
   */
  | { type: 'head'; headers: Array<[string, string]> };
