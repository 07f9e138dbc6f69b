#!/usr/bin/env node
// Load and soak against one runtime's echo server, on 127.0.0.1 only, for fixed durations; it
// stops by itself (a global deadline kills everything it started).
//
//   pnpm run soak:node  [-- --connections 10000 --load-seconds 30 --churn-seconds 120 …]
//   pnpm run soak:deno | soak:bun      (skipped with a note when the runtime's echo script is missing)
//
// The server is the runtime's own echo script (packages/<runtime>/bin/echo.*), started as a child
// process; the load comes from this Node process through @ws/node's client. Phases:
//   load          N concurrent connections, each sending a numbered message every ~second; every
//                 echo must come back, in order and intact. Peak server RSS reported.
//   churn         C workers open, talk (k messages), close, again, for --churn-seconds. Server RSS and
//                 this process's heap are sampled; after the run (and a GC) they must be flat:
//                 within --flat-mib of their level after the warm-up.
//   backpressure  B connections each send M messages of S bytes as fast as send()/drain() allows
//                 (at most 16 MiB unanswered: the echo servers do not wait for drain themselves);
//                 exactly M must come back to each, in order. The slow-reader variant pauses
//                 reading for 2 s first, so the server's send buffer fills with echoes meanwhile
//                 (32 MiB at most). The stalled reader never reads: the server must drop it once
//                 its send buffer passes maxBufferedAmount (SEND_BUFFER_OVERFLOW), RSS bounded.
// The figures are printed as JSON (and appended to --out when given). Exit 1 on any failure.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const HOST = '127.0.0.1';

// ---- options --------------------------------------------------------------------------------
const defaults = {
  runtime: 'node',
  connections: '10000',
  'load-seconds': '30',
  'churn-seconds': '120',
  'churn-workers': '100',
  'churn-messages': '5',
  'backpressure-connections': '4',
  'backpressure-messages': '2000',
  'backpressure-size': '65536',
  'flat-mib': '40',
  phases: 'load,churn,backpressure',
  out: '',
};
const args = { ...defaults };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i];
  if (arg === '--') continue;
  const eq = arg.indexOf('=');
  const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
  const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
  if (!arg.startsWith('--') || !(name in defaults) || value === undefined) {
    console.error(`usage: soak.mjs [--${Object.keys(defaults).join(' N] [--')} N]`);
    process.exit(2);
  }
  args[name] = value;
}
const num = (name) => Number(args[name]);
const phases = new Set(args.phases.split(','));

// ---- file descriptors -----------------------------------------------------------------------
// Each connection costs this process one descriptor (the server its own, in its own process).
// Raise the soft limit by re-running under `ulimit -n <hard>` when it is too low; if the hard
// limit is too low as well, run fewer connections and say so.
const need = num('connections') + 512;
const softLimit = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim()) || 1024;
const hardLimit = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim();
const notes = [];
if (softLimit < need && !process.env.WS_SOAK_RAISED) {
  const hard = hardLimit === 'unlimited' ? need : Number(hardLimit);
  if (hard > softLimit) {
    const child = spawnSync(
      'sh',
      [
        '-c',
        `ulimit -n ${Math.min(hard, Math.max(need, softLimit))} && exec "$0" "$@"`,
        process.execPath,
        ...process.argv.slice(1),
      ],
      {
        stdio: 'inherit',
        env: { ...process.env, WS_SOAK_RAISED: '1' },
      },
    );
    process.exit(child.status ?? 1);
  }
}
if (softLimit < need) {
  const lowered = Math.max(100, softLimit - 512);
  notes.push(
    `ulimit -n is ${softLimit} (hard ${hardLimit}): ran ${lowered} connections instead of ${args.connections}`,
  );
  args.connections = String(lowered);
}

// ---- the server under test ------------------------------------------------------------------
const SERVERS = {
  node: {
    script: 'packages/node/bin/echo.mjs',
    command: () => [process.execPath, ['packages/node/bin/echo.mjs', '--port', '0', '--host', HOST]],
  },
  deno: {
    script: 'packages/deno/bin/echo.ts',
    command: () => [process.execPath, ['packages/deno/bin/run.mjs', 'echo.ts', '--port', '0', '--host', HOST]],
  },
  bun: {
    script: 'packages/bun/bin/echo.ts',
    command: () => [
      path.join(ROOT, 'node_modules/.bin/bun'),
      ['--conditions', 'source', 'packages/bun/bin/echo.ts', '--port', '0', '--host', HOST],
    ],
  },
};
const server = SERVERS[args.runtime];
if (server === undefined) {
  console.error(`unknown runtime ${args.runtime} (node, deno, bun)`);
  process.exit(2);
}
if (!existsSync(path.join(ROOT, server.script))) {
  console.log(`soak:${args.runtime}: skipped — ${server.script} does not exist yet`);
  process.exit(0);
}

const started = Date.now();
const budgetMs = (num('load-seconds') + num('churn-seconds') + 300) * 1000;
const children = new Set();
function stopAll(code) {
  for (const child of children) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      child.kill('SIGTERM');
    }
  }
  setTimeout(() => {
    for (const child of children) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    process.exit(code);
  }, 2000).unref();
}
const deadline = setTimeout(() => {
  console.error(`soak: stopped by its deadline (${budgetMs / 1000} s)`);
  stopAll(1);
}, budgetMs);
deadline.unref();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => stopAll(130));
process.on('uncaughtException', (error) => {
  console.error(error);
  stopAll(1);
});
// Whatever happens, the server does not outlive us.
process.on('exit', () => {
  for (const child of children) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

async function startServer() {
  const [cmd, cmdArgs] = server.command();
  const child = spawn(cmd, cmdArgs, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${args.runtime} echo server did not start: ${out}`)), 120_000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (ws:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`${args.runtime} echo server exited (${code}): ${out}`)));
  });
  return { child, url };
}

/** RSS of a process and all its descendants (the deno wrapper runs deno as a child), from /proc. */
function treeRss(pid) {
  let total = 0;
  const visit = (p) => {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
      for (const task of readdirSync(`/proc/${p}/task`)) {
        const kids = readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim();
        for (const kid of kids ? kids.split(/\s+/) : []) visit(kid);
      }
    } catch {
      /* gone */
    }
  };
  visit(pid);
  return total;
}

// ---- the client ------------------------------------------------------------------------------
const { ensureBuilt } = await import(pathToFileURL(path.join(ROOT, 'packages/node/bin/ensure-built.mjs')).href);
await ensureBuilt();
const { connect } = await import(pathToFileURL(path.join(ROOT, 'packages/node/dist/index.js')).href);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (n) => Math.round((n / 2 ** 20) * 10) / 10;
v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc');
const gc = () => {
  collect();
  collect();
};

/** Run `fn` over `items` with at most `limit` at a time. */
async function pool(items, limit, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  });
  await Promise.all(workers);
}

const failures = [];
const fail = (what) => {
  failures.push(what);
  console.error(`FAIL ${what}`);
};

async function loadPhase(url, pid) {
  const n = num('connections');
  const holdMs = num('load-seconds') * 1000;
  const t0 = Date.now();
  const conns = new Array(n);
  let connectErrors = 0;
  await pool([...Array(n).keys()], 256, async (i) => {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        conns[i] = await connect(url, { timeouts: { handshakeTimeout: 60_000 } });
        return;
      } catch (error) {
        if (attempt === 2) {
          connectErrors++;
          if (connectErrors <= 3) console.error(`connect ${i}: ${error.message}`);
        } else await sleep(100);
      }
    }
  });
  const open = conns.filter(Boolean);
  const connectSeconds = (Date.now() - t0) / 1000;
  console.log(
    `load: ${open.length}/${n} connected in ${connectSeconds.toFixed(1)} s; server RSS ${mib(treeRss(pid))} MiB`,
  );
  let sent = 0;
  let received = 0;
  let outOfOrder = 0;
  let peakRss = treeRss(pid);
  const latencies = [];
  const stop = Date.now() + holdMs;
  const perConn = open.map((ws, i) => {
    const state = { next: 0, expect: 0, times: new Map() };
    ws.on('message', (data) => {
      const [id, seq] = String(data).split(':').map(Number);
      if (id !== i || seq !== state.expect) outOfOrder++;
      state.expect = seq + 1;
      received++;
      const at = state.times.get(seq);
      if (at !== undefined && latencies.length < 200_000) latencies.push(performance.now() - at);
      state.times.delete(seq);
    });
    return state;
  });
  // Each connection sends once a second, spread over the second.
  const tick = 50;
  while (Date.now() < stop) {
    const slot = Math.floor((Date.now() / tick) % (1000 / tick));
    for (let i = slot; i < open.length; i += 1000 / tick) {
      const state = perConn[i];
      state.times.set(state.next, performance.now());
      open[i].send(`${i}:${state.next++}`);
      sent++;
    }
    peakRss = Math.max(peakRss, treeRss(pid));
    await sleep(tick);
  }
  // Let the last echoes arrive.
  const settle = Date.now() + 15_000;
  while (received < sent && Date.now() < settle) await sleep(50);
  latencies.sort((a, b) => a - b);
  const closeStart = Date.now();
  for (const ws of open) ws.close(1000);
  await Promise.all(open.map((ws) => ws.closed));
  const closeSeconds = (Date.now() - closeStart) / 1000;
  const result = {
    connections: open.length,
    connectErrors,
    connectSeconds: Number(connectSeconds.toFixed(1)),
    holdSeconds: holdMs / 1000,
    messagesSent: sent,
    messagesReceived: received,
    outOfOrder,
    latencyMs: {
      p50: Number((latencies[latencies.length >> 1] ?? 0).toFixed(1)),
      p99: Number((latencies[Math.floor(latencies.length * 0.99)] ?? 0).toFixed(1)),
    },
    serverPeakRssMiB: mib(peakRss),
    serverRssPerConnectionKiB: Math.round(peakRss / Math.max(1, open.length) / 1024),
    closeSeconds: Number(closeSeconds.toFixed(1)),
  };
  if (open.length < n) fail(`load: only ${open.length} of ${n} connections opened`);
  if (received !== sent) fail(`load: ${sent} sent, ${received} echoed`);
  if (outOfOrder > 0) fail(`load: ${outOfOrder} echoes out of order or wrong`);
  return result;
}

async function churnPhase(url, pid) {
  const seconds = num('churn-seconds');
  const workers = num('churn-workers');
  const k = num('churn-messages');
  const stop = Date.now() + seconds * 1000;
  const warmupEnd = Date.now() + Math.min(20, seconds / 4) * 1000;
  let cycles = 0;
  let errors = 0;
  const samples = [];
  let baseline = null;
  const sampler = setInterval(() => {
    const s = {
      t: Math.round((Date.now() - started) / 1000),
      serverRss: treeRss(pid),
      clientHeap: process.memoryUsage().heapUsed,
      clientRss: process.memoryUsage.rss(),
    };
    samples.push(s);
    if (baseline === null && Date.now() >= warmupEnd) {
      gc();
      baseline = {
        serverRss: treeRss(pid),
        clientHeap: process.memoryUsage().heapUsed,
        clientRss: process.memoryUsage.rss(),
      };
    }
  }, 2000);
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (Date.now() < stop) {
        try {
          const ws = await connect(url);
          for (let m = 0; m < k; m++) {
            const text = `${w}:${cycles}:${m}`;
            const echo = new Promise((resolve) => ws.once('message', resolve));
            ws.send(text);
            if (String(await echo) !== text) throw new Error('wrong echo');
          }
          ws.close(1000);
          const info = await ws.closed;
          if (!info.wasClean) throw new Error(`unclean close ${info.code}`);
          cycles++;
        } catch (error) {
          errors++;
          if (errors <= 3) console.error(`churn: ${error.message}`);
          await sleep(50);
        }
      }
    }),
  );
  clearInterval(sampler);
  await sleep(1000); // the server's last sockets go away
  gc();
  const after = {
    serverRss: treeRss(pid),
    clientHeap: process.memoryUsage().heapUsed,
    clientRss: process.memoryUsage.rss(),
  };
  baseline ??= after;
  const result = {
    seconds,
    workers,
    cycles,
    connectionsPerSecond: Math.round(cycles / seconds),
    errors,
    serverRssMiB: {
      afterWarmup: mib(baseline.serverRss),
      peak: mib(Math.max(...samples.map((s) => s.serverRss), after.serverRss)),
      end: mib(after.serverRss),
    },
    clientHeapMiB: { afterWarmup: mib(baseline.clientHeap), end: mib(after.clientHeap) },
    clientRssMiB: { afterWarmup: mib(baseline.clientRss), end: mib(after.clientRss) },
  };
  const flat = num('flat-mib') * 2 ** 20;
  if (errors > 0) fail(`churn: ${errors} failed cycles`);
  if (after.serverRss - baseline.serverRss > flat)
    fail(`churn: server RSS grew ${mib(after.serverRss - baseline.serverRss)} MiB`);
  if (after.clientHeap - baseline.clientHeap > flat)
    fail(`churn: client heap grew ${mib(after.clientHeap - baseline.clientHeap)} MiB`);
  return result;
}

async function backpressurePhase(url, pid, slowReader) {
  const b = num('backpressure-connections');
  const size = num('backpressure-size');
  // A slow reader must not leave more than the echo server's maxBufferedAmount (64 MiB) unread, or
  // the server is right to drop it (see stalledPhase): 32 MiB per connection at most.
  const m = slowReader
    ? Math.min(num('backpressure-messages'), Math.floor((32 * 2 ** 20) / size))
    : num('backpressure-messages');
  const t0 = Date.now();
  let peakRss = treeRss(pid);
  let bufferedSends = 0;
  const results = await Promise.all(
    Array.from({ length: b }, async (_, c) => {
      const ws = await connect(url, { highWaterMark: 1024 * 1024 });
      const got = [];
      let bad = 0;
      let progress = null;
      const done = new Promise((resolve) => {
        ws.on('message', (data) => {
          progress?.();
          const seq = new DataView(data.buffer, data.byteOffset).getUint32(0);
          if (data.length !== size || data[size - 1] !== (seq + c) % 251) bad++;
          got.push(seq);
          if (got.length === m) resolve();
        });
        ws.on('close', resolve);
      });
      if (slowReader) {
        ws.pause();
        setTimeout(() => ws.resume(), 2000);
      }
      for (let i = 0; i < m; i++) {
        // The echo servers send without waiting for drain (their bound is maxBufferedAmount, 64 MiB):
        // keep at most 16 MiB in flight, as an application talking to such a peer must.
        while ((i - got.length) * size > 16 * 2 ** 20 && ws.readyState === 'open')
          await new Promise((resolve) => (progress = resolve));
        const msg = new Uint8Array(size);
        new DataView(msg.buffer).setUint32(0, i);
        msg[size - 1] = (i + c) % 251;
        if (ws.send(msg) === 'buffered') {
          bufferedSends++;
          await ws.drain();
        }
        if (i % 64 === 0) peakRss = Math.max(peakRss, treeRss(pid));
      }
      await done;
      const inOrder = got.every((seq, i) => seq === i);
      ws.close(1000);
      const info = await ws.closed;
      return { received: got.length, inOrder, bad, error: info.error };
    }),
  );
  const seconds = (Date.now() - t0) / 1000;
  for (const [c, r] of results.entries()) {
    if (r.received !== m || !r.inOrder || r.bad > 0)
      fail(
        `backpressure${slowReader ? ' (slow reader)' : ''}: connection ${c} got ${r.received}/${m}, in order: ${r.inOrder}, bad: ${r.bad}, error: ${r.error}`,
      );
  }
  return {
    slowReader,
    connections: b,
    messagesEach: m,
    bytesEach: size,
    sentEach: m,
    receivedEach: results.map((r) => r.received),
    inOrder: results.every((r) => r.inOrder),
    sendReturnedBuffered: bufferedSends,
    seconds: Number(seconds.toFixed(1)),
    mibPerSecond: Math.round((b * m * size * 2) / 2 ** 20 / seconds),
    serverPeakRssMiB: mib(peakRss),
  };
}

/**
 * A reader that never reads: the echo server's send buffer for it grows until maxBufferedAmount
 * (64 MiB by default), then the server must drop that connection (SEND_BUFFER_OVERFLOW) instead
 * of holding more. We see the reset; the server's RSS stays bounded.
 */
async function stalledPhase(url, pid) {
  const size = num('backpressure-size');
  const before = treeRss(pid);
  let peakRss = before;
  const ws = await connect(url, { highWaterMark: 1024 * 1024 });
  ws.on('error', () => {});
  ws.pause();
  let sent = 0;
  const limit = Math.ceil((256 * 2 ** 20) / size); // give up after 256 MiB: the server should have dropped us long before
  const t0 = Date.now();
  while (ws.readyState === 'open' && sent < limit) {
    ws.send(new Uint8Array(size));
    sent++;
    if (ws.bufferedAmount > 1024 * 1024) await ws.drain();
    // Yield now and then: a drop shows as a socket event, and writes to a dead socket cost nothing.
    if (sent % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
    if (sent % 32 === 0) peakRss = Math.max(peakRss, treeRss(pid));
  }
  const info = await ws.closed;
  const result = {
    sentMiB: mib(sent * size),
    droppedByServer: ws.readyState === 'closed' && sent < limit,
    clientSaw: { code: info.code, error: info.error },
    seconds: Number(((Date.now() - t0) / 1000).toFixed(1)),
    serverRssBeforeMiB: mib(before),
    serverPeakRssMiB: mib(peakRss),
  };
  if (!result.droppedByServer)
    fail(`stalled reader: the server kept a connection that read nothing after ${result.sentMiB} MiB`);
  return result;
}

// ---- main -------------------------------------------------------------------------------------
const report = {
  runtime: args.runtime,
  node: process.version,
  date: new Date().toISOString(),
  ulimit: softLimit,
  notes,
};
let code = 0;
try {
  const { child, url } = await startServer();
  console.log(`soak:${args.runtime}: server ${url} (pid ${child.pid}), idle RSS ${mib(treeRss(child.pid))} MiB`);
  report.serverIdleRssMiB = mib(treeRss(child.pid));
  if (phases.has('load')) report.load = await loadPhase(url, child.pid);
  if (phases.has('churn')) report.churn = await churnPhase(url, child.pid);
  if (phases.has('backpressure')) {
    report.backpressure = await backpressurePhase(url, child.pid, false);
    report.backpressureSlowReader = await backpressurePhase(url, child.pid, true);
    report.stalledReader = await stalledPhase(url, child.pid);
  }
  report.serverEndRssMiB = mib(treeRss(child.pid));
} catch (error) {
  fail(String(error?.stack ?? error));
}
report.failures = failures;
report.seconds = Math.round((Date.now() - started) / 1000);
console.log(JSON.stringify(report, null, 1));
if (args.out) appendFileSync(args.out, JSON.stringify(report) + '\n');
code = failures.length > 0 ? 1 : 0;
console.log(
  `soak:${args.runtime}: ${failures.length === 0 ? 'passed' : `${failures.length} failed`} in ${report.seconds} s`,
);
clearTimeout(deadline);
stopAll(code);
