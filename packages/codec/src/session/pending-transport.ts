/**
 * A transport whose socket is still being set up (a tunnel through a proxy, then TLS inside it):
 * the session may use it at once. Writes, a half-close and pausing wait here, in order, and go
 * to the real transport as soon as it is ready; destroying it meanwhile cancels the setup. A
 * setup that fails closes the transport with its error, as a failed dial would.
 */
import type { AttachableTransport } from './adapter-helpers.ts';
import type { TransportHandlers } from './transport.ts';

export class PendingTransport implements AttachableTransport {
  #real: AttachableTransport | null = null;
  #handlers: TransportHandlers | null = null;
  #queued: Uint8Array[] = [];
  #queuedBytes = 0;
  #ended = false;
  #paused = false;
  #destroyed = false;
  #closed = false;
  readonly #cancel: (() => void) | undefined;

  /** `ready` resolves with the real transport once its socket is up; `cancel` aborts the setup. */
  constructor(ready: Promise<AttachableTransport>, cancel?: () => void) {
    this.#cancel = cancel;
    ready.then(
      (real) => this.#settle(real),
      (error: unknown) => this.#close(error),
    );
  }

  attach(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    this.#real?.attach(handlers);
  }

  write(chunks: Uint8Array[]): void {
    if (this.#real !== null) return this.#real.write(chunks);
    if (this.#destroyed || this.#ended) return;
    for (const chunk of chunks) {
      this.#queued.push(chunk);
      this.#queuedBytes += chunk.length;
    }
  }

  get bufferedAmount(): number {
    if (this.#real !== null) return this.#real.bufferedAmount;
    return this.#destroyed ? 0 : this.#queuedBytes;
  }

  end(): void {
    if (this.#real !== null) return this.#real.end();
    this.#ended = true;
  }

  destroy(): void {
    if (this.#real !== null) return this.#real.destroy();
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#queued = [];
    this.#queuedBytes = 0;
    this.#cancel?.();
    // `onClose` follows a destroy, never inside it (the session may be mid-pump).
    void Promise.resolve().then(() => this.#close(undefined));
  }

  pause(): void {
    this.#paused = true;
    this.#real?.pause?.();
  }

  resume(): void {
    this.#paused = false;
    this.#real?.resume?.();
  }

  #settle(real: AttachableTransport): void {
    if (this.#destroyed) {
      real.destroy();
      return;
    }
    this.#real = real;
    if (this.#handlers !== null) real.attach(this.#handlers);
    if (this.#paused) real.pause?.();
    else real.resume?.();
    const queued = this.#queued;
    this.#queued = [];
    this.#queuedBytes = 0;
    if (queued.length > 0) real.write(queued);
    if (this.#ended) real.end();
    this.#handlers?.onDrain();
  }

  #close(error: unknown): void {
    if (this.#closed || this.#real !== null) return;
    this.#closed = true;
    this.#destroyed = true;
    this.#queued = [];
    this.#queuedBytes = 0;
    this.#handlers?.onClose(error);
  }
}
