/**
 * The Autobahn|Testsuite client loop, written once for every runtime's `autobahn-client` script:
 * GET /getCaseCount, then /runCase?case=N&agent=A for each case echoing every message back
 * unchanged, then /updateReports?agent=A. Each case is bounded in time. The caller passes its
 * runtime's `createConnection` and the extensions to offer.
 */
import type { ExtensionFactory } from '../../extensions/extension.ts';
import type { WebSocketConnection } from '../websocket-connection.ts';
import type { SessionCloseInfo } from '../errors.ts';
import type { ClientSessionOptions } from '../client-session.ts';
import { hostTimers } from '../options.ts';

export interface AutobahnClientOptions {
  /** The runtime adapter's `createConnection(url, options)`. */
  createConnection: (url: string, options: ClientSessionOptions) => WebSocketConnection;
  /** Extensions to offer on every connection (12.x and 13.x need permessage-deflate). */
  extensions?: readonly ExtensionFactory[];
  url: string;
  agent: string;
  caseTimeout: number;
  /** An HTTP proxy to run every case through (`http://host:port`), or none. */
  proxy?: string;
  /**
   * Open each case's connection with this instead of `createConnection` (an adapter's
   * `connect()`, e.g. with `http2: true`, which waits for the server's SETTINGS first).
   */
  connect?: (url: string, options: ClientSessionOptions) => Promise<WebSocketConnection>;
  log?: (line: string) => void;
}

/** Runs every case; resolves with the case count, or 0 if the server did not give one. */
export async function runAutobahnClient(config: AutobahnClientOptions): Promise<number> {
  const base = config.url.replace(/\/+$/, '');
  // Generous limits, as a conforming peer's must be: the 9.x cases send 16 MiB messages.
  const options: ClientSessionOptions = {
    limits: { maxMessageSize: 64 * 1024 * 1024, maxFrameSize: 64 * 1024 * 1024 },
    maxBufferedAmount: 256 * 1024 * 1024,
    extensions: config.extensions ?? [],
  };
  if (config.proxy !== undefined && config.proxy !== '') options.proxy = config.proxy;
  const log = config.log ?? (() => {});
  const agent = encodeURIComponent(config.agent);

  const run = (
    path: string,
    onOpen: (ws: WebSocketConnection) => void,
  ): Promise<Partial<SessionCloseInfo> & { failed?: unknown }> =>
    new Promise((resolve) => {
      const started = (ws: WebSocketConnection): void => {
        const timer = hostTimers.setTimeout(() => ws.terminate(), config.caseTimeout);
        ws.on('error', () => {});
        onOpen(ws);
        void ws.closed.then((info) => {
          hostTimers.clearTimeout(timer);
          resolve(info);
        });
      };
      const url = `${base}${path}`;
      if (config.connect !== undefined) {
        // A case whose handshake fails counts as closed; the loop goes on with the next one.
        config.connect(url, options).then(started, (error: unknown) => resolve({ failed: error }));
        return;
      }
      try {
        started(config.createConnection(url, options));
      } catch (error) {
        resolve({ failed: error });
      }
    });

  let count = 0;
  await run('/getCaseCount', (ws) => ws.once('message', (data) => (count = Number(data))));
  if (!Number.isInteger(count) || count <= 0) return 0;
  log(`${count} cases`);
  for (let i = 1; i <= count; i++) {
    const info = await run(`/runCase?case=${i}&agent=${agent}`, (ws) => {
      ws.on('message', (data) => ws.send(data));
    });
    log(`case ${i}/${count}: closed ${info.code ?? ''}${info.error ? ` (${info.error})` : ''}`);
  }
  await run(`/updateReports?agent=${agent}`, () => {});
  log('reports updated');
  return count;
}
