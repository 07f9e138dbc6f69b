import type { WebSocketServer } from '@ws/node';

/** To every open connection, skipping those that are too far behind (they would only queue more). */
export function broadcast(server: WebSocketServer, data: string | Uint8Array, maxBehind = 1024 * 1024): number {
  let sent = 0;
  for (const ws of server.connections) {
    if (ws.bufferedAmount > maxBehind) continue;
    ws.send(data);
    sent++;
  }
  return sent;
}

/** Or with topics: framed once for every subscriber, with a per-subscriber bound (`backpressureLimit`). */
export function joinAndAnnounce(server: WebSocketServer): void {
  server.on('connection', (ws) => {
    ws.subscribe('news');
    server.publish('news', 'someone joined');
  });
}
