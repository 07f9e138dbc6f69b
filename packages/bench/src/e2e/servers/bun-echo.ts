// Peer: Bun's built-in WebSocket server (uWebSockets inside), echoing every message back.
//   bun bun-echo.ts --port P   (ECHO_DEFLATE=1: accept permessage-deflate offers)
const port = Number(Bun.argv[Bun.argv.indexOf('--port') + 1]);
Bun.serve({
  hostname: '127.0.0.1',
  port,
  fetch(req, server) {
    if (server.upgrade(req)) return undefined;
    return new Response('upgrade required', { status: 426 });
  },
  websocket: {
    perMessageDeflate: process.env.ECHO_DEFLATE === '1',
    message(ws, message) {
      ws.send(message);
    },
  },
});
console.log(`listening on ws://127.0.0.1:${port}`);
process.on('SIGTERM', () => process.exit(0));
