/**
 * Options shared by server and client sessions, with their defaults. Sizes are bytes, times
 * milliseconds; the codec's limits and timeouts pass through unchanged.
 */
import { WebSocketUsageError, describe } from '../errors.ts';
import type { ExtensionFactory } from '../extensions/extension.ts';
import type { Limits, Timeouts } from '../limits.ts';
import type { RandomSource } from '../random.ts';

/** Timer functions, injectable for tests. Defaults: the host's, looked up at each call. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SessionOptions {
  limits?: Partial<Limits>;
  timeouts?: Partial<Timeouts>;
  /** Extensions to offer (client) or accept (server), e.g. permessage-deflate. */
  extensions?: readonly ExtensionFactory[];
  /** Deliver whole messages (default) or, when false, `fragment` events as data arrives. */
  assembleMessages?: boolean;
  /** Answer pings automatically (default true). */
  autoPong?: boolean;
  random?: RandomSource;
  /** `send()` returns false once `bufferedAmount` reaches this. Default 1 MiB. */
  highWaterMark?: number;
  /** `drain()` resolves once `bufferedAmount` falls to this. Default `highWaterMark / 4`. */
  lowWaterMark?: number;
  /**
   * Beyond this `bufferedAmount` the peer is taken to have stopped reading: the connection is
   * terminated with error `SEND_BUFFER_OVERFLOW`. Default 64 MiB (the default `maxMessageSize`).
   */
  maxBufferedAmount?: number;
  /** Terminate (`DRAIN_TIMEOUT`) if `bufferedAmount` stays above `highWaterMark` this long. 0 (default): off. */
  drainTimeout?: number;
  /** Messages queued for `for await` before the transport is paused. Default 16 (as python websockets). */
  maxQueuedMessages?: number;
  timers?: Timers;
  /** Milliseconds; the codec's deadlines use it too. Default `Date.now`. */
  clock?: () => number;
}

export interface ResolvedSessionOptions {
  highWaterMark: number;
  lowWaterMark: number;
  maxBufferedAmount: number;
  drainTimeout: number;
  maxQueuedMessages: number;
  timers: Timers;
  clock: () => number;
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

export function resolveSessionOptions(options: SessionOptions): ResolvedSessionOptions {
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
  if (maxQueuedMessages < 1) throw new WebSocketUsageError('INVALID_ARGUMENT', `maxQueuedMessages must be ≥ 1, got ${maxQueuedMessages}`);
  return {
    highWaterMark,
    lowWaterMark,
    maxBufferedAmount,
    drainTimeout: size(options, 'drainTimeout', 0),
    maxQueuedMessages,
    timers: options.timers ?? hostTimers,
    clock: options.clock ?? (() => Date.now()),
  };
}
