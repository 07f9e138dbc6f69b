// The HTTP/1.1 opening handshake (RFC 6455 §4), both sides, by hand: enough to fuzz any peer and
// to tell a wrong handshake from a right one. Heads are capped at 16 KiB.
import { createHash, randomBytes } from 'node:crypto';
import { Buffer } from 'node:buffer';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
export const MAX_HEAD_BYTES = 16 * 1024;

export const acceptKey = (key: string): string =>
  createHash('sha1')
    .update(key + GUID)
    .digest('base64');
export const newClientKey = (): string => randomBytes(16).toString('base64');

export interface WsTarget {
  host: string;
  port: number;
  /** Path and query, e.g. `/runCase?case=1&agent=x`. */
  resource: string;
  /** The Host header value. */
  hostHeader: string;
  /** wss: (only over HTTP/2, where TLS is how ALPN picks h2). */
  secure?: boolean;
}

/** Parse a `ws://` URL (no TLS: the suite targets local peers). */
export function parseWsUrl(url: string): WsTarget {
  const u = new URL(url);
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:')
    throw new TypeError(`expected a ws:// URL, got ${JSON.stringify(url)}`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const secure = u.protocol === 'wss:';
  const port = u.port ? Number(u.port) : secure ? 443 : 80;
  return { host, port, resource: `${u.pathname || '/'}${u.search}`, hostHeader: u.host, secure };
}

export function buildClientRequest(target: WsTarget, key: string, extraHeaders: Record<string, string> = {}): string {
  const lines = [
    `GET ${target.resource} HTTP/1.1`,
    `Host: ${target.hostHeader}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
    'User-Agent: ws-conformance',
  ];
  for (const [name, value] of Object.entries(extraHeaders)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export interface Head {
  startLine: string;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Map<string, string>;
}

/** Split a head (without the final CRLF CRLF) into start line and headers. */
export function parseHead(text: string): Head {
  const [startLine = '', ...rest] = text.split('\r\n');
  const headers = new Map<string, string>();
  for (const line of rest) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  return { startLine, headers };
}

/** Accumulates bytes until the end of an HTTP head; keeps what follows it. */
export class HeadReader {
  #buffer: Buffer = Buffer.alloc(0);
  /** The head text once complete, and the bytes after it. */
  push(chunk: Uint8Array): { head: string; rest: Buffer } | 'more' | 'too-large' {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    const end = this.#buffer.indexOf('\r\n\r\n');
    if (end === -1) return this.#buffer.length > MAX_HEAD_BYTES ? 'too-large' : 'more';
    if (end > MAX_HEAD_BYTES) return 'too-large';
    return { head: this.#buffer.subarray(0, end).toString('latin1'), rest: this.#buffer.subarray(end + 4) };
  }
}

const hasToken = (value: string | undefined, token: string): boolean =>
  (value ?? '').split(',').some((t) => t.trim().toLowerCase() === token);

/** Check a server's response to our request: null when it accepts, else why not. Extensions are checked by the caller (deflate.ts) when `extensionsOffered`. */
export function checkServerResponse(head: Head, key: string, extensionsOffered = false): string | null {
  const status = /^HTTP\/1\.1 (\d{3})/.exec(head.startLine);
  if (!status) return `not an HTTP/1.1 response: ${JSON.stringify(head.startLine)}`;
  if (status[1] !== '101') return `expected status 101, got ${JSON.stringify(head.startLine)}`;
  if (!hasToken(head.headers.get('upgrade'), 'websocket')) return 'missing "Upgrade: websocket"';
  if (!hasToken(head.headers.get('connection'), 'upgrade')) return 'missing "Connection: Upgrade"';
  if (head.headers.get('sec-websocket-accept') !== acceptKey(key)) return 'wrong Sec-WebSocket-Accept';
  if (!extensionsOffered && head.headers.has('sec-websocket-extensions'))
    return 'server accepted an extension we did not offer';
  return null;
}

export interface ClientRequest {
  path: string;
  query: URLSearchParams;
  key: string;
  /** The client's Sec-WebSocket-Extensions offer, if any. */
  extensions?: string | undefined;
}

/** Check a client's upgrade request: the request, or why it is not a WebSocket upgrade. */
export function checkClientRequest(head: Head): ClientRequest | string {
  const m = /^GET (\S+) HTTP\/1\.1$/.exec(head.startLine);
  if (!m) return `not a GET HTTP/1.1 request: ${JSON.stringify(head.startLine)}`;
  if (!hasToken(head.headers.get('upgrade'), 'websocket')) return 'missing "Upgrade: websocket"';
  if (!hasToken(head.headers.get('connection'), 'upgrade')) return 'missing "Connection: Upgrade"';
  if (head.headers.get('sec-websocket-version') !== '13') return 'Sec-WebSocket-Version is not 13';
  const key = head.headers.get('sec-websocket-key') ?? '';
  if (Buffer.from(key, 'base64').length !== 16) return 'Sec-WebSocket-Key is not 16 bytes in base64';
  const url = new URL(m[1]!, 'http://localhost');
  return { path: url.pathname, query: url.searchParams, key, extensions: head.headers.get('sec-websocket-extensions') };
}

export function buildServerResponse(key: string, extensions?: string): string {
  const lines = [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${acceptKey(key)}`,
  ];
  if (extensions) lines.push(`Sec-WebSocket-Extensions: ${extensions}`);
  return [...lines, '', ''].join('\r\n');
}

export function buildErrorResponse(status: number, text: string): string {
  return [`HTTP/1.1 ${status} ${text}`, 'Content-Length: 0', 'Connection: close', '', ''].join('\r\n');
}
