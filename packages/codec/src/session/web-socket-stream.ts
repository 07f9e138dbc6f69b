/**
 * The WHATWG `WebSocketStream` shape (the WebSockets standard's proposed streams API, whatwg/
 * websockets PR 48), written once over the public connection API: `new WebSocketStream(url,
 * { protocols, signal })`, `opened` → `{ readable, writable, protocol, extensions }`, `closed` →
 * `{ closeCode, reason }` (rejected when the connection did not close cleanly), and
 * `close({ closeCode, reason })`. `WebSocketStream.from(connection)` wraps a connection a server
 * handed over.
 *
 * Backpressure is the streams': the readable side pulls through the connection's `for await`
 * queue, so a reader that stops reading stops the socket being read (and TCP pushes back on the
 * peer); the writable side's write resolves once `bufferedAmount` is back at the low-water mark,
 * so a writer that awaits its writes (or `writer.ready`) never outruns the socket.
 *
 * Streams come from the host (`ReadableStream`, `WritableStream`: Node ≥ 18, Deno, Bun, browsers);
 * the codec's own types stay host-free, so they are described here structurally.
 */
import { WebSocketUsageError } from '../errors.ts';
import type { ClientSessionOptions } from './client-session.ts';
import type { SendData } from './data.ts';
import { WebSocketError, type SessionCloseInfo } from './errors.ts';
import type { Message } from './message-queue.ts';
import type { WebSocketConnection } from './websocket-connection.ts';

/** What the host's `ReadableStream` constructor takes and gives (the parts used here). */
interface ReadableController<T> {
  enqueue(chunk: T): void;
  close(): void;
  error(reason: unknown): void;
}
interface WritableController {
  error(reason: unknown): void;
}
interface StreamHost {
  ReadableStream?: new <T>(
    source: {
      pull?(controller: ReadableController<T>): Promise<void> | void;
      cancel?(reason: unknown): Promise<void> | void;
    },
    strategy?: { highWaterMark?: number },
  ) => unknown;
  WritableStream?: new <T>(
    sink: {
      start?(controller: WritableController): void;
      write?(chunk: T): Promise<void> | void;
      close?(): Promise<void> | void;
      abort?(reason: unknown): Promise<void> | void;
    },
    strategy?: { highWaterMark?: number },
  ) => unknown;
}

/** An `AbortSignal`, structurally. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
}

export interface WebSocketStreamOptions extends Omit<ClientSessionOptions, 'protocols'> {
  /** Subprotocols to offer, most preferred first. */
  protocols?: string | readonly string[];
  /** Aborts the handshake (`opened` and `closed` reject with the signal's reason); no effect once open. */
  signal?: AbortSignalLike | null;
}

/** What `opened` resolves with. `R` and `W` are the host's `ReadableStream` and `WritableStream` types. */
export interface WebSocketStreamOpenInfo<R = unknown, W = unknown> {
  /** Messages as they arrive: strings for text, `Uint8Array`s for binary. */
  readable: R;
  /** Strings are sent as text, bytes (`ArrayBuffer`, any view) as binary. */
  writable: W;
  protocol: string;
  extensions: string;
}

/** What `closed` resolves with (and `close()` takes). */
export interface WebSocketStreamCloseInfo {
  closeCode?: number;
  reason?: string;
}

/** A connection's two streams, as the standard's `WebSocketStream`. */
export class WebSocketStreamBase<R = unknown, W = unknown> {
  readonly #url: string;
  readonly #opened: Promise<WebSocketStreamOpenInfo<R, W>>;
  readonly #closed: Promise<Required<WebSocketStreamCloseInfo>>;
  readonly #connection: WebSocketConnection;

  /** @internal Use the adapter's `WebSocketStream` (a URL) or `WebSocketStream.from(connection)`. */
  constructor(connection: WebSocketConnection, url: string, signal?: AbortSignalLike | null) {
    this.#connection = connection;
    this.#url = url;
    let aborted: { reason: unknown } | null = null;
    if (signal !== undefined && signal !== null) {
      const abort = (): void => {
        if (connection.readyState !== 'connecting') return;
        aborted = { reason: signal.reason ?? new Error('aborted') };
        connection.terminate();
      };
      if (signal.aborted) abort();
      else signal.addEventListener('abort', abort, { once: true });
    }
    this.#opened = connection.opened.then(
      () => ({
        readable: readableOf<R>(connection),
        writable: writableOf<W>(connection),
        protocol: connection.protocol,
        extensions: connection.extensions,
      }),
      (error: unknown) => {
        throw aborted !== null ? aborted.reason : error;
      },
    );
    this.#closed = connection.closed.then((info) => {
      if (aborted !== null) throw aborted.reason;
      if (!info.wasClean) throw closedError(info);
      return { closeCode: info.code, reason: info.reason };
    });
    // Either may go unobserved (a user who awaits only one of them).
    this.#opened.catch(() => {});
    this.#closed.catch(() => {});
  }

  /** The URL connected to (a server connection: its request's URL). */
  get url(): string {
    return this.#url;
  }

  get opened(): Promise<WebSocketStreamOpenInfo<R, W>> {
    return this.#opened;
  }

  /** Resolves once closed cleanly with the close code and reason; rejects otherwise. */
  get closed(): Promise<Required<WebSocketStreamCloseInfo>> {
    return this.#closed;
  }

  /** Start the closing handshake (before open: abort it). Without a code, the Close carries none. */
  close(info: WebSocketStreamCloseInfo = {}): void {
    const { closeCode, reason } = info;
    if (this.#connection.readyState === 'connecting') {
      this.#connection.terminate();
      return;
    }
    this.#connection.close(
      closeCode ?? (reason !== undefined && reason !== '' ? 1000 : undefined),
      closeCode === undefined && (reason === undefined || reason === '') ? undefined : reason,
    );
  }
}

/** A `WebSocketStream` class bound to an adapter's way of connecting. */
export interface WebSocketStreamClass<R = unknown, W = unknown> {
  new (url: string | { href: string }, options?: WebSocketStreamOptions): WebSocketStreamBase<R, W>;
  /** The two streams of a connection you already hold (e.g. one a server handed you). */
  from(connection: WebSocketConnection): WebSocketStreamBase<R, W>;
}

/**
 * The adapter's `WebSocketStream`: `connect` opens a client connection (in `connecting`) for the
 * URL, as the adapter's `createConnection` does. Throws (a `TypeError`) if the host has no streams.
 */
export function createWebSocketStreamClass<R = unknown, W = unknown>(
  connect: (url: string, options: ClientSessionOptions) => WebSocketConnection,
): WebSocketStreamClass<R, W> {
  return class WebSocketStream extends WebSocketStreamBase<R, W> {
    constructor(url: string | { href: string }, options: WebSocketStreamOptions = {}) {
      const { protocols, signal, ...rest } = options;
      const list = protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : [...protocols];
      const href = typeof url === 'string' ? url : url.href;
      const connection = connect(href, list.length > 0 ? { ...rest, protocols: list } : rest);
      super(connection, connection.url ?? href, signal);
    }

    static from(connection: WebSocketConnection): WebSocketStreamBase<R, W> {
      return fromConnection<R, W>(connection);
    }
  };
}

/** The two streams of a connection you already hold (e.g. one a server handed you). */
export function fromConnection<R = unknown, W = unknown>(connection: WebSocketConnection): WebSocketStreamBase<R, W> {
  return new WebSocketStreamBase<R, W>(connection, connection.url ?? connection.request?.url ?? '');
}

function host(): Required<StreamHost> {
  const h = globalThis as StreamHost;
  if (h.ReadableStream === undefined || h.WritableStream === undefined) {
    throw new TypeError('WebSocketStream needs the host to provide ReadableStream and WritableStream');
  }
  return h as Required<StreamHost>;
}

function closedError(info: SessionCloseInfo): WebSocketError {
  return new WebSocketError(
    info.error ?? 'ABORTED',
    `the connection did not close cleanly (${info.code}${info.reason ? ` ${info.reason}` : ''})`,
    info.code,
  );
}

/** Close as asked by a stream's `cancel`/`abort` reason: its `closeCode` and `reason` if it has them. */
function closeFor(connection: WebSocketConnection, reason: unknown): void {
  if (connection.readyState === 'closed') return;
  const r = reason as { closeCode?: unknown; reason?: unknown } | null;
  if (typeof r === 'object' && r !== null && typeof r.closeCode === 'number') {
    try {
      connection.close(r.closeCode, typeof r.reason === 'string' ? r.reason : '');
      return;
    } catch {
      // an unsendable code: fall through
    }
  }
  connection.close(1000);
}

function readableOf<R>(connection: WebSocketConnection): R {
  const messages = connection[Symbol.asyncIterator]();
  // highWaterMark 0: nothing is read ahead of the reader but what the connection's own queue
  // holds (up to maxQueuedMessages, then the socket is paused).
  return new (host().ReadableStream)<Message>(
    {
      async pull(controller) {
        const next = await messages.next();
        if (!next.done) {
          controller.enqueue(next.value);
          return;
        }
        const info = connection.closeInfo;
        if (info !== null && !info.wasClean) controller.error(closedError(info));
        else controller.close();
      },
      cancel(reason) {
        void messages.return?.();
        closeFor(connection, reason);
      },
    },
    { highWaterMark: 0 },
  ) as R;
}

function writableOf<W>(connection: WebSocketConnection): W {
  return new (host().WritableStream)<SendData>(
    {
      async write(chunk) {
        if (connection.readyState !== 'open') {
          throw new WebSocketUsageError('INVALID_STATE', `cannot write: the connection is ${connection.readyState}`);
        }
        const result = connection.send(chunk);
        if (result === 'buffered') await connection.drain();
        else if (result === 'dropped')
          throw new WebSocketUsageError(
            'INVALID_STATE',
            'the message was dropped: the connection closed while sending',
          );
      },
      async close() {
        if (connection.readyState === 'open') connection.close();
        await connection.closed;
      },
      abort(reason) {
        closeFor(connection, reason);
      },
    },
    { highWaterMark: 1 },
  ) as W;
}
