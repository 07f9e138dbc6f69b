// Plain HTTP on a server connection (`serverConnection({ http: HttpServerPhase })`): request heads, bodies,
// responses, keep-alive, pipelining, refusals and timeouts, as bytes in and events and bytes out.
// A scripted responder answers each request once its body is complete; every exchange is also
// fed at every split and one byte at a time, with the same transcript.
import { describe, it, expect } from 'vitest';
import { serverConnection } from '../../src/server.ts';
import { encodeChunk, serializeResponseHead, requestKeepsAlive, LAST_CHUNK } from '../../src/http/response.ts';
import type { Event } from '../../src/events.ts';
import { splits } from '../helpers/split.ts';
import { latin1 } from '../helpers/heads.ts';
import { FakeClock } from '../../src/testing/index.ts';
import { HttpServerPhase } from '../../src/http.ts';

const text = (bytes: Uint8Array): string => String.fromCharCode(...bytes);

const UPGRADE =
  'GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

interface Options {
  /** How the responder answers: a body of known length (default), or chunked in two parts. */
  chunked?: boolean;
  limits?: { maxBodyBytes?: number; maxHeadBytes?: number };
  eof?: boolean;
}

/**
 * Feeds `chunks` to a server connection; the responder answers every request, once its body
 * ended, with `200` and the text `METHOD TARGET <body>`. The transcript: events (bodies
 * joined), everything written, and how the connection ended.
 */
function serve(chunks: Uint8Array[], options: Options = {}) {
  const server = serverConnection({ http: HttpServerPhase, limits: options.limits });
  const log: string[] = [];
  let written = '';
  let current: { method: string; target: string; body: string; hasBody: boolean } | null = null;
  let pendingBody = '';
  const answer = (): void => {
    const c = current!;
    current = null;
    const body = latin1(`${c.method} ${c.target} ${c.body}`);
    if (options.chunked) {
      server.send({ type: 'http-response', status: 200, headers: [['X-Test', '1']], bodyLength: null });
      server.send({ type: 'http-body', data: body.subarray(0, 3) });
      server.send({ type: 'http-body', data: body.subarray(3) });
    } else {
      server.send({ type: 'http-response', status: 200, headers: [['X-Test', '1']], bodyLength: body.length });
      server.send({ type: 'http-body', data: body });
    }
    server.send({ type: 'http-end' });
  };
  const drain = (): void => {
    for (let event: Event | null = server.nextEvent(); event !== null; event = server.nextEvent()) {
      switch (event.type) {
        case 'http-request':
          if (pendingBody !== '') log.push(`body ${pendingBody}`);
          pendingBody = '';
          log.push(
            `request ${event.request.method} ${event.request.target} ${event.request.httpVersion}${event.body ? ' +body' : ''}`,
          );
          current = { method: event.request.method, target: event.request.target, body: '', hasBody: event.body };
          if (!event.body) answer();
          break;
        case 'http-body':
          current!.body += text(event.data);
          break;
        case 'http-body-end':
          log.push(`body ${current!.body}`);
          answer();
          break;
        case 'protocol-error':
          log.push(`error ${event.code} ${event.status ?? '-'}`);
          break;
        case 'closed':
          log.push(`closed ${event.info.error ?? 'ok'}`);
          break;
        default:
          log.push(event.type);
      }
    }
    for (const output of server.takeOutput()) {
      if (output.type === 'write') written += text(output.data);
      else log.push(output.type);
    }
  };
  for (const chunk of chunks) {
    if (chunk.length === 0) continue;
    server.receiveData(chunk);
    drain();
  }
  if (options.eof) {
    server.receiveEof();
    drain();
  }
  return { log, written, state: server.state };
}

/** The transcript for `wire`, checked to be the same at every split and one byte at a time. */
function serveAll(wire: string, options: Options = {}) {
  const data = latin1(wire);
  const whole = serve([data], options);
  for (const chunks of splits(data)) expect(serve(chunks, options)).toEqual(whole);
  return whole;
}

describe('plain HTTP on a server connection', () => {
  it('answers a GET with the length known, and keeps the connection open', () => {
    const t = serveAll('GET /health HTTP/1.1\r\nHost: h\r\n\r\n');
    expect(t.log).toEqual(['request GET /health 1.1']);
    expect(t.written).toBe('HTTP/1.1 200 OK\r\nX-Test: 1\r\nContent-Length: 12\r\n\r\nGET /health ');
    expect(t.state).toBe('handshake');
  });

  it('serves several requests on one connection, pipelined ones in turn', () => {
    const t = serveAll(
      'GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyzGET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n',
    );
    expect(t.log).toEqual([
      'request GET /a 1.1',
      'request POST /b 1.1 +body',
      'body xyz',
      'request GET /c 1.1',
      'closed ok',
      'shutdown',
    ]);
    expect(t.written.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(3);
    expect(t.written).toContain('Content-Length: 11\r\n\r\nPOST /b xyz');
    expect(t.written.endsWith('Connection: close\r\n\r\nGET /c ')).toBe(true);
  });

  it('decodes a chunked request body and answers chunked', () => {
    const t = serveAll(
      'POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n',
      { chunked: true },
    );
    expect(t.log).toEqual(['request POST /up 1.1 +body', 'body Wikipedia']);
    expect(t.written).toBe(
      'HTTP/1.1 200 OK\r\nX-Test: 1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nPOS\r\nf\r\nT /up Wikipedia\r\n0\r\n\r\n',
    );
  });

  it('HEAD: the head with its length, no body', () => {
    const t = serveAll('HEAD / HTTP/1.1\r\nHost: h\r\n\r\n');
    expect(t.written).toBe('HTTP/1.1 200 OK\r\nX-Test: 1\r\nContent-Length: 7\r\n\r\n');
    const chunked = serveAll('HEAD / HTTP/1.1\r\nHost: h\r\n\r\n', { chunked: true });
    expect(chunked.written).toBe('HTTP/1.1 200 OK\r\nX-Test: 1\r\n\r\n');
  });

  it('HTTP/1.0: closes after the answer; a body of unknown length ends with the connection', () => {
    const t = serveAll('GET / HTTP/1.0\r\n\r\n', { chunked: true });
    expect(t.written).toBe('HTTP/1.1 200 OK\r\nX-Test: 1\r\nConnection: close\r\n\r\nGET / ');
    expect(t.log).toEqual(['request GET / 1.0', 'closed ok', 'shutdown']);
    const kept = serveAll('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    expect(kept.written).toContain('Connection: keep-alive\r\n');
    expect(kept.state).toBe('handshake');
  });

  it('an upgrade after plain requests goes to the WebSocket handshake', () => {
    const t = serveAll(`GET /page HTTP/1.1\r\nHost: h\r\n\r\n${UPGRADE}`);
    expect(t.log).toEqual(['request GET /page 1.1', 'request']);
    expect(t.state).toBe('awaiting-accept');
  });

  it.each([
    [
      'Content-Length with Transfer-Encoding',
      'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'BAD_BODY_FRAMING',
    ],
    ['Transfer-Encoding: gzip', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n', 'BAD_BODY_FRAMING'],
    [
      'two Content-Lengths',
      'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx',
      'BAD_BODY_FRAMING',
    ],
    ['an invalid Content-Length', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\nx', 'BAD_BODY_FRAMING'],
    ['a bad chunk size', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n', 'BAD_CHUNK'],
  ])('refuses %s with 400 and closes', (_name, wire, code) => {
    const t = serveAll(wire);
    expect(t.written.startsWith('HTTP/1.1 400 Bad Request\r\n')).toBe(true);
    expect(t.written).toContain('Connection: close\r\n');
    expect(t.log.slice(-3)).toEqual([`error ${code} 400`, `closed ${code}`, 'shutdown']);
  });

  it('refuses a body over maxBodyBytes with 413', () => {
    const t = serveAll('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world', {
      limits: { maxBodyBytes: 10 },
    });
    expect(t.written.startsWith('HTTP/1.1 413 Content Too Large\r\n')).toBe(true);
    const chunked = serveAll(
      'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
      { limits: { maxBodyBytes: 10 } },
    );
    expect(chunked.log).toContain('error BODY_TOO_LARGE 413');
  });

  it('keeps the head limit of the WebSocket handshake (431)', () => {
    const t = serveAll(`GET / HTTP/1.1\r\nHost: h\r\nX: ${'a'.repeat(300)}\r\n\r\n`, { limits: { maxHeadBytes: 256 } });
    expect(t.written.startsWith('HTTP/1.1 431 ')).toBe(true);
  });

  it('a request without an upgrade is refused with 426 when serving is off', () => {
    const server = serverConnection();
    server.receiveData(latin1('GET / HTTP/1.1\r\nHost: h\r\n\r\n'));
    expect(text((server.takeOutput()[0] as { data: Uint8Array }).data)).toMatch(/^HTTP\/1\.1 426 /);
  });

  it('EOF between requests closes quietly; in the middle of a body it is an error', () => {
    expect(serveAll('GET / HTTP/1.1\r\nHost: h\r\n\r\n', { eof: true }).log).toEqual([
      'request GET / 1.1',
      'closed ok',
      'shutdown',
    ]);
    expect(serveAll('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab', { eof: true }).log.slice(-3)).toEqual([
      'error EOF_IN_REQUEST -',
      'closed EOF_IN_REQUEST',
      'destroy',
    ]);
  });
});

describe('plain HTTP timeouts', () => {
  it('a head that does not arrive in handshakeTimeout is dropped (slow loris), as an upgrade would be', () => {
    const clock = new FakeClock();
    const server = serverConnection({ http: HttpServerPhase, timeouts: { handshakeTimeout: 1000 } });
    server.receiveData(latin1('GET / HTTP/1.1\r\nHo'));
    expect(server.nextDeadline()).toBe(0); // the wait began: the next tick starts its clock
    server.tick(clock.now());
    expect(server.nextDeadline()).toBe(clock.now() + 1000);
    clock.advance(1000);
    server.tick(clock.now());
    expect(server.takeEvents().map((e) => e.type)).toEqual(['protocol-error', 'closed']);
    expect(server.takeOutput()).toEqual([{ type: 'destroy' }]);
  });

  it('a kept-alive connection closes after httpKeepAliveTimeout without a new request', () => {
    const clock = new FakeClock();
    const server = serverConnection({
      http: HttpServerPhase,
      timeouts: { httpKeepAliveTimeout: 500, handshakeTimeout: 1000 },
    });
    server.tick(clock.now());
    server.receiveData(latin1('GET / HTTP/1.1\r\nHost: h\r\n\r\n'));
    clock.advance(300);
    server.send({ type: 'http-response', status: 204, bodyLength: null });
    server.send({ type: 'http-end' });
    expect(server.nextDeadline()).toBe(0);
    server.tick(clock.now());
    expect(server.nextDeadline()).toBe(clock.now() + 500);
    clock.advance(499);
    server.tick(clock.now());
    expect(server.state).toBe('handshake');
    clock.advance(1);
    server.tick(clock.now());
    expect(server.state).toBe('closed');
    expect(server.closeInfo?.error).toBeNull();
  });

  it('nothing is timed while the application prepares its answer', () => {
    const clock = new FakeClock();
    const server = serverConnection({ http: HttpServerPhase, timeouts: { handshakeTimeout: 1000 } });
    server.tick(clock.now());
    server.receiveData(latin1('GET / HTTP/1.1\r\nHost: h\r\n\r\n'));
    expect(server.nextDeadline()).toBeNull();
  });
});

describe('response heads', () => {
  const ctx = { method: 'GET', httpVersion: '1.1', keepAlive: true };
  it("drops the caller's framing fields and honours Connection: close", () => {
    const out = serializeResponseHead(
      {
        status: 200,
        headers: [
          ['Content-Length', '99'],
          ['Transfer-Encoding', 'gzip'],
          ['Connection', 'close'],
          ['X-A', 'b'],
        ],
        bodyLength: 2,
      },
      ctx,
    );
    expect(text(out.head)).toBe('HTTP/1.1 200 OK\r\nX-A: b\r\nContent-Length: 2\r\nConnection: close\r\n\r\n');
    expect(out).toMatchObject({ framing: 'length', keepAlive: false });
  });

  it('204 and 304 have no body and no chunked coding', () => {
    expect(serializeResponseHead({ status: 204, bodyLength: null }, ctx).framing).toBe('none');
    expect(text(serializeResponseHead({ status: 304, bodyLength: null }, ctx).head)).toBe(
      'HTTP/1.1 304 Not Modified\r\n\r\n',
    );
  });

  it('refuses a status outside 200–599', () => {
    expect(() => serializeResponseHead({ status: 101, bodyLength: 0 }, ctx)).toThrow(/200 to 599/);
  });

  it('chunks: size in hex, data, CRLF; the last chunk', () => {
    expect(encodeChunk(latin1('x'.repeat(26))).map(text)).toEqual(['1a\r\n', 'x'.repeat(26), '\r\n']);
    expect(encodeChunk(new Uint8Array(0))).toEqual([]);
    expect(text(LAST_CHUNK)).toBe('0\r\n\r\n');
  });

  it('keep-alive by version and Connection', () => {
    expect(requestKeepsAlive('1.1', null)).toBe(true);
    expect(requestKeepsAlive('1.1', 'Close')).toBe(false);
    expect(requestKeepsAlive('1.0', null)).toBe(false);
    expect(requestKeepsAlive('1.0', 'Keep-Alive')).toBe(true);
  });
});
