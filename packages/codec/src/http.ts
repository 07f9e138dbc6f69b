// @ws/codec/http: plain HTTP beside WebSockets on a server connection (pass `HttpServerPhase` as
// its `http` option), with the HTTP/1.1 pieces it is made of: request body framing and decoding,
// response heads, chunked encoding. An entry point of its own so that only servers that serve
// plain HTTP carry it. This file only re-exports.
export { HttpServerPhase } from './http/server-exchange.ts';
export type { HttpServerSettings, HttpPhaseEvent } from './http/server-exchange.ts';
export { BodyDecoder, requestFraming } from './http/body-decoder.ts';
export type { BodyFraming, BodyError, BodyChunks } from './http/body-decoder.ts';
export {
  serializeResponseHead,
  requestKeepsAlive,
  statusHasNoBody,
  encodeChunk,
  LAST_CHUNK,
  CONTINUE_RESPONSE,
  REASON_PHRASES,
} from './http/response.ts';
export type {
  ResponseFraming,
  ResponseHeadInit,
  ResponseHeadContext,
  SerializedResponseHead,
} from './http/response.ts';
export { HttpHeaders } from './http/headers.ts';
export type { HeadersInit } from './http/headers.ts';
export type { RequestHead, ResponseHead } from './http/head-parser.ts';
