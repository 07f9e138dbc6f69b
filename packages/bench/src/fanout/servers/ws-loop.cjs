// Peer: ws's server with a send loop, on the cluster-chat contract (`/rooms/NAME`; each text
// message goes to every other client of the room, each send framing it again).
//   node ws-loop.cjs --port P
const { WebSocketServer } = require('ws');
const port = Number(process.argv[process.argv.indexOf('--port') + 1]);
const rooms = new Map();
const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false }, () =>
  console.log(`listening on ws://127.0.0.1:${port}`),
);
wss.on('connection', (ws, req) => {
  const room = req.url;
  let members = rooms.get(room);
  if (members === undefined) rooms.set(room, (members = new Set()));
  members.add(ws);
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    for (const other of members) if (other !== ws) other.send(data, { binary: false });
  });
  ws.on('close', () => members.delete(ws));
  ws.on('error', () => {});
});
process.on('SIGTERM', () => process.exit(0));
