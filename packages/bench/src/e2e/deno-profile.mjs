// A CPU profile of a Deno echo server under the load generator, through the inspector's Profiler
// domain (Deno 2.9 has no --cpu-prof). Run with Deno, from the repository root:
//   node_modules/.bin/deno run -A packages/bench/src/e2e/deno-profile.mjs OUT.cpuprofile echo|handshake [ours|builtin]
// The server (`echo:deno`'s script, or the built-in's servers/deno-echo.ts) runs on core 0 with
// --inspect on a port of its own, the load generator on core 1: 1.5 s of warm-up, then 4 s
// sampled every 200 µs (100 connections × 32 B, or handshakes 32 at a time). Prints the load
// generator's line. Summarise with `node packages/bench/src/lib/profile-summary.mjs OUT --busy`.
import { buildLoadgen } from './run.mjs';

const [out, mode = 'echo', which = 'ours'] = Deno.args;
if (!out || !['echo', 'handshake'].includes(mode) || !['ours', 'builtin'].includes(which)) {
  console.error('usage: deno-profile.mjs OUT.cpuprofile echo|handshake [ours|builtin]');
  Deno.exit(2);
}
const root = new URL('../../../../', import.meta.url).pathname;
const deno = Deno.execPath();
const script =
  which === 'ours'
    ? ['--config', `${root}packages/deno/deno.json`, `${root}packages/deno/bin/echo.ts`]
    : [`${root}packages/bench/src/e2e/servers/deno-echo.ts`];
const port = 9700 + Math.floor(Math.random() * 200);
const inspect = port + 300;
const server = new Deno.Command('taskset', {
  args: ['-c', '0', deno, 'run', `--inspect=127.0.0.1:${inspect}`, '--allow-net', ...script, '--port', String(port)],
  stdout: 'piped',
  stderr: 'null',
}).spawn();
try {
  // Wait for "listening", then keep draining its output.
  const reader = server.stdout.getReader();
  let text = '';
  while (!text.includes('listening')) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the server exited: ${text}`);
    text += new TextDecoder().decode(value);
  }
  (async () => {
    while (!(await reader.read()).done);
  })();

  const [target] = await (await fetch(`http://127.0.0.1:${inspect}/json/list`)).json();
  const inspector = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    inspector.onopen = resolve;
    inspector.onerror = reject;
  });
  const waiting = new Map();
  let id = 0;
  inspector.onmessage = (event) => {
    const message = JSON.parse(event.data);
    waiting.get(message.id)?.(message);
    waiting.delete(message.id);
  };
  const call = (method, params = {}) =>
    new Promise((resolve) => {
      waiting.set(++id, resolve);
      inspector.send(JSON.stringify({ id, method, params }));
    });

  const loadgen = buildLoadgen();
  const run = async (warmup, seconds, pid) => {
    const args =
      mode === 'echo'
        ? ['echo', '127.0.0.1', port, 100, 1, 32, warmup, seconds, pid]
        : ['handshake', '127.0.0.1', port, 32, warmup, seconds, pid];
    const result = await new Deno.Command('taskset', {
      args: ['-c', '1', loadgen, ...args.map(String)],
      stdout: 'piped',
    }).output();
    return new TextDecoder().decode(result.stdout).trim();
  };
  await call('Profiler.enable');
  await call('Profiler.setSamplingInterval', { interval: 200 });
  await run(1.5, 0.5, 0); // warm-up, unsampled
  await call('Profiler.start');
  console.log(await run(0.2, 4, server.pid));
  const { result } = await call('Profiler.stop');
  await Deno.writeTextFile(out, JSON.stringify(result.profile));
  inspector.close();
} finally {
  server.kill('SIGKILL');
  await server.status;
}
