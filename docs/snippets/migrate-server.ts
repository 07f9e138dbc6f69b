import { createServer, permessageDeflate } from '@ws/node';

// ws: new WebSocketServer({ port: 8080, perMessageDeflate: true, maxPayload: 1 << 20,
//       handleProtocols: (protocols) => (protocols.has('chat.v2') ? 'chat.v2' : false),
//       verifyClient: ({ req }) => req.headers.origin === 'https://app.example' })
export async function startMigratedServer(port = 8080) {
  const server = createServer({
    extensions: [permessageDeflate()],
    limits: { maxMessageSize: 1 << 20 },
    protocols: ['chat.v2'],
    origins: ['https://app.example'],
  });
  // ws: wss.on('connection', (ws, req) => ws.on('message', (data, isBinary) => …))
  server.on('connection', (ws, request) => {
    ws.on('message', (data, isBinary) => {
      // data: a string for text (ws: a Buffer; isBinary tells them apart), a Uint8Array for binary.
      ws.send(isBinary ? data : `${request.path}: ${data}`);
    });
  });
  await server.listen(port, '127.0.0.1');
  return server;
}
