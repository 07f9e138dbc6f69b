/**
 * A tunnel through an HTTP forward proxy (RFC 9110 §9.3.6, `CONNECT host:port`), as a pure
 * machine that runs on a transport before the WebSocket handshake: {@link ConnectTunnel} builds
 * the request a client writes to the proxy and reads the proxy's answer from bytes. Also here:
 * {@link parseProxyUrl} for `http://[user:pass@]host[:port]`, and {@link proxyFor}, which picks a
 * proxy for a WebSocket URL from the usual environment variables (`HTTPS_PROXY`, `HTTP_PROXY`,
 * `NO_PROXY`) handed in by the caller. Dialling the proxy, and running TLS to the origin inside
 * the tunnel for `wss:`, are the adapter's.
 *
 * Choices:
 * - Only `http:` proxies (the tunnel itself is plain TCP to the proxy; TLS to the origin runs
 *   inside it). A `https:` proxy URL throws, saying so.
 * - Any 2xx answer opens the tunnel (§9.3.6); anything else fails with the proxy's status in
 *   the message (407 adds how to give credentials). A 2xx's own body is not allowed by the RFC:
 *   bytes after its head belong to the tunnel and are handed back as `rest`.
 * - The answer's head is bounded like a handshake's (`maxHeadBytes`, `maxHeaders`).
 */
import { encodeBase64 } from '../base64.ts';
import { WebSocketUsageError, describe } from '../errors.ts';
import { encodeUtf8 } from '../utf8.ts';
import { foldAscii } from './ascii-case.ts';
import { HeadParser, serializeHead, type HeadLimits, type ResponseHead } from './head-parser.ts';
import { HttpHeaders, type HeadersInit } from './headers.ts';

/** A forward proxy to tunnel through. */
export interface ProxyEndpoint {
  /** Host name or address to dial (IPv6 without brackets). */
  hostname: string;
  port: number;
  /** Basic credentials (`Proxy-Authorization`), decoded from the URL's userinfo. */
  username?: string;
  password?: string;
}

/** How the tunnel ended: open (with any bytes the proxy sent past its answer), or refused. */
export type TunnelResult =
  | { ok: true; response: ResponseHead; rest: Uint8Array }
  | { ok: false; status: number | null; statusText: string; message: string; response: ResponseHead | null };

const DEFAULT_LIMITS: HeadLimits = { maxHeadBytes: 16 * 1024, maxHeaders: 100 };

function invalidProxy(url: string, why: string): TypeError {
  return new TypeError(`invalid proxy URL ${JSON.stringify(url)}: ${why} (expected http://[user:pass@]host[:port])`);
}

function percentDecode(text: string, url: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalidProxy(url, 'bad percent-encoding in the credentials');
  }
}

/** Parses `http://[user:pass@]host[:port][/]`. Throws a TypeError that says what is wrong. */
export function parseProxyUrl(url: string): ProxyEndpoint {
  if (typeof url !== 'string') throw new TypeError(`proxy must be a URL string or 'env', got ${describe(url)}`);
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)(\/?)$/.exec(url.trim());
  if (match === null) throw invalidProxy(url, 'not a URL with an authority and nothing after it');
  const scheme = foldAscii(match[1] ?? '');
  if (scheme === 'https')
    throw invalidProxy(
      url,
      'TLS to the proxy is not supported; use http:// (wss:// still runs TLS to the server inside the tunnel)',
    );
  if (scheme !== 'http') throw invalidProxy(url, `the scheme must be http, got ${scheme}`);
  let authority = match[2] ?? '';
  const endpoint: ProxyEndpoint = { hostname: '', port: 80 };
  const at = authority.lastIndexOf('@');
  if (at !== -1) {
    const userinfo = authority.slice(0, at);
    authority = authority.slice(at + 1);
    const colon = userinfo.indexOf(':');
    endpoint.username = percentDecode(colon === -1 ? userinfo : userinfo.slice(0, colon), url);
    endpoint.password = colon === -1 ? '' : percentDecode(userinfo.slice(colon + 1), url);
  }
  let portText = '';
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close === -1) throw invalidProxy(url, 'malformed IPv6 address');
    endpoint.hostname = foldAscii(authority.slice(1, close));
    const after = authority.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) throw invalidProxy(url, 'junk after the IPv6 address');
    portText = after.slice(1);
  } else {
    const colon = authority.lastIndexOf(':');
    endpoint.hostname = foldAscii(colon === -1 ? authority : authority.slice(0, colon));
    portText = colon === -1 ? '' : authority.slice(colon + 1);
  }
  if (endpoint.hostname === '' || !/^[a-z0-9\-._~:%]+$/.test(endpoint.hostname))
    throw invalidProxy(url, 'missing or malformed host');
  if (portText !== '') {
    if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535 || Number(portText) === 0)
      throw invalidProxy(url, `bad port ${JSON.stringify(portText)}`);
    endpoint.port = Number(portText);
  }
  return endpoint;
}

/** Environment variables as a record (Node's and Bun's environment object, `Deno.env.toObject()`). */
export type ProxyEnvironment = Readonly<Record<string, string | undefined>>;

/** A variable by its lower-case name or its upper-case one (curl and most tools read both). */
function envValue(env: ProxyEnvironment, lower: string, upper: string): string | undefined {
  const value = env[lower] ?? env[upper];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * Whether `NO_PROXY` (comma- or space-separated) exempts `hostname:port`: `*` exempts all; an
 * entry matches the host itself or, as a domain, any name under it (`example.com` and
 * `.example.com` both match `a.example.com`); an entry with `:port` matches that port only.
 * Addresses match exactly (no CIDR ranges).
 */
export function noProxyMatches(noProxy: string, hostname: string, port: number): boolean {
  const host = foldAscii(hostname).replace(/^\[|\]$/g, '');
  for (const raw of noProxy.split(/[,\s]+/)) {
    let entry = foldAscii(raw.trim());
    if (entry === '') continue;
    if (entry === '*') return true;
    let entryPort: number | null = null;
    // A port is `:N` at the end of a name, an IPv4 address or a bracketed IPv6 address (a bare
    // IPv6 address has colons of its own and no port).
    const portMatch = /^(\[[^\]]*\]|[^:]*):([0-9]+)$/.exec(entry);
    if (portMatch !== null) {
      entry = portMatch[1] ?? entry;
      entryPort = Number(portMatch[2]);
    }
    entry = entry.replace(/^\[|\]$/g, '').replace(/^\*?\./, '.');
    if (entryPort !== null && entryPort !== port) continue;
    if (
      entry.startsWith('.')
        ? host.endsWith(entry) || host === entry.slice(1)
        : host === entry || host.endsWith(`.${entry}`)
    )
      return true;
  }
  return false;
}

/**
 * The proxy for a connection to `hostname:port` (`secure`: wss), from the environment:
 * `HTTPS_PROXY` for wss and `HTTP_PROXY` for ws (either case), unless `NO_PROXY` exempts the
 * host. Null when none applies.
 */
export function proxyFor(
  target: { secure: boolean; hostname: string; port: number },
  env: ProxyEnvironment,
): ProxyEndpoint | null {
  const url = target.secure ? envValue(env, 'https_proxy', 'HTTPS_PROXY') : envValue(env, 'http_proxy', 'HTTP_PROXY');
  if (url === undefined) return null;
  const noProxy = envValue(env, 'no_proxy', 'NO_PROXY');
  if (noProxy !== undefined && noProxyMatches(noProxy, target.hostname, target.port)) return null;
  return parseProxyUrl(url);
}

/** `host:port` as a CONNECT request-target and Host value (IPv6 in brackets). */
function authorityOf(hostname: string, port: number): string {
  return `${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`;
}

/** The CONNECT exchange with one proxy for one target. Feed the proxy's bytes until a result. */
export class ConnectTunnel {
  readonly #request: Uint8Array;
  readonly #parser: HeadParser<'response'>;
  readonly #withCredentials: boolean;
  #result: TunnelResult | null = null;

  constructor(
    proxy: ProxyEndpoint,
    target: { hostname: string; port: number },
    options: { headers?: HeadersInit; limits?: Partial<HeadLimits> } = {},
  ) {
    if (
      typeof target !== 'object' ||
      target === null ||
      typeof target.hostname !== 'string' ||
      !Number.isInteger(target.port)
    ) {
      throw new WebSocketUsageError('INVALID_ARGUMENT', `target must be { hostname, port }, got ${describe(target)}`);
    }
    const authority = authorityOf(target.hostname, target.port);
    const fields: Array<[string, string]> = [['Host', authority]];
    this.#withCredentials = proxy.username !== undefined;
    if (proxy.username !== undefined) {
      const credentials = encodeBase64(encodeUtf8(`${proxy.username}:${proxy.password ?? ''}`));
      fields.push(['Proxy-Authorization', `Basic ${credentials}`]);
    }
    for (const [name, value] of new HttpHeaders(options.headers)) fields.push([name, value]);
    this.#request = serializeHead(`CONNECT ${authority} HTTP/1.1`, fields);
    this.#parser = new HeadParser('response', { ...DEFAULT_LIMITS, ...options.limits });
  }

  /** The bytes to write to the proxy first. */
  get request(): Uint8Array {
    return this.#request;
  }

  /** The outcome once known, else null. */
  get result(): TunnelResult | null {
    return this.#result;
  }

  /** Feed bytes from the proxy; null while its answer is incomplete. Never throws on any bytes. */
  receiveData(chunk: Uint8Array): TunnelResult | null {
    if (this.#result !== null) return this.#result;
    const parsed = this.#parser.push(chunk);
    if (parsed === null) return null;
    if (!parsed.ok) {
      return (this.#result = {
        ok: false,
        status: null,
        statusText: '',
        response: null,
        message: `the proxy's answer to CONNECT is not valid HTTP: ${parsed.error.message}`,
      });
    }
    const response = parsed.head;
    if (response.status >= 200 && response.status < 300)
      return (this.#result = { ok: true, response, rest: parsed.rest });
    // 407 asks for credentials (RFC 9110 §15.5.8); some proxies answer wrong ones with 401.
    const authStatus = response.status === 407 || response.status === 401;
    const hint = !authStatus
      ? ''
      : this.#withCredentials
        ? ' (the credentials were refused)'
        : ' (give credentials as http://user:password@host:port)';
    const message = `the proxy refused the tunnel: ${response.status} ${response.statusText}`.trimEnd() + hint;
    return (this.#result = { ok: false, status: response.status, statusText: response.statusText, response, message });
  }

  /** The proxy closed the connection: a result (a failure unless the tunnel was already open). */
  receiveEof(): TunnelResult {
    return (this.#result ??= {
      ok: false,
      status: null,
      statusText: '',
      response: null,
      message: 'the proxy closed the connection before answering CONNECT',
    });
  }
}
