#!/usr/bin/env node
// The proxy as a program:
//   pnpm run example:proxy -- --listen 127.0.0.1:8080 --upstream ws://127.0.0.1:9000
// Prints `listening on ws://HOST:PORT -> UPSTREAM`, one line per connection, and closes every
// connection (1001) and exits on SIGINT/SIGTERM. Node 20 cannot run TypeScript, so this imports
// the built `@ws/node`: in this repository it is built first when missing or stale.
import { ensureBuilt } from '../../packages/node/bin/ensure-built.mjs';

const USAGE = 'usage: main.mjs [--listen HOST:PORT] [--upstream ws://HOST:PORT/PATH] [--high-water-mark BYTES]';

function parse(argv) {
  const args = { listen: '127.0.0.1:8080', upstream: 'ws://127.0.0.1:9000', 'high-water-mark': String(1024 * 1024) };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') continue; // `pnpm run x -- …` may pass it through
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (match === null || !(match[1] in args)) throw new Error(`unknown argument ${arg}\n${USAGE}`);
    const value = match[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${match[1]} needs a value\n${USAGE}`);
    args[match[1]] = value;
  }
  const listen = /^(.*):(\d+)$/.exec(args.listen);
  if (listen === null) throw new Error(`--listen must be HOST:PORT, got ${args.listen}`);
  return {
    host: listen[1].replace(/^\[(.*)\]$/, '$1'),
    port: Number(listen[2]),
    upstream: args.upstream,
    highWaterMark: Number(args['high-water-mark']),
  };
}

let args;
try {
  args = parse(process.argv.slice(2));
} catch (error) {
  console.error(error.message);
  process.exit(2);
}
await ensureBuilt();
const { createProxy } = await import('./proxy.mjs');

const time = () => new Date().toISOString().slice(11, 23);
const proxy = createProxy({
  upstream: args.upstream,
  highWaterMark: args.highWaterMark,
  log: (line) => console.log(`${time()} ${line}`),
});
const { port } = await proxy.listen(args.port, args.host);
const shown = args.host.includes(':') ? `[${args.host}]` : args.host;
console.log(`listening on ws://${shown}:${port} -> ${args.upstream}`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 5000).unref();
  proxy.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
