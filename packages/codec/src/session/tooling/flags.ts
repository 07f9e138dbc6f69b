/**
 * Command-line flags for the adapters' bin scripts (echo servers, Autobahn clients): the same
 * parsing and the same server flags on Node, Deno and Bun, so the conformance and benchmark
 * tools can start any of them alike. Pure: the caller passes its runtime's argument list.
 */
import type { ServerSessionOptions } from '../server-session.ts';

/**
 * `--name value` and `--name=value` pairs over `defaults` (anything not starting with `--` is
 * skipped). Throws for a flag without a value.
 */
export function parseFlags<T extends Record<string, string>>(argv: readonly string[], defaults: T): T {
  const out: Record<string, string> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === undefined || !arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new Error(`--${name} needs a value`);
    out[name] = value;
  }
  return out as T;
}

/** The server options {@link serverFlagOptions} can set. */
export type ServerFlagOptions = Pick<
  ServerSessionOptions,
  'limits' | 'timeouts' | 'highWaterMark' | 'maxBufferedAmount' | 'maxServerBufferedAmount' | 'serverBufferGracePeriod'
>;

/**
 * Each server flag and the option it sets: `[group, option]`, the group being `limits`,
 * `timeouts` or null (a top-level option). Sizes in bytes, times in milliseconds (0: off).
 *
 *   --handshake-timeout MS     from accept until the upgrade is done
 *   --idle-timeout MS          close (1001) an open connection idle this long
 *   --close-timeout MS         drop a peer this long after a Close
 *   --keepalive-interval MS    ping a peer silent this long (0: off)
 *   --max-head-bytes N         larger request heads get 431
 *   --max-headers N            more header fields get 431
 *   --max-frame-size N         a larger frame fails the connection (1009)
 *   --max-message-size N       a larger message (after inflating) fails it (1009)
 *   --max-fragments N          a message in more frames fails it (1009)
 *   --max-body-bytes N         a larger plain-HTTP request body gets 413
 *   --http-keep-alive-timeout MS  a kept-alive plain-HTTP connection idle this long is closed
 *   --high-water-mark N        send() reports backpressure from here
 *   --max-buffered-amount N    a peer with more unsent bytes is dropped (at least highWaterMark)
 *   --max-server-buffered-amount N   unsent bytes of all connections together (0: no bound)
 *   --server-buffer-grace-period MS  over that bound this long: the largest backlogs are dropped
 */
const SERVER_FLAGS: Readonly<Record<string, readonly ['limits' | 'timeouts' | null, string]>> = {
  'handshake-timeout': ['timeouts', 'handshakeTimeout'],
  'idle-timeout': ['timeouts', 'idleTimeout'],
  'close-timeout': ['timeouts', 'closeTimeout'],
  'keepalive-interval': ['timeouts', 'keepaliveInterval'],
  'max-head-bytes': ['limits', 'maxHeadBytes'],
  'max-headers': ['limits', 'maxHeaders'],
  'max-frame-size': ['limits', 'maxFrameSize'],
  'max-message-size': ['limits', 'maxMessageSize'],
  'max-fragments': ['limits', 'maxFragments'],
  'max-body-bytes': ['limits', 'maxBodyBytes'],
  'http-keep-alive-timeout': ['timeouts', 'httpKeepAliveTimeout'],
  'high-water-mark': [null, 'highWaterMark'],
  'max-buffered-amount': [null, 'maxBufferedAmount'],
  'max-server-buffered-amount': [null, 'maxServerBufferedAmount'],
  'server-buffer-grace-period': [null, 'serverBufferGracePeriod'],
};

/**
 * Server options from the server flags present in `flags` (from {@link parseFlags}). A flag
 * left out adds no key, so without any the server keeps every default. Throws for a value that
 * is not a whole number.
 */
export function serverFlagOptions(flags: Readonly<Record<string, string | undefined>>): ServerFlagOptions {
  const options: Record<string, number | Record<string, number>> = {};
  for (const [flag, [group, name]] of Object.entries(SERVER_FLAGS)) {
    const value = flags[flag];
    if (value === undefined) continue;
    if (!/^\d+$/.test(value)) throw new Error(`--${flag} needs a whole number ≥ 0, got ${JSON.stringify(value)}`);
    if (group === null) options[name] = Number(value);
    else ((options[group] ??= {}) as Record<string, number>)[name] = Number(value);
  }
  return options as ServerFlagOptions;
}
