// `pnpm run cluster-chat:bun --port P [--redis redis://HOST:PORT]`: the cluster chat on Bun
// (run with `bun --conditions source`: the packages' sources, no build).
import { createServer } from '@ws/bun';
import { RedisBroker } from '@ws/redis';
import { main } from './chat.mjs';

await main('bun', {
  createServer,
  RedisBroker,
  argv: process.argv.slice(2),
  onSignal: (signal, stop) => process.on(signal, stop),
  exit: (code) => process.exit(code),
});
