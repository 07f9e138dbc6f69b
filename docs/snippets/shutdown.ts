import type { UpgradeHandler } from '@ws/node';

/**
 * Graceful shutdown: stop accepting, close every connection with 1001, give peers `timeout` ms to
 * answer, then terminate the rest. Works the same for `createServer` and `createUpgradeHandler`.
 */
export function shutdownOnSignal(server: UpgradeHandler, timeout = 5000): () => Promise<void> {
  const stop = async () => {
    await server.shutdown({ timeout });
    console.log(`closed; ${server.connections.size} connections left`);
  };
  process.once('SIGTERM', stop);
  return stop;
}
