// Types for proxy.mjs (plain JavaScript, so that Node 20 runs it without a build step).
import type { Limits, Timeouts, WebSocketConnection, WebSocketServer, ServerAddress } from '@ws/node';

export interface ProxyOptions {
  /** Where to forward, e.g. `ws://127.0.0.1:9000` (a path there prefixes the client's path). */
  upstream: string;
  /** Pause the reading leg once the other leg has this many bytes waiting. Default 1 MiB. */
  highWaterMark?: number;
  /** Resume it once they fall to this. Default `highWaterMark / 4`. */
  lowWaterMark?: number;
  /** Codec limits for both legs (e.g. `maxMessageSize`, the most a peer may stream through in one message). */
  limits?: Partial<Limits>;
  timeouts?: Partial<Timeouts>;
  /** One line per connection opened, refused or closed. */
  log?: (line: string) => void;
}

/** A client's connection to the proxy and the proxy's connection upstream for it. */
export interface ProxyPair {
  client: WebSocketConnection;
  upstream: WebSocketConnection;
}

export interface Proxy {
  /** The listening side (`@ws/node`'s standalone server). */
  server: WebSocketServer;
  /** The open pairs. */
  pairs: Set<ProxyPair>;
  listen(port?: number, host?: string): Promise<ServerAddress>;
  address(): ServerAddress | null;
  /** Stop accepting and close both legs of every pair with `code` (default 1001). */
  close(code?: number, reason?: string): Promise<void>;
}

export function createProxy(options: ProxyOptions): Proxy;
