// @ws/codec/client: client connections (the client's side of the opening handshake, RFC 6455
// §4.1). An entry point of its own so that a server does not carry it. This file only re-exports.
export { clientConnection } from './handshake/client-connection.ts';
export type { ClientConnectionOptions } from './connection.ts';
export { parseWsUrl } from './handshake/client.ts';
export type { WsUrl } from './handshake/client.ts';
