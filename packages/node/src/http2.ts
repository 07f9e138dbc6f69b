/**
 * WebSockets over HTTP/2 on Node (RFC 8441): the transports for an HTTP/2 stream, server and
 * client side. A stream is a `Duplex`, so bytes go through `NodeTransport` as a socket's do; what
 * is added here is the header lists of the extended CONNECT handshake (the codec builds and checks
 * them: `Connection`'s `http2` option) and how a stream ends: our end is END_STREAM, a destroy is
 * RST_STREAM (CANCEL), the peer's reset closes the transport (1006 when no Close came first).
 */
import http2 from 'node:http2';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import tls from 'node:tls';
import type { TransportHandlers } from '@ws/codec/session';
import { NodeTransport } from './transport.ts';

const { NGHTTP2_CANCEL } = http2.constants;

/** A header list as Node's HTTP/2 API takes it: a record, a repeated name as an array. */
export function headerRecord(list: Array<[string, string]>): OutgoingHttpHeaders {
  const record: OutgoingHttpHeaders = Object.create(null);
  for (const [name, value] of list) {
    const had = record[name];
    if (had === undefined) record[name] = value;
    else if (Array.isArray(had)) had.push(value);
    else record[name] = [String(had), value];
  }
  return record;
}

/**
 * The header list of a request or response Node decoded: from its raw list (`[name, value, …]`,
 * order and repeats kept) when it gives one, else from the record (pseudo-headers first, as Node
 * keeps them).
 */
export function headerList(headers: IncomingHttpHeaders | readonly string[]): Array<[string, string]> {
  const list: Array<[string, string]> = [];
  if (Array.isArray(headers)) {
    const raw = headers as readonly string[];
    for (let i = 0; i + 1 < raw.length; i += 2) list.push([raw[i] as string, raw[i + 1] as string]);
    return list;
  }
  for (const [name, value] of Object.entries(headers as IncomingHttpHeaders)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) list.push([name, v]);
    else list.push([name, String(value)]);
  }
  return list;
}

/** Reset the stream (CANCEL) unless it is closed already; Node then destroys it. */
function cancel(stream: http2.Http2Stream): void {
  if (!stream.closed && !stream.destroyed) stream.close(NGHTTP2_CANCEL);
  else stream.destroy();
}

/** A server's HTTP/2 stream carrying one WebSocket: the answer to its extended CONNECT goes out as `respond()`. */
export class Http2ServerTransport extends NodeTransport {
  readonly stream: http2.ServerHttp2Stream;

  constructor(stream: http2.ServerHttp2Stream) {
    super(stream);
    this.stream = stream;
  }

  head(headers: Array<[string, string]>): void {
    const stream = this.stream;
    if (stream.destroyed || stream.headersSent) return;
    stream.respond(headerRecord(headers), { endStream: false });
  }

  override destroy(): void {
    cancel(this.stream);
  }
}

/** Whether the peer of an HTTP/2 stream came over TLS, and its address. */
export function streamPeer(stream: http2.Http2Stream): {
  remoteAddress: string | null;
  remotePort: number | null;
  secure: boolean;
} {
  const socket = stream.session?.socket;
  return {
    remoteAddress: socket?.remoteAddress ?? null,
    remotePort: socket?.remotePort ?? null,
    secure: socket instanceof tls.TLSSocket,
  };
}

/**
 * A client's WebSocket on an HTTP/2 session: the stream is opened by the extended CONNECT the
 * codec hands to `head()`; the server's answer goes to the session's `onHeaders`. `onStream` is
 * told of the stream (the session pool counts them).
 */
export class Http2ClientTransport {
  readonly #session: http2.ClientHttp2Session;
  readonly #onStream: (stream: http2.ClientHttp2Stream) => void;
  #handlers: TransportHandlers | null = null;
  #inner: NodeTransport | null = null;
  #stream: http2.ClientHttp2Stream | null = null;
  #destroyed = false;

  constructor(session: http2.ClientHttp2Session, onStream: (stream: http2.ClientHttp2Stream) => void) {
    this.#session = session;
    this.#onStream = onStream;
  }

  head(headers: Array<[string, string]>): void {
    if (this.#destroyed || this.#stream !== null) return;
    let stream: http2.ClientHttp2Stream;
    try {
      stream = this.#session.request(headerRecord(headers), { endStream: false });
    } catch (error) {
      // The session went away (GOAWAY, closed) between the pool's check and now.
      this.#destroyed = true;
      queueMicrotask(() => this.#handlers?.onClose(error));
      return;
    }
    this.#stream = stream;
    this.#onStream(stream);
    stream.on('response', (fields: IncomingHttpHeaders, _flags: number, raw?: string[]) => {
      this.#handlers?.onHeaders?.(headerList(Array.isArray(raw) ? raw : fields));
    });
    this.#inner = new NodeTransport(stream);
    if (this.#handlers !== null) this.#inner.attach(this.#handlers);
  }

  attach(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    this.#inner?.attach(handlers);
  }

  write(chunks: Uint8Array[]): void {
    this.#inner?.write(chunks);
  }

  get bufferedAmount(): number {
    return this.#inner?.bufferedAmount ?? 0;
  }

  end(): void {
    this.#inner?.end();
  }

  destroy(): void {
    if (this.#stream !== null) {
      cancel(this.#stream);
      return;
    }
    if (this.#destroyed) return;
    this.#destroyed = true;
    queueMicrotask(() => this.#handlers?.onClose());
  }

  pause(): void {
    this.#inner?.pause();
  }

  resume(): void {
    this.#inner?.resume();
  }
}

/** What an HTTP/2 session to one origin is opened with: the TLS options that decide its identity. */
export interface Http2SessionOptions {
  secure: boolean;
  hostname: string;
  port: number;
  tls: tls.ConnectionOptions | null;
}

interface PooledSession {
  session: http2.ClientHttp2Session;
  /** Resolves once the server's SETTINGS arrived, with whether it allows extended CONNECT. */
  ready: Promise<boolean>;
  streams: number;
}

/**
 * HTTP/2 sessions shared by WebSockets to one origin with the same TLS options: opened on first
 * use, closed (gracefully) when their last WebSocket's stream closes. A session that fails or
 * that the server ends (GOAWAY) leaves the pool; the next connect opens another.
 */
export class Http2SessionPool {
  readonly #sessions = new Map<string, PooledSession>();

  /** The pool's key: origin and the TLS options that matter for trust (a CA given as bytes is compared by content). */
  static key(options: Http2SessionOptions): string {
    const t = options.tls;
    const material = (value: unknown): string =>
      value === undefined || value === null
        ? ''
        : typeof value === 'string' || Buffer.isBuffer(value)
          ? String(value)
          : Array.isArray(value)
            ? value.map(material).join('|')
            : JSON.stringify(value);
    return [
      options.secure ? 'https' : 'http',
      options.hostname,
      options.port,
      t === null
        ? ''
        : [t.servername ?? '', t.rejectUnauthorized !== false, material(t.ca), material(t.cert)].join(';'),
    ].join('\n');
  }

  /** A session to the origin whose SETTINGS have arrived; whether it allows extended CONNECT. Rejects if it cannot be opened. */
  async get(options: Http2SessionOptions): Promise<{ session: http2.ClientHttp2Session; connectProtocol: boolean }> {
    const key = Http2SessionPool.key(options);
    let pooled = this.#sessions.get(key);
    if (pooled === undefined || pooled.session.closed || pooled.session.destroyed) {
      pooled = this.#open(key, options);
    }
    const connectProtocol = await pooled.ready;
    return { session: pooled.session, connectProtocol };
  }

  #open(key: string, options: Http2SessionOptions): PooledSession {
    const authority = `${options.secure ? 'https' : 'http'}://${options.hostname.includes(':') ? `[${options.hostname}]` : options.hostname}:${options.port}`;
    const session = http2.connect(authority, options.tls === null ? {} : { ...options.tls, ALPNProtocols: ['h2'] });
    const pooled: PooledSession = {
      session,
      streams: 0,
      ready: new Promise<boolean>((resolve, reject) => {
        session.once('remoteSettings', (settings) => resolve(settings.enableConnectProtocol === true));
        session.once('error', reject);
        session.once('close', () => reject(new Error(`the HTTP/2 session to ${authority} closed before its SETTINGS`)));
      }),
    };
    pooled.ready.catch(() => {});
    const forget = (): void => {
      if (this.#sessions.get(key) === pooled) this.#sessions.delete(key);
    };
    session.on('error', forget);
    session.on('close', forget);
    session.on('goaway', forget);
    // An idle pooled session does not keep the process alive; its streams do, and so does a
    // connect() waiting for its SETTINGS (unreferenced from the start, `await connect(…)` in a
    // script with nothing else running let Node exit with the promise unsettled, code 13).
    void pooled.ready.then(
      () => {
        if (pooled.streams === 0) session.unref();
      },
      () => {},
    );
    this.#sessions.set(key, pooled);
    return pooled;
  }

  /** A session found of no use (the server does not allow extended CONNECT): closed unless streams use it. */
  release(session: http2.ClientHttp2Session): void {
    for (const [key, pooled] of this.#sessions) {
      if (pooled.session !== session || pooled.streams > 0) continue;
      this.#sessions.delete(key);
      session.close();
    }
  }

  /** Count `stream` on its session; the session closes when its last stream has. */
  track(session: http2.ClientHttp2Session, stream: http2.ClientHttp2Stream): void {
    const pooled = [...this.#sessions.values()].find((p) => p.session === session);
    if (pooled === undefined) return;
    pooled.streams++;
    session.ref();
    stream.once('close', () => {
      pooled.streams--;
      if (pooled.streams === 0) {
        session.unref();
        for (const [key, p] of this.#sessions) if (p === pooled) this.#sessions.delete(key);
        session.close();
      }
    });
  }
}

/** The pool `connect(url, { http2: true })` uses. */
export const defaultHttp2Pool = new Http2SessionPool();
