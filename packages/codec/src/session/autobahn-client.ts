/**
 * The Autobahn|Testsuite client loop, written once for every runtime's `autobahn-client` script:
 * GET /getCaseCount, then /runCase?case=N&agent=A for each case echoing every message back
 * unchanged, then /updateReports?agent=A. Each case is bounded in time. The caller passes its
 * runtime's `createConnection` and the connection options (e.g. extensions to offer).
 */
import type { WebSocketConnection } from './websocket-connection.ts';
import type { SessionCloseInfo } from './errors.ts';
import { hostTimers } from './options.ts';

export interface AutobahnClientOptions<O> {
  /** The runtime adapter's `createConnection(url, options)`. */
  createConnection: (url: string, options: O) => WebSocketConnection;
  /** Options for every connection; generous limits, since 9.x sends 16 MiB messages. */
  options: O;
  url: string;
  agent: string;
  caseTimeout: number;
  log?: (line: string) => void;
}

/** Runs every case; resolves with the case count, or 0 if the server did not give one. */
export async function runAutobahnClient<O>(config: AutobahnClientOptions<O>): Promise<number> {
  const base = config.url.replace(/\/+$/, '');
  const log = config.log ?? (() => {});
  const agent = encodeURIComponent(config.agent);

  const run = (path: string, onOpen: (ws: WebSocketConnection) => void): Promise<Partial<SessionCloseInfo> & { failed?: unknown }> =>
    new Promise((resolve) => {
      let ws: WebSocketConnection;
      try {
        ws = config.createConnection(`${base}${path}`, config.options);
      } catch (error) {
        resolve({ failed: error });
        return;
      }
      const timer = hostTimers.setTimeout(() => ws.terminate(), config.caseTimeout);
      ws.on('error', () => {});
      onOpen(ws);
      void ws.closed.then((info) => {
        hostTimers.clearTimeout(timer);
        resolve(info);
      });
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
