// @ws/deno: WebSocket server and client for Deno, on Deno's own TCP and TLS sockets. This file only re-exports.
export { createServer, createUpgradeHandler, UpgradeHandler, WebSocketServer } from './server.ts';
export type { ServerOptions, ServerTlsOptions, ServerAddress, UpgradeHandlerOptions } from './server.ts';
export { connect, createConnection, WebSocket, WebSocketStream } from './client.ts';
export type { ConnectOptions } from './client.ts';
export { DenoTransport } from './transport.ts';
export type { DenoTransportOptions } from './transport.ts';
export {
  WebSocketConnection,
  HandshakeError,
  WebSocketError,
  Topics,
  createTopics,
  InProcessBroker,
  ConnectionRegistry,
  ProxyError,
} from '@ws/codec/session';
export type {
  SessionCloseInfo as CloseInfo,
  SessionErrorCode,
  SessionRequest,
  ReadyState,
  SendOptions,
  SendResult,
  FragmentInfo,
  ConnectionEvents,
  ConnectionHandler,
  ServerEvents,
  VerifyResult,
  VerifyRefusal,
  ProtocolChooser,
  WebSocketEvent,
  WebSocketMessageEvent,
  WebSocketErrorEvent,
  WebSocketCloseEvent,
  WebSocketEventMap,
  ServerSessionOptions,
  ShutdownOptions,
  ConnectionSet,
  ClientSessionOptions,
  WebSocketInit,
  WebSocketStreamOptions,
  WebSocketStreamOpenInfo,
  WebSocketStreamCloseInfo,
  PublishOptions,
  TopicOptions,
  Broker,
  BrokerLink,
  BrokerMember,
  BrokerMessage,
} from '@ws/codec/session';
export { WebSocketUsageError, CloseCode } from '@ws/codec';
// permessage-deflate on Deno's native zlib (node:zlib), 10-30x faster than pako here.
export { permessageDeflate, zlibBackend } from '@ws/zlib';
export type { ProtocolErrorCode, Limits, Timeouts, PerMessageDeflateOptions } from '@ws/codec';
