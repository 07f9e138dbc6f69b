#!/usr/bin/env node
// Echo server: `pnpm run echo:node --port P [--host 127.0.0.1]`. Sends every text and binary
// message back unchanged and of the same type (accepting permessage-deflate offers); prints `listening on ws://HOST:PORT` once ready;
// closes its connections (1001) and exits on SIGTERM/SIGINT. Plain HTTP on the same port:
// `GET /health` is `200 ok`, `GET /` a small page, anything else 404 (echoFetch in packages/codec/src/session/tooling); `--fetch test` adds test routes (testFetch).
//
// `--http2`: TLS on 127.0.0.1:P with a self-signed certificate made at start by the openssl CLI
// (or `--cert FILE --key FILE`), HTTP/2 with extended CONNECT (RFC 8441) and HTTP/1.1 upgrades on
// the same port (ALPN), the same echo, `GET /` a small page; prints `listening on https://…`.
//
// Optional limits and timeouts, the same flags on every runtime's echo server (each left out
// keeps the server's default): see serverFlagOptions in packages/codec/src/session/tooling.
import { ensureBuilt } from './ensure-built.mjs';

await ensureBuilt();
// The repository's tooling (not part of @ws/codec's published API): its build, by path.
const { parseFlags, serverFlagOptions, echoFetch, testFetch } = await import('../../codec/dist/tooling.js');
// `--http2` takes no value: read it before the flags that do.
const argv = process.argv.slice(2);
const http2Mode = argv.includes('--http2');
const args = parseFlags(
  argv.filter((a) => a !== '--http2'),
  { port: '9001', host: '127.0.0.1', fetch: 'echo', cert: '', key: '' },
);
const { cert: certFile, key: keyFile, ...serverArgs } = args;
const options = serverFlagOptions(serverArgs);
const { createServer, createUpgradeHandler, permessageDeflate } = await import('@ws/node');
const onConnection = (ws) => {
  ws.on('message', (data) => ws.send(data));
  ws.on('error', () => {}); // a peer's violation closes that connection; nothing to report here
};
if (http2Mode) await serveHttp2();

// Accepts permessage-deflate offers (RFC 7692), as the conformance and benchmark tools expect.
const server = createServer(
  { extensions: [permessageDeflate()], fetch: args.fetch === 'test' ? testFetch : echoFetch, ...options },
  onConnection,
);
const { port } = await server.listen(Number(args.port), args.host);
console.log(`listening on ws://${args.host.includes(':') ? `[${args.host}]` : args.host}:${port}`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => process.exit(0), 3000);
  force.unref();
  server.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

/** `--http2`: node:http2's secure server, WebSockets over HTTP/2 and HTTP/1.1 on one port. */
async function serveHttp2() {
  const { readFileSync } = await import('node:fs');
  const http2 = await import('node:http2');
  let key;
  let cert;
  if (certFile !== '' || keyFile !== '') {
    if (certFile === '' || keyFile === '') throw new Error('--cert and --key go together');
    cert = readFileSync(certFile);
    key = readFileSync(keyFile);
  } else {
    // The repository's test certificate (openssl CLI), the one the TLS tests use.
    ({ key, cert } = (await import('../../../scripts/lib/self-signed-cert.mjs')).selfSignedCert());
  }
  const wss = createUpgradeHandler({ extensions: [permessageDeflate()], ...options }, onConnection);
  const page =
    '<!doctype html><meta charset="utf-8"><title>@ws echo over HTTP/2</title><p>@ws echo (HTTP/2, RFC 8441)</p>\n';
  const server = http2.createSecureServer(
    { key, cert, allowHTTP1: true, settings: { enableConnectProtocol: true } },
    (req, res) => {
      if (req.url === '/' || req.url === '/health') {
        const body = req.url === '/' ? page : 'ok\n';
        res.writeHead(200, { 'content-type': req.url === '/' ? 'text/html; charset=utf-8' : 'text/plain' });
        res.end(body);
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    },
  );
  wss.attach(server);
  await new Promise((resolve) => server.listen(Number(args.port), args.host, resolve));
  const { port } = server.address();
  console.log(
    `listening on https://${args.host.includes(':') ? `[${args.host}]` : args.host}:${port} (HTTP/2 and HTTP/1.1)`,
  );
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), 3000).unref();
    wss.close().then(() => server.close(() => process.exit(0)));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await new Promise(() => {});
}
