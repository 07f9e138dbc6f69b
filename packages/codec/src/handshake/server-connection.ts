/**
 * `serverConnection()`: a `Connection` with the server's side of the handshake (`server.ts`).
 * Its own module, reached through `@ws/codec/server`, so that a client pays nothing for it.
 */
import { Connection, type ServerConnectionOptions } from '../connection.ts';
import { formatExtensionHeader } from './header-values.ts';
import { HeadParser } from '../http/head-parser.ts';
import type { ServerRole } from './role.ts';
import { buildAcceptResponse, buildRejectResponse, checkRequest, validateRequest } from './server.ts';

const SERVER: ServerRole = Object.freeze({
  role: 'server',
  validateRequest,
  checkRequest,
  buildAcceptResponse,
  buildRejectResponse,
  formatExtensionHeader,
  HeadParser,
});

/** A server connection: feed it the client's bytes, answer its `request` event. */
export function serverConnection(options: ServerConnectionOptions = {}): Connection {
  return new Connection(SERVER, null, options);
}
