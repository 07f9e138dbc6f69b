/**
 * The session's {@link Transport} over a Node stream socket (`net.Socket`, `tls.TLSSocket`, or
 * the `Duplex` an `http` server hands to its 'upgrade' listeners). Several small chunks are
 * gathered into one buffer (one `write`), larger ones corked so a frame's header and payload
 * leave in one `writev`; `bufferedAmount` is `writableLength`.
 */
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { Transport, TransportHandlers } from '@ws/codec/session';

/** Writes of several chunks totalling at most this many bytes are gathered into one buffer. */
const GATHER_MAX = 16 * 1024;

export class NodeTransport implements Transport {
  readonly socket: Duplex;
  #handlers: TransportHandlers | null = null;
  #error: unknown = undefined;
  #closed = false;

  constructor(socket: Duplex) {
    this.socket = socket;
    (socket as Partial<Socket>).setNoDelay?.(true);
    (socket as Partial<Socket>).setTimeout?.(0);
  }

  /**
   * Connect the socket's events to the session. Node gives every 'data' event a fresh buffer,
   * so chunks are handed over without a copy.
   */
  attach(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    const socket = this.socket;
    socket.on('data', (chunk: Uint8Array) => handlers.onData(chunk));
    socket.on('end', () => handlers.onEnd());
    socket.on('error', (error: unknown) => {
      this.#error ??= error;
    });
    socket.on('close', () => this.#onClose());
    // A socket destroyed before we attached (e.g. a client that gave up during an upgrade).
    if (socket.destroyed) queueMicrotask(() => this.#onClose());
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers!.onClose(this.#error);
  }

  readonly #afterWrite = (error?: Error | null): void => {
    if (!error) this.#handlers?.onDrain();
  };

  write(chunks: Uint8Array[]): void {
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return;
    const last = chunks.length - 1;
    if (last === 0) {
      socket.write(chunks[0]!, this.#afterWrite);
      return;
    }
    // Many small frames (a burst of echoes): one buffer, one write. Every socket.write costs a
    // trip through the stream machinery, so copying a few KiB is cheaper than corking them.
    let total = 0;
    for (let i = 0; i <= last; i++) total += chunks[i]!.length;
    if (total <= GATHER_MAX) {
      const gathered = Buffer.allocUnsafe(total);
      let at = 0;
      for (let i = 0; i <= last; i++) {
        gathered.set(chunks[i]!, at);
        at += chunks[i]!.length;
      }
      socket.write(gathered, this.#afterWrite);
      return;
    }
    socket.cork();
    for (let i = 0; i < last; i++) socket.write(chunks[i]!);
    socket.write(chunks[last]!, this.#afterWrite);
    socket.uncork();
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
