// The fuzzing client: runs cases against a WebSocket server, one TCP connection per case, built
// by hand over node:net (handshake and frames byte by byte).
import { connect, type Socket } from 'node:net';
import type { Buffer } from 'node:buffer';
import { CaseRun, missingResult, type CaseDef, type CaseResult } from './case.ts';
import { DEFAULT_TIMING, FuzzConnection, type Timing } from './fuzz-connection.ts';
import { checkDeflateResponse, formatOffer, type DeflateAgreed, type DeflateOffer } from './deflate.ts';
import {
  HeadReader,
  buildClientRequest,
  checkServerResponse,
  newClientKey,
  parseHead,
  parseWsUrl,
  type WsTarget,
} from './handshake.ts';

export interface ClientRunOptions {
  /** The server under test, `ws://host:port/path`. */
  url: string;
  cases: readonly CaseDef[];
  /** Cases run at once (exclusive cases always run alone, after the others). Default 1. */
  concurrency?: number;
  timing?: Partial<Timing>;
  /** Seconds to connect and complete the opening handshake (Autobahn: 5). */
  openHandshakeTimeout?: number;
  /** Called as each case finishes. */
  onResult?: (result: CaseResult) => void;
}

/** Run `cases` against the server at `url`; results in the order of `cases`. */
export async function runAgainstServer(options: ClientRunOptions): Promise<CaseResult[]> {
  const target = parseWsUrl(options.url);
  const timing: Timing = { ...DEFAULT_TIMING, ...options.timing };
  const openTimeout = (options.openHandshakeTimeout ?? 5) * 1000 * timing.scale;
  const results = new Map<string, CaseResult>();
  const runOne = async (def: CaseDef): Promise<void> => {
    const result = await runCaseAgainstServer(def, target, timing, openTimeout);
    results.set(def.id, result);
    options.onResult?.(result);
  };
  const shared = options.cases.filter((d) => !d.exclusive);
  const alone = options.cases.filter((d) => d.exclusive);
  const workers = Math.max(1, Math.min(options.concurrency ?? 1, shared.length));
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < shared.length) await runOne(shared[next++]!);
    }),
  );
  for (const def of alone) await runOne(def);
  return options.cases.map((d) => results.get(d.id)!);
}

/** One case over one fresh connection. */
export async function runCaseAgainstServer(
  def: CaseDef,
  target: WsTarget,
  timing: Timing,
  openTimeoutMs: number,
): Promise<CaseResult> {
  const opened = await openConnection(target, openTimeoutMs, def.deflate?.offers ?? []);
  if ('error' in opened)
    return missingResult(def, `The WebSocket opening handshake was never completed: ${opened.error}`);
  const { socket, rest } = opened;
  const conn = new FuzzConnection(socket, 'client', timing, opened.deflate);
  const run = new CaseRun(def, conn);
  const limit = setTimeout(() => socket.destroy(), (def.limit ?? 30) * 1000 * timing.scale);
  try {
    def.start(run);
    if (rest.length > 0) conn.feed(rest);
    await conn.lost;
  } finally {
    clearTimeout(limit);
    socket.destroy();
  }
  return run.judge();
}

type Opened = { socket: Socket; rest: Buffer; deflate: DeflateAgreed | null } | { error: string };

/** Connect and do the client side of the opening handshake (offering permessage-deflate when `offers`). */
export function openConnection(
  target: WsTarget,
  timeoutMs: number,
  offers: readonly DeflateOffer[] = [],
): Promise<Opened> {
  return new Promise((resolve) => {
    const key = newClientKey();
    const reader = new HeadReader();
    const socket = connect({ host: target.host, port: target.port });
    let settled = false;
    const finish = (value: Opened): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if ('error' in value) socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => finish({ error: `no handshake within ${timeoutMs} ms` }), timeoutMs);
    const onError = (error: Error): void => finish({ error: error.message });
    const onClose = (): void => finish({ error: 'connection closed during the opening handshake' });
    const onData = (chunk: Buffer): void => {
      const got = reader.push(chunk);
      if (got === 'more') return;
      if (got === 'too-large') return finish({ error: 'response head too large' });
      const head = parseHead(got.head);
      const problem = checkServerResponse(head, key, offers.length > 0);
      if (problem) return finish({ error: problem });
      const deflate = checkDeflateResponse(head.headers.get('sec-websocket-extensions'), offers);
      if (typeof deflate === 'string') return finish({ error: `invalid permessage-deflate response: ${deflate}` });
      finish({ socket, rest: got.rest, deflate });
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    const extra: Record<string, string> =
      offers.length > 0 ? { 'Sec-WebSocket-Extensions': offers.map(formatOffer).join(', ') } : {};
    socket.once('connect', () => socket.write(buildClientRequest(target, key, extra)));
  });
}
