/**
 * The session's {@link Transport} over a Bun socket (`Bun.listen`/`Bun.connect`, TCP or TLS).
 *
 * Bun's `socket.write` is unbuffered: it hands the kernel (or the TLS layer) what it takes now and
 * returns that count. This transport keeps the rest, in order, and writes it from the `drain`
 * handler; `bufferedAmount` is exactly the bytes not yet taken. Writes are coalesced through one
 * module-wide scratch buffer, so a frame's header and payload (and a burst of small frames) leave
 * in one `write` without a per-message allocation; a chunk of ≥ 64 KiB is written from its own
 * memory. Bun copies what it takes before `write` returns, so the scratch can be reused at once.
 *
 * Reading: Bun gives each `data` callback a fresh buffer (Bun 1.4.5, TCP and TLS; the
 * `fresh data buffers` test guards it), so every chunk goes to the session as it is. The codec
 * is told it runs on JavaScriptCore ({@link BunTransport.engine}): it copies short payloads out of a
 * chunk into arrays of their own instead of making views of it (a small chunk has no
 * ArrayBuffer until something asks for one, which makes JSC allocate it and move the bytes,
 * ≈ 1 µs; then each view costs ≈ 0.3 µs), and serializes frames into fresh arrays. Half-close
 * is `socket.shutdown()` — on a TCP socket `end()` closes both directions — after the queue has
 * been written; `destroy` is `terminate()`. Bun runs one set of handlers per listener or
 * connection: {@link socketHandlers} routes each event to the transport kept in `socket.data`.
 */
import type { Socket, SocketHandler } from 'bun';
import type { EngineTuning, Transport, TransportHandlers } from '@ws/codec/session';

/** Bytes copied into the scratch buffer per write; larger chunks are written from their own memory. */
const COALESCE = 64 * 1024;
let scratch: Uint8Array | null = null;
const EMPTY = new Uint8Array(0);
/** The codec's tuning for JavaScriptCore: small arrays of their own rather than views (see `EngineTuning`). */
const JAVASCRIPTCORE: EngineTuning = Object.freeze({ freshArrays: true });

export class BunTransport implements Transport {
  /** The connection is TLS. */
  readonly secure: boolean;
  #socket: Socket<BunTransport> | null = null;
  #handlers: TransportHandlers | null = null;
  /** Client: fail a TLS connection whose certificate did not verify. */
  readonly #verify: boolean;

  // Bytes not yet taken by the socket: queue[head] from `offset` on, then the later chunks.
  #queue: Uint8Array[] = [];
  #head = 0;
  #offset = 0;
  #buffered = 0;

  #endPending = false;
  #shut = false;
  #paused = false;
  /** The socket is gone (or was given up before it opened). */
  #closed = false;
  #inDestroy = false;
  #error: unknown = undefined;

  constructor(options: { secure?: boolean; verify?: boolean } = {}) {
    this.secure = options.secure ?? false;
    this.#verify = options.verify ?? false;
  }

  /** Each connection on this transport tunes its codec for JavaScriptCore (speed only, never results). */
  get engine(): EngineTuning {
    return JAVASCRIPTCORE;
  }

  /** The socket, once open. */
  get socket(): Socket<BunTransport> | null {
    return this.#socket;
  }

  /**
   * Connect to the session (or, until it exists, to your own reader: see `handleSocket`). Events
   * go to the handlers attached last.
   */
  attach(handlers: TransportHandlers): void {
    this.#handlers = handlers;
  }

  // ───────────────────────────── Transport ─────────────────────────────

  write(chunks: Uint8Array[]): void {
    if (this.#closed || this.#shut || this.#endPending) return;
    const socket = this.#socket;
    const chunk = chunks.length === 1 ? chunks[0] : undefined;
    if (chunk !== undefined && this.#buffered === 0 && socket !== null) {
      // The common case (one frame, or one coalesced batch, nothing queued): straight to the socket.
      const written = socket.write(chunk);
      if (written === chunk.length) return;
      if (written < 0) return; // closed or shutting down: the close handler follows
      this.#queue.push(written === 0 ? chunk : chunk.subarray(written));
      this.#buffered = chunk.length - written;
      return;
    }
    const queue = this.#queue;
    for (let i = 0; i < chunks.length; i++) {
      const each = chunks[i];
      if (each === undefined || each.length === 0) continue;
      queue.push(each);
      this.#buffered += each.length;
    }
    if (socket !== null) this.#flush(socket);
  }

  get bufferedAmount(): number {
    return this.#closed ? 0 : this.#buffered;
  }

  end(): void {
    if (this.#closed || this.#shut || this.#endPending) return;
    this.#endPending = true;
    if (this.#socket !== null && this.#buffered === 0) this.#shutdown(this.#socket);
  }

  destroy(): void {
    if (this.#closed) return;
    this.#drop();
    const socket = this.#socket;
    if (socket === null) {
      // Still connecting: give up now; the socket is terminated if it opens later.
      this.#closed = true;
      queueMicrotask(() => this.#handlers?.onClose(this.#error));
      return;
    }
    // terminate() runs the close handler synchronously: report it after this call returns.
    this.#inDestroy = true;
    try {
      socket.terminate();
    } finally {
      this.#inDestroy = false;
    }
  }

  pause(): void {
    this.#paused = true;
    this.#socket?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#socket?.resume();
  }

  // ───────────────────────────── socket events ─────────────────────────────

  /**
   * The socket is open (for TLS: its handshake is done): queued bytes start to flow. Called by
   * {@link socketHandlers}' `open`; call it yourself from a custom `open` after setting `socket.data`.
   */
  opened(socket: Socket<BunTransport>): void {
    if (this.#closed) {
      socket.terminate(); // destroyed while connecting
      return;
    }
    this.#socket = socket;
    socket.setNoDelay(true);
    if (this.#paused) socket.pause();
    if (this.#verify && this.secure && !socket.authorized) {
      this.#error = socket.getAuthorizationError() ?? new Error('the server certificate was not authorized');
      this.destroy();
      return;
    }
    this.#flush(socket);
  }

  /** @internal */
  received(chunk: Uint8Array): void {
    if (!this.#closed) this.#handlers?.onData(chunk);
  }

  /** @internal The peer sent FIN. */
  peerEnded(): void {
    if (!this.#closed) this.#handlers?.onEnd();
  }

  /** @internal The socket can take more bytes. */
  drained(): void {
    const socket = this.#socket;
    if (this.#closed || this.#buffered === 0 || socket === null) return;
    this.#flush(socket);
    this.#handlers?.onDrain();
  }

  /** @internal A TLS failure or a socket error; `closed` follows. */
  failed(error: unknown): void {
    this.#error ??= error;
  }

  /** @internal The socket is gone, or could not connect. */
  closed(error?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#drop();
    const cause = this.#error ?? error;
    if (this.#inDestroy) queueMicrotask(() => this.#reportClose(cause));
    else this.#reportClose(cause);
  }

  #reportClose(cause: unknown): void {
    this.#handlers?.onClose(cause);
  }

  // ───────────────────────────── writing ─────────────────────────────

  /** Write queued bytes until the socket takes less than offered (then `drain` resumes) or the queue is empty. */
  #flush(socket: Socket<BunTransport>): void {
    const queue = this.#queue;
    for (;;) {
      const first = queue[this.#head];
      if (first === undefined) break; // the queue is written
      const firstLeft = first.length - this.#offset;
      let offered: number;
      let written: number;
      if (firstLeft >= COALESCE || this.#head + 1 === queue.length) {
        offered = firstLeft;
        written = socket.write(first, this.#offset, firstLeft);
      } else {
        const buffer = (scratch ??= new Uint8Array(COALESCE));
        offered = 0;
        for (let i = this.#head, from = this.#offset; i < queue.length && offered < COALESCE; i++, from = 0) {
          const chunk = queue[i];
          if (chunk === undefined) break;
          const take = Math.min(chunk.length - from, COALESCE - offered);
          buffer.set(from === 0 && take === chunk.length ? chunk : chunk.subarray(from, from + take), offered);
          offered += take;
        }
        written = socket.write(buffer, 0, offered);
      }
      if (written < 0) {
        this.#drop(); // closed or shutting down: the close handler follows
        return;
      }
      this.#advance(written);
      if (written < offered) return;
    }
    queue.length = 0;
    this.#head = this.#offset = 0;
    if (this.#endPending) this.#shutdown(socket);
  }

  #advance(n: number): void {
    this.#buffered -= n;
    const queue = this.#queue;
    let offset = this.#offset + n;
    let head = this.#head;
    while (head < queue.length) {
      const chunk = queue[head];
      if (chunk === undefined || offset < chunk.length) break;
      offset -= chunk.length;
      queue[head++] = EMPTY; // let the written chunk go
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    this.#head = head;
    this.#offset = offset;
  }

  #drop(): void {
    this.#queue.length = 0;
    this.#head = this.#offset = this.#buffered = 0;
  }

  #shutdown(socket: Socket<BunTransport>): void {
    this.#endPending = false;
    if (this.#shut) return;
    this.#shut = true;
    socket.shutdown();
  }
}

/**
 * Handlers for `Bun.listen`/`Bun.connect` whose `socket.data` is a {@link BunTransport}. A
 * server's `open` creates the transport first (see server.ts); events for a socket that never
 * got one (a TLS handshake that failed) are ignored.
 */
export const socketHandlers: SocketHandler<BunTransport> = {
  // Plain Uint8Arrays (Bun's types only describe the default, Buffer, a subclass).
  binaryType: 'uint8array',
  open: (socket) => socket.data?.opened(socket),
  data: (socket, chunk: Uint8Array) => socket.data?.received(chunk),
  drain: (socket) => socket.data?.drained(),
  end: (socket) => socket.data?.peerEnded(),
  error: (socket, error) => socket.data?.failed(error),
  close: (socket, error) => socket.data?.closed(error),
  connectError: (socket, error) => socket.data?.closed(error),
};
