/**
 * The live connections of one server (or upgrade handler), written once for every adapter:
 * tracking from the first byte of the handshake until the connection has ended, the open ones as
 * a read-only set, close-all, terminate-all, and a graceful shutdown bounded by a timeout.
 *
 * An idle server holds many connections, so tracking costs no object per connection: the list
 * runs through the connections themselves (two links each, see `registryLinks`), and a
 * connection leaves it as it ends, just before its `close` event. Sockets stay the adapters'.
 */
import { buildClosePayload } from '../close-frame.ts';
import { WebSocketUsageError, describe } from '../errors.ts';
import { hostTimers, type Timers } from './options.ts';
import { registryLinks } from './connection-wiring.ts';
import { WebSocketConnection } from './websocket-connection.ts';

/** How a graceful shutdown goes (see {@link ConnectionRegistry.shutdown}). */
export interface ShutdownOptions {
  /** The close code sent to every open connection. Default 1001 (going away). */
  code?: number;
  /** The close reason (≤ 123 UTF-8 bytes). Default `'server shutting down'`. */
  reason?: string;
  /**
   * Milliseconds to wait for the peers to answer the close; the connections still there are then
   * terminated. Default 5000. 0: terminate at once.
   */
  timeout?: number;
}

export const DEFAULT_SHUTDOWN_TIMEOUT = 5000;
const DEFAULT_REASON = 'server shutting down';

/**
 * A read-only Set of connections: `size`, `has`, iteration and `forEach` (the ES2025 set algebra
 * aside: copy into a `Set` for that).
 */
export interface ConnectionSet<T = unknown> extends Iterable<WebSocketConnection<T>> {
  readonly size: number;
  has(connection: WebSocketConnection): boolean;
  values(): SetIterator<WebSocketConnection<T>>;
  keys(): SetIterator<WebSocketConnection<T>>;
  entries(): SetIterator<[WebSocketConnection<T>, WebSocketConnection<T>]>;
  forEach(
    callback: (value: WebSocketConnection<T>, key: WebSocketConnection<T>, set: ConnectionSet<T>) => void,
    thisArg?: unknown,
  ): void;
  [Symbol.iterator](): SetIterator<WebSocketConnection<T>>;
}

/** The open connections of a registry as a live, read-only set (oldest first, as a Set iterates). */
class OpenConnections implements ConnectionSet {
  readonly #registry: ConnectionRegistry;

  constructor(registry: ConnectionRegistry) {
    this.#registry = registry;
  }

  get size(): number {
    return this.#registry.openCount;
  }

  has(connection: WebSocketConnection): boolean {
    return (
      connection instanceof WebSocketConnection &&
      registryLinks.registryOf(connection) === this.#registry &&
      registryLinks.wasOpen(connection)
    );
  }

  *values(): SetIterator<WebSocketConnection> {
    // The open ones as they are now: a loop that awaits may see connections end meanwhile (their
    // links are cleared), and must still see the rest.
    const open: WebSocketConnection[] = [];
    for (let c = this.#registry.head; c !== null; c = registryLinks.next(c)) if (registryLinks.wasOpen(c)) open.push(c);
    yield* open;
  }

  keys(): SetIterator<WebSocketConnection> {
    return this.values();
  }

  *entries(): SetIterator<[WebSocketConnection, WebSocketConnection]> {
    for (const connection of this.values()) yield [connection, connection];
  }

  forEach(
    callback: (value: WebSocketConnection, key: WebSocketConnection, set: ConnectionSet) => void,
    thisArg?: unknown,
  ): void {
    for (const connection of this.values()) callback.call(thisArg, connection, connection, this);
  }

  [Symbol.iterator](): SetIterator<WebSocketConnection> {
    return this.values();
  }
}

export class ConnectionRegistry {
  /** @internal The oldest tracked connection and the newest (kept by the connections). */
  head: WebSocketConnection | null = null;
  /** @internal */
  tail: WebSocketConnection | null = null;
  /** Connections tracked: open, closing, or still in their handshake. (Read it; the connections keep it.) */
  size = 0;
  /** Connections tracked whose handshake succeeded: `connections.size`. (Read it; the connections keep it.) */
  openCount = 0;
  /** The open connections, a live read-only view. */
  readonly connections: ConnectionSet = new OpenConnections(this);
  readonly #timers: Timers;
  #emptyWaiters: Array<() => void> | null = null;

  /** `timers`: for the shutdown timeout (default: the host's). */
  constructor(timers: Timers = hostTimers) {
    this.#timers = timers;
  }

  /** Track `connection` until it has ended. A connection belongs to one registry at most. */
  add(connection: WebSocketConnection): void {
    if (!(connection instanceof WebSocketConnection))
      throw new TypeError(`add() takes a WebSocketConnection, got ${describe(connection)}`);
    if (registryLinks.registryOf(connection) !== null)
      throw new WebSocketUsageError('INVALID_STATE', 'this connection is already tracked by a server');
    if (connection.closeInfo !== null) return; // already ended: nothing to track
    registryLinks.join(connection, this);
  }

  /** Every tracked connection (also those in their handshake), as they are now. */
  all(): WebSocketConnection[] {
    const all: WebSocketConnection[] = [];
    for (let c = this.head; c !== null; c = registryLinks.next(c)) all.push(c);
    return all;
  }

  /**
   * Start the closing handshake on every open connection with `code` and `reason` (default 1001,
   * `'server shutting down'`) and abort those still in their handshake. Returns at once; see
   * {@link whenEmpty}.
   */
  closeAll(code = 1001, reason = DEFAULT_REASON): void {
    buildClosePayload(code, reason); // a bad code or reason throws here, before any connection is touched
    for (const connection of this.all()) {
      if (connection.readyState === 'connecting') connection.terminate();
      else connection.close(code, reason);
    }
  }

  /** Drop every tracked connection now, without a closing handshake. */
  terminateAll(): void {
    for (const connection of this.all()) connection.terminate();
  }

  /** Resolves once no connection is tracked (at once if none is). */
  whenEmpty(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#emptyWaiters ??= []).push(resolve));
  }

  /**
   * Close every connection (`closeAll(code, reason)`), wait up to `timeout` for the peers to
   * answer, terminate the connections still there, and resolve once every one has ended.
   */
  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    const { code = 1001, reason = DEFAULT_REASON, timeout = DEFAULT_SHUTDOWN_TIMEOUT } = checkShutdownOptions(options);
    buildClosePayload(code, reason);
    this.closeAll(code, reason);
    if (this.size === 0) return;
    if (timeout > 0) {
      let handle: unknown = null;
      const timedOut = new Promise<void>((resolve) => (handle = this.#timers.setTimeout(resolve, timeout)));
      await Promise.race([this.whenEmpty(), timedOut]);
      this.#timers.clearTimeout(handle);
    }
    this.terminateAll();
    await this.whenEmpty();
  }

  /** @internal A connection left (called by it, as it ends). */
  left(): void {
    if (this.size !== 0 || this.#emptyWaiters === null) return;
    const waiters = this.#emptyWaiters;
    this.#emptyWaiters = null;
    for (const resolve of waiters) resolve();
  }
}

/** `options` checked (a misuse throws before anything is closed). */
export function checkShutdownOptions(options: ShutdownOptions): ShutdownOptions {
  if (typeof options !== 'object' || options === null)
    throw new TypeError(`shutdown() takes an options object, got ${describe(options)}`);
  const { timeout } = options;
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout >= 0) || !Number.isFinite(timeout))) {
    throw new RangeError(`shutdown timeout must be a finite number of milliseconds ≥ 0, got ${describe(timeout)}`);
  }
  return options;
}
