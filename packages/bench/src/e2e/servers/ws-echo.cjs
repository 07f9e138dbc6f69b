// Peer: ws 8.23's WebSocketServer echoing every message back with its type. ws loads bufferutil
// (and, where buffer.isUtf8 is missing, utf-8-validate) when it can; WS_NO_BUFFER_UTIL=1 and
// WS_NO_UTF_8_VALIDATE=1 in the environment turn them off; ECHO_DEFLATE=1 accepts permessage-deflate
// offers (off otherwise, as the load generator makes none).   node ws-echo.cjs --port P
'use strict';
const { WebSocketServer } = require('ws');

const port = Number(process.argv[process.argv.indexOf('--port') + 1]);
const wss = new WebSocketServer(
  { host: '127.0.0.1', port, perMessageDeflate: process.env.ECHO_DEFLATE === '1', clientTracking: false },
  () => {
    console.log(`listening on ws://127.0.0.1:${port}`);
  },
);
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
process.on('SIGTERM', () => process.exit(0));
