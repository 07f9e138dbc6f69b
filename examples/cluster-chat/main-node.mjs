// `pnpm run cluster-chat:node --port P [--redis redis://HOST:PORT]`: the cluster chat on Node
// (Node 20 runs no .ts: the packages are built first, once, when their dist is stale).
import { ensureBuilt } from '../../packages/node/bin/ensure-built.mjs';
import { main } from './chat.mjs';

await ensureBuilt(['packages/redis']);
const { createServer } = await import('@ws/node');
const { RedisBroker } = await import('@ws/redis');
await main('node', {
  createServer,
  RedisBroker,
  argv: process.argv.slice(2),
  onSignal: (signal, stop) => process.on(signal, stop),
  exit: (code) => process.exit(code),
});
