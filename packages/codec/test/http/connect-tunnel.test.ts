// The CONNECT tunnel machine: bytes of the proxy's answer in, a result out, however they are split;
// the proxy URL parser; NO_PROXY matching and the environment lookup.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ConnectTunnel, noProxyMatches, parseProxyUrl, proxyFor } from '../../src/proxy.ts';
import { decodeLatin1, encodeLatin1 } from '../../src/http/head-parser.ts';
import { splits } from '../helpers/split.ts';

const ascii = encodeLatin1;
const TARGET = { hostname: 'example.com', port: 443 };

describe('ConnectTunnel (RFC 9110 §9.3.6)', () => {
  it('asks for host:port with a matching Host, and Basic credentials only when the proxy URL has them', () => {
    expect(decodeLatin1(new ConnectTunnel({ hostname: 'proxy', port: 3128 }, TARGET).request)).toBe(
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
    );
    const withAuth = new ConnectTunnel(parseProxyUrl('http://Aladdin:open%20sesame@proxy:3128'), {
      hostname: '::1',
      port: 8080,
    });
    // RFC 7617's example credentials: "Aladdin:open sesame".
    expect(decodeLatin1(withAuth.request)).toBe(
      'CONNECT [::1]:8080 HTTP/1.1\r\nHost: [::1]:8080\r\nProxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n',
    );
  });

  it('a 2xx opens the tunnel, whatever the split; bytes after the head belong to the tunnel', () => {
    const answer = ascii('HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\n\r\n\x16\x03\x01');
    for (const chunks of splits(answer)) {
      const tunnel = new ConnectTunnel({ hostname: 'p', port: 1 }, TARGET);
      let result = null;
      const rest: number[] = [];
      for (const chunk of chunks) {
        const r = tunnel.receiveData(chunk);
        if (r !== null && result === null) {
          result = r;
          if (r.ok) rest.push(...r.rest);
        } else if (r !== null && result !== null) {
          rest.push(...chunk); // later bytes after the result are the caller's: the tunnel keeps none
        }
      }
      expect(result?.ok).toBe(true);
      expect(rest).toEqual([0x16, 0x03, 0x01]);
    }
  });

  it('anything else fails with the status in the message; 407 says how to give credentials', () => {
    const forbidden = new ConnectTunnel({ hostname: 'p', port: 1 }, TARGET).receiveData(
      ascii('HTTP/1.1 403 Filtered\r\nContent-Length: 0\r\n\r\n'),
    );
    expect(forbidden).toMatchObject({ ok: false, status: 403, statusText: 'Filtered' });
    expect(forbidden?.ok === false && forbidden.message).toBe('the proxy refused the tunnel: 403 Filtered');
    const auth = new ConnectTunnel({ hostname: 'p', port: 1 }, TARGET).receiveData(
      ascii('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n'),
    );
    expect(auth?.ok === false && auth.message).toMatch(
      /407 Proxy Authentication Required \(give credentials as http:\/\/user:password@host:port\)/,
    );
    const refused = new ConnectTunnel({ hostname: 'p', port: 1, username: 'u', password: 'p' }, TARGET).receiveData(
      ascii('HTTP/1.1 407 No\r\n\r\n'),
    );
    expect(refused?.ok === false && refused.message).toMatch(/credentials were refused/);
  });

  it('a head that is not HTTP, too large, or cut by EOF fails without throwing', () => {
    const garbage = new ConnectTunnel({ hostname: 'p', port: 1 }, TARGET).receiveData(ascii('SSH-2.0-OpenSSH\r\n\r\n'));
    expect(garbage).toMatchObject({ ok: false, status: null });
    const big = new ConnectTunnel({ hostname: 'p', port: 1 }, TARGET, { limits: { maxHeadBytes: 64 } });
    expect(big.receiveData(ascii(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(100)}\r\n\r\n`))).toMatchObject({ ok: false });
    const cut = new ConnectTunnel({ hostname: 'p', port: 1 }, TARGET);
    expect(cut.receiveData(ascii('HTTP/1.1 200'))).toBeNull();
    expect(cut.receiveEof()).toMatchObject({
      ok: false,
      message: 'the proxy closed the connection before answering CONNECT',
    });
    // Once decided, more bytes or EOF do not change the result.
    expect(cut.receiveData(ascii(' OK\r\n\r\n'))).toMatchObject({ ok: false });
  });

  it('random bytes from the proxy never throw', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }), (chunks) => {
        const tunnel = new ConnectTunnel({ hostname: 'p', port: 1 }, TARGET);
        for (const chunk of chunks) tunnel.receiveData(chunk);
        expect(tunnel.receiveEof()).toHaveProperty('ok');
      }),
    );
  });
});

describe('parseProxyUrl', () => {
  it('reads host, port (80 by default), IPv6 and percent-encoded credentials', () => {
    expect(parseProxyUrl('http://proxy.corp:3128')).toEqual({ hostname: 'proxy.corp', port: 3128 });
    expect(parseProxyUrl('http://PROXY.corp/')).toEqual({ hostname: 'proxy.corp', port: 80 });
    expect(parseProxyUrl('http://[::1]:8080')).toEqual({ hostname: '::1', port: 8080 });
    expect(parseProxyUrl('http://u%40x:p%3Aw@h:1')).toEqual({
      hostname: 'h',
      port: 1,
      username: 'u@x',
      password: 'p:w',
    });
    expect(parseProxyUrl('http://user@h:1')).toEqual({ hostname: 'h', port: 1, username: 'user', password: '' });
  });

  it('throws a TypeError that says what is wrong', () => {
    expect(() => parseProxyUrl('https://h:1')).toThrow(/TLS to the proxy is not supported/);
    expect(() => parseProxyUrl('socks5://h:1')).toThrow(/scheme must be http/);
    expect(() => parseProxyUrl('h:1')).toThrow(TypeError);
    expect(() => parseProxyUrl('http://h:99999')).toThrow(/bad port/);
    expect(() => parseProxyUrl('http://h:1/path')).toThrow(TypeError);
    expect(() => parseProxyUrl('http://u:%zz@h:1')).toThrow(/percent-encoding/);
    expect(() => parseProxyUrl(42 as unknown as string)).toThrow(TypeError);
  });
});

describe('NO_PROXY and the environment', () => {
  it('matches hosts, domains, ports and *', () => {
    expect(noProxyMatches('example.com', 'example.com', 80)).toBe(true);
    expect(noProxyMatches('example.com', 'api.example.com', 80)).toBe(true);
    expect(noProxyMatches('.example.com', 'api.example.com', 80)).toBe(true);
    expect(noProxyMatches('*.example.com', 'example.com', 80)).toBe(true);
    expect(noProxyMatches('example.com', 'badexample.com', 80)).toBe(false);
    expect(noProxyMatches('localhost:8080', 'localhost', 8080)).toBe(true);
    expect(noProxyMatches('localhost:8080', 'localhost', 9090)).toBe(false);
    expect(noProxyMatches('127.0.0.1, ::1', '::1', 1)).toBe(true);
    expect(noProxyMatches('[::1]:443', '::1', 443)).toBe(true);
    expect(noProxyMatches('*', 'anything', 1)).toBe(true);
    expect(noProxyMatches('', 'anything', 1)).toBe(false);
  });

  it('HTTPS_PROXY for wss, HTTP_PROXY for ws, either case, unless NO_PROXY exempts the host', () => {
    const env = {
      HTTPS_PROXY: 'http://secure-proxy:1',
      http_proxy: 'http://plain-proxy:2',
      NO_PROXY: 'internal.example',
    };
    expect(proxyFor({ secure: true, hostname: 'a.test', port: 443 }, env)).toEqual({
      hostname: 'secure-proxy',
      port: 1,
    });
    expect(proxyFor({ secure: false, hostname: 'a.test', port: 80 }, env)).toEqual({
      hostname: 'plain-proxy',
      port: 2,
    });
    expect(proxyFor({ secure: false, hostname: 'x.internal.example', port: 80 }, env)).toBeNull();
    expect(proxyFor({ secure: true, hostname: 'a.test', port: 443 }, {})).toBeNull();
    expect(proxyFor({ secure: true, hostname: 'a.test', port: 443 }, { HTTPS_PROXY: '  ' })).toBeNull();
  });
});
