// @ws/codec/session: the runtime-agnostic session layer. This file only re-exports.
export type { Transport, TransportHandlers, PeerInfo } from './transport.ts';
export type { SessionOptions, Timers } from './options.ts';
export { Emitter } from './emitter.ts';
export type { EventMap } from './emitter.ts';
export { HandshakeError, WebSocketError } from './errors.ts';
export type { SessionCloseInfo, SessionErrorCode } from './errors.ts';
export { WebSocketConnection, transportHandlers, sessionInput } from './websocket-connection.ts';
export type { ReadyState, SessionRequest, FragmentInfo, ConnectionEvents, SendOptions, FragmentOptions } from './websocket-connection.ts';
export type { Message } from './message-queue.ts';
export type { SendData, BinaryData } from './data.ts';
export { ServerSession } from './server-session.ts';
export type { ServerSessionOptions, VerifyResult, ConnectionHandler, ServerHandshakes } from './server-session.ts';
export { connectSession } from './client-session.ts';
export type { ClientSessionOptions } from './client-session.ts';
export { createWebSocketClass, WhatwgWebSocket } from './whatwg.ts';
export type { WebSocketClass, WebSocketClassOptions, WebSocketInit, BinaryConverter } from './whatwg.ts';
export { runAutobahnClient } from './autobahn-client.ts';
export type { AutobahnClientOptions } from './autobahn-client.ts';
