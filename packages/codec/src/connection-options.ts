/**
 * What a `Connection` is made with: the options of both roles and of each, and how they are
 * checked and resolved (limits and timeouts merged over the defaults; the same frozen options
 * object for every connection of a server resolves once).
 */
import { WebSocketUsageError, describe } from './errors.ts';
import type { EngineTuning } from './engine-tuning.ts';
import type { ExtensionFactory } from './extensions/extension.ts';
import type { HttpServerPhase } from './http/server-exchange.ts';
import type { HeadersInit } from './http/headers.ts';
import type { ServerHandshakeOptions } from './handshake/server.ts';
import { DEFAULT_LIMITS, DEFAULT_TIMEOUTS, type Limits, type Timeouts } from './limits.ts';
import type { RandomSource } from './random.ts';

import { ASSEMBLE, AUTO_PONG, FRESH_ARRAYS, HTTP2, STRICT_DECODER } from './connection-core.ts';

export type { Role } from './connection-core.ts';

export interface ConnectionOptions {
  /** Extensions to offer (client) or to accept (server), in order of preference. */
  extensions?: readonly ExtensionFactory[];
  limits?: Partial<Limits>;
  timeouts?: Partial<Timeouts>;
  /** Deliver whole messages (default) or, when false, `fragment` events as data arrives. */
  assembleMessages?: boolean;
  /** Answer pings automatically (default true). */
  autoPong?: boolean;
  /** Fills a byte array with random bytes. Default: `crypto.getRandomValues` when the host has it. */
  random?: RandomSource;
  /**
   * A host UTF-8 check (e.g. Node's `buffer.isUtf8`) for text messages that arrive whole: one
   * frame whose payload is all in one read. It gets the unmasked payload and returns whether it
   * is valid UTF-8 (RFC 3629: no overlongs, surrogates or code points above U+10FFFF; nothing
   * cut at the end); it must not throw or keep the bytes. Fragmented messages, and one-frame
   * messages that arrive over several reads, are still checked incrementally by the built-in
   * validator, so that invalid data fails the connection as soon as it arrives (§8.1).
   * Default: whole messages are checked and decoded by one call of the host's strict
   * `TextDecoder` (on Node 20 faster than `buffer.isUtf8` and a decode), or where it has none
   * (or an adapter says it is slow) by the built-in validator.
   */
  utf8Validator?: ((bytes: Uint8Array) => boolean) | null;
  /**
   * Speed choices for the JavaScript engine this connection runs on (see {@link EngineTuning}):
   * they never change a result. Default: tuned for V8. An adapter passes its engine's.
   */
  engine?: EngineTuning;
}

export interface ServerConnectionOptions extends ConnectionOptions {
  /** Allowed `Origin` values, or a predicate; null or absent allows every origin. */
  origins?: ServerHandshakeOptions['origins'];
  /**
   * Serve plain HTTP requests beside upgrades: pass `HttpServerPhase` from `@ws/codec/http` (see
   * `http/server-exchange.ts`; it is its own entry point, so only servers that use it pay for
   * it). A request that is not an upgrade becomes an `http-request` event, answered with
   * `http-response`, `http-body` and `http-end` commands, and the connection may carry several
   * in turn before an upgrade. Bounded by `limits.maxHeadBytes`, `maxHeaders` and
   * `maxBodyBytes`, timed by `timeouts.handshakeTimeout` (each head) and
   * `httpKeepAliveTimeout`. Default (absent, null or false): such a request is refused with 426.
   */
  http?: typeof HttpServerPhase | null | false;
}

export interface ClientConnectionOptions extends ConnectionOptions {
  /** Subprotocols to offer, most preferred first: a list, or one as a string. */
  protocols?: string | readonly string[];
  /** Extra request headers (not the handshake's own). */
  headers?: HeadersInit;
  /** An `Origin` header to send (browsers always do; other clients usually don't). */
  origin?: string | null;
}

function checkTimeouts(timeouts: Timeouts): void {
  for (const [name, value] of Object.entries(timeouts)) {
    if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `timeouts.${name} must be a finite number ≥ 0, got ${describe(value)}`,
      );
    }
  }
}

/**
 * Resolved timeouts per options object: a server passes the same one for every connection, and
 * its connections then share one frozen object (an idle server holds one connection per client).
 */
const resolvedTimeouts = new WeakMap<Partial<Timeouts>, Readonly<Timeouts>>();

export function resolveTimeouts(partial: Partial<Timeouts>): Readonly<Timeouts> {
  let timeouts = resolvedTimeouts.get(partial);
  if (timeouts === undefined) {
    const merged = { ...DEFAULT_TIMEOUTS, ...partial };
    checkTimeouts(merged);
    timeouts = Object.freeze(merged);
    // Only a frozen input can be cached: a caller may change a mutable one between connections.
    if (Object.isFrozen(partial)) resolvedTimeouts.set(partial, timeouts);
  }
  return timeouts;
}

function checkLimits(limits: Limits): void {
  for (const [name, value] of Object.entries(limits)) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `limits.${name} must be a safe integer ≥ 0, got ${describe(value)}`,
      );
    }
  }
}

/** The connection's limits: the shared frozen defaults, or the options' merged over them and checked. */
export function resolveLimits(partial: Partial<Limits> | undefined): Readonly<Limits> {
  // Without overrides, every connection shares the frozen defaults (known good).
  if (partial === undefined) return DEFAULT_LIMITS;
  const limits = { ...DEFAULT_LIMITS, ...partial };
  checkLimits(limits);
  return Object.freeze(limits);
}

/**
 * The connection's flags that options set (connection-core.ts), with the options checked: the
 * engine's choices, the host UTF-8 check, and no `clock` (time comes in as `tick(now)`).
 */
export function resolveFlags(options: ConnectionOptions, http2: boolean): number {
  const engine = options.engine;
  if (engine !== undefined && (typeof engine !== 'object' || engine === null)) {
    throw new WebSocketUsageError('INVALID_ARGUMENT', `engine must be an object, got ${describe(engine)}`);
  }
  if (engine?.sha1Base64 !== undefined && typeof engine.sha1Base64 !== 'function') {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `engine.sha1Base64 must be a function, got ${describe(engine.sha1Base64)}`,
    );
  }
  const utf8Validator = options.utf8Validator ?? null;
  if (utf8Validator !== null && typeof utf8Validator !== 'function') {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `utf8Validator must be a function, got ${describe(utf8Validator)}`,
    );
  }
  if ((options as { clock?: unknown }).clock !== undefined) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      'the codec takes no clock: time comes in as tick(now) (see nextDeadline())',
    );
  }
  return (
    ((options.assembleMessages ?? true) ? ASSEMBLE : 0) |
    ((options.autoPong ?? true) ? AUTO_PONG : 0) |
    (engine?.freshArrays === true ? FRESH_ARRAYS : 0) |
    (engine?.strictDecoder === false ? 0 : STRICT_DECODER) |
    (http2 ? HTTP2 : 0)
  );
}

export function toBytes(data: unknown, what: string): Uint8Array {
  if (data instanceof Uint8Array) return data;
  throw new WebSocketUsageError('INVALID_ARGUMENT', `${what} must be a Uint8Array, got ${describe(data)}`);
}
