/**
 * The session's {@link Transport} over a Deno socket (`Deno.Conn`: TCP, TLS, Unix), or over a
 * promise of one (a client's connect in progress: writes queue until it lands).
 *
 * Reading: one loop reads (through Deno's read op once its self-test has passed, unless `rawReads`
 * is false: `raw-read.ts`) into a buffer at increasing offsets and hands the session a view of
 * what each read brought, without a copy (the session keeps the chunks: a region handed over is
 * never read into again). A buffer whose free end has run low is dropped for a fresh one (it
 * lives on while the session holds views of it), so a small read costs a view, not a buffer of
 * its own, and large reads land where the codec unmasks them in place. While reads fill their
 * buffers, the next ones get buffers twice as large (4 KiB up to 256 KiB); once a read finds the
 * socket drained, the next one waits in a 4 KiB buffer again, so a connection that has gone quiet
 * never holds a large one (a pending read keeps its buffer). `pause()` stops the loop before its
 * next read, so the kernel's buffers fill and TCP pushes back on the peer; a read already in
 * flight is held until `resume()`.
 *
 * Writing (through Deno's write op once its self-test has passed, when `rawWrites` is true:
 * `raw-write.ts`; else `conn.write`): a write may take fewer bytes than asked, so chunks queue in
 * order and one loop writes them until none remain. A chunk of 64 KiB or more at the head of the queue is written
 * in place; otherwise the head and the whole chunks after it, up to 128 KiB in all (a frame
 * header and its payload, a burst of small messages), are first gathered into one buffer of just
 * their size, so they leave in one write — Deno has no `writev`, and an op costs more than the
 * copy. Nothing is kept between bursts: 10,000 connections must not hold buffers each.
 * `bufferedAmount` is the bytes queued and not yet written; `onDrain` follows every write. Past a
 * backlog of 1 MiB, a chunk that is a small part of its buffer is queued as a copy, so a slow
 * reader's queue holds what it counts and not the read buffers its echoes were cut from.
 *
 * Ending: `end()` sends FIN (`closeWrite`) once the queue is flushed; the socket is closed when
 * both directions are done, or at once by `destroy()` or on an error, and `onClose` comes last.
 */
import type { EngineTuning, Transport, TransportHandlers } from '@ws/codec/session';
import { rawReads } from './raw-read.ts';
import { rawWrites, type WriteOp } from './raw-write.ts';

/** What a server or client tells the transports it makes. */
export interface DenoTransportOptions {
  /**
   * Read through Deno's read op (skipping `conn.read()`'s wrapper) once its self-test has passed
   * in this process (`raw-read.ts`); false: `conn.read()` only. Default true.
   */
  rawReads?: boolean;
  /**
   * Write through Deno's write op (skipping `conn.write()`'s wrappers) once its self-test has
   * passed in this process (`raw-write.ts`); false: `conn.write()` only. Default true.
   */
  rawWrites?: boolean;
}

/** The four sets of transport options, shared: not an object per connection. */
const TRANSPORT_OPTIONS: readonly DenoTransportOptions[] = [
  Object.freeze({ rawReads: false, rawWrites: false }),
  Object.freeze({ rawReads: true, rawWrites: false }),
  Object.freeze({ rawReads: false, rawWrites: true }),
  Object.freeze({ rawReads: true, rawWrites: true }),
];

/**
 * A server's or client's `rawReads` (true unless given false) and `rawWrites` (false unless given true) as transport
 * options; a value that is not a boolean is a TypeError.
 */
export function transportOptions(rawReads: unknown = true, rawWrites: unknown = false): DenoTransportOptions {
  if (typeof rawReads !== 'boolean') throw new TypeError(`rawReads must be a boolean, got ${typeof rawReads}`);
  if (typeof rawWrites !== 'boolean') throw new TypeError(`rawWrites must be a boolean, got ${typeof rawWrites}`);
  return TRANSPORT_OPTIONS[(rawReads ? 1 : 0) + (rawWrites ? 2 : 0)] as DenoTransportOptions;
}

/**
 * Start the self-tests these options call for, once per process, at the same time (later calls
 * share them; nothing is made once they have run: an accepted socket calls this). Transports made
 * after they have passed use those ops.
 */
export function startSelfTests(options: DenoTransportOptions): void {
  if (options.rawReads !== false) void rawReads.works();
  if (options.rawWrites === true) void rawWrites.works();
}

/** {@link startSelfTests}, and a promise that resolves once they have settled. */
export function opSelfTests(options: DenoTransportOptions): Promise<unknown> {
  const reads = options.rawReads !== false ? rawReads.works() : null;
  const writes = options.rawWrites === true ? rawWrites.works() : null;
  return writes === null ? (reads ?? Promise.resolve()) : reads === null ? writes : Promise.all([reads, writes]);
}

/**
 * Read buffer sizes. A connection's working size starts at READ_MIN and doubles (up to READ_MAX)
 * each time a read fills at least half of a buffer; it halves when a burst (the reads up to one
 * that drains the socket) used less than a quarter of it. Reads after a drained socket wait in a
 * READ_MIN buffer, and go back to the working size as soon as one fills it: resetting the working
 * size itself after each small read halved @ws/deno's 64 KiB echo rate (every message climbed
 * the sizes again), and keeping a large buffer for the wait held up to READ_MAX per idle
 * connection. An idle connection holds 4 KiB (measured: 68.6 → ≈ 9 KiB resident per idle
 * connection at 10,000 with 64 KiB buffers before). 256 KiB lets a 64 KiB frame and its header
 * land in one buffer, and several in one read when they queue up.
 */
const READ_MIN = 4 * 1024;
const READ_MAX = 256 * 1024;
/** A buffer with less than this share of it free is replaced before the next read. */
const READ_SPARE = 4;
/**
 * Queued bytes past which a chunk that is a small view of a larger buffer is copied into the
 * queue (see write()). With 200 slow readers against the 256 MiB server budget, the read buffers
 * their echoes pinned held 67 MiB beyond the budget's count; copied past 1 MiB, none (a 64 KiB
 * echo with 32 in flight copies about a third of its payloads on a busy machine).
 */
const BACKLOG = 1024 * 1024;
/** Stands in the write queue for a chunk written: the chunk itself may be collected. */
const WRITTEN = new Uint8Array(0);
/** A chunk this large at the head of the queue is written in place. */
const IN_PLACE = 64 * 1024;
/** A gathered write holds whole chunks up to this many bytes. */
const GATHER_MAX = 128 * 1024;
/**
 * One gather buffer for the whole process, lent to one write at a time and given back when that
 * write settles; a write that finds it lent gathers into a buffer of its own. A fresh buffer
 * costs zeroing it, as much again as the copy: ≈ 4 % of @ws/deno's CPU at 64 KiB echoes.
 */
let spareGather: Uint8Array | null | undefined; // undefined: not made yet; null: lent

/**
 * The codec's tuning for Deno: its strict (fatal) TextDecoder is slower than the codec's own
 * UTF-8 check followed by a plain decode (≈ 0.3 µs more per call; 3.5× at 8 KB of ASCII, Deno
 * 2.9), so whole text messages take the latter.
 */
const DENO: EngineTuning = Object.freeze({ strictDecoder: false });

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
  /** The shared gather buffer, while a write of ours holds it. */
  #lentGather: Uint8Array | null = null;

  #paused = false;
  #resume: (() => void) | null = null;

  #endRequested = false;
  #writeDone = false;
  #readDone = false;
  #destroyed = false;
  #closed = false;
  #error: unknown = undefined;
  readonly #abort: (() => void) | undefined;
  readonly #rawReads: boolean;
  readonly #rawWrites: boolean;
  /** Deno's write op, skipping conn.write()'s wrappers (see raw-write.ts), if verified and wanted; and the socket's resource id. */
  #writeOp: WriteOp | null = null;
  #rid = -1;

  /**
   * `conn` may be a promise (a connect in progress): a rejected one ends the transport with its
   * error; `abort` (e.g. an AbortController's) is called if the transport is destroyed meanwhile.
   */
  constructor(conn: Deno.Conn | PromiseLike<Deno.Conn>, abort?: () => void, options?: DenoTransportOptions) {
    this.#abort = abort;
    this.#rawReads = options?.rawReads !== false;
    this.#rawWrites = options?.rawWrites === true;
    if ('then' in conn) {
      conn.then(
        (c) => this.#connected(c),
        (error) => this.#fail(error),
      );
    } else {
      this.#connected(conn);
    }
  }

  /** Each connection on this transport tunes its codec for Deno (speed only, never results). */
  get engine(): EngineTuning {
    return DENO;
  }

  /** Connect the socket to the session: start reading (and writing what is queued). */
  attach(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    if (this.#closed) {
      queueMicrotask(() => handlers.onClose(this.#error));
      return;
    }
    if (this.conn === null) return; // #connected starts the loops
    void this.#readLoop(this.conn, handlers);
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
    const rid = this.#rawWrites ? rawWrites.ridFor(conn) : -1;
    if (rid >= 0) {
      this.#writeOp = rawWrites.op;
      this.#rid = rid;
    }
    // Deno sets TCP_NODELAY by default; a TLS or Unix socket has no such option.
    if (this.#handlers !== null) {
      void this.#readLoop(conn, this.#handlers);
      this.#flush();
    }
  }

  // ───────────────────────────── reading ─────────────────────────────

  async #readLoop(conn: Deno.Conn, handlers: TransportHandlers): Promise<void> {
    let buffer = new ArrayBuffer(READ_MIN);
    let offset = 0;
    /** The size a busy connection reads into: doubles while reads fill it, halves when bursts use little of it. */
    let size = READ_MIN;
    /** Bytes read since the last read that found the socket drained. */
    let burst = 0;
    /** Deno's read op for this socket, skipping conn.read()'s wrapper (see raw-read.ts), if verified and wanted. */
    const rid = this.#rawReads ? rawReads.ridFor(conn) : -1;
    const readOp = rid >= 0 ? rawReads.op : null;
    try {
      for (;;) {
        if (this.#paused) await new Promise<void>((resolve) => (this.#resume = resolve));
        if (this.#closed) return;
        const space = buffer.byteLength - offset;
        const view = new Uint8Array(buffer, offset, space);
        const n = readOp === null ? await conn.read(view) : await readOp(rid, view);
        if (this.#closed) return;
        if (n === null || n === 0) {
          if (readOp === null && n === 0) continue; // conn.read() reports the end as null
          break;
        }
        let chunk: Uint8Array | null = new Uint8Array(buffer, offset, n); // the session keeps it
        offset += n;
        burst += n;
        if (n < space) {
          // The socket is drained and the connection may now wait, for long: the next read goes
          // into a small buffer, so an idle connection never holds a large one (a read in
          // flight keeps its buffer).
          if (burst * 4 < size && size > READ_MIN) size >>= 1;
          burst = 0;
          if (buffer.byteLength > READ_MIN || (READ_MIN - offset) * READ_SPARE < READ_MIN) {
            buffer = new ArrayBuffer(READ_MIN);
            offset = 0;
          }
        } else if (buffer.byteLength < size) {
          // A small read filled up: more is waiting; back to the working size.
          buffer = new ArrayBuffer(size);
          offset = 0;
        } else if ((buffer.byteLength - offset) * READ_SPARE < buffer.byteLength) {
          if (n * 2 >= size && size < READ_MAX) size *= 2;
          buffer = new ArrayBuffer(size);
          offset = 0;
        }
        if (this.#paused) await new Promise<void>((resolve) => (this.#resume = resolve));
        if (this.#closed) return;
        handlers.onData(chunk);
        // The suspended loop keeps its variables: without this, a connection waiting for its
        // next read would keep the buffer this chunk came from (up to READ_MAX) alive.
        chunk = null;
      }
    } catch (error) {
      if (!this.#closed) this.#fail(error);
      return;
    }
    this.#readDone = true;
    handlers.onEnd();
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
      const length = chunk.length;
      if (length === 0) continue;
      // Behind a backlog, a chunk that is a small part of its buffer (an echo of part of a read,
      // a frame cut from the codec's slab) is copied: queued as it is, it would keep the whole
      // buffer alive for as long as the peer takes to read, beyond what bufferedAmount (and the
      // server's budget) counts.
      this.#chunks.push(this.#queued >= BACKLOG && length * 2 < chunk.buffer.byteLength ? chunk.slice() : chunk);
      this.#queued += length;
    }
    this.#flush();
  }

  get bufferedAmount(): number {
    return this.#closed || this.#destroyed ? 0 : this.#queued;
  }

  /** Start the next write (or the FIN once the queue is empty), unless one is in flight. */
  #flush(): void {
    const conn = this.conn;
    if (this.#writing || conn === null || this.#closed) return;
    this.#writing = true;
    try {
      const next = this.#queued > 0 ? this.#nextWrite() : null;
      const op = this.#writeOp;
      if (next !== null)
        void (op === null ? conn.write(next) : op(this.#rid, next)).then(this.#written, this.#writeFailed);
      else if (this.#endRequested && !this.#writeDone) void conn.closeWrite().then(this.#wroteEnd, this.#writeFailed);
      else this.#writing = false;
    } catch (error) {
      this.#writeFailed(error);
    }
  }

  // The write loop, as callbacks made once per transport: no async function (and its promise)
  // per write. They catch what they call, so the promises `then` makes never reject.
  readonly #written = (n: number): void => {
    this.#writing = false;
    this.#giveBackGather();
    if (this.#closed) return;
    try {
      this.#consume(n);
      this.#handlers?.onDrain();
      this.#flush(); // nothing if a drain listener destroyed the connection
    } catch (error) {
      this.#writeFailed(error);
    }
  };

  readonly #wroteEnd = (): void => {
    this.#writing = false;
    if (this.#closed) return;
    this.#writeDone = true;
    if (this.#readDone) this.#close();
  };

  readonly #writeFailed = (error: unknown): void => {
    this.#writing = false;
    this.#giveBackGather();
    if (!this.#closed) this.#fail(error);
  };

  /**
   * The bytes to write next: the head chunk in place if large or alone, else gathered with what
   * follows. Null if the queue has no head chunk (it has one whenever bytes are queued).
   */
  #nextWrite(): Uint8Array | null {
    const chunks = this.#chunks;
    const head = this.#head;
    const whole = chunks[head];
    if (whole === undefined) return null;
    const first = this.#offset === 0 ? whole : whole.subarray(this.#offset);
    if (first.length >= IN_PLACE) return first;
    let size = first.length;
    let end = head + 1;
    for (; end < chunks.length; end++) {
      const next = chunks[end];
      if (next === undefined || size + next.length > GATHER_MAX) break;
      size += next.length;
    }
    if (end === head + 1) return first;
    const gather = this.#lendGather(size);
    gather.set(first, 0);
    let filled = first.length;
    for (let i = head + 1; i < end; i++) {
      const chunk = chunks[i];
      if (chunk === undefined) break; // i < end: never
      gather.set(chunk, filled);
      filled += chunk.length;
    }
    return gather;
  }

  /** A buffer of `size` bytes (≤ GATHER_MAX) to gather into: the shared one if free. */
  #lendGather(size: number): Uint8Array {
    const spare = spareGather === undefined ? new Uint8Array(GATHER_MAX) : spareGather;
    if (spare === null) return new Uint8Array(size);
    spareGather = null;
    this.#lentGather = spare;
    return spare.subarray(0, size);
  }

  /** The write that used the shared gather buffer settled: the next one may have it. */
  #giveBackGather(): void {
    if (this.#lentGather === null) return;
    spareGather = this.#lentGather;
    this.#lentGather = null;
  }

  /** `n` bytes were written: drop them from the front of the queue. */
  #consume(n: number): void {
    this.#queued -= n;
    while (n > 0) {
      const chunk = this.#chunks[this.#head];
      if (chunk === undefined) break; // n ≤ the bytes queued: never
      const remaining = chunk.length - this.#offset;
      if (n < remaining) {
        this.#offset += n;
        return;
      }
      n -= remaining;
      this.#chunks[this.#head++] = WRITTEN; // let it be collected
      this.#offset = 0;
    }
    const chunks = this.#chunks;
    if (this.#head === chunks.length) {
      // The queue is empty: the array is kept for the next write (no array per write, the
      // common case of one echo per read); emptied with pop(), inline for a few entries.
      if (chunks.length <= 8) while (chunks.length > 0) chunks.pop();
      else this.#chunks = [];
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
    if (handlers === null) return;
    // The ops' self-tests may still run (they start with the first server or client): they are
    // not over, nor what they opened closed, until they settle.
    const reads = this.#rawReads ? rawReads.pending() : null;
    const writes = this.#rawWrites ? rawWrites.pending() : null;
    if (reads === null && writes === null) queueMicrotask(() => handlers.onClose(this.#error));
    else void Promise.all([reads, writes]).then(() => handlers.onClose(this.#error));
  }
}
