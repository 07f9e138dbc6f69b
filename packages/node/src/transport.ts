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
 * - A plain TCP socket that a `net.Server` just accepted is read the way Node's `onread` option
 *   reads (documented for `net.connect`): into one buffer shared by every connection, copied
 *   out per read, with no `Readable` push and 'data' event. Node offers that option only at
 *   construction, so it is switched on for the accepted socket through the same fields, after a
 *   feature test; anything unexpected keeps the public 'data' path. Never used for TLS.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { sessionInput, type Transport, type TransportHandlers, type WebSocketConnection } from '@ws/codec/session';
import { Slab } from '@ws/codec';

/** Writes of several chunks totalling at most this many bytes are gathered into one buffer. */
const GATHER_MAX = 16 * 1024;

const EMPTY = new Uint8Array(0);

/** How Node's `net.Socket` stores its `onread` option, if this Node stores it as expected. */
interface OnreadFields {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}

let onreadFields: OnreadFields | null | undefined;

/**
 * Find the fields behind `net.Socket`'s `onread` option by building one (without a handle, so
 * nothing is opened) and looking for exactly the values passed. Null if anything differs.
 */
function findOnreadFields(): OnreadFields | null {
  if (onreadFields !== undefined) return onreadFields;
  onreadFields = null;
  try {
    const buffer = new Uint8Array(1);
    const callback = (): boolean => true;
    // `onread` is typed for net.connect only; the constructor takes it too.
    const probe = new net.Socket({ onread: { buffer, callback } } as net.SocketConstructorOpts);
    const symbols = Object.getOwnPropertySymbols(probe);
    const named = (description: string): symbol | undefined => symbols.find((s) => s.description === description);
    const fields = { buffer: named('kBuffer'), callback: named('kBufferCb'), generator: named('kBufferGen') };
    const p = probe as unknown as Record<symbol, unknown>;
    if (fields.buffer !== undefined && fields.callback !== undefined && fields.generator !== undefined) {
      if (p[fields.buffer] === buffer && p[fields.callback] === callback && p[fields.generator] === null) {
        onreadFields = fields as OnreadFields;
      }
    }
    probe.destroy();
  } catch {
    onreadFields = null;
  }
  return onreadFields;
}

/** What a read lands in: one buffer for every connection, copied out before the next read. */
const READ_SIZE = 64 * 1024;
let readBuffer: Uint8Array | null = null;

/** Copies of reads are cut from slabs, so a small read costs one view, not a buffer of its own. */
const slab = new Slab(64 * 1024);

function copyOut(source: Uint8Array, length: number): Uint8Array {
  if (length > slab.size / 4) return source.slice(0, length);
  return slab.copy(length === source.length ? source : source.subarray(0, length));
}

interface Handle {
  useUserBuffer?: (buffer: Uint8Array) => void;
  reading?: boolean;
}

/**
 * Where a socket keeps its transport. The socket's listeners are one function each for every
 * socket (Node calls them with the socket as `this`) and find the transport here: an idle
 * server holds thousands of sockets, and a closure per listener (and their context) costs
 * about 0.3 KiB a socket.
 */
const kTransport = Symbol('NodeTransport');

function transportOf(socket: unknown): NodeTransport {
  return (socket as Record<symbol, NodeTransport>)[kTransport]!;
}

/** Errors a socket reported that it does not hold in `errored` itself (rare: Node's sockets do). */
const strayErrors = new WeakMap<Duplex, unknown>();

export interface NodeTransportOptions {
  /**
   * @internal The socket is a plain TCP socket a `net.Server` has just accepted (nothing read
   * yet): read it into the shared buffer when this Node allows.
   */
  acceptedTcp?: boolean;
}

// Flags: booleans packed into one field.
const CLOSED = 1 << 0;
const ACCEPTED_TCP = 1 << 1;
/** Bytes stayed queued after a write: writes carry callbacks until the queue empties. */
const QUEUED = 1 << 2;
/** `#target` is the connection itself (`track`), not a handlers object (`attach`). */
const DIRECT = 1 << 3;

// Fields are #private; methods are TypeScript-private, not #private: an instance of a class with
// #private methods carries a brand (one more field in every socket's transport).
export class NodeTransport implements Transport {
  readonly socket: Duplex;
  /** The connection (`track`, DIRECT) or the handlers (`attach`) the socket's events go to. */
  #target: TransportHandlers | WebSocketConnection | null = null;
  #flags: number;
  /** The write callback, made the first time bytes stay queued (most sockets never need it), then reused. */
  #afterWrite: ((error?: Error | null) => void) | null = null;

  constructor(socket: Duplex, options?: NodeTransportOptions) {
    this.socket = socket;
    this.#flags = options?.acceptedTcp === true ? ACCEPTED_TCP : 0;
    (socket as Partial<net.Socket>).setNoDelay?.(true);
    (socket as Partial<net.Socket>).setTimeout?.(0);
  }

  /**
   * Connect the socket's events to the session. Node gives every 'data' event a fresh buffer,
   * so chunks are handed over without a copy; reads into the shared buffer are copied out.
   */
  attach(handlers: TransportHandlers): void {
    this.#target = handlers;
    this.listen();
  }

  /**
   * @internal A server's socket: its events go straight to `connection` (its session input, no
   * handlers object per socket).
   */
  track(connection: WebSocketConnection): void {
    this.#target = connection;
    this.#flags |= DIRECT;
    this.listen();
  }

  private listen(): void {
    const socket = this.socket;
    (socket as unknown as Record<symbol, NodeTransport>)[kTransport] = this;
    if (!((this.#flags & ACCEPTED_TCP) !== 0 && this.readDirectly())) socket.on('data', NodeTransport.#onData);
    socket.on('end', NodeTransport.#onEnd);
    socket.on('error', NodeTransport.#onError);
    socket.on('close', NodeTransport.#onSocketClose);
    // A socket destroyed before we attached (e.g. a client that gave up during an upgrade).
    if (socket.destroyed) queueMicrotask(() => this.onClosed());
  }

  // Where the socket's events go: straight to the tracked connection (no handlers object per
  // connection), or to the attached handlers.
  private deliverData(chunk: Uint8Array): void {
    if ((this.#flags & DIRECT) !== 0) sessionInput.data(this.#target as WebSocketConnection, chunk);
    else (this.#target as TransportHandlers).onData(chunk);
  }

  private deliverDrain(): void {
    if ((this.#flags & DIRECT) !== 0) sessionInput.drain(this.#target as WebSocketConnection);
    else (this.#target as TransportHandlers).onDrain();
  }

  // The socket's listeners: called by Node with the socket as `this`.
  static #onData(this: Duplex, chunk: Uint8Array): void {
    transportOf(this).deliverData(chunk);
  }

  /** A read into the shared buffer (Node calls `socket[kBufferCb](length, buffer)`). */
  static #onSharedRead(this: Duplex, length: number, buffer: Uint8Array): void {
    transportOf(this).deliverData(copyOut(buffer, length));
  }

  static #onEnd(this: Duplex): void {
    const transport = transportOf(this);
    if ((transport.#flags & DIRECT) !== 0) sessionInput.end(transport.#target as WebSocketConnection);
    else (transport.#target as TransportHandlers).onEnd();
  }

  static #onError(this: Duplex, error: unknown): void {
    // Node keeps the error a stream was destroyed with in `errored`; anything else is kept here.
    if ((this as Partial<net.Socket>).errored !== error && !strayErrors.has(this)) strayErrors.set(this, error);
  }

  static #onSocketClose(this: Duplex): void {
    transportOf(this).onClosed();
  }

  /** Switch an accepted TCP socket to reads into the shared buffer; false if it cannot be. */
  private readDirectly(): boolean {
    const fields = findOnreadFields();
    if (fields === null || !(this.socket instanceof net.Socket)) return false;
    const socket = this.socket;
    const own = socket as unknown as Record<symbol, unknown>;
    const handle = (socket as unknown as { _handle?: Handle | null })._handle;
    if (
      socket.constructor !== net.Socket ||
      handle === null ||
      handle === undefined ||
      typeof handle.useUserBuffer !== 'function' ||
      socket.destroyed ||
      socket.connecting ||
      socket.readableLength !== 0 ||
      socket.listenerCount('data') !== 0 ||
      own[fields.buffer] !== null ||
      own[fields.callback] !== null ||
      own[fields.generator] !== null
    ) {
      return false;
    }
    readBuffer ??= new Uint8Array(READ_SIZE);
    own[fields.buffer] = readBuffer;
    own[fields.callback] = NodeTransport.#onSharedRead;
    handle.useUserBuffer(readBuffer);
    return true;
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
    const error = this.firstError();
    if ((this.#flags & DIRECT) !== 0) sessionInput.close(this.#target as WebSocketConnection, error);
    else (this.#target as TransportHandlers).onClose(error);
  }

  /** A write callback: from here on writes carry one until the queue empties (most sockets never need one). */
  private queued(): (error?: Error | null) => void {
    this.#flags |= QUEUED;
    return (this.#afterWrite ??= (error?: Error | null): void => {
      if (this.socket.writableLength === 0) this.#flags &= ~QUEUED;
      if (!error && this.#target !== null) this.deliverDrain();
    });
  }

  write(chunks: Uint8Array[]): void {
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return;
    const last = chunks.length - 1;
    let data: Uint8Array;
    if (last === 0) {
      data = chunks[0]!;
    } else {
      // Many small frames (a burst of echoes): one buffer, one write. Every socket.write costs a
      // trip through the stream machinery, so copying a few KiB is cheaper than corking them.
      let total = 0;
      for (let i = 0; i <= last; i++) total += chunks[i]!.length;
      if (total > GATHER_MAX) {
        // Large: corked, so header and payload leave in one writev; with the callback, as the
        // corked bytes wait at least until uncork.
        socket.cork();
        for (let i = 0; i < last; i++) socket.write(chunks[i]!);
        socket.write(chunks[last]!, this.queued());
        socket.uncork();
        return;
      }
      const gathered = Buffer.allocUnsafe(total);
      let at = 0;
      for (let i = 0; i <= last; i++) {
        gathered.set(chunks[i]!, at);
        at += chunks[i]!.length;
      }
      data = gathered;
    }
    this.writeLast(data);
  }

  /**
   * The last (or only) write of a batch. While the socket takes everything synchronously, no
   * callback (Node then skips a nextTick per write). Once bytes stay queued, an empty write
   * marks the end of the queue and every later write carries the callback, until it drains.
   */
  private writeLast(data: Uint8Array): void {
    const socket = this.socket;
    if ((this.#flags & QUEUED) !== 0) {
      socket.write(data, this.queued());
      return;
    }
    socket.write(data);
    if (socket.writableLength !== 0 && !socket.destroyed) socket.write(EMPTY, this.queued());
  }

  get bufferedAmount(): number {
    return this.socket.destroyed ? 0 : this.socket.writableLength;
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
