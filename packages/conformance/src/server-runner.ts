// The fuzzing server: runs the cases against a WebSocket *client* that follows the Autobahn
// client protocol — `GET /getCaseCount` (a text message with the number of cases),
// `/runCase?case=N&agent=A` (case N, 1-based, echo every message), `/updateReports?agent=A`
// (the client is done). Listens on 127.0.0.1 only.
import { createServer, type Server, type Socket } from 'node:net';
import type { Buffer } from 'node:buffer';
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
}

export class FuzzingServer {
  readonly port: number;
  readonly cases: readonly CaseDef[];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #results = new Map<string, Map<string, CaseResult>>();
  readonly #reported = new Set<string>();
  readonly #waiters = new Set<() => void>();
  readonly #timing: Timing;
  readonly #options: FuzzingServerOptions;
  #lastActivity = Date.now();
  #running = 0;

  private constructor(server: Server, port: number, options: FuzzingServerOptions) {
    this.#server = server;
    this.port = port;
    this.cases = options.cases;
    this.#options = options;
    this.#timing = { ...DEFAULT_TIMING, ...options.timing };
  }

  static start(options: FuzzingServerOptions): Promise<FuzzingServer> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        const address = server.address();
        const port = typeof address === 'object' && address ? address.port : 0;
        const fuzzing = new FuzzingServer(server, port, options);
        server.on('connection', (socket) => fuzzing.#accept(socket));
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

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    this.#lastActivity = Date.now();
    socket.once('close', () => this.#sockets.delete(socket));
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
      const agent = request.query.get('agent') ?? '';
      if (request.path === '/getCaseCount') {
        const conn = this.#open(socket, request.key, got.rest);
        conn.sendMessage(false, new TextEncoder().encode(String(this.cases.length)));
        conn.sendClose(Close.normal);
      } else if (request.path === '/updateReports') {
        if (!agent) return this.#refuse(socket, 400, 'Bad Request');
        const conn = this.#open(socket, request.key, got.rest);
        conn.sendClose(Close.normal);
        this.#reported.add(agent);
        this.#notify();
      } else if (request.path === '/runCase') {
        const index = Number(request.query.get('case'));
        const def = Number.isInteger(index) ? this.cases[index - 1] : undefined;
        if (!def || !agent) return this.#refuse(socket, 400, 'Bad Request');
        void this.#runCase(socket, request.key, got.rest, def, agent, request.extensions);
      } else {
        this.#options.onNote?.(`refused a request for ${request.path}`);
        this.#refuse(socket, 404, 'Not Found');
      }
    };
    socket.on('data', onData);
  }

  #refuse(socket: Socket, status: number, text: string): void {
    socket.end(buildErrorResponse(status, text));
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  #open(socket: Socket, key: string, rest: Buffer): FuzzConnection {
    socket.write(buildServerResponse(key));
    const conn = new FuzzConnection(socket, 'server', this.#timing);
    if (rest.length > 0) queueMicrotask(() => conn.feed(rest));
    return conn;
  }

  async #runCase(
    socket: Socket,
    key: string,
    rest: Buffer,
    def: CaseDef,
    agent: string,
    offer: string | undefined,
  ): Promise<void> {
    this.#running++;
    try {
      // Only the deflate cases (12, 13) accept the client's permessage-deflate offer.
      const deflate = def.deflate ? acceptDeflateOffer(offer, def.deflate.accept) : null;
      socket.write(buildServerResponse(key, deflate?.header));
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
