// @ws/codec/server: server connections (the server's side of the opening handshake, RFC 6455
// §4.2). An entry point of its own so that a client does not carry it. This file only re-exports.
export { serverConnection } from './handshake/server-connection.ts';
export type { ServerConnectionOptions } from './connection.ts';
export type { ServerHandshakeOptions } from './handshake/server.ts';
