// Peer: Deno's built-in WebSocket server (Deno.serve + Deno.upgradeWebSocket), echoing every
// message back with its type.   deno run --allow-net deno-echo.ts --port P
const port = Number(Deno.args[Deno.args.indexOf('--port') + 1]);
Deno.serve(
  { hostname: '127.0.0.1', port, onListen: () => console.log(`listening on ws://127.0.0.1:${port}`) },
  (req) => {
    if (req.headers.get('upgrade') !== 'websocket') return new Response('upgrade required', { status: 426 });
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (e) => socket.send(e.data);
    socket.onerror = () => {};
    return response;
  },
);
Deno.addSignalListener('SIGTERM', () => Deno.exit(0));
