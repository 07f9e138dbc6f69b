/**
 * The session's {@link Transport} over a Node-style stream (`node-style.ts`), for the HTTP/2
 * streams that carry WebSockets (RFC 8441) on Node, Deno and Bun alike, and on Deno and Bun for
 * the socket a `node:http2` server with `allowHTTP1` hands to its 'upgrade' listeners (Node has
 * its own tuned `NodeTransport` for sockets).
 *
 * How a stream's life maps to the WebSocket's, as a TCP socket's does: our end is END_STREAM
 * (`end()`, the FIN), a destroy is RST_STREAM with CANCEL; the peer's END_STREAM is 'end' (its
 * FIN), a reset from the peer closes the stream, so the connection ends without a Close frame
 * and is an abnormal closure (1006). Backpressure follows the stream's flow control: bytes the
 * peer's window does not take yet stay in `writableLength`.
 */
import type { AttachableTransport } from './adapter-helpers.ts';
import { microtask } from './emitter.ts';
import type { TransportHandlers } from './transport.ts';
import {
  headerList,
  headerRecord,
  type HeaderRecord,
  type NodeStyleClientSession,
  type NodeStyleDuplex,
  type NodeStyleHttp2Stream,
  type NodeStyleServerStream,
} from './node-style.ts';

/** HTTP/2's CANCEL error code (RFC 9113 §7): what a destroyed WebSocket resets its stream with. */
export const HTTP2_CANCEL = 0x8;

/** Writes of several chunks totalling at most this many bytes are gathered into one buffer (one DATA frame). */
const GATHER_MAX = 16 * 1024;

/** A transport over a Node-style `Duplex`: every write carries one reused callback that reports the drain. */
export class StreamTransport implements AttachableTransport {
  readonly stream: NodeStyleDuplex;
  #handlers: TransportHandlers | null = null;
  #closed = false;
  #error: unknown = undefined;
  /** The write callback: made once, reused for every write (Node batches a reused callback's ticks). */
  readonly #afterWrite = (error?: Error | null): void => {
    if (!error && this.stream.writableLength === 0) this.#handlers?.onDrain();
  };

  constructor(stream: NodeStyleDuplex) {
    this.stream = stream;
  }

  attach(handlers: TransportHandlers): void {
    const first = this.#handlers === null;
    this.#handlers = handlers;
    if (!first) return;
    const stream = this.stream;
    stream.on('data', (chunk: Uint8Array) => this.#handlers?.onData(chunk));
    stream.on('end', () => this.#handlers?.onEnd());
    stream.on('error', (error: unknown) => {
      this.#error ??= error;
    });
    stream.on('close', () => this.#onClose());
    // A stream destroyed before we attached (e.g. a peer that gave up during the handshake).
    if (stream.destroyed) microtask(() => this.#onClose());
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers?.onClose(this.stream.errored ?? this.#error);
  }

  write(chunks: Uint8Array[]): void {
    const stream = this.stream;
    if (stream.destroyed || !stream.writable) return;
    const last = chunks.length - 1;
    let total = 0;
    for (let i = 0; i <= last; i++) total += (chunks[i] as Uint8Array).length;
    if (last === 0 || total > GATHER_MAX) {
      for (let i = 0; i < last; i++) stream.write(chunks[i] as Uint8Array);
      stream.write(chunks[last] as Uint8Array, this.#afterWrite);
      return;
    }
    // Many small frames (a burst of echoes): one buffer, one write.
    const gathered = new Uint8Array(total);
    let at = 0;
    for (let i = 0; i <= last; i++) {
      const chunk = chunks[i] as Uint8Array;
      gathered.set(chunk, at);
      at += chunk.length;
    }
    stream.write(gathered, this.#afterWrite);
  }

  get bufferedAmount(): number {
    return this.stream.destroyed ? 0 : this.stream.writableLength;
  }

  end(): void {
    this.stream.end();
  }

  destroy(): void {
    this.stream.destroy();
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }
}

/** Reset `stream` (CANCEL) unless it is closed already; the runtime then destroys it. */
function cancel(stream: NodeStyleHttp2Stream): void {
  if (!stream.closed && !stream.destroyed) stream.close(HTTP2_CANCEL);
  else stream.destroy();
}

/** A server's HTTP/2 stream carrying one WebSocket: the answer to its extended CONNECT goes out as `respond()`. */
export class Http2ServerTransport extends StreamTransport {
  declare readonly stream: NodeStyleServerStream;

  constructor(stream: NodeStyleServerStream) {
    super(stream);
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

/**
 * A client's WebSocket on an HTTP/2 session: the stream is opened by the extended CONNECT the
 * codec hands to `head()`; the server's answer goes to `onHeaders`. Data that a runtime reports
 * before the response (Deno's `node:http2` emits 'data' first) waits for it. `onStream` is told
 * of the stream (the session pool counts them).
 */
export class Http2ClientTransport implements AttachableTransport {
  readonly #session: NodeStyleClientSession;
  readonly #onStream: (stream: NodeStyleHttp2Stream) => void;
  #handlers: TransportHandlers | null = null;
  #inner: StreamTransport | null = null;
  #stream: NodeStyleHttp2Stream | null = null;
  /** Data that came before the response headers; null once they came. */
  #early: Uint8Array[] | null = [];
  #destroyed = false;
  /** What the inner transport reports to: data held until the response, the rest passed on. */
  readonly #relay: TransportHandlers = {
    onData: (chunk) => {
      if (this.#early !== null) this.#early.push(chunk);
      else this.#handlers?.onData(chunk);
    },
    onDrain: () => this.#handlers?.onDrain(),
    onEnd: () => {
      this.#flush();
      this.#handlers?.onEnd();
    },
    onClose: (error) => {
      this.#flush();
      this.#handlers?.onClose(error);
    },
  };

  constructor(session: NodeStyleClientSession, onStream: (stream: NodeStyleHttp2Stream) => void) {
    this.#session = session;
    this.#onStream = onStream;
  }

  /** Pass on what came early (the response is there, or will never come). */
  #flush(): void {
    const early = this.#early;
    if (early === null) return;
    this.#early = null;
    for (const chunk of early) this.#handlers?.onData(chunk);
  }

  head(headers: Array<[string, string]>): void {
    if (this.#destroyed || this.#stream !== null) return;
    let stream: NodeStyleHttp2Stream;
    try {
      stream = this.#session.request(headerRecord(headers), { endStream: false });
    } catch (error) {
      // The session went away (GOAWAY, closed) between the pool's check and now.
      this.#destroyed = true;
      microtask(() => this.#handlers?.onClose(error));
      return;
    }
    this.#stream = stream;
    this.#onStream(stream);
    stream.on('response', (fields: HeaderRecord, _flags: number, raw?: string[]) => {
      this.#handlers?.onHeaders?.(headerList(Array.isArray(raw) ? raw : fields));
      this.#flush();
    });
    this.#inner = new StreamTransport(stream);
    this.#inner.attach(this.#relay);
  }

  attach(handlers: TransportHandlers): void {
    this.#handlers = handlers;
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
    microtask(() => this.#handlers?.onClose());
  }

  pause(): void {
    this.#inner?.pause();
  }

  resume(): void {
    this.#inner?.resume();
  }
}
