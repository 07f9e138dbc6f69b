/**
 * The extension framework (RFC 6455 §9). An extension is negotiated in the handshake through
 * `Sec-WebSocket-Extensions` and then transforms data messages, claiming one or more RSV bits.
 * permessage-deflate (RFC 7692) is one implementation; the connection knows nothing of it.
 *
 * Transforms are per message and streaming: a message's payload reaches `decode` in chunks as
 * frames arrive, so an extension can bound what it produces (decompression bombs) without ever
 * holding the whole message.
 */

/** One `name[=value]` parameter of an extension offer or response (§9.1). `value` is unquoted. */
export interface ExtensionParam {
  name: string;
  value: string | null;
}

/** One element of a `Sec-WebSocket-Extensions` header: an extension name with its parameters. */
export interface ExtensionOffer {
  name: string;
  params: ExtensionParam[];
}

/** Where a decoded chunk goes. Returns false when the consumer wants no more (a limit was hit). */
export type ExtensionSink = (chunk: Uint8Array) => boolean;

/** A negotiated extension, owned by one connection. */
export interface Extension {
  readonly name: string;
  /** The RSV bits this extension may set, as they sit in the first header byte's low nibble: RSV1 = 0x4, RSV2 = 0x2, RSV3 = 0x1. */
  readonly rsvBits: number;
  /** The parameters as negotiated (what the server's response said). */
  readonly params: ExtensionParam[];
  /**
   * Outbound: transform one data frame's payload. `first`/`fin` locate the frame in its
   * message; `compress` is the caller's per-message wish (undefined = the extension decides).
   * Returns the payload to put on the wire and the RSV bits for this frame.
   */
  encode(
    payload: Uint8Array,
    first: boolean,
    fin: boolean,
    compress: boolean | undefined,
  ): { payload: Uint8Array; rsv: number };
  /**
   * Optional, outbound, for one whole message sent to many connections (a publish). The key
   * under which this extension turns a message of `length` bytes (with the caller's `compress`)
   * into the same bytes on every connection that gives the same key, or null when its bytes
   * depend on this connection's own stream (e.g. deflate with context takeover). `''` means the
   * payload goes out unchanged with no RSV bit. Absent: never shared.
   */
  sharedKey?(length: number, compress: boolean | undefined): string | null;
  /**
   * Optional, with `sharedKey`: encode a whole message whose `sharedKey` was not null, without
   * touching this connection's outgoing stream (a message it is sending in fragments is left alone).
   */
  encodeShared?(payload: Uint8Array, compress: boolean | undefined): { payload: Uint8Array; rsv: number };
  /**
   * Inbound: a data message starts whose first frame carried `rsv` (only the bits in
   * `rsvBits`). Return true if this extension transforms the message.
   */
  decodeStart(rsv: number): boolean;
  /**
   * Inbound: the next payload chunk of a message that `decodeStart` claimed; `fin` is true on
   * the message's last chunk. Decoded bytes go to `sink`; stop as soon as it returns false.
   * Returns null, or a message describing a malformed payload (the connection fails with 1007).
   */
  decode(chunk: Uint8Array, fin: boolean, sink: ExtensionSink): string | null;
  // Chunks given to the sink become the connection's: the extension must not write to them afterwards.
  /** Release whatever the extension holds (compression windows). Called once, at the end. */
  dispose(): void;
}

/** Negotiates one extension; configured on both client and server. */
export interface ExtensionFactory {
  readonly name: string;
  /** Client: the offers to send, most preferred first (each one is one header element). */
  offer(): ExtensionParam[][];
  /**
   * Client: the server accepted with these parameters. Return the extension, or a string
   * saying why the response is unacceptable (the connection then fails).
   */
  accept(params: ExtensionParam[]): Extension | string;
  /**
   * Server: the client's offers of this extension, in the client's order of preference.
   * Return the parameters to answer with and the extension, or null to decline them all.
   */
  negotiate(offers: ExtensionParam[][]): { params: ExtensionParam[]; extension: Extension } | null;
}
