/**
 * The upgrade handler every adapter shares for Node-style servers (`node-style.ts`): take over
 * an HTTP/1.1 upgrade (`handleUpgrade`, the 'upgrade' event of `node:http`, `node:https`, or
 * `node:http2` with `allowHTTP1`) or an HTTP/2 stream whose request is an extended CONNECT
 * (`handleStream`, RFC 8441), and `attach()` to such a server. Node, Deno and Bun all have these
 * servers in `node:http`/`node:http2` (on Deno and Bun too, SETTINGS_ENABLE_CONNECT_PROTOCOL and
 * `:protocol` work), so this is written once; Node serves upgrades on its own tuned transport.
 */
import type { Connection, ServerConnectionOptions } from '../connection.ts';
import { WebSocketUsageError } from '../errors.ts';
import { SessionServer } from './session-server.ts';
import {
  headerList,
  isExtendedConnect,
  requestHeadOf,
  socketPeer,
  streamPeer,
  type HeaderRecord,
  type NodeStyleDuplex,
  type NodeStyleRequest,
  type NodeStyleServer,
  type NodeStyleServerStream,
  type NodeStyleSocket,
} from './node-style.ts';
import { Http2ServerTransport, StreamTransport } from './stream-transport.ts';
import type { WebSocketConnection } from './websocket-connection.ts';

/** Streams taken over: a stream may reach both a server's 'stream' and its 'connect' listener. */
const takenStreams = new WeakSet<object>();

/** The compatibility API's answer object to a plain CONNECT over HTTP/2. */
interface NodeStyleResponse {
  statusCode: number;
  end(): unknown;
}

/** `T`: the type of each connection's `data` (set by `verifyClient` answering `{ data }`). */
export class StreamServer<T = unknown> extends SessionServer<T> {
  readonly #detach: Array<() => void> = [];
  /**
   * The codec's connection for an HTTP/2 stream: `http2ServerConnection` from `@ws/codec/http2`,
   * which the adapter sets (an entry point of its own, so the session layer does not carry it).
   */
  protected readonly http2Connection: ((options: ServerConnectionOptions) => Connection) | null = null;

  /**
   * Take over a socket from a server's 'upgrade' event: the request head the HTTP server parsed
   * is validated by the codec (a bad one is answered with its status), then `verifyClient`,
   * `protocols` and `origins` apply. Returns the connection (still `connecting`); the
   * `connection` event gets it once open.
   */
  handleUpgrade(req: NodeStyleRequest, socket: NodeStyleDuplex, head: Uint8Array): WebSocketConnection<T> {
    // `head` may share memory with the HTTP parser's buffer: `serve` gives the codec a copy.
    return this.serve(new StreamTransport(socket), socketPeer(socket as Partial<NodeStyleSocket>), {
      requestHead: requestHeadOf(req),
      head,
    });
  }

  /**
   * Take over an HTTP/2 stream whose request is an extended CONNECT (RFC 8441), from a
   * `node:http2` server's 'stream' event (`headers`, or better its raw list, the event's fourth
   * argument) or the compatibility API's 'connect' (`req.stream`, `req.rawHeaders`). The codec
   * checks the request (a bad one is answered with its status); then `verifyClient`, `protocols`
   * and `origins` apply as for an upgrade. Returns the connection (still `connecting`).
   */
  handleStream(stream: NodeStyleServerStream, headers: HeaderRecord | readonly string[]): WebSocketConnection<T> {
    const make = this.http2Connection;
    if (make === null)
      throw new WebSocketUsageError(
        'INVALID_STATE',
        'this server has no HTTP/2 handshake (its adapter sets http2Connection)',
      );
    takenStreams.add(stream);
    return this.serve(new Http2ServerTransport(stream), streamPeer(stream), { make, headers: headerList(headers) });
  }

  /**
   * Accept WebSockets on `server` until this handler closes: HTTP/1.1 upgrades (its 'upgrade'
   * event, also on an HTTP/2 server with `allowHTTP1`) and, on a `node:http2` server created with
   * `settings: { enableConnectProtocol: true }`, extended CONNECTs (RFC 8441), whether the server
   * uses the compatibility API (a 'request' listener: they arrive as 'connect') or streams. Other
   * requests stay the server's. On an HTTP/2 server without that setting, the runtime refuses
   * `:protocol` itself, so nothing changes there but HTTP/1.1 upgrades (with `allowHTTP1`).
   */
  attach(server: NodeStyleServer): this {
    const onUpgrade = (req: NodeStyleRequest, socket: NodeStyleDuplex, head: Uint8Array): void => {
      this.handleUpgrade(req, socket, head);
    };
    const onStream = (stream: NodeStyleServerStream, headers: HeaderRecord, _f: number, raw?: string[]): void => {
      if (takenStreams.has(stream) || !isExtendedConnect(headers)) return;
      this.handleStream(stream, Array.isArray(raw) ? raw : headers);
    };
    // The compatibility API's CONNECT: (request, response) over HTTP/2; (request, socket, head) over HTTP/1.1.
    const onConnect = (req: NodeStyleRequest, second: unknown): void => {
      const stream = req.stream;
      if (stream !== undefined && req.httpVersionMajor === 2) {
        if (takenStreams.has(stream)) return;
        if (isExtendedConnect(req.headers)) {
          this.handleStream(stream, req.rawHeaders);
          return;
        }
        // Another CONNECT: what the server would have answered without our listener.
        if (server.listenerCount('connect') === 1) {
          const res = second as NodeStyleResponse;
          res.statusCode = 405;
          res.end();
        }
        return;
      }
      if (server.listenerCount('connect') === 1) (second as NodeStyleDuplex).destroy();
    };
    server.on('upgrade', onUpgrade);
    const isHttp2 = typeof (server as { updateSettings?: unknown }).updateSettings === 'function';
    if (isHttp2) {
      server.on('stream', onStream);
      server.on('connect', onConnect);
    }
    this.#detach.push(() => {
      server.off('upgrade', onUpgrade);
      if (isHttp2) {
        server.off('stream', onStream);
        server.off('connect', onConnect);
      }
    });
    return this;
  }

  /** Stop taking requests from the servers given to `attach()`. */
  protected override stopAccepting(): Promise<void> | void {
    for (const detach of this.#detach.splice(0)) detach();
  }
}
