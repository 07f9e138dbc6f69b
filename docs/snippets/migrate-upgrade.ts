import http from 'node:http';
import { createUpgradeHandler } from '@ws/node';

// ws: const wss = new WebSocketServer({ noServer: true });
//     server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)));
export function attach(httpServer: http.Server) {
  const wss = createUpgradeHandler({}, (ws) => ws.send('welcome'));
  httpServer.on('upgrade', (req, socket, head) => {
    if (req.url?.startsWith('/ws')) wss.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  return wss; // wss.connections (ws: wss.clients), wss.closeAll(code, reason), await wss.shutdown()
}
