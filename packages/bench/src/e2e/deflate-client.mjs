// A permessage-deflate echo client (the C load generator speaks no extensions): `ws` 8.23 as the
// client, offering permessage-deflate with its defaults (context takeover both ways), CONNS
// connections with one message in flight each, text messages of SIZE bytes of JSON-like data
// (sixteen different ones in turn, so each is compressed as a new message, not a repeat).
//   node deflate-client.mjs HOST PORT CONNS SIZE WARMUP_S SECONDS [SERVER_PID]
// Prints one JSON line: msgsPerSec over the measured window, the server's CPU seconds in it
// (utime + stime of every thread, from /proc, as the load generator reads them), the client's
// own, and the extension the server accepted. Every echo is checked against what was sent.
// Exits 1 with `error` when a server does not accept the offer.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../package.json'));
const WebSocket = require('ws');

const [host, port, connsArg, sizeArg, warmArg, secondsArg, pidArg] = process.argv.slice(2);
const conns = Number(connsArg);
const size = Number(sizeArg);
const pid = Number(pidArg ?? 0);
const TICK = 100; // clock ticks per second on Linux (sysconf(_SC_CLK_TCK))

function serverCpu() {
  if (!pid) return -1;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}
const selfCpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};

/** A JSON-like text of exactly `n` bytes (ASCII): records with varying numbers, names and flags. */
function jsonText(n, seed) {
  let s = '[';
  let i = seed * 7919;
  while (s.length < n) {
    i = (i * 1103515245 + 12345) & 0x7fffffff;
    s += `{"id":${i % 100000},"name":"user-${i % 997}","score":${(i % 10007) / 100},"active":${i % 3 === 0},"tags":["t${i % 13}","t${i % 29}"]},`;
  }
  return s.slice(0, n);
}
const messages = Array.from({ length: 16 }, (_, k) => jsonText(size, k + 1));

let counting = false;
let echoes = 0;
let failed = null;
const sockets = [];
await Promise.all(
  Array.from(
    { length: conns },
    () =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://${host}:${port}/`, { perMessageDeflate: true });
        ws.once('open', () => {
          if (!/permessage-deflate/.test(ws.extensions))
            reject(new Error('the server did not accept permessage-deflate'));
          else resolve();
        });
        ws.once('error', reject);
        let next = 0;
        ws.on('message', (data, isBinary) => {
          const sent = messages[(next + 15) % 16];
          if (isBinary || data.length !== sent.length || data.toString() !== sent) failed ??= 'an echo differs';
          if (counting) echoes++;
          ws.send(messages[next]);
          next = (next + 1) % 16;
        });
        ws.once('open', () => {
          ws.send(messages[next]);
          next = (next + 1) % 16;
        });
        sockets.push(ws);
      }),
  ),
).catch((e) => {
  console.log(JSON.stringify({ error: e.message }));
  process.exit(1);
});

await new Promise((r) => setTimeout(r, Number(warmArg) * 1000));
const cpu0 = serverCpu();
const self0 = selfCpu();
const t0 = performance.now();
counting = true;
await new Promise((r) => setTimeout(r, Number(secondsArg) * 1000));
counting = false;
const elapsed = (performance.now() - t0) / 1000;
const cpu1 = serverCpu();
const self1 = selfCpu();
const extension = sockets[0].extensions;
for (const ws of sockets) ws.terminate();
console.log(
  JSON.stringify({
    ...(failed ? { error: failed } : {}),
    messages: echoes,
    msgsPerSec: echoes / elapsed,
    serverCpu: pid ? cpu1 - cpu0 : -1,
    loadgenCpu: self1 - self0,
    extension,
  }),
);
process.exit(failed ? 1 : 0);
