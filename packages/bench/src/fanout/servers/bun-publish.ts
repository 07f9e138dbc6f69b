// Peer: Bun.serve's built-in topics on the cluster-chat contract (`/rooms/NAME`; ws.publish
// sends each text message to every other subscriber of the room).   bun bun-publish.ts --port P
const port = Number(Bun.argv[Bun.argv.indexOf('--port') + 1]);
Bun.serve<{ room: string }>({
  hostname: '127.0.0.1',
  port,
  fetch(req, server) {
    if (server.upgrade(req, { data: { room: new URL(req.url).pathname } })) return undefined;
    return new Response('upgrade required', { status: 426 });
  },
  websocket: {
    perMessageDeflate: false,
    open(ws) {
      ws.subscribe(ws.data.room);
    },
    message(ws, message) {
      if (typeof message === 'string') ws.publish(ws.data.room, message);
    },
  },
});
console.log(`listening on ws://127.0.0.1:${port}`);
process.on('SIGTERM', () => process.exit(0));
