// An in-memory socket pair behaving like Node's net.Socket with allowHalfOpen: ordered bytes,
// FIN after queued bytes, close once both directions ended, destroy drops queued bytes and ends
// the peer's reading. Bytes are delivered on microtasks (never inside write()), so fake timers
// control only the deadlines. A side can stop reading (`reading = false`) and read by hand.
import { ServerSession, connectSession, transportHandlers, type ClientSessionOptions, type PeerInfo, type ServerSessionOptions, type Transport, type TransportHandlers, type WebSocketConnection } from '../../src/session/index.ts';

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
    queueMicrotask(() => {
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
    queueMicrotask(() => {
      this.#scheduled = false;
      if (this.reading) this.#pull(Infinity);
      else this.#checkEnds();
    });
  }

  #pull(max: number): number {
    if (this.closed || this.paused) return 0;
    const source = this.peer;
    let taken = 0;
    while (source.#queue.length > 0 && taken < max && !this.paused && !this.closed) {
      let chunk = source.#queue[0]!;
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
    queueMicrotask(() => this.handlers?.onClose(error));
  }

  /** Fail the socket with an error (like ECONNRESET), on both sides. */
  fail(error: Error): void {
    if (this.closed) return;
    this.destroyed = true;
    this.#queue.length = 0;
    this.#queued = 0;
    this.#close(error);
    const peer = this.peer;
    queueMicrotask(() => peer.#close(error));
  }
}

export function transportPair(): [MemoryTransport, MemoryTransport] {
  const a = new MemoryTransport();
  const b = new MemoryTransport();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

export interface Pair {
  server: Promise<WebSocketConnection>;
  client: WebSocketConnection;
  serverSession: ServerSession;
  serverTransport: MemoryTransport;
  clientTransport: MemoryTransport;
}

/** A server session and a client session joined in memory. */
export function pair(serverOptions: ServerSessionOptions = {}, clientOptions: ClientSessionOptions = {}, url = 'ws://example.test/chat?room=1', peer: PeerInfo = { remoteAddress: '192.0.2.1', remotePort: 40000 }): Pair {
  const [serverTransport, clientTransport] = transportPair();
  let resolveServer!: (ws: WebSocketConnection) => void;
  const server = new Promise<WebSocketConnection>((resolve) => {
    resolveServer = resolve;
  });
  const serverSession = new ServerSession(serverTransport, serverOptions, (ws) => resolveServer(ws), peer);
  serverTransport.handlers = serverSession;
  const client = connectSession(clientTransport, url, clientOptions);
  clientTransport.handlers = transportHandlers(client);
  return { server, client, serverSession, serverTransport, clientTransport };
}

/** Let queued microtasks (deliveries) run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
