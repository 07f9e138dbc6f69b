import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { HeadParser, decodeLatin1, type RequestHead, type ResponseHead } from '../src/http/head-parser.ts';
import { HttpHeaders } from '../src/http/headers.ts';
import {
  buildAcceptResponse,
  buildRejectResponse,
  validateRequest,
  type ServerHandshakeOptions,
} from '../src/handshake/server.ts';
import { createHash } from 'node:crypto';
import { computeAcceptKey, generateKey } from '../src/handshake/accept-key.ts';
import type { HandshakeRequest } from '../src/events.ts';
import { LIMITS, RFC_FIELDS, latin1 as bytes, parseHead } from './helpers/heads.ts';

/** Parses a request head, checking every split gives the same head. */
const requestHead = (text: string): RequestHead => parseHead('request', bytes(text));

const usage = (code: string) => expect.objectContaining({ code });

function responseHead(data: Uint8Array): { head: ResponseHead; rest: Uint8Array } {
  const result = new HeadParser('response', LIMITS).push(data);
  if (result === null || !result.ok) throw new Error(`not a response: ${JSON.stringify(result)}`);
  return { head: result.head, rest: result.rest };
}

function request(
  opts: { line?: string; fields?: Array<[string, string]>; drop?: string[]; add?: Array<[string, string]> } = {},
): string {
  const drop = new Set((opts.drop ?? []).map((d) => d.toLowerCase()));
  const fields = (opts.fields ?? RFC_FIELDS).filter(([n]) => !drop.has(n.toLowerCase())).concat(opts.add ?? []);
  return `${opts.line ?? 'GET /chat HTTP/1.1'}\r\n${fields.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
}

function validate(text: string, options: ServerHandshakeOptions = {}) {
  return validateRequest(requestHead(text), options);
}

function expectRefusal(
  text: string,
  code: string,
  status: number,
  headers: Array<[string, string]> = [],
  options: ServerHandshakeOptions = {},
) {
  const verdict = validate(text, options);
  expect(verdict).toMatchObject({ ok: false, code, status, headers });
}

function accepted(text: string, options: ServerHandshakeOptions = {}): HandshakeRequest {
  const verdict = validate(text, options);
  if (!verdict.ok) throw new Error(`refused: ${verdict.code}`);
  return verdict.request;
}

describe('computeAcceptKey and generateKey', () => {
  it('matches the RFC 6455 vectors', () => {
    expect(computeAcceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(computeAcceptKey('q4xkcO32u266gldTuKaSOw==')).toBe('fA9dggdnMPU79lJgAE3W4TRnyDM=');
    expect(() => computeAcceptKey(1 as unknown as string)).toThrow(usage('INVALID_ARGUMENT'));
  });

  it('gives the right value for every key in turn, though one SHA-1 state serves them all', () => {
    // Keys of every length around the 64-byte block (key + GUID: one block or two), a refused
    // key between them, and the first again: each digest starts from a fresh state.
    const keys = Array.from({ length: 80 }, (_, n) => 'k'.repeat(n) + String(n));
    keys.push(keys[0]!);
    for (const key of keys) {
      const expected = createHash('sha1')
        .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11', 'latin1')
        .digest('base64');
      expect(computeAcceptKey(key)).toBe(expected);
      expect(() => computeAcceptKey(key + '\u0100')).toThrow(usage('INVALID_ARGUMENT'));
    }
  });

  it('generates 16 random bytes in base64 from the injected source', () => {
    expect(generateKey(() => undefined)).toBe('AAAAAAAAAAAAAAAAAAAAAA==');
    expect(generateKey((b) => b.fill(0xff))).toBe('/////////////////////w==');
    let seen = 0;
    generateKey((b) => {
      seen = b.length;
    });
    expect(seen).toBe(16);
    expect(() => generateKey(null as unknown as () => void)).toThrow(usage('NO_RANDOM_SOURCE'));
  });
});

describe('validateRequest (RFC 6455 §4.2.1)', () => {
  it('accepts the RFC 6455 request', () => {
    const req = accepted(request({ line: 'GET /chat?x=1&y HTTP/1.1' }));
    expect(req).toMatchObject({
      method: 'GET',
      target: '/chat?x=1&y',
      path: '/chat',
      query: 'x=1&y',
      httpVersion: '1.1',
      host: 'server.example.com',
      origin: 'http://example.com',
      key: 'dGhlIHNhbXBsZSBub25jZQ==',
      protocols: ['chat', 'superchat'],
      extensions: [],
    });
    expect(req.headers.get('upgrade')).toBe('websocket');
  });

  it('accepts list headers case-insensitively and combines repeats', () => {
    const req = accepted(
      request({
        drop: ['Upgrade', 'Connection', 'Sec-WebSocket-Protocol', 'Origin'],
        add: [
          ['upgrade', 'h2c, WebSocket'],
          ['CONNECTION', 'keep-alive'],
          ['connection', 'UPGRADE'],
          ['Sec-WebSocket-Protocol', 'a'],
          ['Sec-WebSocket-Protocol', 'b, c'],
          ['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits'],
          ['Sec-WebSocket-Extensions', 'x-foo'],
        ],
      }),
    );
    expect(req.protocols).toEqual(['a', 'b', 'c']);
    expect(req.origin).toBeNull();
    expect(req.extensions).toEqual([
      { name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: null }] },
      { name: 'x-foo', params: [] },
    ]);
  });

  it('reduces an absolute-form target to its path when its authority is the Host (RFC 9112 §3.2.2)', () => {
    const withHost = (line: string, host: string) =>
      request({ line, fields: RFC_FIELDS.map(([n, v]) => [n, n === 'Host' ? host : v]) });
    expect(accepted(withHost('GET http://other.example:8080/a/b?q HTTP/1.1', 'other.example:8080'))).toMatchObject({
      path: '/a/b',
      query: 'q',
      host: 'other.example:8080',
    });
    // Hosts compare ignoring ASCII case; request.host is the Host field as sent.
    expect(accepted(withHost('GET WSS://H HTTP/1.1', 'h'))).toMatchObject({ path: '/', query: '', host: 'h' });
    expect(accepted(withHost('GET ws://h?q=1 HTTP/1.1', 'h'))).toMatchObject({ path: '/', query: 'q=1', host: 'h' });
    expect(accepted(withHost('GET http://[::1]:9/x HTTP/1.1', '[::1]:9'))).toMatchObject({
      path: '/x',
      host: '[::1]:9',
    });
    expect(accepted(request({ line: 'GET /a?b?c HTTP/1.1' }))).toMatchObject({ path: '/a', query: 'b?c' });
    expect(accepted(request({ line: 'GET / HTTP/1.2' }))).toMatchObject({ httpVersion: '1.2' });
  });

  it('refuses other methods with 405 and Allow: GET', () => {
    expectRefusal(request({ line: 'POST /chat HTTP/1.1' }), 'BAD_METHOD', 405, [['Allow', 'GET']]);
    expectRefusal(request({ line: 'get /chat HTTP/1.1' }), 'BAD_METHOD', 405, [['Allow', 'GET']]);
  });

  it('refuses HTTP/1.0 with 400 and another major version with 505', () => {
    expectRefusal(request({ line: 'GET /chat HTTP/1.0' }), 'BAD_HTTP_VERSION', 400);
    const head = requestHead(request());
    expect(validateRequest({ ...head, httpVersion: '2.0' }, {})).toMatchObject({
      ok: false,
      code: 'BAD_HTTP_VERSION',
      status: 505,
    });
    expect(validateRequest({ ...head, httpVersion: 'x' }, {})).toMatchObject({
      ok: false,
      code: 'BAD_HTTP_VERSION',
      status: 505,
    });
  });

  it('validates an absolute-form authority as a Host and refuses one that disagrees with Host (400)', () => {
    // An outside review's probe: this authority got a 101 and became request.host unchecked,
    // while the same text in Host was refused.
    const evil = 'e<v>"il{}|\\^`';
    expect(validate(request({ line: `GET http://${evil}/ HTTP/1.1` }))).toMatchObject({
      ok: false,
      code: 'MALFORMED_HEAD',
      status: 400,
      message: 'malformed authority in the request-target',
    });
    expect(validate(request({ fields: RFC_FIELDS.map(([n, v]) => [n, n === 'Host' ? evil : v]) }))).toMatchObject({
      ok: false,
      code: 'MALFORMED_HEAD',
      status: 400,
      message: 'malformed Host header',
    });
    for (const bad of ['"', '<', '>', '{', '}', '|', '\\', '^', '`']) {
      expect(validate(request({ line: `GET ws://server.example.com${bad}/chat HTTP/1.1` }))).toMatchObject({
        ok: false,
        status: 400,
        message: 'malformed authority in the request-target',
      });
    }
    // Valid, but not the Host: a router reading one and a check reading the other would disagree.
    for (const authority of ['other.example', 'server.example.com:80', 'server.example.com.', 'server.example.co']) {
      const verdict = validate(request({ line: `GET ws://${authority}/chat HTTP/1.1` }));
      expect(verdict).toMatchObject({
        ok: false,
        code: 'MALFORMED_HEAD',
        status: 400,
        message: 'the request-target authority and the Host header disagree',
      });
    }
    expect(accepted(request({ line: 'GET ws://Server.Example.COM/chat HTTP/1.1' }))).toMatchObject({
      host: 'server.example.com',
      path: '/chat',
    });
  });

  it('refuses targets that are not a path', () => {
    for (const target of [
      '*',
      'chat',
      'example.com:80',
      'ftp://h/',
      'http:///x',
      'http://u@h/x',
      '/a#b',
      'http://h#x',
    ]) {
      expectRefusal(request({ line: `GET ${target} HTTP/1.1` }), 'MALFORMED_HEAD', 400);
    }
  });

  it('needs exactly one well-formed Host (RFC 9112 §3.2)', () => {
    expectRefusal(request({ drop: ['Host'] }), 'MISSING_HOST', 400);
    expectRefusal(request({ drop: ['Host'], add: [['Host', '']] }), 'MISSING_HOST', 400);
    expectRefusal(request({ add: [['Host', 'other']] }), 'MALFORMED_HEAD', 400);
    expectRefusal(request({ drop: ['Host'], add: [['Host', 'a b']] }), 'MALFORMED_HEAD', 400);
    expectRefusal(request({ drop: ['Host'], add: [['Host', 'u@h']] }), 'MALFORMED_HEAD', 400);
    expect(accepted(request({ drop: ['Host'], add: [['Host', '[::1]:8080']] })).host).toBe('[::1]:8080');
  });

  it('refuses a request that announces a body', () => {
    expectRefusal(request({ add: [['Content-Length', '5']] }), 'MALFORMED_HEAD', 400);
    expectRefusal(request({ add: [['Transfer-Encoding', 'chunked']] }), 'MALFORMED_HEAD', 400);
    expect(validate(request({ add: [['Content-Length', '0']] })).ok).toBe(true);
  });

  it('answers 426 with Upgrade: websocket when Upgrade does not name websocket, 400 when it is malformed', () => {
    const upgradeRequired: Array<[string, string]> = [
      ['Upgrade', 'websocket'],
      ['Connection', 'Upgrade'],
    ];
    expectRefusal(request({ drop: ['Upgrade'] }), 'BAD_UPGRADE', 426, upgradeRequired);
    expectRefusal(request({ drop: ['Upgrade'], add: [['Upgrade', 'h2c']] }), 'BAD_UPGRADE', 426, upgradeRequired);
    expectRefusal(
      request({ drop: ['Upgrade'], add: [['Upgrade', 'websocket2']] }),
      'BAD_UPGRADE',
      426,
      upgradeRequired,
    );
    expectRefusal(request({ drop: ['Upgrade'], add: [['Upgrade', 'web socket']] }), 'BAD_UPGRADE', 400);
  });

  it('needs Connection to name upgrade', () => {
    expectRefusal(request({ drop: ['Connection'] }), 'BAD_CONNECTION', 400);
    expectRefusal(request({ drop: ['Connection'], add: [['Connection', 'keep-alive']] }), 'BAD_CONNECTION', 400);
    expectRefusal(request({ drop: ['Connection'], add: [['Connection', 'upgrade; x']] }), 'BAD_CONNECTION', 400);
  });

  it('answers 426 with Sec-WebSocket-Version: 13 to other versions (§4.4)', () => {
    const version: Array<[string, string]> = [['Sec-WebSocket-Version', '13']];
    expectRefusal(request({ drop: ['Sec-WebSocket-Version'] }), 'UNSUPPORTED_VERSION', 426, version);
    for (const v of ['8', '12', '013', '13, 8', ' ']) {
      expectRefusal(
        request({ drop: ['Sec-WebSocket-Version'], add: [['Sec-WebSocket-Version', v]] }),
        'UNSUPPORTED_VERSION',
        426,
        version,
      );
    }
    expectRefusal(request({ add: [['Sec-WebSocket-Version', '13']] }), 'UNSUPPORTED_VERSION', 426, version);
  });

  it('needs exactly one key that is 16 bytes in base64', () => {
    expectRefusal(request({ drop: ['Sec-WebSocket-Key'] }), 'BAD_KEY', 400);
    expectRefusal(request({ add: [['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ==']] }), 'BAD_KEY', 400);
    for (const key of [
      '',
      'dGhlIHNhbXBsZSBub25jZQ',
      'dGhlIHNhbXBsZSBub25jZQ=',
      'dGhlIHNhbXBsZSBub25jZXg=',
      'AAAAAAAAAAAAAAAAAAAAAAAA',
      'dGhlIHNhbXBsZSBub25jZR==',
      '!GhlIHNhbXBsZSBub25jZQ==',
    ]) {
      expectRefusal(request({ drop: ['Sec-WebSocket-Key'], add: [['Sec-WebSocket-Key', key]] }), 'BAD_KEY', 400);
    }
  });

  it('gives a request without protocols or extensions one shared, frozen empty list of each', () => {
    const a = accepted(request({ drop: ['Sec-WebSocket-Protocol'] }));
    const b = accepted(request({ drop: ['Sec-WebSocket-Protocol'] }));
    expect(a.protocols).toEqual([]);
    expect(a.extensions).toEqual([]);
    expect(a.protocols).toBe(b.protocols);
    expect(a.extensions).toBe(b.extensions);
    expect(Object.isFrozen(a.protocols) && Object.isFrozen(a.extensions)).toBe(true);
    expect(() => (a.protocols as string[]).push('x')).toThrow(TypeError);
  });

  it('refuses malformed protocol and extension headers with 400', () => {
    expectRefusal(
      request({ drop: ['Sec-WebSocket-Protocol'], add: [['Sec-WebSocket-Protocol', 'chat superchat']] }),
      'MALFORMED_HEAD',
      400,
    );
    expectRefusal(request({ add: [['Sec-WebSocket-Extensions', 'permessage-deflate;']] }), 'BAD_EXTENSION_HEADER', 400);
    expectRefusal(request({ add: [['Sec-WebSocket-Extensions', 'x; a="b c"']] }), 'BAD_EXTENSION_HEADER', 400);
  });

  it('applies an origin allow-list: case-insensitive, default ports ignored, no Origin refused', () => {
    const origins = ['HTTP://Example.com:80/', 'https://b.example'];
    expect(validate(request(), { origins }).ok).toBe(true);
    expect(validate(request({ drop: ['Origin'], add: [['Origin', 'https://B.example:443']] }), { origins }).ok).toBe(
      true,
    );
    expect(
      validate(request({ drop: ['Origin'], add: [['Origin', 'wss://b.example:443']] }), {
        origins: ['WSS://b.example'],
      }).ok,
    ).toBe(true);
    expectRefusal(
      request({ drop: ['Origin'], add: [['Origin', 'http://example.com:8080']] }),
      'ORIGIN_NOT_ALLOWED',
      403,
      [],
      { origins },
    );
    expectRefusal(
      request({ drop: ['Origin'], add: [['Origin', 'https://example.com']] }),
      'ORIGIN_NOT_ALLOWED',
      403,
      [],
      { origins },
    );
    expectRefusal(request({ drop: ['Origin'], add: [['Origin', 'null']] }), 'ORIGIN_NOT_ALLOWED', 403, [], { origins });
    expectRefusal(request({ drop: ['Origin'] }), 'ORIGIN_NOT_ALLOWED', 403, [], { origins });
    expectRefusal(request(), 'ORIGIN_NOT_ALLOWED', 403, [], { origins: [] });
    expectRefusal(request({ add: [['Origin', 'http://example.com']] }), 'MALFORMED_HEAD', 400, [], { origins });
    expect(validate(request(), { origins: null }).ok).toBe(true);
    expect(validate(request()).ok).toBe(true);
  });

  it('lets an origin predicate decide, and sees null for no Origin', () => {
    const calls: Array<[string | null, string]> = [];
    const origins = (origin: string | null, head: RequestHead) => {
      calls.push([origin, head.target]);
      return origin === null;
    };
    expect(validate(request({ drop: ['Origin'] }), { origins }).ok).toBe(true);
    expectRefusal(request(), 'ORIGIN_NOT_ALLOWED', 403, [], { origins });
    expect(calls).toEqual([
      [null, '/chat'],
      ['http://example.com', '/chat'],
    ]);
  });

  it('throws INVALID_ARGUMENT on misuse', () => {
    const head = requestHead(request());
    expect(() => validateRequest(null as unknown as RequestHead, {})).toThrow(usage('INVALID_ARGUMENT'));
    expect(() => validateRequest({ ...head, headers: {} as HttpHeaders }, {})).toThrow(usage('INVALID_ARGUMENT'));
    expect(() => validateRequest(head, { origins: 'http://a' as unknown as string[] })).toThrow(
      usage('INVALID_ARGUMENT'),
    );
    expect(() => validateRequest(head, { origins: [1] as unknown as string[] })).toThrow(usage('INVALID_ARGUMENT'));
  });

  it('never throws on random heads', () => {
    const name = fc.constantFrom(
      'Host',
      'Upgrade',
      'Connection',
      'Sec-WebSocket-Key',
      'Sec-WebSocket-Version',
      'Sec-WebSocket-Protocol',
      'Sec-WebSocket-Extensions',
      'Origin',
      'Content-Length',
    );
    const value = fc.oneof(
      fc.constantFrom('websocket', 'Upgrade', '13', 'dGhlIHNhbXBsZSBub25jZQ==', 'a, b', 'x; y="z"', '', 'h'),
      fc.stringMatching(/^[\x21-\x7e]{0,12}$/),
    );
    const line = fc.constantFrom(
      'GET / HTTP/1.1',
      'GET * HTTP/1.1',
      'GET http://h/ HTTP/1.1',
      'POST / HTTP/1.1',
      'GET / HTTP/1.0',
      'GET x HTTP/1.1',
    );
    fc.assert(
      fc.property(
        line,
        fc.array(fc.tuple(name, value), { maxLength: 10 }),
        fc.constantFrom<ServerHandshakeOptions['origins']>(null, ['http://a']),
        (l, fields, origins) => {
          const head = new HeadParser('request', LIMITS).push(bytes(request({ line: l, fields })));
          if (head?.ok) {
            const verdict = validateRequest(head.head, { origins });
            if (!verdict.ok) expect(verdict.status).toBeGreaterThanOrEqual(400);
          }
        },
      ),
    );
  });
});

describe('buildAcceptResponse (RFC 6455 §4.2.2)', () => {
  it('answers the RFC request with 101 and the accept key', () => {
    const req = accepted(request());
    const response = buildAcceptResponse(req, { protocol: 'chat', extensions: null });
    expect(decodeLatin1(response)).toBe(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n',
    );
    const { head, rest } = responseHead(response);
    expect(head.status).toBe(101);
    expect(rest.length).toBe(0);
  });

  it('answers with exactly the 101 and the accept key when nothing is added, on every engine tuning', () => {
    // The handshake's own lines are written from a prefix made once: the same bytes, no more.
    const req = accepted(request());
    const expected =
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n';
    const hostSha1 = (text: string) => createHash('sha1').update(text, 'latin1').digest('base64');
    for (const tuning of [{}, { freshArrays: true }, { freshArrays: true, sha1Base64: hostSha1 }]) {
      const response = buildAcceptResponse(req, { protocol: null, extensions: null, ...tuning });
      expect(response.length).toBe(expected.length);
      expect(decodeLatin1(response)).toBe(expected);
    }
  });

  it('adds negotiated extensions and extra headers', () => {
    const req = accepted(
      request({ add: [['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits, x-a']] }),
    );
    const text = decodeLatin1(
      buildAcceptResponse(req, {
        protocol: null,
        extensions: ' permessage-deflate; server_no_context_takeover ',
        headers: [
          ['Set-Cookie', 'a=1'],
          ['X-Server', 'test'],
        ],
      }),
    );
    expect(text).toContain('\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n');
    expect(text).toContain('\r\nSet-Cookie: a=1\r\nX-Server: test\r\n\r\n');
    expect(text).not.toContain('Sec-WebSocket-Protocol');
    expect(
      decodeLatin1(buildAcceptResponse(req, { protocol: null, extensions: null, headers: { 'X-A': ['1', '2'] } })),
    ).toContain('X-A: 1\r\nX-A: 2\r\n');
  });

  it('throws INVALID_ARGUMENT for a protocol or extension the client did not offer', () => {
    const req = accepted(request({ add: [['Sec-WebSocket-Extensions', 'x-a']] }));
    expect(() => buildAcceptResponse(req, { protocol: 'other', extensions: null })).toThrow(usage('INVALID_ARGUMENT'));
    expect(() => buildAcceptResponse(req, { protocol: 'CHAT', extensions: null })).toThrow(usage('INVALID_ARGUMENT'));
    expect(() => buildAcceptResponse(req, { protocol: 1 as unknown as string, extensions: null })).toThrow(
      usage('INVALID_ARGUMENT'),
    );
    expect(() => buildAcceptResponse(req, { protocol: null, extensions: 'x-b' })).toThrow(usage('INVALID_ARGUMENT'));
    expect(() => buildAcceptResponse(req, { protocol: null, extensions: 'x-a;' })).toThrow(usage('INVALID_ARGUMENT'));
    expect(() => buildAcceptResponse(req, { protocol: null, extensions: '' })).toThrow(usage('INVALID_ARGUMENT'));
    expect(() => buildAcceptResponse(req, { protocol: null, extensions: 5 as unknown as string })).toThrow(
      usage('INVALID_ARGUMENT'),
    );
    expect(() => buildAcceptResponse({} as HandshakeRequest, { protocol: null, extensions: null })).toThrow(
      usage('INVALID_ARGUMENT'),
    );
  });

  it('refuses extra header values that would split the head', () => {
    const req = accepted(request());
    for (const value of ['a\r\nX-Injected: 1', 'a\nb', 'a\u0100']) {
      expect(() => buildAcceptResponse(req, { protocol: null, extensions: null, headers: [['X-A', value]] })).toThrow(
        usage('INVALID_ARGUMENT'),
      );
    }
  });

  it('refuses extra headers that would override the handshake', () => {
    const req = accepted(request());
    for (const name of [
      'Upgrade',
      'connection',
      'Sec-WebSocket-Accept',
      'Sec-WebSocket-Protocol',
      'Sec-WebSocket-Extensions',
      'Content-Length',
      'Transfer-Encoding',
    ]) {
      expect(
        () => buildAcceptResponse(req, { protocol: null, extensions: null, headers: [[name, 'x']] }),
        name,
      ).toThrow(usage('INVALID_ARGUMENT'));
    }
    expect(() => buildAcceptResponse(req, { protocol: null, extensions: null, headers: [['X-A', 'a\r\nb']] })).toThrow(
      usage('INVALID_ARGUMENT'),
    );
  });

  it('a generated key round-trips through request validation and acceptance', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (random) => {
        const key = generateKey((b) => b.set(random));
        const req = accepted(request({ drop: ['Sec-WebSocket-Key'], add: [['Sec-WebSocket-Key', key]] }));
        const { head } = responseHead(buildAcceptResponse(req, { protocol: null, extensions: null }));
        expect(head.headers.get('sec-websocket-accept')).toBe(computeAcceptKey(key));
      }),
      { numRuns: 20 },
    );
  });
});

describe('buildRejectResponse', () => {
  it('writes status, reason, Connection: close and Content-Length', () => {
    expect(decodeLatin1(buildRejectResponse(400))).toBe(
      'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
    );
    expect(decodeLatin1(buildRejectResponse(499))).toBe(
      'HTTP/1.1 499 \r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
    );
    expect(decodeLatin1(buildRejectResponse(503, { statusText: 'Busy' }))).toMatch(/^HTTP\/1\.1 503 Busy\r\n/);
  });

  it('carries the refusal headers of validateRequest', () => {
    const verdict = validate(request({ drop: ['Upgrade'] }));
    if (verdict.ok) throw new Error('expected a refusal');
    const { head } = responseHead(buildRejectResponse(verdict.status, { headers: verdict.headers }));
    expect(head).toMatchObject({ status: 426, statusText: 'Upgrade Required' });
    expect(head.headers.get('upgrade')).toBe('websocket');
    expect(head.headers.get('connection')).toBe('Upgrade, close');
  });

  it('encodes a string body as UTF-8 with a text/plain type', () => {
    const response = buildRejectResponse(403, { body: 'nö 😀' });
    const { head, rest } = responseHead(response);
    expect(head.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(head.headers.get('content-length')).toBe('8');
    expect(Array.from(rest)).toEqual([0x6e, 0xc3, 0xb6, 0x20, 0xf0, 0x9f, 0x98, 0x80]);
  });

  it('sends a byte body as is, and keeps a given Content-Type and Connection: close', () => {
    const { head, rest } = responseHead(
      buildRejectResponse(500, {
        body: Uint8Array.of(1, 2, 3),
        headers: { 'Content-Type': 'application/json', Connection: 'close' },
      }),
    );
    expect(Array.from(rest)).toEqual([1, 2, 3]);
    expect(head.headers.getAll('content-type')).toEqual(['application/json']);
    expect(head.headers.getAll('connection')).toEqual(['close']);
    expect(head.headers.get('content-length')).toBe('3');
    const { head: typed } = responseHead(
      buildRejectResponse(400, { body: 'x', headers: [['content-type', 'text/html']] }),
    );
    expect(typed.headers.getAll('content-type')).toEqual(['text/html']);
  });

  it('throws INVALID_ARGUMENT on misuse', () => {
    for (const status of [101, 200, 399, 600, 400.5, NaN, '400']) {
      expect(() => buildRejectResponse(status as number), String(status)).toThrow(usage('INVALID_ARGUMENT'));
    }
    expect(() => buildRejectResponse(400, { statusText: 'a\r\nb' })).toThrow(usage('INVALID_ARGUMENT'));
    expect(() => buildRejectResponse(400, { statusText: 4 as unknown as string })).toThrow(usage('INVALID_ARGUMENT'));
    expect(() => buildRejectResponse(400, { body: 4 as unknown as string })).toThrow(usage('INVALID_ARGUMENT'));
    expect(() => buildRejectResponse(400, { headers: [['Content-Length', '1']] })).toThrow(usage('INVALID_ARGUMENT'));
    expect(() => buildRejectResponse(400, { headers: [['Transfer-Encoding', 'chunked']] })).toThrow(
      usage('INVALID_ARGUMENT'),
    );
    expect(() => buildRejectResponse(400, { headers: [['Bad Name', 'x']] })).toThrow(usage('INVALID_ARGUMENT'));
  });
});
