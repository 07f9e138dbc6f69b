// @ws/codec: the core (the Connection's frames, messages, close, limits and time, and what both
// roles share). A connection is made by `serverConnection()` (@ws/codec/server) or
// `clientConnection()` (@ws/codec/client), each bringing its role's handshake; plain-HTTP serving
// is @ws/codec/http, the CONNECT tunnel @ws/codec/proxy: each paid for only when imported
// (.size-limit.js has the budgets). This file only re-exports.
export { Connection } from './connection.ts';
export type { Role, ConnectionOptions, ServerConnectionOptions, ClientConnectionOptions } from './connection.ts';
export type {
  Event,
  Command,
  Output,
  CloseInfo,
  CloseInitiator,
  HandshakeRequest,
  HandshakeResponse,
  MessageKind,
} from './events.ts';
export { WebSocketUsageError } from './errors.ts';
export type { ProtocolErrorCode, UsageErrorCode } from './errors.ts';
export { DEFAULT_LIMITS, DEFAULT_TIMEOUTS, DEFAULT_SERVER_SESSION_TIMEOUTS } from './limits.ts';
export type { Limits, Timeouts } from './limits.ts';
export { CloseCode, isValidWireCloseCode } from './close-code.ts';
export { Opcode, isControlOpcode } from './opcode.ts';
export { HttpHeaders } from './http/headers.ts';
export type { HeadersInit } from './http/headers.ts';
export type { RequestHead, ResponseHead } from './http/head-parser.ts';
export type {
  Extension,
  ExtensionFactory,
  ExtensionOffer,
  ExtensionParam,
  ExtensionSink,
} from './extensions/extension.ts';
export { permessageDeflate } from './extensions/permessage-deflate.ts';
export type { PerMessageDeflateOptions } from './extensions/permessage-deflate.ts';
export type { DeflateBackend, DeflaterOptions, RawDeflater, RawInflater } from './extensions/deflate-backend.ts';
export type { ConnectionState } from './transitions.ts';
export { transitionTable } from './transitions.ts';
export { parseWsUrl } from './handshake/client.ts';
export type { WsUrl } from './handshake/client.ts';
export { computeAcceptKey } from './handshake/accept-key.ts';
export { encodeUtf8, decodeUtf8, isValidUtf8, utf8ByteLength } from './utf8.ts';
export type { RandomSource } from './random.ts';
export { Slab } from './slab.ts';
export type { EngineTuning } from './engine-tuning.ts';
