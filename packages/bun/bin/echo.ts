#!/usr/bin/env bun
// Echo server: `pnpm run echo:bun --port P [--host 127.0.0.1]` (Bun runs this .ts file directly;
// `--conditions source` resolves @ws/codec to its sources). Sends every text and binary message
// back unchanged and of the same type, accepts permessage-deflate offers, prints
// `listening on ws://HOST:PORT` once ready (`--port 0` picks a free port); closes its connections
// (1001) and exits on SIGTERM/SIGINT. Plain HTTP on the same port: `GET /health` is `200 ok`, `GET /` a small page,
// anything else 404 (echoFetch in packages/codec/src/session/tooling); `--fetch test` adds test routes (testFetch).
//
// Optional limits and timeouts, the same flags on every runtime's echo server (each left out
// keeps the server's default): see serverFlagOptions in packages/codec/src/session/tooling.
import { createServer, permessageDeflate } from '../src/index.ts';
// The repository's tooling (not part of @ws/codec's published API), from source.
import { echoFetch, testFetch, parseFlags, serverFlagOptions } from '../../codec/src/session/tooling/index.ts';

const args = parseFlags(process.argv.slice(2), { port: '9001', host: '127.0.0.1', fetch: 'echo' });

const server = createServer(
  {
    extensions: [permessageDeflate()],
    fetch: args.fetch === 'test' ? testFetch : echoFetch,
    ...serverFlagOptions(args),
  },
  (ws) => {
    ws.on('message', (data) => ws.send(data));
    ws.on('error', () => {}); // a peer's violation closes that connection; nothing to report here
  },
);
const { port } = await server.listen(Number(args.port), args.host);
console.log(`listening on ws://${args.host.includes(':') ? `[${args.host}]` : args.host}:${port}`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 3000).unref();
  void server.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
