// @ws/codec/session: the runtime-agnostic session layer. This file only re-exports.
export type { Transport, TransportHandlers, PeerInfo } from './transport.ts';
export type { EngineTuning } from '../engine-tuning.ts';
export type { SessionOptions, Timers } from './options.ts';
export { Emitter } from './emitter.ts';
export type { EventMap } from './emitter.ts';
export { HandshakeError, WebSocketError } from './errors.ts';
export type { SessionCloseInfo, SessionErrorCode } from './errors.ts';
export { WebSocketConnection } from './websocket-connection.ts';
export { transportHandlers } from './connection-wiring.ts';
export type {
  ReadyState,
  SessionRequest,
  FragmentInfo,
  ConnectionEvents,
  SendOptions,
  SendResult,
  FragmentOptions,
} from './connection-types.ts';
export type { Message } from './message-queue.ts';
export type { SendData, BinaryData } from './data.ts';
export { ServerSession } from './server-session.ts';
export { ServerBudget } from './server-budget.ts';
export { ConnectionRegistry, DEFAULT_SHUTDOWN_TIMEOUT } from './connection-registry.ts';
export type { ShutdownOptions, ConnectionSet } from './connection-registry.ts';
export { SessionServer } from './session-server.ts';
export type { ServeInput } from './session-server.ts';
export type {
  ServerSessionOptions,
  VerifyResult,
  VerifyRefusal,
  ProtocolChooser,
  ConnectionHandler,
  ServerHandshakes,
} from './server-session.ts';
export { CLIENT_OPTION_KEYS, SERVER_OPTION_KEYS, FOREIGN_OPTIONS, checkOptionKeys } from './option-keys.ts';
export { describeTransportError } from './transport-error.ts';
export type { TransportFailure, TransportFailureKind } from './transport-error.ts';
export { connectSession } from './client-session.ts';
export type { ClientSessionOptions } from './client-session.ts';
export { startClient, openedOrRejected, TopicServer } from './adapter-helpers.ts';
export { PendingTransport } from './pending-transport.ts';
export { StreamServer } from './stream-server.ts';
export { StreamTransport, Http2ServerTransport, Http2ClientTransport, HTTP2_CANCEL } from './stream-transport.ts';
export { Http2SessionPool, connectOverHttp2, refuseHttp2Option } from './http2-session-pool.ts';
export type { Http2Origin, Http2Connect } from './http2-session-pool.ts';
export { headerList, headerRecord, isExtendedConnect, requestHeadOf, socketPeer, streamPeer } from './node-style.ts';
export type {
  HeaderRecord,
  NodeListener,
  NodeStyleEmitter,
  NodeStyleDuplex,
  NodeStyleSocket,
  NodeStyleHttp2Stream,
  NodeStyleServerStream,
  NodeStyleSettings,
  NodeStyleClientSession,
  NodeStyleRequest,
  NodeStyleServer,
} from './node-style.ts';
export { ProxyError, TunnelReads, openTunnel, resolveProxy } from './proxy.ts';
export type { ProxyOption, TunnelIo } from './proxy.ts';
export type { ProxyEndpoint } from '../http/connect-tunnel.ts';
export type { AttachableTransport, ServerEvents, ServerAddress } from './adapter-helpers.ts';
export { createWebSocketClass, WhatwgWebSocket } from './whatwg.ts';
export type {
  WebSocketClass,
  WebSocketClassOptions,
  WebSocketInit,
  BinaryConverter,
  WebSocketEvent,
  WebSocketMessageEvent,
  WebSocketErrorEvent,
  WebSocketCloseEvent,
  WebSocketEventMap,
  ListenerOptions,
} from './whatwg.ts';
export { WebSocketStreamBase, createWebSocketStreamClass } from './web-socket-stream.ts';
export type {
  WebSocketStreamClass,
  WebSocketStreamOptions,
  WebSocketStreamOpenInfo,
  WebSocketStreamCloseInfo,
  AbortSignalLike,
} from './web-socket-stream.ts';
export { Topics, createTopics, DEFAULT_BACKPRESSURE_LIMIT } from './topics.ts';
export type { PublishOptions, TopicOptions } from './topics.ts';
export type { Broker, BrokerLink, BrokerMember, BrokerMessage } from './broker.ts';
export { InProcessBroker } from './in-process-broker.ts';
export type {
  FetchHandler,
  FetchServer,
  FetchRequest,
  FetchResponse,
  RequestLike,
  ResponseLike,
} from './http-exchange.ts';
