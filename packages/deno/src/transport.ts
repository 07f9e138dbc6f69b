/**
 * The session's {@link Transport} over a Deno socket (`Deno.Conn`: TCP, TLS, Unix), or over a
 * promise of one (a client's connect in progress: writes queue until it lands).
 *
 * Reading: one loop reads into a reused buffer (4 KiB, growing to 64 KiB while reads fill it)
 * and hands the session a copy of what came (the session keeps the chunks). `pause()` stops the
 * loop before its next read, so the kernel's buffers fill and TCP pushes back on the peer; a read
 * already in flight is held until `resume()`.
 *
 * Writing: `conn.write` may write fewer bytes than asked, so chunks queue in order and one loop
 * writes them until none remain. A chunk of 64 KiB or more is written in place; smaller ones
 * (a frame header and the start of its payload, a burst of small messages) are first gathered
 * into one buffer of just their size (at most 64 KiB), so they leave in one syscall — Deno has
 * no `writev`. Nothing is kept between bursts: 10,000 connections must not hold 64 KiB each.
 * `bufferedAmount` is the bytes queued and not yet written; `onDrain` follows every write.
 *
 * Ending: `end()` sends FIN (`closeWrite`) once the queue is flushed; the socket is closed when
 * both directions are done, or at once by `destroy()` or on an error, and `onClose` comes last.
 */
import type { Transport, TransportHandlers } from '@ws/codec/session';

const READ_SIZE = 64 * 1024;
/**
 * The read buffer starts this small and doubles (up to READ_SIZE) each time a read fills it:
 * an idle connection holds 4 KiB instead of 64 (measured: 68.6 → ≈ 9 KiB resident per idle
 * connection at 10,000), a busy one reaches full size after a few reads and keeps it (going
 * back to 4 KiB after each small read halved @ws/deno's 64 KiB echo rate: every message then
 * climbed the sizes again).
 */
const READ_MIN = 4 * 1024;
const GATHER_SIZE = 64 * 1024;

/** Errors Deno raises for an operation on a socket we closed ourselves: not the peer's fault. */
function isLocalClose(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted;
}

export class DenoTransport implements Transport {
  /** The socket, once connected (null while a client's connect is in progress or if it failed). */
  conn: Deno.Conn | null = null;
  #handlers: TransportHandlers | null = null;

  // Write queue: chunks[head] from offset onwards, then the rest, `#queued` bytes in all.
  #chunks: Uint8Array[] = [];
  #head = 0;
  #offset = 0;
  #queued = 0;
  #writing = false;

  #paused = false;
  #resume: (() => void) | null = null;

  #endRequested = false;
  #writeDone = false;
  #readDone = false;
  #destroyed = false;
  #closed = false;
  #error: unknown = undefined;
  readonly #abort: (() => void) | undefined;

  /**
   * `conn` may be a promise (a connect in progress): a rejected one ends the transport with its
   * error; `abort` (e.g. an AbortController's) is called if the transport is destroyed meanwhile.
   */
  constructor(conn: Deno.Conn | PromiseLike<Deno.Conn>, abort?: () => void) {
    this.#abort = abort;
    if ('then' in conn) {
      conn.then(
        (c) => this.#connected(c),
        (error) => this.#fail(error),
      );
    } else {
      this.#connected(conn);
    }
  }

  /** Connect the socket to the session: start reading (and writing what is queued). */
  attach(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    if (this.#closed) {
      queueMicrotask(() => handlers.onClose(this.#error));
      return;
    }
    if (this.conn === null) return; // #connected starts the loops
    void this.#readLoop(this.conn);
    this.#flush();
  }

  #connected(conn: Deno.Conn): void {
    if (this.#closed) {
      // destroy() came while connecting.
      try {
        conn.close();
      } catch {
        // already closed
      }
      return;
    }
    this.conn = conn;
    // Deno sets TCP_NODELAY by default; a TLS or Unix socket has no such option.
    if (this.#handlers !== null) {
      void this.#readLoop(conn);
      this.#flush();
    }
  }

  // ───────────────────────────── reading ─────────────────────────────

  async #readLoop(conn: Deno.Conn): Promise<void> {
    let buffer = new Uint8Array(READ_MIN);
    try {
      for (;;) {
        if (this.#paused) await new Promise<void>((resolve) => (this.#resume = resolve));
        if (this.#closed) return;
        const n = await conn.read(buffer);
        if (this.#closed) return;
        if (n === null) break;
        if (n === 0) continue;
        const chunk = buffer.slice(0, n); // the session keeps it; the buffer is read into again
        if (n === buffer.length && n < READ_SIZE) buffer = new Uint8Array(n * 2);
        if (this.#paused) await new Promise<void>((resolve) => (this.#resume = resolve));
        if (this.#closed) return;
        this.#handlers!.onData(chunk);
      }
    } catch (error) {
      if (!this.#closed) this.#fail(error);
      return;
    }
    this.#readDone = true;
    this.#handlers!.onEnd();
    if (this.#writeDone) this.#close();
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    const resume = this.#resume;
    this.#resume = null;
    resume?.();
  }

  // ───────────────────────────── writing ─────────────────────────────

  write(chunks: Uint8Array[]): void {
    if (this.#closed || this.#destroyed || this.#endRequested) return;
    for (const chunk of chunks) {
      if (chunk.length === 0) continue;
      this.#chunks.push(chunk);
      this.#queued += chunk.length;
    }
    this.#flush();
  }

  get bufferedAmount(): number {
    return this.#closed || this.#destroyed ? 0 : this.#queued;
  }

  #flush(): void {
    if (this.#writing || this.conn === null || this.#closed) return;
    if (this.#queued === 0 && !this.#endRequested) return;
    this.#writing = true;
    void this.#writeLoop(this.conn);
  }

  async #writeLoop(conn: Deno.Conn): Promise<void> {
    try {
      while (this.#queued > 0) {
        const n = await conn.write(this.#nextWrite());
        if (this.#closed) return;
        this.#consume(n);
        this.#handlers?.onDrain();
        if (this.#closed) return; // a drain listener destroyed the connection
      }
      if (this.#endRequested && !this.#writeDone) {
        await conn.closeWrite();
        if (this.#closed) return;
        this.#writeDone = true;
        if (this.#readDone) this.#close();
      }
    } catch (error) {
      if (!this.#closed) this.#fail(error);
    } finally {
      this.#writing = false;
    }
    // write() may have been called while the last write was in flight.
    if (!this.#closed && (this.#queued > 0 || (this.#endRequested && !this.#writeDone))) this.#flush();
  }

  /** The bytes to write next: the head chunk in place if large, else small chunks gathered. */
  #nextWrite(): Uint8Array {
    const first = this.#chunks[this.#head]!.subarray(this.#offset);
    if (first.length >= GATHER_SIZE || this.#head === this.#chunks.length - 1) return first;
    let size = 0;
    for (let i = this.#head; i < this.#chunks.length && size < GATHER_SIZE; i++) size += i === this.#head ? first.length : this.#chunks[i]!.length;
    const gather = new Uint8Array(Math.min(size, GATHER_SIZE));
    let filled = 0;
    for (let i = this.#head; i < this.#chunks.length && filled < GATHER_SIZE; i++) {
      const chunk = i === this.#head ? first : this.#chunks[i]!;
      const take = Math.min(chunk.length, GATHER_SIZE - filled);
      gather.set(take === chunk.length ? chunk : chunk.subarray(0, take), filled);
      filled += take;
    }
    return gather.subarray(0, filled);
  }

  /** `n` bytes were written: drop them from the front of the queue. */
  #consume(n: number): void {
    this.#queued -= n;
    while (n > 0) {
      const remaining = this.#chunks[this.#head]!.length - this.#offset;
      if (n < remaining) {
        this.#offset += n;
        return;
      }
      n -= remaining;
      this.#chunks[this.#head++] = undefined as unknown as Uint8Array; // let it be collected
      this.#offset = 0;
    }
    if (this.#head === this.#chunks.length) {
      this.#chunks = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }

  // ───────────────────────────── ending ─────────────────────────────

  end(): void {
    if (this.#endRequested || this.#closed || this.#destroyed) return;
    this.#endRequested = true;
    this.#flush();
  }

  destroy(): void {
    if (this.#destroyed || this.#closed) return;
    this.#destroyed = true;
    if (this.conn === null) this.#abort?.();
    this.#close();
  }

  #fail(error: unknown): void {
    if (this.#closed) return;
    if (!isLocalClose(error)) this.#error ??= error;
    this.#close();
  }

  /** Close the socket (if any), drop the queue, and tell the session once. */
  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#chunks = [];
    this.#head = this.#offset = this.#queued = 0;
    try {
      this.conn?.close();
    } catch {
      // already closed
    }
    // Wake a paused read loop so it can exit.
    const resume = this.#resume;
    this.#resume = null;
    resume?.();
    const handlers = this.#handlers;
    if (handlers !== null) queueMicrotask(() => handlers.onClose(this.#error));
  }
}
