// @ws/codec/http2: WebSockets over HTTP/2 (RFC 8441), for runtimes whose HTTP/2 stack carries an
// extended CONNECT: connections whose handshake is a header list, and the header-list functions
// themselves. An entry point of its own so that nobody else carries it. This file only re-exports.
export { http2ClientConnection, http2ServerConnection } from './handshake/http2-connection.ts';
export {
  buildExtendedConnectAccept,
  buildExtendedConnectReject,
  buildExtendedConnectRequest,
  readExtendedConnectResponse,
  validateExtendedConnect,
  verifyExtendedConnectResponse,
} from './handshake/extended-connect.ts';
export type { ExtendedConnectResponse, HeaderList } from './handshake/extended-connect.ts';
