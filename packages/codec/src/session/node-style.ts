/**
 * Node's HTTP objects as structural types: a `Duplex` socket, an HTTP/2 stream, session and
 * server, an `IncomingMessage`. Node has them in `node:net`/`node:http2`, and Deno and Bun
 * implement the same API in their own `node:http2` (both carry RFC 8441's extended CONNECT), so
 * the glue between those objects and the session is written once, here and in
 * `stream-transport.ts`, `stream-server.ts` and `http2-session-pool.ts`, over these shapes: the
 * session layer imports no `node:*` module. Also here: the conversions between the codec's
 * header lists and Node's header records, and what an adapter learns about a peer from them.
 */
import { HttpHeaders } from '../http/headers.ts';
import type { RequestHead } from '../http/head-parser.ts';
import type { PeerInfo } from './transport.ts';

/** Any listener of a Node-style event emitter (the arguments differ per event). */
// biome-ignore lint/suspicious/noExplicitAny: Node's emitters type a listener's arguments as any[]; neither unknown[] nor never[] lets both Node's objects and our typed listeners fit.
export type NodeListener = (...args: any[]) => void;

/** A Node-style event emitter. */
export interface NodeStyleEmitter {
  on(event: string, listener: NodeListener): unknown;
  once(event: string, listener: NodeListener): unknown;
  off(event: string, listener: NodeListener): unknown;
  listenerCount(event: string): number;
}

/** A Node-style `Duplex` (a socket, or an HTTP/2 stream): 'data', 'end', 'error', 'close' events. */
export interface NodeStyleDuplex extends NodeStyleEmitter {
  readonly destroyed: boolean;
  readonly writable: boolean;
  readonly writableLength: number;
  /** The error it was destroyed with (Node ≥ 18). */
  readonly errored?: unknown;
  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean;
  end(): unknown;
  destroy(): unknown;
  pause(): unknown;
  resume(): unknown;
}

/** What an HTTP/2 session or an accepted socket tells about the peer. */
export interface NodeStyleSocket {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  /** True on a TLS socket. */
  readonly encrypted?: boolean;
}

/** A header record as Node's HTTP/2 API takes and gives it (a repeated name as an array). */
export type HeaderRecord = Record<string, string | string[] | number | undefined>;

/** An HTTP/2 stream (`Http2Stream`). */
export interface NodeStyleHttp2Stream extends NodeStyleDuplex {
  /** RST_STREAM was sent or received, or the stream ended both ways. */
  readonly closed: boolean;
  /** Send RST_STREAM with this error code. */
  close(code?: number): unknown;
  readonly session?: { readonly socket?: NodeStyleSocket | null } | undefined | null;
}

/** A server's HTTP/2 stream (`ServerHttp2Stream`): answered with `respond()`. */
export interface NodeStyleServerStream extends NodeStyleHttp2Stream {
  readonly headersSent: boolean;
  respond(headers: HeaderRecord, options: { endStream: boolean }): unknown;
}

/** The settings an HTTP/2 peer announced, as far as RFC 8441 cares. */
export interface NodeStyleSettings {
  enableConnectProtocol?: boolean;
}

/** A client's HTTP/2 session (`ClientHttp2Session`). */
export interface NodeStyleClientSession extends NodeStyleEmitter {
  readonly closed: boolean;
  readonly destroyed: boolean;
  request(headers: HeaderRecord, options: { endStream: boolean }): NodeStyleHttp2Stream;
  close(): unknown;
  ref(): unknown;
  unref(): unknown;
}

/** A request `node:http` (or `node:http2` with `allowHTTP1`) parsed (`IncomingMessage`, `Http2ServerRequest`). */
export interface NodeStyleRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly httpVersion: string;
  readonly httpVersionMajor: number;
  readonly headers: HeaderRecord;
  /** `[name, value, name, value, …]`, as received. */
  readonly rawHeaders: readonly string[];
  /** The compatibility API's request over HTTP/2: its stream. */
  readonly stream?: NodeStyleServerStream;
}

/** A `node:http`, `node:https` or `node:http2` server (its 'upgrade', 'stream' and 'connect' events). */
export type NodeStyleServer = NodeStyleEmitter;

/** A header list as Node's HTTP/2 API takes it: a record, a repeated name as an array. */
export function headerRecord(list: Array<[string, string]>): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = Object.create(null);
  for (const [name, value] of list) {
    const had = record[name];
    if (had === undefined) record[name] = value;
    else if (Array.isArray(had)) had.push(value);
    else record[name] = [had, value];
  }
  return record;
}

/**
 * The header list of a request or response Node decoded: from its raw list (`[name, value, …]`,
 * order and repeats kept) when it gives one, else from the record (pseudo-headers first, as Node
 * keeps them).
 */
export function headerList(headers: HeaderRecord | readonly string[]): Array<[string, string]> {
  const list: Array<[string, string]> = [];
  if (isRawList(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) list.push([String(headers[i]), String(headers[i + 1])]);
    return list;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) list.push([name, v]);
    else list.push([name, String(value)]);
  }
  return list;
}

function isRawList(headers: HeaderRecord | readonly string[]): headers is readonly string[] {
  return Array.isArray(headers);
}

/** Whether a stream's request is an extended CONNECT (RFC 8441 §4): `:method` CONNECT with a `:protocol`. */
export function isExtendedConnect(headers: HeaderRecord): boolean {
  return headers[':method'] === 'CONNECT' && headers[':protocol'] !== undefined;
}

/** The peer of an accepted socket (`encrypted`: TLS). */
export function socketPeer(socket: NodeStyleSocket | null | undefined): PeerInfo {
  return {
    remoteAddress: socket?.remoteAddress ?? null,
    remotePort: socket?.remotePort ?? null,
    secure: socket?.encrypted === true,
  };
}

/** The peer of an HTTP/2 stream: its session's socket's. */
export function streamPeer(stream: NodeStyleHttp2Stream): PeerInfo {
  return socketPeer(stream.session?.socket);
}

/** The request head `node:http` parsed, for the codec to validate. */
export function requestHeadOf(req: NodeStyleRequest): RequestHead {
  const raw = req.rawHeaders;
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    if (name !== undefined && value !== undefined) pairs.push([name, value]);
  }
  return {
    method: req.method ?? 'GET',
    target: req.url ?? '/',
    httpVersion: req.httpVersion,
    headers: HttpHeaders.fromTrusted(pairs),
  };
}
