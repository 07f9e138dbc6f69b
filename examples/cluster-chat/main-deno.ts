// `pnpm run cluster-chat:deno --port P [--redis redis://HOST:PORT]`: the cluster chat on Deno
// (the packages' sources through deno.json's import map; ioredis from node_modules).
import { createServer } from '@ws/deno';
import { RedisBroker } from '@ws/redis';
import { main } from './chat.mjs';

await main('deno', {
  createServer,
  RedisBroker,
  argv: Deno.args,
  onSignal: (signal: string, stop: () => void) => Deno.addSignalListener(signal as Deno.Signal, stop),
  exit: (code: number) => Deno.exit(code),
});
