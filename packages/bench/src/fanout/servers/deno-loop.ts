// Peer: Deno's built-in WebSocket server (Deno.serve + Deno.upgradeWebSocket) with a send loop,
// on the cluster-chat contract (`/rooms/NAME`; each text message to every other client of the
// room).   deno run --allow-net deno-loop.ts --port P
const port = Number(Deno.args[Deno.args.indexOf('--port') + 1]);
const rooms = new Map<string, Set<WebSocket>>();
Deno.serve(
  { hostname: '127.0.0.1', port, onListen: () => console.log(`listening on ws://127.0.0.1:${port}`) },
  (req) => {
    if (req.headers.get('upgrade') !== 'websocket') return new Response('upgrade required', { status: 426 });
    const room = new URL(req.url).pathname;
    const { socket, response } = Deno.upgradeWebSocket(req);
    let members = rooms.get(room);
    if (members === undefined) rooms.set(room, (members = new Set()));
    const set = members;
    socket.onopen = () => set.add(socket);
    socket.onmessage = (e) => {
      if (typeof e.data !== 'string') return;
      for (const other of set) if (other !== socket && other.readyState === 1) other.send(e.data);
    };
    socket.onclose = () => set.delete(socket);
    socket.onerror = () => {};
    return response;
  },
);
Deno.addSignalListener('SIGTERM', () => Deno.exit(0));
