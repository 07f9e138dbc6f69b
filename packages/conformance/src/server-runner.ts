// The fuzzing server: runs the cases against a WebSocket *client* that follows the Autobahn
// client protocol — `GET /getCaseCount` (a text message with the number of cases),
// `/runCase?case=N&agent=A` (case N, 1-based, echo every message), `/updateReports?agent=A`
// (the client is done). Listens on 127.0.0.1 only. With `http2`, the same over HTTP/2 (RFC 8441,
// h2c): each request is an extended CONNECT stream, which then stands in for the socket.
import { createServer, type Server, type Socket } from 'node:net';
import { Buffer } from 'node:buffer';
import http2 from 'node:http2';
import { CaseRun, type CaseDef, type CaseResult } from './case.ts';
import { DEFAULT_TIMING, FuzzConnection, type Timing } from './fuzz-connection.ts';
import { HeadReader, buildErrorResponse, buildServerResponse, checkClientRequest, parseHead } from './handshake.ts';
import { Close } from './frame.ts';
import { acceptDeflateOffer } from './deflate.ts';

export interface FuzzingServerOptions {
  cases: readonly CaseDef[];
  /** Default 0: any free port. */
  port?: number;
  timing?: Partial<Timing>;
  /** Seconds for the client's opening handshake (Autobahn: 5). */
  openHandshakeTimeout?: number;
  onResult?: (agent: string, result: CaseResult) => void;
  /** Called for requests that are not part of the protocol, and other notes. */
  onNote?: (text: string) => void;
  /** Serve over HTTP/2 (h2c, RFC 8441): every WebSocket an extended CONNECT stream. */
  http2?: boolean;
}

/** How a request is answered: with the 101/200 (and the agreed extensions) or with an HTTP error. */
interface Answer {
  accept(extensions?: string): Socket;
  refuse(status: number, text: string): void;
}

export class FuzzingServer {
  readonly port: number;
  readonly cases: readonly CaseDef[];
  readonly #server: Server | http2.Http2Server;
  readonly #sockets = new Set<{ destroy(): void }>();
  readonly #results = new Map<string, Map<string, CaseResult>>();
  readonly #reported = new Set<string>();
  readonly #waiters = new Set<() => void>();
  readonly #timing: Timing;
  readonly #options: FuzzingServerOptions;
  #lastActivity = Date.now();
  #running = 0;

  private constructor(server: Server | http2.Http2Server, port: number, options: FuzzingServerOptions) {
    this.#server = server;
    this.port = port;
    this.cases = options.cases;
    this.#options = options;
    this.#timing = { ...DEFAULT_TIMING, ...options.timing };
  }

  static start(options: FuzzingServerOptions): Promise<FuzzingServer> {
    return new Promise((resolve, reject) => {
      const h2 = options.http2 === true ? http2.createServer({ settings: { enableConnectProtocol: true } }) : null;
      const server = h2 ?? createServer();
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        const address = server.address();
        const port = typeof address === 'object' && address ? address.port : 0;
        const fuzzing = new FuzzingServer(server, port, options);
        if (h2 !== null) {
          h2.on('session', (session) => fuzzing.#track(session));
          h2.on('stream', (stream, headers) => fuzzing.#acceptStream(stream, headers));
        } else (server as Server).on('connection', (socket) => fuzzing.#accept(socket));
        resolve(fuzzing);
      });
    });
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Results so far for `agent`, by case id. */
  results(agent: string): Map<string, CaseResult> {
    return this.#results.get(agent) ?? new Map();
  }

  agents(): string[] {
    return [...this.#results.keys()];
  }

  /** Whether `agent` asked for its reports (i.e. says it has run every case). */
  reported(agent: string): boolean {
    return this.#reported.has(agent);
  }

  /** Milliseconds since the last connection started or ended; 0 while a case is running. */
  idleMs(): number {
    return this.#running > 0 ? 0 : Date.now() - this.#lastActivity;
  }

  /** Resolves on the next report request or case result (for polling loops that must not spin). */
  changed(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
    });
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #notify(): void {
    this.#lastActivity = Date.now();
    for (const waiter of [...this.#waiters]) waiter();
  }

  #track(closable: { destroy(): void; once(event: 'close', listener: () => void): unknown }): void {
    this.#sockets.add(closable);
    this.#lastActivity = Date.now();
    closable.once('close', () => this.#sockets.delete(closable));
  }

  #accept(socket: Socket): void {
    this.#track(socket);
    socket.on('error', () => {});
    const reader = new HeadReader();
    const timer = setTimeout(
      () => socket.destroy(),
      (this.#options.openHandshakeTimeout ?? 5) * 1000 * this.#timing.scale,
    );
    const onData = (chunk: Buffer): void => {
      const got = reader.push(chunk);
      if (got === 'more') return;
      clearTimeout(timer);
      socket.off('data', onData);
      if (got === 'too-large') return this.#refuse(socket, 431, 'Request Header Fields Too Large');
      const request = checkClientRequest(parseHead(got.head));
      if (typeof request === 'string') {
        this.#options.onNote?.(`refused a request: ${request}`);
        return this.#refuse(socket, 400, 'Bad Request');
      }
      this.#route(request.path, request.query, request.extensions, got.rest, {
        accept: (extensions) => {
          socket.write(buildServerResponse(request.key, extensions));
          return socket;
        },
        refuse: (status, text) => this.#refuse(socket, status, text),
      });
    };
    socket.on('data', onData);
  }

  /** An HTTP/2 request: only an extended CONNECT for a WebSocket (RFC 8441 §4, §5) is served. */
  #acceptStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    stream.on('error', () => {});
    const refuse = (status: number, text: string): void => {
      this.#options.onNote?.(`refused an HTTP/2 request: ${text}`);
      if (!stream.headersSent) stream.respond({ ':status': status }, { endStream: true });
      else stream.close(http2.constants.NGHTTP2_CANCEL);
    };
    if (headers[':method'] !== 'CONNECT' || headers[':protocol'] !== 'websocket')
      return refuse(400, 'not an extended CONNECT for websocket');
    if (headers['sec-websocket-version'] !== '13') return refuse(400, 'sec-websocket-version is not 13');
    const url = new URL(String(headers[':path'] ?? '/'), 'http://localhost');
    const offer = headers['sec-websocket-extensions'];
    const answer: Answer = {
      accept: (extensions) => {
        stream.respond(
          extensions === undefined ? { ':status': 200 } : { ':status': 200, 'sec-websocket-extensions': extensions },
        );
        // What FuzzConnection asks of a socket that a stream lacks; the peer's END_STREAM ends ours
        // too, as a net.Socket without allowHalfOpen does on FIN (then 'close' follows).
        stream.once('end', () => stream.end());
        return Object.assign(stream, { setNoDelay: () => stream }) as unknown as Socket;
      },
      refuse: (status, text) => refuse(status, text),
    };
    this.#route(
      url.pathname,
      url.searchParams,
      offer === undefined ? undefined : String(offer),
      Buffer.alloc(0),
      answer,
    );
  }

  /** The Autobahn client protocol's three resources, over either HTTP version. */
  #route(pathname: string, query: URLSearchParams, offer: string | undefined, rest: Buffer, answer: Answer): void {
    const agent = query.get('agent') ?? '';
    if (pathname === '/getCaseCount') {
      const conn = this.#open(answer.accept(), rest);
      conn.sendMessage(false, new TextEncoder().encode(String(this.cases.length)));
      conn.sendClose(Close.normal);
    } else if (pathname === '/updateReports') {
      if (!agent) return answer.refuse(400, 'Bad Request');
      const conn = this.#open(answer.accept(), rest);
      conn.sendClose(Close.normal);
      this.#reported.add(agent);
      this.#notify();
    } else if (pathname === '/runCase') {
      const index = Number(query.get('case'));
      const def = Number.isInteger(index) ? this.cases[index - 1] : undefined;
      if (!def || !agent) return answer.refuse(400, 'Bad Request');
      void this.#runCase(answer, rest, def, agent, offer);
    } else {
      this.#options.onNote?.(`refused a request for ${pathname}`);
      answer.refuse(404, 'Not Found');
    }
  }

  #refuse(socket: Socket, status: number, text: string): void {
    socket.end(buildErrorResponse(status, text));
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  #open(socket: Socket, rest: Buffer): FuzzConnection {
    const conn = new FuzzConnection(socket, 'server', this.#timing);
    if (rest.length > 0) queueMicrotask(() => conn.feed(rest));
    return conn;
  }

  async #runCase(answer: Answer, rest: Buffer, def: CaseDef, agent: string, offer: string | undefined): Promise<void> {
    this.#running++;
    try {
      // Only the deflate cases (12, 13) accept the client's permessage-deflate offer.
      const deflate = def.deflate ? acceptDeflateOffer(offer, def.deflate.accept) : null;
      const socket = answer.accept(deflate?.header);
      const conn = new FuzzConnection(socket, 'server', this.#timing, deflate);
      const run = new CaseRun(def, conn);
      const limit = setTimeout(() => socket.destroy(), (def.limit ?? 30) * 1000 * this.#timing.scale);
      def.start(run);
      if (rest.length > 0) conn.feed(rest);
      await conn.lost;
      clearTimeout(limit);
      const result = run.judge();
      let byCase = this.#results.get(agent);
      if (!byCase) this.#results.set(agent, (byCase = new Map()));
      byCase.set(def.id, result);
      this.#options.onResult?.(agent, result);
    } finally {
      this.#running--;
      this.#notify();
    }
  }
}
