// Shared helpers for the Node adapter's tests: servers on 127.0.0.1 only, bounded waits.
import { once } from 'node:events';
import { WebSocketServer as WsServer, WebSocket as WsClient } from 'ws';
import { createServer, type ServerOptions, type WebSocketServer } from '../src/index.ts';
import type { ConnectionHandler } from '@ws/codec/session';
import { hasOpenssl, selfSignedCert } from '../../../scripts/lib/self-signed-cert.mjs';

export const HOST = '127.0.0.1';

/** Our server on a free port; closed by the returned `close`. */
export async function ourServer(
  options: ServerOptions = {},
  onConnection?: ConnectionHandler,
): Promise<{ server: WebSocketServer; url: string; port: number }> {
  const server = createServer(options, onConnection);
  const { port } = await server.listen(0, HOST);
  return { server, url: `ws://${HOST}:${port}`, port };
}

/** A `ws` server on a free port. */
export async function wsServer(
  options: ConstructorParameters<typeof WsServer>[0] = {},
): Promise<{ server: WsServer; url: string }> {
  const server = new WsServer({ host: HOST, port: 0, ...options });
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { server, url: `ws://${HOST}:${port}` };
}

export function closeWsServer(server: WsServer): Promise<void> {
  for (const client of server.clients) client.terminate();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A `ws` client, opened. */
export async function wsClient(
  url: string,
  protocols?: string | string[],
  options?: ConstructorParameters<typeof WsClient>[2],
): Promise<WsClient> {
  const ws = new WsClient(url, protocols, options);
  await once(ws, 'open');
  return ws;
}

/** Bounded waits: `within(promise, ms, what)`, `until(condition, what, ms)`, and `sleep(ms)`. */
export { sleep, until, within } from '../../../test/shared/wait.ts';

/** The next `n` messages of a `ws` client, as [data, isBinary]. */
export function wsMessages(ws: WsClient, n: number): Promise<Array<[Buffer, boolean]>> {
  return new Promise((resolve) => {
    const got: Array<[Buffer, boolean]> = [];
    const onMessage = (data: Buffer, isBinary: boolean): void => {
      got.push([data, isBinary]);
      if (got.length === n) {
        ws.off('message', onMessage);
        resolve(got);
      }
    };
    ws.on('message', onMessage);
  });
}

/** Deterministic pseudo-random bytes. */
export { bytes } from '../../../test/shared/bytes.ts';

export { hasOpenssl };

/** A fresh self-signed certificate for `localhost` and 127.0.0.1 (the one every runtime's TLS tests and echo.mjs make). */
export function selfSigned(): { key: Buffer; cert: Buffer } {
  const { key, cert } = selfSignedCert();
  return { key: Buffer.from(key), cert: Buffer.from(cert) };
}
