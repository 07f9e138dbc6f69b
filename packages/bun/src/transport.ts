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
/**
 * The codec's tuning for Bun (see `EngineTuning`): small arrays of their own rather than views
 * (JavaScriptCore), and Bun's native SHA-1 for the handshake's `Sec-WebSocket-Accept`.
 */
const JAVASCRIPTCORE: EngineTuning = Object.freeze({ freshArrays: true, sha1Base64: bunSha1Base64 });

function bunSha1Base64(text: string): string {
  return Bun.SHA1.hash(text, 'base64');
}

// Flags: booleans packed into one field (an idle server holds one transport per connection).
const SECURE = 1 << 0;
/** Client: fail a TLS connection whose certificate did not verify. */
const VERIFY = 1 << 1;
const END_PENDING = 1 << 2;
const SHUT = 1 << 3;
const PAUSED = 1 << 4;
/** The socket is gone (or was given up before it opened). */
const CLOSED = 1 << 5;
const IN_DESTROY = 1 << 6;
/** Writes are refused. */
const NO_WRITES = CLOSED | SHUT | END_PENDING;

/** Bytes the socket has not taken yet: `chunks[head]` from `offset` on, then the later chunks. Made at the first backlog. */
class WriteQueue {
  chunks: Uint8Array[] = [];
  head = 0;
  offset = 0;
}

export class BunTransport implements Transport {
  #flags: number;
  #socket: Socket<BunTransport> | null = null;
  #handlers: TransportHandlers | null = null;
  #queue: WriteQueue | null = null;
  #buffered = 0;
  #error: unknown = undefined;

  constructor(options: { secure?: boolean; verify?: boolean } = {}) {
    this.#flags = (options.secure === true ? SECURE : 0) | (options.verify === true ? VERIFY : 0);
  }

  /** The connection is TLS. */
  get secure(): boolean {
    return (this.#flags & SECURE) !== 0;
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
    if ((this.#flags & NO_WRITES) !== 0) return;
    const socket = this.#socket;
    if (chunks.length === 1 && this.#buffered === 0 && socket !== null) {
      // The common case (one frame, or one coalesced batch, nothing queued): straight to the socket.
      const chunk = chunks[0] as Uint8Array;
      const written = socket.write(chunk);
      if (written === chunk.length) return;
      if (written < 0) return; // closed or shutting down: the close handler follows
      (this.#queue ??= new WriteQueue()).chunks.push(written === 0 ? chunk : chunk.subarray(written));
      this.#buffered = chunk.length - written;
      return;
    }
    const queue = (this.#queue ??= new WriteQueue()).chunks;
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i] as Uint8Array;
      if (chunk.length === 0) continue;
      queue.push(chunk);
      this.#buffered += chunk.length;
    }
    if (socket !== null) this.#flush(socket);
  }

  get bufferedAmount(): number {
    return (this.#flags & CLOSED) !== 0 ? 0 : this.#buffered;
  }

  end(): void {
    if ((this.#flags & NO_WRITES) !== 0) return;
    this.#flags |= END_PENDING;
    const socket = this.#socket;
    if (socket !== null && this.#buffered === 0) this.#shutdown(socket);
  }

  destroy(): void {
    if ((this.#flags & CLOSED) !== 0) return;
    this.#drop();
    const socket = this.#socket;
    if (socket === null) {
      // Still connecting: give up now; the socket is terminated if it opens later.
      this.#flags |= CLOSED;
      queueMicrotask(() => this.#handlers?.onClose(this.#error));
      return;
    }
    // terminate() runs the close handler synchronously: report it after this call returns.
    this.#flags |= IN_DESTROY;
    try {
      socket.terminate();
    } finally {
      this.#flags &= ~IN_DESTROY;
    }
  }

  pause(): void {
    this.#flags |= PAUSED;
    this.#socket?.pause();
  }

  resume(): void {
    this.#flags &= ~PAUSED;
    this.#socket?.resume();
  }

  // ───────────────────────────── socket events ─────────────────────────────

  /**
   * The socket is open (for TLS: its handshake is done): queued bytes start to flow. Called by
   * {@link socketHandlers}' `open`; call it yourself from a custom `open` after setting `socket.data`.
   */
  opened(socket: Socket<BunTransport>): void {
    const flags = this.#flags;
    if ((flags & CLOSED) !== 0) {
      socket.terminate(); // destroyed while connecting
      return;
    }
    // No setNoDelay(true): Bun sets TCP_NODELAY on every socket it accepts or connects (Bun 1.4.5,
    // seen with strace), and a second setsockopt would cost a system call per connection.
    this.#socket = socket;
    if ((flags & PAUSED) !== 0) socket.pause();
    if ((flags & (VERIFY | SECURE)) === (VERIFY | SECURE) && !socket.authorized) {
      this.#error = socket.getAuthorizationError() ?? new Error('the server certificate was not authorized');
      this.destroy();
      return;
    }
    this.#flush(socket);
  }

  /** @internal */
  received(chunk: Uint8Array): void {
    if ((this.#flags & CLOSED) === 0) this.#handlers?.onData(chunk);
  }

  /** @internal The peer sent FIN. */
  peerEnded(): void {
    if ((this.#flags & CLOSED) === 0) this.#handlers?.onEnd();
  }

  /** @internal The socket can take more bytes. */
  drained(): void {
    const socket = this.#socket;
    if ((this.#flags & CLOSED) !== 0 || this.#buffered === 0 || socket === null) return;
    this.#flush(socket);
    this.#handlers?.onDrain();
  }

  /** @internal A TLS failure or a socket error; `closed` follows. */
  failed(error: unknown): void {
    this.#error ??= error;
  }

  /** @internal The socket is gone, or could not connect. */
  closed(error?: unknown): void {
    if ((this.#flags & CLOSED) !== 0) return;
    this.#flags |= CLOSED;
    this.#drop();
    const cause = this.#error ?? error;
    if ((this.#flags & IN_DESTROY) !== 0) this.#reportCloseLater(cause);
    else this.#reportClose(cause);
  }

  #reportClose(cause: unknown): void {
    this.#handlers?.onClose(cause);
  }

  // Its own method: a closure written in `closed` would cost every close a scope for it, taken or not.
  #reportCloseLater(cause: unknown): void {
    queueMicrotask(() => this.#reportClose(cause));
  }

  // ───────────────────────────── writing ─────────────────────────────

  /** Write queued bytes until the socket takes less than offered (then `drain` resumes) or the queue is empty. */
  #flush(socket: Socket<BunTransport>): void {
    const pending = this.#queue;
    if (pending !== null) {
      const queue = pending.chunks;
      while (pending.head < queue.length) {
        const first = queue[pending.head] as Uint8Array;
        const firstLeft = first.length - pending.offset;
        let offered: number;
        let written: number;
        if (firstLeft >= COALESCE || pending.head + 1 === queue.length) {
          offered = firstLeft;
          written = socket.write(first, pending.offset, firstLeft);
        } else {
          const buffer = (scratch ??= new Uint8Array(COALESCE));
          offered = 0;
          for (let i = pending.head, from = pending.offset; i < queue.length && offered < COALESCE; i++, from = 0) {
            const chunk = queue[i] as Uint8Array;
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
        this.#advance(pending, written);
        if (written < offered) return;
      }
      queue.length = 0;
      pending.head = pending.offset = 0;
    }
    if ((this.#flags & END_PENDING) !== 0) this.#shutdown(socket);
  }

  #advance(pending: WriteQueue, n: number): void {
    this.#buffered -= n;
    const queue = pending.chunks;
    let offset = pending.offset + n;
    let head = pending.head;
    while (head < queue.length && offset >= (queue[head] as Uint8Array).length) {
      offset -= (queue[head] as Uint8Array).length;
      queue[head++] = EMPTY; // let the written chunk go
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    pending.head = head;
    pending.offset = offset;
  }

  #drop(): void {
    const pending = this.#queue;
    if (pending !== null) {
      pending.chunks.length = 0;
      pending.head = pending.offset = 0;
    }
    this.#buffered = 0;
  }

  #shutdown(socket: Socket<BunTransport>): void {
    const flags = this.#flags;
    this.#flags = flags & ~END_PENDING;
    if ((flags & SHUT) !== 0) return;
    this.#flags |= SHUT;
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
