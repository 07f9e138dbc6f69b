import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { HeadParser, decodeLatin1, type ResponseHead } from '../src/http/head-parser.ts';
import { buildClientRequest, parseWsUrl, verifyResponse, type WsUrl } from '../src/handshake/client.ts';
import { buildAcceptResponse, validateRequest } from '../src/handshake/server.ts';
import { generateKey } from '../src/handshake/accept-key.ts';
import { LIMITS, latin1 as bytes, parseHead } from './helpers/heads.ts';

const usage = (code: string) => expect.objectContaining({ code });
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

function response(fields: Array<[string, string]>, line = 'HTTP/1.1 101 Switching Protocols'): ResponseHead {
  return parseHead('response', bytes(`${line}\r\n${fields.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`));
}

const BASE: Array<[string, string]> = [
  ['Upgrade', 'websocket'],
  ['Connection', 'Upgrade'],
  ['Sec-WebSocket-Accept', ACCEPT],
];
const EXPECTED = { key: KEY, protocols: ['chat', 'superchat'], offeredExtensions: ['permessage-deflate'] };

describe('parseWsUrl', () => {
  it('parses ws and wss URLs with default and explicit ports', () => {
    expect(parseWsUrl('ws://example.com')).toEqual({
      secure: false,
      hostname: 'example.com',
      port: 80,
      hostHeader: 'example.com',
      target: '/',
    });
    expect(parseWsUrl('wss://Example.COM:443/a/b?c=d')).toEqual({
      secure: true,
      hostname: 'example.com',
      port: 443,
      hostHeader: 'example.com',
      target: '/a/b?c=d',
    });
    expect(parseWsUrl('ws://h:8080/x')).toEqual({
      secure: false,
      hostname: 'h',
      port: 8080,
      hostHeader: 'h:8080',
      target: '/x',
    });
    expect(parseWsUrl('wss://h:80')).toMatchObject({ port: 80, hostHeader: 'h:80' });
    expect(parseWsUrl('ws://h:0080/')).toMatchObject({ port: 80, hostHeader: 'h' });
    expect(parseWsUrl('ws://h:/')).toMatchObject({ port: 80, hostHeader: 'h' });
    expect(parseWsUrl('ws://h?')).toMatchObject({ target: '/?' });
    expect(parseWsUrl({ href: 'WSS://h' })).toMatchObject({ secure: true, port: 443 });
  });

  it('maps http to ws and https to wss, as WHATWG WebSocket does', () => {
    expect(parseWsUrl('http://h')).toMatchObject({ secure: false, port: 80 });
    expect(parseWsUrl('HTTPS://h/p')).toMatchObject({ secure: true, port: 443, target: '/p' });
  });

  it('handles IPv6 literals, writing them in canonical form', () => {
    expect(parseWsUrl('ws://[::1]:8080/')).toEqual({
      secure: false,
      hostname: '::1',
      port: 8080,
      hostHeader: '[::1]:8080',
      target: '/',
    });
    expect(parseWsUrl('wss://[2001:DB8:0:0:1:0:0:1]')).toMatchObject({
      hostname: '2001:db8::1:0:0:1',
      hostHeader: '[2001:db8::1:0:0:1]',
    });
    expect(parseWsUrl('ws://[0:0:1:0:0:1:0:0]').hostname).toBe('::1:0:0:1:0:0');
    expect(parseWsUrl('ws://[::ffff:192.168.0.1]').hostname).toBe('::ffff:c0a8:1');
    expect(parseWsUrl('ws://[1:2:3:4:5:6:1.2.3.4]').hostname).toBe('1:2:3:4:5:6:102:304');
    expect(parseWsUrl('ws://[1::]').hostname).toBe('1::');
    expect(parseWsUrl('ws://[::]').hostname).toBe('::');
    expect(parseWsUrl('ws://[1:0:2:3:4:5:6:7]').hostname).toBe('1:0:2:3:4:5:6:7');
  });

  it('strips surrounding whitespace and removes tabs and newlines', () => {
    expect(parseWsUrl('  \tws://h/a\tb\nc\r\n ')).toMatchObject({ target: '/abc' });
  });

  it('percent-encodes the path and query and resolves dot segments like WHATWG', () => {
    expect(parseWsUrl("ws://h/a b/é?q=a b&r=é'").target).toBe('/a%20b/%C3%A9?q=a%20b&r=%C3%A9%27');
    expect(parseWsUrl('ws://h/a/./b/../c/%2E%2e/d').target).toBe('/a/d');
    expect(parseWsUrl('ws://h/a/..').target).toBe('/');
    expect(parseWsUrl('ws://h/a/.').target).toBe('/a/');
    expect(parseWsUrl('ws://h/../../x').target).toBe('/x');
    expect(parseWsUrl('ws://h\\a\\b?c\\d').target).toBe('/a/b?c\\d');
    expect(parseWsUrl('ws://h/%zz%41').target).toBe('/%zz%41');
    expect(parseWsUrl('ws://h/\ud800').target).toBe('/%EF%BF%BD');
    expect(parseWsUrl('ws://h/😀').target).toBe('/%F0%9F%98%80');
  });

  it('agrees with the host URL parser on hosts, ports and targets', () => {
    // Node's WHATWG URL, only as a reference in tests (the codec must not use it).
    const NodeURL = (
      globalThis as unknown as {
        URL: new (s: string) => { href: string; protocol: string; host: string; hostname: string; port: string };
      }
    ).URL;
    const chars = fc.constantFrom(
      ...'aZ09-._~/?%.. "<>`{}\'^|\\é€😀\u007f\u0001!$&()*+,;=:@[]'.split(''),
      '/..',
      '/.',
      '%2e',
      '%2E',
    );
    const host = fc.constantFrom('h', 'Example.COM', '127.0.0.1', '[::1]', '[2001:db8:0:0:0:0:0:1]', 'a-b.c_d~e');
    const port = fc.constantFrom('', ':', ':80', ':443', ':8080', ':0');
    fc.assert(
      fc.property(
        fc.constantFrom('ws', 'wss', 'http', 'https'),
        host,
        port,
        fc.array(chars, { maxLength: 12 }),
        (scheme, h, p, rest) => {
          const url = `${scheme}://${h}${p}/${rest.join('')}`;
          // Node 20's URL parser does not pop a `..` that follows a segment starting with a dot
          // (`/x/.a/..` stays as is; the WHATWG algorithm gives `/x/`): skip what it gets wrong.
          fc.pre(!/\/\.[^./?%]/.test(url.slice(url.indexOf('/', scheme.length + 3))));
          const ours = parseWsUrl(url);
          const theirs = new NodeURL(url);
          const start = theirs.href.indexOf('/', theirs.protocol.length + 2);
          expect(ours.target).toBe(theirs.href.slice(start));
          expect(ours.hostHeader).toBe(theirs.host);
          expect(ours.hostname).toBe(theirs.hostname.replace(/^\[(.*)\]$/, '$1'));
          expect(ours.port).toBe(theirs.port === '' ? (ours.secure ? 443 : 80) : Number(theirs.port));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('resolves `..` after a segment that starts with a dot (WHATWG URL path parsing)', () => {
    expect(parseWsUrl('ws://h/x/.a/..').target).toBe('/x/');
    expect(parseWsUrl('ws://h//.a/..').target).toBe('//');
  });

  it('throws INVALID_URL on what it refuses', () => {
    for (const bad of [
      'ftp://h/',
      'wsx://h',
      'constructor://h',
      '__proto__://h',
      '//h/',
      'h',
      '',
      ':',
      'ws:',
      'ws:h',
      'ws:/h',
      'ws://',
      'ws:///x',
      'ws://:80',
      'ws://h/#',
      'ws://h/a#b',
      'ws://h#x',
      'ws://u@h/',
      'ws://u:p@h/',
      'ws://h:x/',
      'ws://h:65536/',
      'ws://h:-1/',
      'ws://h:1:2/',
      'ws://ex ample.com/',
      'ws://exämple.com/',
      'ws://h%41/',
      'ws://a"b/',
      'ws://a<b/',
      'ws://[::1/',
      'ws://[::1]x/',
      'ws://[::1]:x/',
      'ws://[1:2:3:4:5:6:7:8:9]/',
      'ws://[1:2:3:4:5:6:7::8]/',
      'ws://[::1::]/',
      'ws://[g::]/',
      'ws://[12345::]/',
      'ws://[1:2]/',
      'ws://[:1::]/',
      'ws://[1:]/',
      'ws://[1.2.3.4::]/',
      'ws://[::01.2.3.4]/',
      'ws://[::1.2.3]/',
      'ws://[::256.1.1.1]/',
      'ws://[1:2:3:4:5:6:7:1.2.3.4]/',
      'ws://[]/',
      'ws://[::1%25eth0]/',
    ]) {
      expect(() => parseWsUrl(bad), bad).toThrow(usage('INVALID_URL'));
    }
    expect(() => parseWsUrl(42 as unknown as string)).toThrow(usage('INVALID_URL'));
    expect(() => parseWsUrl(null as unknown as string)).toThrow(usage('INVALID_URL'));
    expect(() => parseWsUrl({ href: 1 } as unknown as string)).toThrow(usage('INVALID_URL'));
  });
});

describe('buildClientRequest (RFC 6455 §4.1)', () => {
  const url = parseWsUrl('ws://server.example.com/chat');

  it('writes the handshake fields in order', () => {
    const request = buildClientRequest(url, {
      key: KEY,
      protocols: ['chat', 'superchat'],
      extensions: [{ name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: null }] }],
      origin: 'http://example.com',
      headers: [['Authorization', 'Bearer x']],
    });
    expect(decodeLatin1(request)).toBe(
      'GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\n` +
        'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nOrigin: http://example.com\r\nAuthorization: Bearer x\r\n\r\n',
    );
  });

  it('leaves out empty offers, and allows Origin among the extra headers when origin is not given', () => {
    const text = decodeLatin1(
      buildClientRequest(parseWsUrl('ws://[::1]:9/'), {
        key: KEY,
        protocols: [],
        extensions: [],
        origin: null,
        headers: { Origin: 'http://o' },
      }),
    );
    expect(text).toBe(
      `GET / HTTP/1.1\r\nHost: [::1]:9\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://o\r\n\r\n`,
    );
    expect(decodeLatin1(buildClientRequest(url, { key: KEY }))).not.toContain('Sec-WebSocket-Protocol');
  });

  it('produces a request our server accepts, and the server’s answer verifies', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.subarray(['chat', 'superchat', 'v2.json']),
        (random, protocols) => {
          const key = generateKey((b) => b.set(random));
          const head = parseHead(
            'request',
            buildClientRequest(parseWsUrl('wss://h:8443/p?q'), { key, protocols, origin: 'https://h' }),
          );
          const verdict = validateRequest(head, { origins: ['https://h'] });
          if (!verdict.ok) throw new Error(verdict.code);
          expect(verdict.request).toMatchObject({ path: '/p', query: 'q', host: 'h:8443', key, protocols });
          const chosen = protocols[0] ?? null;
          const answer = parseHead(
            'response',
            buildAcceptResponse(verdict.request, { protocol: chosen, extensions: null }),
          );
          expect(verifyResponse(answer, { key, protocols, offeredExtensions: [] })).toEqual({
            ok: true,
            protocol: chosen,
            extensions: [],
          });
        },
      ),
      { numRuns: 10 },
    );
  });

  it('throws INVALID_ARGUMENT on a bad key, bad protocols or an overriding header', () => {
    const bad = (opts: Parameters<typeof buildClientRequest>[1], u: WsUrl = url) =>
      expect(() => buildClientRequest(u, opts)).toThrow(usage('INVALID_ARGUMENT'));
    bad({ key: 'short' });
    bad({ key: 'dGhlIHNhbXBsZSBub25jZXg=' });
    bad({ key: 1 as unknown as string });
    bad({ key: KEY, protocols: ['a b'] });
    bad({ key: KEY, protocols: [''] });
    bad({ key: KEY, protocols: ['a', 'a'] });
    bad({ key: KEY, protocols: 'chat' as unknown as string[] });
    bad({ key: KEY, protocols: [1 as unknown as string] });
    bad({ key: KEY, extensions: [{ name: 'a b', params: [] }] });
    bad({ key: KEY, origin: 5 as unknown as string });
    bad({ key: KEY, origin: 'a\r\nb' });
    bad({ key: KEY, origin: 'http://a', headers: [['Origin', 'http://b']] });
    for (const name of [
      'Host',
      'upgrade',
      'Connection',
      'Sec-WebSocket-Key',
      'Sec-WebSocket-Version',
      'Sec-WebSocket-Protocol',
      'Sec-WebSocket-Extensions',
      'Content-Length',
      'Transfer-Encoding',
    ]) {
      bad({ key: KEY, headers: [[name, 'x']] });
    }
    bad({ key: KEY, headers: [['X', 'a\nb']] });
    bad({ key: KEY }, null as unknown as WsUrl);
    bad({ key: KEY }, { ...url, target: 'x y' });
    bad({ key: KEY }, { ...url, target: '/\u00e9' });
  });
});

describe('verifyResponse (RFC 6455 §4.1)', () => {
  it('accepts the RFC response, with the chosen protocol and extensions', () => {
    expect(verifyResponse(response([...BASE, ['Sec-WebSocket-Protocol', 'chat']]), EXPECTED)).toEqual({
      ok: true,
      protocol: 'chat',
      extensions: [],
    });
    expect(
      verifyResponse(
        response([
          ['upgrade', 'WebSocket'],
          ['connection', 'keep-alive, UPGRADE'],
          ['sec-websocket-accept', ACCEPT],
        ]),
        EXPECTED,
      ),
    ).toEqual({
      ok: true,
      protocol: null,
      extensions: [],
    });
    expect(
      verifyResponse(
        response([...BASE, ['Sec-WebSocket-Extensions', 'Permessage-Deflate; server_no_context_takeover']]),
        EXPECTED,
      ),
    ).toEqual({
      ok: true,
      protocol: null,
      extensions: [{ name: 'Permessage-Deflate', params: [{ name: 'server_no_context_takeover', value: null }] }],
    });
    expect(verifyResponse(response([...BASE, ['Sec-WebSocket-Extensions', '']]), EXPECTED)).toEqual({
      ok: true,
      protocol: null,
      extensions: [],
    });
    // Upgrade is one token, in any case, with optional whitespace around it (trimmed by the parser).
    for (const upgrade of ['websocket', 'WEBSOCKET', 'WebSocket', 'wEbSoCkEt']) {
      expect(
        verifyResponse(response([...BASE.filter(([n]) => n !== 'Upgrade'), ['Upgrade', upgrade]]), EXPECTED).ok,
      ).toBe(true);
    }
    const spaced = parseHead(
      'response',
      bytes(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: \t websocket \t\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n\r\n`,
      ),
    );
    expect(verifyResponse(spaced, EXPECTED).ok).toBe(true);
    expect(verifyResponse(response(BASE, 'HTTP/1.2 101 OK'), EXPECTED).ok).toBe(true);
  });

  it('fails on a status other than 101 or an HTTP version before 1.1', () => {
    expect(verifyResponse(response(BASE, 'HTTP/1.1 200 OK'), EXPECTED)).toMatchObject({
      ok: false,
      code: 'BAD_STATUS',
    });
    expect(verifyResponse(response(BASE, 'HTTP/1.1 403 Forbidden'), EXPECTED)).toMatchObject({
      ok: false,
      code: 'BAD_STATUS',
    });
    expect(verifyResponse(response(BASE, 'HTTP/1.0 101 Switching Protocols'), EXPECTED)).toMatchObject({
      ok: false,
      code: 'BAD_HTTP_VERSION',
    });
  });

  it('fails without Upgrade: websocket or Connection: upgrade', () => {
    const without = (name: string) => BASE.filter(([n]) => n !== name);
    expect(verifyResponse(response(without('Upgrade')), EXPECTED)).toMatchObject({ ok: false, code: 'BAD_UPGRADE' });
    expect(verifyResponse(response([...without('Upgrade'), ['Upgrade', 'h2c']]), EXPECTED)).toMatchObject({
      ok: false,
      code: 'BAD_UPGRADE',
    });
    expect(verifyResponse(response([...without('Upgrade'), ['Upgrade', 'web socket']]), EXPECTED)).toMatchObject({
      ok: false,
      code: 'BAD_UPGRADE',
    });
    // RFC 6455 §4.1: the value must be websocket, not a list that contains it (an outside
    // review found `h2c, websocket` accepted).
    for (const upgrade of [
      'h2c, websocket',
      'websocket, h2c',
      'websocket, websocket',
      'websocket/13',
      'websocket,',
      ',websocket',
      '',
      'websockets',
      'websocke',
    ]) {
      expect(verifyResponse(response([...without('Upgrade'), ['Upgrade', upgrade]]), EXPECTED), upgrade).toMatchObject({
        ok: false,
        code: 'BAD_UPGRADE',
      });
    }
    expect(
      verifyResponse(response([...without('Upgrade'), ['Upgrade', 'websocket'], ['upgrade', 'websocket']]), EXPECTED),
    ).toMatchObject({ ok: false, code: 'BAD_UPGRADE' });
    expect(verifyResponse(response(without('Connection')), EXPECTED)).toMatchObject({
      ok: false,
      code: 'BAD_CONNECTION',
    });
    expect(verifyResponse(response([...without('Connection'), ['Connection', 'close']]), EXPECTED)).toMatchObject({
      ok: false,
      code: 'BAD_CONNECTION',
    });
    expect(verifyResponse(response([...without('Connection'), ['Connection', 'up grade']]), EXPECTED)).toMatchObject({
      ok: false,
      code: 'BAD_CONNECTION',
    });
  });

  it('needs exactly the expected Sec-WebSocket-Accept', () => {
    const without = BASE.filter(([n]) => n !== 'Sec-WebSocket-Accept');
    expect(verifyResponse(response(without), EXPECTED)).toMatchObject({ ok: false, code: 'BAD_ACCEPT' });
    for (const accept of [
      's3pPLMBiTxaQ9kYGzzhZRbK+xOo',
      'S3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
      'fA9dggdnMPU79lJgAE3W4TRnyDM=',
    ]) {
      expect(verifyResponse(response([...without, ['Sec-WebSocket-Accept', accept]]), EXPECTED)).toMatchObject({
        ok: false,
        code: 'BAD_ACCEPT',
      });
    }
    expect(verifyResponse(response([...BASE, ['Sec-WebSocket-Accept', ACCEPT]]), EXPECTED)).toMatchObject({
      ok: false,
      code: 'BAD_ACCEPT',
    });
    // The second RFC vector.
    const other = { ...EXPECTED, key: 'q4xkcO32u266gldTuKaSOw==' };
    expect(
      verifyResponse(response([...without, ['Sec-WebSocket-Accept', 'fA9dggdnMPU79lJgAE3W4TRnyDM=']]), other).ok,
    ).toBe(true);
  });

  it('allows at most one protocol, and only one we offered', () => {
    const fail = (fields: Array<[string, string]>, expected = EXPECTED) =>
      expect(verifyResponse(response([...BASE, ...fields]), expected)).toMatchObject({
        ok: false,
        code: 'UNEXPECTED_PROTOCOL',
      });
    fail([['Sec-WebSocket-Protocol', 'other']]);
    fail([['Sec-WebSocket-Protocol', 'Chat']]);
    fail([['Sec-WebSocket-Protocol', 'chat, superchat']]);
    fail([
      ['Sec-WebSocket-Protocol', 'chat'],
      ['Sec-WebSocket-Protocol', 'chat'],
    ]);
    fail([['Sec-WebSocket-Protocol', 'chat;']]);
    fail([['Sec-WebSocket-Protocol', 'chat']], { ...EXPECTED, protocols: [] });
    // Present but empty names no subprotocol: not one we offered (an outside review found it
    // accepted after an offer), nor anything when we offered none.
    fail([['Sec-WebSocket-Protocol', '']]);
    fail([['Sec-WebSocket-Protocol', '  ']]);
    fail([['Sec-WebSocket-Protocol', ',']]);
    fail([['Sec-WebSocket-Protocol', '']], { ...EXPECTED, protocols: [] });
    // Absent is fine either way: the server chose none.
    expect(verifyResponse(response(BASE), EXPECTED)).toMatchObject({ ok: true, protocol: null });
    expect(verifyResponse(response(BASE), { ...EXPECTED, protocols: [] })).toMatchObject({ ok: true, protocol: null });
  });

  it('allows only extensions we offered, each once', () => {
    const check = (value: string, code: string) =>
      expect(verifyResponse(response([...BASE, ['Sec-WebSocket-Extensions', value]]), EXPECTED)).toMatchObject({
        ok: false,
        code,
      });
    check('x-other', 'UNEXPECTED_EXTENSION');
    check('permessage-deflate, permessage-deflate', 'UNEXPECTED_EXTENSION');
    check('permessage-deflate;', 'BAD_EXTENSION_HEADER');
    check('permessage-deflate; a="b c"', 'BAD_EXTENSION_HEADER');
    expect(
      verifyResponse(response([...BASE, ['Sec-WebSocket-Extensions', 'permessage-deflate']]), {
        ...EXPECTED,
        offeredExtensions: [],
      }),
    ).toMatchObject({
      ok: false,
      code: 'UNEXPECTED_EXTENSION',
    });
  });

  it('throws INVALID_ARGUMENT on misuse', () => {
    const head = response(BASE);
    expect(() => verifyResponse(null as unknown as ResponseHead, EXPECTED)).toThrow(usage('INVALID_ARGUMENT'));
    expect(() => verifyResponse({ ...head, headers: {} } as ResponseHead, EXPECTED)).toThrow(usage('INVALID_ARGUMENT'));
    expect(() => verifyResponse(head, null as unknown as typeof EXPECTED)).toThrow(usage('INVALID_ARGUMENT'));
    expect(() => verifyResponse(head, { ...EXPECTED, key: undefined as unknown as string })).toThrow(
      usage('INVALID_ARGUMENT'),
    );
    expect(() => verifyResponse(head, { ...EXPECTED, protocols: 'chat' as unknown as string[] })).toThrow(
      usage('INVALID_ARGUMENT'),
    );
    expect(() => verifyResponse(head, { ...EXPECTED, offeredExtensions: null as unknown as string[] })).toThrow(
      usage('INVALID_ARGUMENT'),
    );
  });

  it('never throws on random response heads', () => {
    const name = fc.constantFrom(
      'Upgrade',
      'Connection',
      'Sec-WebSocket-Accept',
      'Sec-WebSocket-Protocol',
      'Sec-WebSocket-Extensions',
    );
    const value = fc.oneof(
      fc.constantFrom('websocket', 'Upgrade', ACCEPT, 'chat', 'permessage-deflate; x=1', ''),
      fc.stringMatching(/^[\x21-\x7e]{0,12}$/),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(name, value), { maxLength: 8 }),
        fc.constantFrom('HTTP/1.1 101 OK', 'HTTP/1.0 101', 'HTTP/1.1 200 OK'),
        (fields, line) => {
          const result = new HeadParser('response', LIMITS).push(
            bytes(`${line}\r\n${fields.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`),
          );
          if (result?.ok) {
            const verdict = verifyResponse(result.head, EXPECTED);
            expect(typeof verdict.ok).toBe('boolean');
          }
        },
      ),
    );
  });
});
