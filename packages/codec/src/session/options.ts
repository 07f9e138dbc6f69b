/**
 * Options shared by server and client sessions, with their defaults. Sizes are bytes, times
 * milliseconds; the codec's limits and timeouts pass through unchanged.
 */
import { WebSocketUsageError, describe } from '../errors.ts';
import type { ExtensionFactory } from '../extensions/extension.ts';
import { DEFAULT_SERVER_SESSION_TIMEOUTS, DEFAULT_TIMEOUTS, type Limits, type Timeouts } from '../limits.ts';
import type { RandomSource } from '../random.ts';
import type { DeadlineSweep } from './deadline-sweep.ts';
import type { WebSocketConnection } from './websocket-connection.ts';

/** Timer functions, injectable for tests. Defaults: the host's, looked up at each call. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SessionOptions {
  limits?: Partial<Limits>;
  /**
   * The codec's timeouts (see {@link Timeouts}; 0 turns one off): the codec keeps every one of
   * them as a deadline, and the session keeps each connection's earliest in one heap per server,
   * with one timer for the earliest of all (`deadline-sweep.ts`). For the three that
   * watch an open connection:
   *
   * - `idleTimeout` (default 0, off): close with 1001 (error `IDLE_TIMEOUT`) after this long
   *   without activity in either direction. Activity is bytes received, a message (or ping or
   *   pong) the application sends, and queued bytes being handed to the OS: a server streaming
   *   to a peer that never speaks is not idle, nor is one still flushing a large backlog. (As
   *   Bun's `idleTimeout`, which resets on received and sent data.) It is about inactivity, not
   *   liveness: a peer that vanished while the application keeps sending is caught by keepalive,
   *   `drainTimeout` or `maxBufferedAmount`.
   * - `keepaliveInterval` (default: 30 s for a server, off for a client): send a ping once
   *   nothing has been received for this long. On for servers so that a peer that vanished
   *   without a FIN is dropped instead of held forever; see docs/hardening.md for the comparison
   *   with ws, Bun and Deno.
   * - `keepaliveTimeout` (default 20 s): fail with 1011 (error `PONG_TIMEOUT`) when nothing
   *   arrives within this long after the ping. A ping queued behind a backlog has not left:
   *   while the bytes before it keep moving to the OS, its wait starts again.
   *
   * Idle and keepalive are checked at intervals, so that no read or send has to read the clock
   * or move a timer: a check that finds activity since the last one pushes itself out. So the
   * ping goes out after between 1× and 2× `keepaliveInterval` of silence (a vanished peer is
   * dropped within 2 × 30 s + 20 s by default), an idle connection closes after between 1× and
   * 2× `idleTimeout`, and a missing pong fails within 1× to 2× `keepaliveTimeout` once the ping
   * has left.
   *
   * While reading is paused (`pause()`, or a full `for await` queue) none of the three runs: the
   * peer's bytes, pongs included, wait unread because of us. They start afresh on resume.
   */
  timeouts?: Partial<Timeouts>;
  /** Extensions to offer (client) or accept (server), e.g. permessage-deflate. */
  extensions?: readonly ExtensionFactory[];
  /** Deliver whole messages (default) or, when false, `fragment` events as data arrives. */
  assembleMessages?: boolean;
  /** Answer pings automatically (default true). */
  autoPong?: boolean;
  /**
   * A host's UTF-8 check for whole text messages that arrived in one frame and one read (the
   * codec's `utf8Validator`, e.g. Node's `buffer.isUtf8`); fragmented text is still checked
   * incrementally, so bad bytes fail the connection as they arrive. Default: the codec's own
   * (the host's strict TextDecoder where it is fast, else the built-in validator).
   */
  utf8Validator?: ((bytes: Uint8Array) => boolean) | null;
  random?: RandomSource;
  /** `send()` returns `'buffered'` once `bufferedAmount` reaches this. Default 1 MiB. */
  highWaterMark?: number;
  /** `drain()` resolves once `bufferedAmount` falls to this. Default `highWaterMark / 4`. */
  lowWaterMark?: number;
  /**
   * Beyond this `bufferedAmount` the peer is taken to have stopped reading: the connection is
   * terminated with error `SEND_BUFFER_OVERFLOW`. Default 64 MiB (the default `maxMessageSize`).
   */
  maxBufferedAmount?: number;
  /**
   * Server: bytes waiting to be sent summed over all the server's connections. Past it, every
   * connection of the server stops reading; if the sum is still past it `serverBufferGracePeriod`
   * ms later, the connections with the largest backlogs are terminated (Close 1013, error
   * `SERVER_BUFFER_OVERFLOW`) until it fits; reading resumes at three quarters of it (see
   * docs/hardening.md). Default 256 MiB (four connections at the default `maxBufferedAmount`);
   * 0 turns it off. Ignored by clients.
   */
  maxServerBufferedAmount?: number;
  /** Server: see `maxServerBufferedAmount`. Default 5,000 ms. */
  serverBufferGracePeriod?: number;
  /** Terminate (`DRAIN_TIMEOUT`) if `bufferedAmount` stays above `highWaterMark` this long. 0 (default): off. */
  drainTimeout?: number;
  /**
   * Messages held for a consumer not attached yet, or queued for a `for await` loop, before reading
   * pauses. Default 16 (as python websockets).
   */
  maxQueuedMessages?: number;
  timers?: Timers;
  /** Milliseconds; the codec's deadlines use it too. Default `Date.now`. */
  clock?: () => number;
}

export interface ResolvedSessionOptions {
  /** Watched by the session, not the codec (see `SessionOptions.timeouts`). */
  idleTimeout: number;
  keepaliveInterval: number;
  keepaliveTimeout: number;
  /** What the codec gets: `timeouts` over the role's defaults, frozen (its connections share it). */
  codecTimeouts: Readonly<Timeouts>;
  highWaterMark: number;
  lowWaterMark: number;
  maxBufferedAmount: number;
  drainTimeout: number;
  maxServerBufferedAmount: number;
  serverBufferGracePeriod: number;
  maxQueuedMessages: number;
  timers: Timers;
  clock: () => number;
  /**
   * The one timer of every connection made with these options (a server's connections share
   * them): made by the first connection that has a deadline.
   */
  sweep: DeadlineSweep<WebSocketConnection> | null;
}

type HostTimers = {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
};

export const hostTimers: Timers = {
  setTimeout: (callback, ms) => {
    const handle = (globalThis as unknown as HostTimers).setTimeout(callback, ms) as { unref?: () => void } | number;
    // The socket keeps a process alive, not our deadlines.
    if (typeof handle === 'object' && handle !== null && typeof handle.unref === 'function') handle.unref();
    return handle;
  },
  clearTimeout: (handle) => (globalThis as unknown as HostTimers).clearTimeout(handle),
};

function size(options: SessionOptions, name: keyof SessionOptions, fallback: number): number {
  const value = options[name] ?? fallback;
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
    throw new WebSocketUsageError('INVALID_ARGUMENT', `${name} must be a finite number ≥ 0, got ${describe(value)}`);
  }
  return value;
}

/** `options` with the defaults of `role` (a server's keepalive is on, a client's off). */
export function resolveSessionOptions(options: SessionOptions, role: 'server' | 'client'): ResolvedSessionOptions {
  if (typeof options !== 'object' || options === null) {
    throw new WebSocketUsageError('INVALID_ARGUMENT', `options must be an object, got ${describe(options)}`);
  }
  const highWaterMark = size(options, 'highWaterMark', 1024 * 1024);
  const lowWaterMark = size(options, 'lowWaterMark', Math.floor(highWaterMark / 4));
  const maxBufferedAmount = size(options, 'maxBufferedAmount', 64 * 1024 * 1024);
  if (lowWaterMark > highWaterMark || highWaterMark > maxBufferedAmount) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `need lowWaterMark ≤ highWaterMark ≤ maxBufferedAmount, got ${lowWaterMark}, ${highWaterMark}, ${maxBufferedAmount}`,
    );
  }
  const maxQueuedMessages = size(options, 'maxQueuedMessages', 16);
  if (maxQueuedMessages < 1)
    throw new WebSocketUsageError('INVALID_ARGUMENT', `maxQueuedMessages must be ≥ 1, got ${maxQueuedMessages}`);
  const timeouts = options.timeouts;
  const defaults = role === 'server' ? DEFAULT_SERVER_SESSION_TIMEOUTS : DEFAULT_TIMEOUTS;
  const timeout = (name: 'idleTimeout' | 'keepaliveInterval' | 'keepaliveTimeout'): number => {
    const value = timeouts?.[name] ?? defaults[name];
    if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `timeouts.${name} must be a finite number ≥ 0, got ${describe(value)}`,
      );
    }
    return value;
  };
  const idleTimeout = timeout('idleTimeout');
  const keepaliveInterval = timeout('keepaliveInterval');
  return {
    idleTimeout,
    keepaliveInterval,
    keepaliveTimeout: timeout('keepaliveTimeout'),
    codecTimeouts:
      timeouts === undefined || timeouts === null
        ? defaults
        : Object.freeze({ ...defaults, ...timeouts, idleTimeout, keepaliveInterval }),
    highWaterMark,
    lowWaterMark,
    maxBufferedAmount,
    drainTimeout: size(options, 'drainTimeout', 0),
    maxServerBufferedAmount: size(options, 'maxServerBufferedAmount', 256 * 1024 * 1024),
    serverBufferGracePeriod: size(options, 'serverBufferGracePeriod', 5000),
    maxQueuedMessages,
    timers: options.timers ?? hostTimers,
    clock: options.clock ?? (() => Date.now()),
    sweep: null,
  };
}
