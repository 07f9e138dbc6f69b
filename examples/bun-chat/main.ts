// The chat server as a program (see README.md):
//   node_modules/.bin/bun --conditions source examples/bun-chat/main.ts --port 8080 [--host 127.0.0.1]
// Prints `chat on http://HOST:PORT/`; open it in two browser tabs. Closes every connection with
// 1001 and exits on SIGINT/SIGTERM.
import { createChatServer } from './chat.ts';

const USAGE = 'usage: main.ts [--port PORT] [--host HOST]';
const args: Record<string, string> = { port: '8080', host: '127.0.0.1' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i]!;
  if (arg === '--') continue; // `pnpm … start -- --port 8080` may pass it through
  const match = /^--(port|host)(?:=(.*))?$/.exec(arg);
  const value = match?.[2] ?? argv[i + 1];
  if (match === null || value === undefined) {
    console.error(`bad argument ${arg}\n${USAGE}`);
    process.exit(2);
  }
  if (match[2] === undefined) i++;
  args[match[1]!] = value;
}

const time = (): string => new Date().toISOString().slice(11, 19);
const chat = await createChatServer({ log: (line) => console.log(`${time()} ${line}`) });
const { port } = chat.listen(Number(args.port), args.host);
console.log(`chat on http://${args.host!.includes(':') ? `[${args.host}]` : args.host}:${port}/`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 5000).unref();
  void chat.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
