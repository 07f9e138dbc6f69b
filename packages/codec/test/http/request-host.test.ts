// The host of a request, checked one way for upgrades and plain requests (http/request-host.ts):
// one valid Host (from HTTP/1.1 on), and an absolute-form target's authority checked like it and
// equal to it. For plain HTTP on a server connection, fed whole and at every split.
import { describe, expect, it } from 'vitest';
import { serverConnection } from '../../src/server.ts';
import { requestHost } from '../../src/http/request-host.ts';
import { latin1, parseHead } from '../helpers/heads.ts';
import { splits } from '../helpers/split.ts';
import { HttpServerPhase } from '../../src/http.ts';

const text = (bytes: Uint8Array) => String.fromCharCode(...bytes);

/** What a serving connection does with `wire`: the request it surfaces, or the status it refuses with. */
function outcome(chunks: Uint8Array[]): string {
  const server = serverConnection({ http: HttpServerPhase });
  let written = '';
  const seen: string[] = [];
  for (const chunk of chunks) {
    if (chunk.length === 0) continue;
    server.receiveData(chunk);
    for (const event of server.takeEvents()) {
      if (event.type === 'http-request') seen.push(`request ${event.request.target}`);
      else if (event.type === 'protocol-error') seen.push(`error ${event.code}`);
    }
    for (const out of server.takeOutput()) if (out.type === 'write') written += text(out.data);
  }
  return [...seen, written.split('\r\n')[0]].join(' | ');
}

function serve(wire: string): string {
  const data = latin1(wire);
  const whole = outcome([data]);
  for (const chunks of splits(data)) expect(outcome(chunks)).toBe(whole);
  return whole;
}

describe('requestHost', () => {
  const head = (line: string, fields = 'Host: example.test\r\n') =>
    parseHead('request', latin1(`${line}\r\n${fields}\r\n`));
  it('is the Host value, checked; an absolute-form authority must equal it', () => {
    expect(requestHost(head('GET / HTTP/1.1'), true)).toBe('example.test');
    expect(requestHost(head('GET http://EXAMPLE.test/x HTTP/1.1'), true)).toBe('example.test');
    expect(requestHost(head('GET / HTTP/1.0', ''), false)).toBe('');
    expect(requestHost(head('GET / HTTP/1.1', ''), true)).toMatchObject({ code: 'MISSING_HOST', status: 400 });
    expect(requestHost(head('GET / HTTP/1.1', 'Host: a\r\nHost: a\r\n'), true)).toMatchObject({
      code: 'MALFORMED_HEAD',
      status: 400,
    });
    expect(requestHost(head('GET / HTTP/1.1', 'Host: a"b\r\n'), true)).toMatchObject({
      message: 'malformed Host header',
    });
    expect(requestHost(head('GET http://e<v>"il{}|\\^`/ HTTP/1.1'), true)).toMatchObject({
      message: 'malformed authority in the request-target',
    });
    expect(requestHost(head('GET http://other.test/ HTTP/1.1'), true)).toMatchObject({
      message: 'the request-target authority and the Host header disagree',
    });
    expect(requestHost(head('GET http://example.test:80/ HTTP/1.1'), true)).toMatchObject({ status: 400 });
  });
});

describe('plain HTTP requests get the same host rules as upgrades', () => {
  it('an absolute-form target whose authority is malformed or not the Host: 400', () => {
    expect(serve('GET http://e<v>"il{}|\\^`/ HTTP/1.1\r\nHost: example.test\r\n\r\n')).toBe(
      'error MALFORMED_HEAD | HTTP/1.1 400 Bad Request',
    );
    expect(serve('GET http://other.test/x HTTP/1.1\r\nHost: example.test\r\n\r\n')).toBe(
      'error MALFORMED_HEAD | HTTP/1.1 400 Bad Request',
    );
    expect(serve('GET http://Example.Test/x HTTP/1.1\r\nHost: example.test\r\n\r\n')).toBe(
      'request http://Example.Test/x | ',
    );
  });

  it('HTTP/1.1 needs one valid Host; HTTP/1.0 may go without', () => {
    expect(serve('GET / HTTP/1.1\r\n\r\n')).toBe('error MISSING_HOST | HTTP/1.1 400 Bad Request');
    expect(serve('GET / HTTP/1.1\r\nHost: a b\r\n\r\n')).toBe('error MALFORMED_HEAD | HTTP/1.1 400 Bad Request');
    expect(serve('GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n')).toBe(
      'error MALFORMED_HEAD | HTTP/1.1 400 Bad Request',
    );
    expect(serve('GET / HTTP/1.0\r\n\r\n')).toBe('request / | ');
    expect(serve('GET / HTTP/1.1\r\nHost: example.test\r\n\r\n')).toBe('request / | ');
  });
});
