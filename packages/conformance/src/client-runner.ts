// The fuzzing client: runs cases against a WebSocket server, one TCP connection per case, built
// by hand over node:net (handshake and frames byte by byte).
import { connect, type Socket } from 'node:net';
import { Buffer } from 'node:buffer';
import http2 from 'node:http2';
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
  /** Each case over HTTP/2 (RFC 8441): a session of its own, an extended CONNECT stream as the socket. */
  http2?: boolean;
}

/** Run `cases` against the server at `url`; results in the order of `cases`. */
export async function runAgainstServer(options: ClientRunOptions): Promise<CaseResult[]> {
  const target = parseWsUrl(options.url);
  if (target.secure && options.http2 !== true) throw new TypeError('wss:// is for --http2 only');
  const timing: Timing = { ...DEFAULT_TIMING, ...options.timing };
  const openTimeout = (options.openHandshakeTimeout ?? 5) * 1000 * timing.scale;
  const results = new Map<string, CaseResult>();
  const runOne = async (def: CaseDef): Promise<void> => {
    const result = await runCaseAgainstServer(def, target, timing, openTimeout, options.http2 === true);
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
  http2 = false,
): Promise<CaseResult> {
  const opened = await (http2 ? openHttp2Connection : openConnection)(target, openTimeoutMs, def.deflate?.offers ?? []);
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
    opened.close?.();
  }
  return run.judge();
}

type Opened = { socket: Socket; rest: Buffer; deflate: DeflateAgreed | null; close?: () => void } | { error: string };

/**
 * Over HTTP/2 (RFC 8441): a session of its own, an extended CONNECT with the offers, a 200 with an
 * acceptable permessage-deflate answer; the stream stands in for the TCP socket (its END_STREAM
 * for FIN, its reset for a dropped connection). The certificate is not checked (a test server).
 */
export function openHttp2Connection(
  target: WsTarget,
  timeoutMs: number,
  offers: readonly DeflateOffer[] = [],
): Promise<Opened> {
  return new Promise((resolve) => {
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    const session = http2.connect(`${target.secure ? 'https' : 'http'}://${host}:${target.port}`, {
      rejectUnauthorized: false,
    });
    let settled = false;
    const finish = (value: Opened): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if ('error' in value) session.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => finish({ error: `no handshake within ${timeoutMs} ms` }), timeoutMs);
    session.on('error', (error: Error) => finish({ error: error.message }));
    session.once('close', () => finish({ error: 'session closed during the opening handshake' }));
    session.once('remoteSettings', (settings) => {
      if (settings.enableConnectProtocol !== true)
        return finish({ error: 'the server does not allow extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL)' });
      const headers: http2.OutgoingHttpHeaders = {
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':scheme': target.secure ? 'https' : 'http',
        ':path': target.resource,
        ':authority': target.hostHeader,
        'sec-websocket-version': '13',
      };
      if (offers.length > 0) headers['sec-websocket-extensions'] = offers.map(formatOffer).join(', ');
      const stream = session.request(headers, { endStream: false });
      stream.on('error', (error: Error) => finish({ error: error.message }));
      stream.once('response', (response) => {
        if (response[':status'] !== 200) return finish({ error: `status ${response[':status']}, not 200` });
        const value = response['sec-websocket-extensions'];
        const deflate = checkDeflateResponse(value === undefined ? undefined : String(value), offers);
        if (typeof deflate === 'string') return finish({ error: `invalid permessage-deflate response: ${deflate}` });
        // What FuzzConnection asks of a socket that a stream lacks; and, as a net.Socket without
        // allowHalfOpen does on FIN, our side ends when the server's does (then 'close' follows).
        const socket = Object.assign(stream, { setNoDelay: () => stream }) as unknown as Socket;
        stream.once('end', () => stream.end());
        finish({ socket, rest: Buffer.alloc(0), deflate, close: () => session.destroy() });
      });
    });
  });
}

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
