// The chat server as a program (from this folder; see README.md):
//   ../../node_modules/.bin/deno task start --port 8080 [--host 127.0.0.1]
// Prints `chat on http://HOST:PORT/`; open it in two browser tabs. Closes every connection with
// 1001 and exits on SIGINT/SIGTERM.
import { createChatServer } from './chat.ts';

const USAGE = 'usage: main.ts [--port PORT] [--host HOST]';
const args: Record<string, string> = { port: '8080', host: '127.0.0.1' };
for (let i = 0; i < Deno.args.length; i++) {
  const arg = Deno.args[i]!;
  if (arg === '--') continue;
  const match = /^--(port|host)(?:=(.*))?$/.exec(arg);
  const value = match?.[2] ?? Deno.args[i + 1];
  if (match === null || value === undefined) {
    console.error(`bad argument ${arg}\n${USAGE}`);
    Deno.exit(2);
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
  Deno.unrefTimer(setTimeout(() => Deno.exit(0), 5000));
  chat.close().then(() => Deno.exit(0));
};
Deno.addSignalListener('SIGINT', stop);
Deno.addSignalListener('SIGTERM', stop);
