/**
 * What the self-tests guarding our uses of Node internals (`shared-reads.ts`, `direct-writes.ts`)
 * share: a bounded round trip over a loopback TCP connection, and a once-per-process verdict
 * whose `verified()` hot paths can ask synchronously.
 */
import net from 'node:net';

/** Ends a round trip with its outcome (later calls are ignored). */
export type Finish = (ok: boolean) => void;

/** The two ends of a round trip: each called once with its socket (the client's first, as it connects). */
export interface RoundTripSides {
  /** What the client connects with besides the address (e.g. `onread`). */
  connectOptions?: Omit<net.TcpNetConnectOpts, 'port' | 'host'>;
  client(socket: net.Socket, finish: Finish): void;
  accepted(socket: net.Socket, finish: Finish): void;
}

/**
 * A `net.Server` on 127.0.0.1 (with `serverOptions`) and a client connected to it, handed to
 * `sides`; resolves with what they `finish` with, or false after `limitMs` or on any error. Closes
 * everything it opened before it resolves.
 */
export function loopbackRoundTrip(
  limitMs: number,
  serverOptions: net.ServerOpts,
  sides: RoundTripSides,
): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    let accepted: net.Socket | null = null;
    let client: net.Socket | null = null;
    let done = false;
    const finish: Finish = (ok) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      accepted?.destroy();
      client?.destroy();
      server.close();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), limitMs);
    timer.unref?.();
    const server = net.createServer(serverOptions, (socket) => {
      // After the verdict (a timeout) nothing new is kept: finish() has already closed what it knew of.
      if (done) return void socket.destroy();
      accepted = socket;
      socket.on('error', () => finish(false));
      sides.accepted(socket, finish);
    });
    server.on('error', () => finish(false));
    server.listen(0, '127.0.0.1', () => {
      if (done) return;
      const address = server.address();
      if (address === null || typeof address === 'string') return finish(false);
      const socket = net.connect({ ...sides.connectOptions, port: address.port, host: '127.0.0.1' });
      client = socket;
      socket.on('error', () => finish(false));
      sides.client(socket, finish);
    });
  });
}

/**
 * `length` known bytes for a self-test to send: every byte value, in a pattern that a shifted or
 * stale copy would not match ((i × 131 + 7) mod 256). It repeats every 256 bytes, so it is built by
 * doubling copies: in a fresh process, before the JIT, a byte-by-byte loop took ≈ 1 ms per 3,000
 * bytes here (more than a warm loopback round trip).
 */
export function knownBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < Math.min(256, length); i++) bytes[i] = (i * 131 + 7) & 0xff;
  for (let filled = 256; filled < length; filled *= 2) bytes.copyWithin(filled, 0, filled);
  return bytes;
}

export interface SelfTestVerdict {
  /** Run the self-test once per process (later calls share it); resolves with its verdict. */
  work(): Promise<boolean>;
  /** The self-test has passed in this process (false until it has run). */
  verified(): boolean;
}

/** The once-per-process verdict of `selfTest`. */
export function selfTestVerdict(selfTest: () => Promise<boolean>): SelfTestVerdict {
  let verdict: Promise<boolean> | null = null;
  let works = false;
  return {
    work() {
      verdict ??= selfTest().then((ok) => (works = ok));
      return verdict;
    },
    verified: () => works,
  };
}
