/**
 * WebSockets over HTTP/2 on Node (RFC 8441): the session pool `connect(url, { http2: true })`
 * shares, over `node:http2`'s `connect`. Everything else (the transports over an HTTP/2 stream,
 * the header lists, how a stream's end and reset map to the WebSocket's, the server's
 * `handleStream`/`attach`) is the session layer's, shared with Deno and Bun (`node-style.ts`).
 */
import http2 from 'node:http2';
import { Http2SessionPool } from '@ws/codec/session';

/** The pool `connect(url, { http2: true })` uses. */
export const defaultHttp2Pool = new Http2SessionPool((authority, options) => http2.connect(authority, options));
