/**
 * The session's {@link Transport} over a Node stream socket (`net.Socket`, `tls.TLSSocket`, or
 * the `Duplex` an `http` server hands to its 'upgrade' listeners). Several small chunks are
 * gathered into one buffer (one `write`), larger ones corked so a frame's header and payload
 * leave in one `writev`; `bufferedAmount` is `writableLength`.
 *
 * Two shortcuts past Node's stream machinery, which costs more per small message than our codec:
 * - Writes pass no callback while the socket takes everything at once (the common case): a
 *   write callback costs Node a `process.nextTick` per write. Only once bytes stay queued are
 *   callbacks used, to report the drain.
 * - A plain TCP socket that a `net.Server` just accepted may be read the way Node's `onread`
 *   option reads: into one buffer shared by every connection, copied out per read, with no
 *   `Readable` push and 'data' event (`shared-reads.ts`: Node internals, behind a self-test).
 * - Such a socket may also be written through its handle while nothing is queued, as
 *   `socket.write` would underneath, without the `Writable` (`direct-writes.ts`: Node internals,
 *   behind a self-test); anything that stays queued sends later writes the public way until it
 *   has left, and a failed write destroys the socket with the error `socket.write` would report.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Transport, TransportHandlers } from '@ws/codec/session';
import {
  type DirectWriteOwner,
  type HandleSocket,
  type WriteHandle,
  directHandle,
  directWritesVerified,
  writeDirect,
  writevDirect,
  writeError,
} from './direct-writes.ts';
import { copyOut, readShared } from './shared-reads.ts';

/** Writes of several chunks totalling at most this many bytes are gathered into one buffer. */
const GATHER_MAX = 16 * 1024;

const EMPTY = new Uint8Array(0);

/**
 * Where a socket keeps its transport. The socket's listeners are one function each for every
 * socket (Node calls them with the socket as `this`) and find the transport here: an idle
 * server holds thousands of sockets, and a closure per listener (and their context) costs
 * about 0.3 KiB a socket.
 */
const kTransport = Symbol('NodeTransport');

/** A socket whose listeners are attached: it holds its transport (set before any listener). */
type TrackedSocket = Duplex & { [kTransport]: NodeTransport };

/** Errors a socket reported that it does not hold in `errored` itself (rare: Node's sockets do). */
const strayErrors = new WeakMap<Duplex, unknown>();

export interface NodeTransportOptions {
  /**
   * @internal The socket is a plain TCP socket a `net.Server` has just accepted (nothing read
   * yet): read it into the shared buffer (`shared-reads.ts`; the server passes this only once
   * the self-test has passed).
   */
  acceptedTcp?: boolean;
  /**
   * @internal Write through the socket's handle while nothing is queued, once the self-test has
   * passed (`direct-writes.ts`: Node internals; the server runs the self-test).
   */
  directWrites?: boolean;
}

// Flags: booleans packed into one field.
const CLOSED = 1 << 0;
const ACCEPTED_TCP = 1 << 1;
/** Bytes stayed queued after a write: writes carry callbacks until the queue empties. */
const QUEUED = 1 << 2;
/** `attach` has added the socket's listeners. */
const LISTENING = 1 << 3;
/** Writes go through the socket's handle while nothing is queued. */
const DIRECT = 1 << 4;
/** A write through the handle stayed with libuv: later writes take the public path until it completes. */
const DIRECT_PENDING = 1 << 5;

const ignore = (): void => {};
/** Where events would go before `attach` (none come: the socket's listeners are added by `attach`). */
const UNATTACHED: TransportHandlers = Object.freeze({
  onData: ignore,
  onDrain: ignore,
  onEnd: ignore,
  onClose: ignore,
});

// Fields are #private; methods are TypeScript-private, not #private: an instance of a class with
// #private methods carries a brand (one more field in every socket's transport).
export class NodeTransport implements Transport, DirectWriteOwner {
  readonly socket: Duplex;
  /** Where the socket's events go: the handlers attached last. */
  #handlers: TransportHandlers = UNATTACHED;
  #flags: number;
  /** The write callback, made the first time bytes stay queued (most sockets never need it), then reused. */
  #afterWrite: ((error?: Error | null) => void) | null = null;
  /** Bytes of the write through the handle that libuv still holds (while DIRECT_PENDING). */
  #directPending = 0;

  constructor(socket: Duplex, options?: NodeTransportOptions) {
    this.socket = socket;
    this.#flags =
      (options?.acceptedTcp === true ? ACCEPTED_TCP : 0) |
      (options?.directWrites === true && socket instanceof net.Socket && directHandle(socket) !== null ? DIRECT : 0);
    (socket as Partial<net.Socket>).setNoDelay?.(true);
    (socket as Partial<net.Socket>).setTimeout?.(0);
  }

  /**
   * Connect the socket's events to the session. Node gives every 'data' event a fresh buffer,
   * so chunks are handed over without a copy; reads into the shared buffer are copied out.
   */
  attach(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    if ((this.#flags & LISTENING) === 0) this.listen();
  }

  /** Add the socket's listeners (once): they find the handlers through the transport. */
  private listen(): void {
    this.#flags |= LISTENING;
    const socket = this.socket;
    (socket as TrackedSocket)[kTransport] = this;
    if (!((this.#flags & ACCEPTED_TCP) !== 0 && this.readDirectly())) socket.on('data', NodeTransport.#onData);
    socket.on('end', NodeTransport.#onEnd);
    socket.on('error', NodeTransport.#onError);
    socket.on('close', NodeTransport.#onSocketClose);
    // A socket destroyed before we attached (e.g. a client that gave up during an upgrade).
    if (socket.destroyed) queueMicrotask(() => this.onClosed());
  }

  // The socket's listeners: called by Node with the socket as `this`.
  static #onData(this: TrackedSocket, chunk: Uint8Array): void {
    this[kTransport].#handlers.onData(chunk);
  }

  /** A read into the shared buffer (Node calls `socket[kBufferCb](length, buffer)`). */
  static #onSharedRead(this: TrackedSocket, length: number, buffer: Uint8Array): void {
    this[kTransport].#handlers.onData(copyOut(buffer, length));
  }

  static #onEnd(this: TrackedSocket): void {
    this[kTransport].#handlers.onEnd();
  }

  static #onError(this: Duplex, error: unknown): void {
    // Node keeps the error a stream was destroyed with in `errored`; anything else is kept here.
    if ((this as Partial<net.Socket>).errored !== error && !strayErrors.has(this)) strayErrors.set(this, error);
  }

  static #onSocketClose(this: TrackedSocket): void {
    this[kTransport].onClosed();
  }

  /** Switch an accepted TCP socket to reads into the shared buffer; false if it cannot be. */
  private readDirectly(): boolean {
    const socket = this.socket as TrackedSocket; // listen() has set its transport
    return socket instanceof net.Socket && readShared(socket, NodeTransport.#onSharedRead);
  }

  /** The first error the socket reported, if it failed. */
  private firstError(): unknown {
    const socket = this.socket;
    const stray = strayErrors.get(socket);
    if (stray !== undefined) return stray;
    return (socket as Partial<net.Socket>).errored ?? undefined;
  }

  private onClosed(): void {
    if ((this.#flags & CLOSED) !== 0) return;
    this.#flags |= CLOSED;
    this.#handlers.onClose(this.firstError());
  }

  /** A write callback: from here on writes carry one until the queue empties (most sockets never need one). */
  private queued(): (error?: Error | null) => void {
    this.#flags |= QUEUED;
    return (this.#afterWrite ??= (error?: Error | null): void => {
      if (this.socket.writableLength === 0) this.#flags &= ~QUEUED;
      if (!error) this.#handlers.onDrain();
    });
  }

  write(chunks: Uint8Array[]): void {
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return;
    const first = chunks[0];
    if (first === undefined) return; // never: the session writes no empty list
    if (chunks.length === 1) {
      this.writeLast(first);
      return;
    }
    // Many small frames (a burst of echoes): one buffer, one write. Every socket.write costs a
    // trip through the stream machinery, so copying a few KiB is cheaper than corking them.
    let total = 0;
    for (let i = 0; i < chunks.length; i++) total += chunks[i]?.length ?? 0;
    if (total > GATHER_MAX) {
      // Large: one vectored write through the handle if nothing is queued, else corked.
      if (this.direct()) {
        const result = writevDirect((socket as HandleSocket)._handle as WriteHandle, chunks, this);
        this.afterDirect(result);
        return;
      }
      // Corked, so header and payload leave in one writev; the last with the callback,
      // as the corked bytes wait at least until uncork.
      const last = chunks.length - 1;
      socket.cork();
      for (let i = 0; i <= last; i++) {
        const chunk = chunks[i];
        if (chunk === undefined) continue;
        if (i < last) socket.write(chunk);
        else socket.write(chunk, this.queued());
      }
      socket.uncork();
      return;
    }
    const gathered = Buffer.allocUnsafe(total);
    let at = 0;
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i];
      if (chunk === undefined) continue;
      gathered.set(chunk, at);
      at += chunk.length;
    }
    this.writeLast(gathered);
  }

  /**
   * The last (or only) write of a batch. While the socket takes everything synchronously, no
   * callback (Node then skips a nextTick per write). Once bytes stay queued, an empty write
   * marks the end of the queue and every later write carries the callback, until it drains.
   */
  private writeLast(data: Uint8Array): void {
    const socket = this.socket;
    if (this.direct()) {
      this.afterDirect(writeDirect((socket as HandleSocket)._handle as WriteHandle, data, this));
      return;
    }
    if ((this.#flags & QUEUED) !== 0) {
      socket.write(data, this.queued());
      return;
    }
    socket.write(data);
    if (socket.writableLength !== 0 && !socket.destroyed) socket.write(EMPTY, this.queued());
  }

  /** Nothing queued and the socket's handle there: the next write goes through the handle (`direct-writes.ts`). */
  private direct(): boolean {
    const socket = this.socket;
    return (
      (this.#flags & (DIRECT | DIRECT_PENDING | QUEUED)) === DIRECT &&
      directWritesVerified() &&
      socket.writableLength === 0 &&
      (socket as HandleSocket)._handle != null
    );
  }

  /** After a write through the handle: the kernel took all (0), part (libuv has the rest), or it failed. */
  private afterDirect(result: number): void {
    if (result > 0) {
      // libuv finishes it before any later write (which takes the public path meanwhile).
      this.#flags |= DIRECT_PENDING;
      this.#directPending = result;
    } else if (result < 0) this.socket.destroy(writeError(result)); // as socket.write's failure would
  }

  /** @internal A write through the handle that stayed with libuv has completed (status 0 or a negative errno). */
  directWriteDone(status: number): void {
    this.#flags &= ~DIRECT_PENDING;
    this.#directPending = 0;
    const socket = this.socket;
    if (socket.destroyed) return;
    if (status < 0) socket.destroy(writeError(status));
    else this.#handlers.onDrain();
  }

  get bufferedAmount(): number {
    const socket = this.socket;
    return socket.destroyed ? 0 : socket.writableLength + this.#directPending;
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }
}
