/**
 * Sockets in memory for the session layer: a pair of transports behaving like Node's
 * `net.Socket` with `allowHalfOpen` (ordered bytes, FIN after queued bytes, close once both
 * directions ended, destroy drops queued bytes and ends the peer's reading). Bytes are delivered
 * on microtasks (never inside `write()`), so fake timers control only the deadlines. A side can
 * stop reading (`reading = false`) and read by hand (`read(n)`). Used by `@ws/codec/testing`'s
 * `MemoryServer` and by our own tests.
 */
import { microtask } from './emitter.ts';
import type { Transport, TransportHandlers } from './transport.ts';

export class MemoryTransport implements Transport {
  handlers: TransportHandlers | null = null;
  peer!: MemoryTransport;
  /** When false, this side reads only through `read(n)`. */
  reading = true;
  paused = false;
  writeEnded = false;
  readEnded = false;
  closed = false;
  destroyed = false;
  /** Number of write() calls and chunks, for assertions on vectored writes. */
  writeCalls = 0;
  chunksWritten = 0;
  /** Everything this side received, for assertions. */
  received = 0;
  readonly #queue: Uint8Array[] = [];
  #queued = 0;
  #scheduled = false;

  get bufferedAmount(): number {
    return this.closed ? 0 : this.#queued;
  }

  /** Deliver this side's events to `handlers` (the last attached). */
  attach(handlers: TransportHandlers): void {
    this.handlers = handlers;
  }

  write(chunks: Uint8Array[]): void {
    if (chunks.length === 0) throw new Error('empty write');
    this.writeCalls++;
    if (this.closed || this.writeEnded) return;
    for (const chunk of chunks) {
      this.chunksWritten++;
      if (chunk.length === 0) continue;
      this.#queue.push(chunk);
      this.#queued += chunk.length;
    }
    this.peer.#schedule();
  }

  end(): void {
    if (this.writeEnded || this.closed) return;
    this.writeEnded = true;
    this.peer.#schedule();
    this.#schedule();
  }

  destroy(): void {
    if (this.closed) return;
    this.destroyed = true;
    this.#queue.length = 0;
    this.#queued = 0;
    this.#close();
    const peer = this.peer;
    microtask(() => {
      if (peer.closed) return;
      if (!peer.readEnded) {
        peer.readEnded = true;
        peer.handlers?.onEnd();
      }
      // Writing to a socket whose peer is gone fails: close the peer once it has nothing more to read.
      peer.#close();
    });
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.#schedule();
  }

  /** Read up to `max` bytes from the peer now (for a side with `reading = false`). */
  read(max = Infinity): number {
    return this.#pull(max);
  }

  /** Bytes the peer wrote that this side has not read yet. */
  get unread(): number {
    return this.peer.#queued;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    microtask(() => {
      this.#scheduled = false;
      if (this.reading) this.#pull(Infinity);
      else this.#checkEnds();
    });
  }

  #pull(max: number): number {
    if (this.closed || this.paused) return 0;
    const source = this.peer;
    let taken = 0;
    while (taken < max && !this.paused && !this.closed) {
      let chunk = source.#queue[0];
      if (chunk === undefined) break;
      if (chunk.length > max - taken) {
        source.#queue[0] = chunk.subarray(max - taken);
        chunk = chunk.subarray(0, max - taken);
      } else {
        source.#queue.shift();
      }
      source.#queued -= chunk.length;
      taken += chunk.length;
      this.received += chunk.length;
      this.handlers?.onData(chunk.slice());
    }
    if (taken > 0 && !source.closed) source.handlers?.onDrain();
    this.#checkEnds();
    return taken;
  }

  #checkEnds(): void {
    const source = this.peer;
    if (!this.readEnded && source.writeEnded && source.#queue.length === 0 && !this.closed) {
      this.readEnded = true;
      this.handlers?.onEnd();
    }
    if (this.readEnded && this.writeEnded && this.#queue.length === 0) this.#close();
    if (source.readEnded && source.writeEnded && source.#queue.length === 0) source.#close();
  }

  #close(error?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    microtask(() => this.handlers?.onClose(error));
  }

  /** Fail the socket with an error (like ECONNRESET), on both sides. */
  fail(error: Error): void {
    if (this.closed) return;
    this.destroyed = true;
    this.#queue.length = 0;
    this.#queued = 0;
    this.#close(error);
    const peer = this.peer;
    microtask(() => peer.#close(error));
  }
}

export function transportPair(): [MemoryTransport, MemoryTransport] {
  const a = new MemoryTransport();
  const b = new MemoryTransport();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
