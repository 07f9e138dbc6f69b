// wss: our TLS server (Deno.listenTls) with our client (Deno.connectTls, and connect + startTls
// when the certificate's name is not the URL's host), our client against Deno.serve over TLS, and
// an untrusted certificate. The certificate is self-signed, made with openssl at test time when
// it is installed, else the test-only pair in fixtures/.
import { HandshakeError, WebSocketUsageError, connect, createConnection, createServer } from '../src/index.ts';
import type { ConnectOptions } from '../src/index.ts';
import { assert, assertEquals, assertRejects } from '../../../test/shared/assert.ts';
import { HOST, bytes, equalBytes, within } from './helpers.ts';
import { hasOpenssl, selfSignedCert } from '../../../scripts/lib/self-signed-cert.mjs';

const FIXTURES = new URL('./fixtures/', import.meta.url);

/** A self-signed certificate for `localhost` (PEM): fresh from openssl, else the fixture. */
async function selfSigned(): Promise<{ cert: string; key: string; source: string }> {
  if (hasOpenssl()) return { ...selfSignedCert(), source: 'openssl' };
  // no openssl on this machine
  return {
    cert: await Deno.readTextFile(new URL('localhost-cert.pem', FIXTURES)),
    key: await Deno.readTextFile(new URL('localhost-key.pem', FIXTURES)),
    source: 'fixtures',
  };
}

const pair = await selfSigned();

Deno.test(`wss: our TLS server and client, echo and a clean close (certificate from ${pair.source})`, async () => {
  const secure: boolean[] = [];
  const server = createServer({ tls: { cert: pair.cert, key: pair.key } }, (ws, request) => {
    secure.push(request.secure);
    ws.on('message', (data) => ws.send(data));
  });
  const { port } = await server.listen(0, HOST);
  try {
    // The URL's host is the certificate's name: Deno.connectTls.
    const a = await within(connect(`wss://localhost:${port}/`, { ca: pair.cert }));
    const big = bytes(300_000, 5);
    const got = new Promise<Array<string | Uint8Array>>((resolve) => {
      const all: Array<string | Uint8Array> = [];
      a.on('message', (data) => all.push(data) === 2 && resolve(all));
    });
    a.send('over tls');
    a.send(big);
    const [text, binary] = await within(got);
    assertEquals(text, 'over tls');
    assert(binary instanceof Uint8Array && equalBytes(binary, big), 'binary echo over TLS');
    a.close(1000, 'tls done');
    const info = await within(a.closed);
    assertEquals([info.code, info.wasClean, info.error], [1000, true, null]);

    // Dial the IP, verify the name: Deno.connect + Deno.startTls.
    const b = await within(connect(`wss://${HOST}:${port}/`, { ca: [pair.cert], servername: 'localhost' }));
    b.close();
    assertEquals((await within(b.closed)).wasClean, true);

    // The names this adapter had before (deprecated): still accepted.
    const c = await within(connect(`wss://${HOST}:${port}/`, { caCerts: [pair.cert], hostname: 'localhost' }));
    c.close();
    assertEquals((await within(c.closed)).wasClean, true);
    assertEquals(secure, [true, true, true]);
  } finally {
    await server.close();
  }
});

Deno.test('wss: TLS options Deno cannot honour, or given twice under both names, throw at once', () => {
  const url = 'wss://localhost:1/';
  const cases: Array<[ConnectOptions, RegExp]> = [
    [{ rejectUnauthorized: false }, /rejectUnauthorized: false is not possible on Deno/],
    [{ ca: pair.cert, caCerts: [pair.cert] }, /ca or the deprecated caCerts/],
    [{ servername: 'a', hostname: 'b' }, /servername or the deprecated hostname/],
    [{ cert: pair.cert }, /cert and key go together/],
  ];
  for (const [options, message] of cases) {
    let thrown: unknown = null;
    try {
      createConnection(url, options);
    } catch (error) {
      thrown = error;
    }
    assert(
      thrown instanceof WebSocketUsageError && message.test(thrown.message),
      `${JSON.stringify(options)}: ${String(thrown)}`,
    );
  }
});

Deno.test('wss: an untrusted certificate fails the handshake with TRANSPORT_ERROR', async () => {
  const server = createServer({ tls: { cert: pair.cert, key: pair.key } });
  const { port } = await server.listen(0, HOST);
  try {
    const error = await assertRejects(within(connect(`wss://localhost:${port}/`)), (e) => e instanceof HandshakeError);
    assertEquals((error as HandshakeError).code, 'TRANSPORT_ERROR');
    assert(
      (error as HandshakeError).cause instanceof Deno.errors.InvalidData,
      `cause: ${String((error as HandshakeError).cause)}`,
    );
  } finally {
    await server.close();
  }
});

Deno.test('wss: our client against Deno.serve over TLS', async () => {
  const server = Deno.serve(
    { hostname: HOST, port: 0, cert: pair.cert, key: pair.key, onListen: () => {} },
    (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      socket.onmessage = (event) => socket.send(event.data);
      return response;
    },
  );
  try {
    const ws = await within(connect(`wss://localhost:${server.addr.port}/`, { ca: pair.cert }));
    const got = new Promise<string | Uint8Array>((resolve) => ws.once('message', resolve));
    ws.send('hello deno tls');
    assertEquals(await within(got), 'hello deno tls');
    ws.close(4000);
    assertEquals((await within(ws.closed)).code, 4000);
  } finally {
    await within(server.shutdown());
  }
});
