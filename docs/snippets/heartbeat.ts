import { createServer } from '@ws/node';

/** Ping every `interval` ms; a peer that has not answered `timeout` ms after a ping is dropped (1011, error PONG_TIMEOUT). */
export function startHeartbeatServer(interval = 30_000, timeout = 10_000, port = 8080) {
  const server = createServer({ timeouts: { keepaliveInterval: interval, keepaliveTimeout: timeout } }, (ws) => {
    ws.on('close', (info) => {
      if (info.error === 'PONG_TIMEOUT') console.log('dropped a peer that stopped answering');
    });
  });
  return server.listen(port, '127.0.0.1').then(() => server);
}
