/**
 * Clients through an HTTP CONNECT proxy, the part every adapter shares: which proxy a URL goes
 * through (the `proxy` option, or the environment with `proxy: 'env'`), and the CONNECT exchange
 * run over any byte stream with the codec's {@link ConnectTunnel}. An adapter dials the proxy,
 * calls {@link openTunnel} with a read and a write over its socket, starts TLS to the origin
 * inside the tunnel for `wss:`, and hands the result to a {@link PendingTransport}.
 */
import {
  ConnectTunnel,
  parseProxyUrl,
  proxyFor,
  type ProxyEndpoint,
  type ProxyEnvironment,
} from '../http/connect-tunnel.ts';
import type { HttpHeaders } from '../http/headers.ts';

/** The `proxy` client option: a proxy URL (`http://[user:pass@]host:port`), `'env'`, or none. */
export type ProxyOption = string | null | undefined;

/** The proxy refused the tunnel, answered something other than HTTP, or hung up. */
export class ProxyError extends Error {
  /** The proxy's status (e.g. 403, 407), or null if it gave none. */
  readonly status: number | null;
  readonly headers: HttpHeaders | null;
  constructor(message: string, status: number | null, headers: HttpHeaders | null) {
    super(message);
    this.name = 'ProxyError';
    this.status = status;
    this.headers = headers;
  }
}

/**
 * The proxy for a connection to `target`, or null for a direct one. `'env'` reads `HTTPS_PROXY`
 * (wss) or `HTTP_PROXY` (ws) and `NO_PROXY` from `env`, either case; a URL is used as given.
 * Throws a TypeError for a malformed option.
 */
export function resolveProxy(
  option: ProxyOption,
  target: { secure: boolean; hostname: string; port: number },
  env: () => ProxyEnvironment,
): ProxyEndpoint | null {
  if (option === undefined || option === null || option === '') return null;
  if (option === 'env') return proxyFor(target, env());
  return parseProxyUrl(option);
}

/** A byte stream during the CONNECT exchange: write bytes, read the next chunk (null at EOF). */
export interface TunnelIo {
  write(bytes: Uint8Array): void;
  read(): Promise<Uint8Array | null>;
}

/**
 * The read side of a {@link TunnelIo} for a socket that reports by events: the adapter pushes
 * each chunk (null at EOF) and any error; `read()` hands them over in order, an error first.
 */
export class TunnelReads {
  readonly #chunks: Array<Uint8Array | null> = [];
  #failure: unknown = null;
  #wake: (() => void) | null = null;

  push(chunk: Uint8Array | null): void {
    this.#chunks.push(chunk);
    this.#wake?.();
  }

  fail(error: unknown): void {
    this.#failure ??= error;
    this.#wake?.();
  }

  async read(): Promise<Uint8Array | null> {
    while (this.#chunks.length === 0 && this.#failure === null)
      await new Promise<void>((resolve) => (this.#wake = resolve));
    this.#wake = null;
    if (this.#failure !== null) throw this.#failure;
    return this.#chunks.shift() ?? null;
  }
}

/**
 * Ask `proxy` for a tunnel to `target` over `io`. Resolves with the bytes the proxy sent past
 * its answer (they belong to the tunnel; usually none); rejects with a {@link ProxyError}.
 */
export async function openTunnel(
  io: TunnelIo,
  proxy: ProxyEndpoint,
  target: { hostname: string; port: number },
): Promise<Uint8Array> {
  const tunnel = new ConnectTunnel(proxy, target);
  io.write(tunnel.request);
  for (;;) {
    const chunk = await io.read();
    const result = chunk === null ? tunnel.receiveEof() : tunnel.receiveData(chunk);
    if (result === null) continue;
    if (result.ok) return result.rest;
    throw new ProxyError(
      `${result.message} (proxy ${proxy.hostname}:${proxy.port})`,
      result.status,
      result.response?.headers ?? null,
    );
  }
}
