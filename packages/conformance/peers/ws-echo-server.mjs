#!/usr/bin/env node
// Reference peer: an echo server on `ws` (npm), the library the suite is calibrated against.
//   node packages/conformance/peers/ws-echo-server.mjs --port P
// Prints `listening on ws://127.0.0.1:P`, echoes text and binary unchanged, exits on SIGTERM.
import { WebSocketServer } from 'ws';

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
// ws 8.23 limits a message to 16384 fragments by default (a guard against many tiny frames);
// Autobahn's 9.3.1/9.4.1 send 65536. Lift the limits, as one does for a conformance run.
const server = new WebSocketServer({
  host: '127.0.0.1',
  port: Number(arg('port', '9001')),
  perMessageDeflate: true, // as Autobahn runs expect (sections 12, 13); only used when the peer offers it
  maxPayload: 64 * 1024 * 1024,
  maxFragments: 0,
});
server.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
server.on('listening', () => console.log(`listening on ws://127.0.0.1:${server.address().port}`));
const stop = () => {
  for (const client of server.clients) client.terminate();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
