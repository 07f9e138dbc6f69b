#!/usr/bin/env node
// The chat server as a program:
//   pnpm run example:node-chat -- --port 8080 [--host 127.0.0.1]
// Prints `chat on http://HOST:PORT/`; open it in two browser tabs. Closes every connection with
// 1001 and exits on SIGINT/SIGTERM. Node 20 cannot run TypeScript, so this imports the built
// `@ws/node`: in this repository it is built first when missing or stale.
import { ensureBuilt } from '../../packages/node/bin/ensure-built.mjs';

const USAGE = 'usage: main.mjs [--port PORT] [--host HOST]';
const args = { port: '8080', host: '127.0.0.1' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--') continue; // `pnpm run x -- …` may pass it through
  const match = /^--(port|host)(?:=(.*))?$/.exec(argv[i]);
  const value = match?.[2] ?? argv[i + 1];
  if (match === null || value === undefined) {
    console.error(`bad argument ${argv[i]}\n${USAGE}`);
    process.exit(2);
  }
  if (match[2] === undefined) i++;
  args[match[1]] = value;
}

await ensureBuilt();
const { createChatServer } = await import('./chat.mjs');

const time = () => new Date().toISOString().slice(11, 19);
const chat = createChatServer({ log: (line) => console.log(`${time()} ${line}`) });
const { port } = await chat.listen(Number(args.port), args.host);
console.log(`chat on http://${args.host.includes(':') ? `[${args.host}]` : args.host}:${port}/`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 5000).unref();
  chat.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
