// WebSockets over HTTP/2 (RFC 8441) on Deno's own `node:http2`: the scenarios of
// test/shared/http2.ts. Our upgrade handler attached to an h2c and a TLS `node:http2` server,
// Deno's `http2` client doing the extended CONNECT by hand, and our `connect(url, { http2: true })`.
import * as adapter from '../src/index.ts';
import * as scenario from '../../../test/shared/http2.ts';
import { selfSignedCert } from '../../../scripts/lib/self-signed-cert.mjs';
import { assertEquals } from '../../../test/shared/assert.ts';

// A certificate for localhost and 127.0.0.1 (an IP SAN: node:tls checks the URL's host; CA:FALSE,
// as Deno.connectTls wants for the HTTP/1.1 fall back), made by openssl.
const { cert, key } = selfSignedCert();

const rt = scenario.http2Runtime(adapter, { cert, key });

Deno.test('RFC 8441: Deno http2 client by hand against our handler on an h2c node:http2 server', () =>
  scenario.byHand(rt));
Deno.test('RFC 8441: TLS, the compatibility API and HTTP/1.1 upgrades on one port', () =>
  scenario.tlsAndHttp1OnOnePort(rt));
Deno.test('RFC 8441: connect(url, { http2: true }) × 100 on one session', () => scenario.manyOnOneSession(rt, 100));
Deno.test('RFC 8441: permessage-deflate over HTTP/2 on TLS', () => scenario.deflateOverTls(rt));
Deno.test('RFC 8441: the fall back to HTTP/1.1', () => scenario.fallback(rt));
Deno.test('RFC 8441: a refusal, createConnection and proxy with http2', () => scenario.refusalAndMisuse(rt));
Deno.test("RFC 8441: backpressure is the stream's flow control", () => scenario.flowControl(rt));

Deno.test('RFC 8441: the README example runs as written', async () => {
  const readme = await Deno.readTextFile(new URL('../README.md', import.meta.url));
  const source = new URL('../src/index.ts', import.meta.url).href;
  const code = scenario.readmeExample(readme, '## HTTP/2 (RFC 8441)').replaceAll("'@ws/deno'", JSON.stringify(source));
  const file = await Deno.makeTempFile({ prefix: 'ws-deno-readme-h2-', suffix: '.ts' });
  try {
    await Deno.writeTextFile(file, code);
    assertEquals(await scenario.printed(() => import(`file://${file}`)), ['2', 'hello']);
  } finally {
    await Deno.remove(file);
  }
});
