#!/usr/bin/env node
// Echo server: `pnpm run echo:node --port P [--host 127.0.0.1]`. Sends every text and binary
// message back unchanged and of the same type (accepting permessage-deflate offers); prints `listening on ws://HOST:PORT` once ready;
// closes its connections (1001) and exits on SIGTERM/SIGINT. Plain HTTP on the same port:
// `GET /health` is `200 ok`, `GET /` a small page, anything else 404 (echoFetch in packages/codec/src/tooling); `--fetch test` adds test routes (testFetch).
//
// Optional limits and timeouts, the same flags on every runtime's echo server (each left out
// keeps the server's default): see serverFlagOptions in packages/codec/src/tooling.
import { ensureBuilt } from './ensure-built.mjs';

await ensureBuilt();
// The repository's tooling (not part of @ws/codec's published API): its build, by path.
const { parseFlags, serverFlagOptions, echoFetch, testFetch } = await import('../../codec/dist/tooling.js');
const args = parseFlags(process.argv.slice(2), { port: '9001', host: '127.0.0.1', fetch: 'echo' });
const options = serverFlagOptions(args);
const { createServer, permessageDeflate } = await import('@ws/node');

// Accepts permessage-deflate offers (RFC 7692), as the conformance and benchmark tools expect.
const server = createServer(
  { extensions: [permessageDeflate()], fetch: args.fetch === 'test' ? testFetch : echoFetch, ...options },
  (ws) => {
    ws.on('message', (data) => ws.send(data));
    ws.on('error', () => {}); // a peer's violation closes that connection; nothing to report here
  },
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
