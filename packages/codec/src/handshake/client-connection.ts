/**
 * `clientConnection()`: a `Connection` with the client's side of the handshake (`client.ts`).
 * Its own module, reached through `@ws/codec/client`, so that a server pays nothing for it.
 */
import { Connection, type ClientConnectionOptions } from '../connection.ts';
import { generateKey } from './accept-key.ts';
import { buildClientRequest, parseWsUrl, verifyResponse } from './client.ts';
import { HeadParser } from '../http/head-parser.ts';
import type { ClientRole } from './role.ts';
import { MaskKeyPool, defaultRandomSource } from '../random.ts';

const CLIENT: ClientRole = Object.freeze({
  role: 'client',
  parseWsUrl,
  generateKey,
  buildClientRequest,
  verifyResponse,
  defaultRandomSource,
  MaskKeyPool,
  HeadParser,
});

/** A client connection for a `ws:` or `wss:` URL; its request is ready in `takeOutput()`. */
export function clientConnection(url: string | { href: string }, options: ClientConnectionOptions = {}): Connection {
  return new Connection(CLIENT, url, options);
}
