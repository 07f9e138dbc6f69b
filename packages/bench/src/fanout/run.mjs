// Fan-out: one publisher, N subscribers (1,000 and 10,000), text messages of 32 B and 1 KiB,
// over loopback. Ours is the cluster-chat example (`ws.publish`: framed once, the same bytes to
// every subscriber) on each runtime, against the same contract on ws (a send loop), Bun.serve
// (its built-in ws.publish) and Deno.upgradeWebSocket (a send loop). The driver (this process)
// holds every subscriber as a raw TCP socket that only counts bytes (every frame has the same
// length), so it costs the same for every server.
//
//   node packages/bench/src/fanout/run.mjs [--quick] [--only node,ws,...] [--subscribers 1000,10000]
//
// Per server and N: a warm-up; latency (20 single publishes, each awaited at every subscriber:
// p50/p99 of publish → arrival over all deliveries); throughput (a burst of K publishes: deliveries
// per second until the last arrives). Plus a check that a permessage-deflate publish to 1,000
// subscribers (no context takeover) costs one compression. The driver's own work is in every
// figure; on a 2-core machine the server is pinned to core 0 and the driver to core 1.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVERS as E2E_SERVERS } from '../e2e/run.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../../..');
const RESULTS = path.join(HERE, '../../results');
const BUN = E2E_SERVERS.find((s) => s.id === 'bun-builtin').argv()?.[0] ?? null;
const DENO = E2E_SERVERS.find((s) => s.id === 'deno-builtin').argv()?.[0] ?? null;
const TASKSET = spawnSync('taskset', ['--version']).status === 0;
const CHAT = path.join(ROOT, 'examples/cluster-chat');

export const TARGETS = [
  {
    id: 'node',
    name: '@ws/node server.publish',
    peer: 'ws',
    argv: () => [process.execPath, path.join(CHAT, 'main-node.mjs')],
  },
  { id: 'ws', name: 'ws send loop', argv: () => [process.execPath, path.join(HERE, 'servers/ws-loop.cjs')] },
  {
    id: 'bun',
    name: '@ws/bun server.publish',
    peer: 'bun-builtin',
    argv: () => (BUN ? [BUN, '--conditions', 'source', path.join(CHAT, 'main-bun.ts')] : null),
  },
  {
    id: 'bun-builtin',
    name: 'Bun.serve publish',
    argv: () => (BUN ? [BUN, path.join(HERE, 'servers/bun-publish.ts')] : null),
  },
  {
    id: 'deno',
    name: '@ws/deno server.publish',
    peer: 'deno-builtin',
    argv: () =>
      DENO
        ? [
            DENO,
            'run',
            '--allow-net',
            '--allow-env',
            '--allow-read',
            '--allow-sys',
            '--config',
            path.join(CHAT, 'deno.json'),
            path.join(CHAT, 'main-deno.ts'),
          ]
        : null,
  },
  {
    id: 'deno-builtin',
    name: 'Deno built-in, send loop',
    argv: () => (DENO ? [DENO, 'run', '--allow-net', path.join(HERE, 'servers/deno-loop.ts')] : null),
  },
];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => Number(process.hrtime.bigint()) / 1e6;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startServer(target) {
  const argv = target.argv();
  if (argv === null) return null;
  const port = await freePort();
  const full = TASKSET ? ['taskset', '-c', '0', ...argv] : argv;
  const child = spawn(full[0], [...full.slice(1), '--port', String(port)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const deadline = Date.now() + 180_000;
  while (!/listening/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${target.id} did not start: ${out.slice(-500)}`);
    }
    await sleep(50);
  }
  return {
    port,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

const upgrade = (room, extensions = '') =>
  `GET /rooms/${room} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extensions}\r\n`;

/**
 * A raw subscriber: after the 101, counts bytes; every `frame.length` bytes is one message
 * (`onMessage(firstByte)`), or hands the first frame's bytes to `onBytes` when given.
 */
function rawClient(port, room, state, extensions = '') {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    let head = '';
    let open = false;
    let count = 0;
    socket.on('error', (error) => (open ? undefined : reject(error)));
    socket.on('data', (chunk) => {
      let data = chunk;
      if (!open) {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`no 101: ${head.slice(0, 80)}`));
        open = true;
        data = chunk.subarray(chunk.length - (head.length - end - 4));
        resolve(socket);
        if (data.length === 0) return;
      }
      if (state.firstBytes !== undefined && count === 0 && data.length > 0) state.firstBytes.push(data[0]);
      count += data.length;
      while (count >= state.frameLength) {
        count -= state.frameLength;
        state.onMessage();
      }
    });
    socket.write(upgrade(room, extensions));
  });
}

/** A client text frame (mask key 0: the payload goes as is). */
function textFrame(payload) {
  const n = payload.length;
  const head =
    n < 126 ? Buffer.from([0x81, 0x80 | n, 0, 0, 0, 0]) : Buffer.from([0x81, 0x80 | 126, n >> 8, n & 0xff, 0, 0, 0, 0]);
  return Buffer.concat([head, payload]);
}

async function connectAll(port, room, n, state, extensions) {
  const sockets = [];
  for (let i = 0; i < n; i += 250) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 250); j++) batch.push(rawClient(port, room, state, extensions));
    sockets.push(...(await Promise.all(batch)));
  }
  return sockets;
}

async function waitFor(condition, what, ms) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: timed out after ${ms} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function percentile(sorted, p) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/** One server, N subscribers, one size: latency and throughput. */
async function measure(port, n, size, options) {
  const serverFrame = (size < 126 ? 2 : 4) + size;
  let received = 0;
  let latencies = null;
  let t0 = 0;
  const state = {
    frameLength: serverFrame,
    onMessage: () => {
      received++;
      if (latencies !== null) latencies.push(now() - t0);
    },
  };
  const room = `r${n}-${size}-${Math.random().toString(36).slice(2)}`;
  const subscribers = await connectAll(port, room, n, state);
  const publisher = await rawClient(port, room, { frameLength: Infinity, onMessage: () => {} });
  const frame = textFrame(Buffer.alloc(size, 0x61));
  try {
    // Warm up (and be sure every subscriber has joined the room).
    for (let round = 0; round < 5; round++) {
      const target = received + n;
      publisher.write(frame);
      await waitFor(() => received >= target, 'warm-up', 60_000);
    }
    // Latency: single publishes, each complete before the next.
    latencies = [];
    for (let round = 0; round < options.latencyRounds; round++) {
      const target = received + n;
      t0 = now();
      publisher.write(frame);
      await waitFor(() => received >= target, 'latency round', 60_000);
    }
    const sorted = latencies.sort((a, b) => a - b);
    latencies = null;
    // Throughput: a burst of K publishes.
    const k = Math.max(5, Math.round((size <= 32 ? options.deliveries32 : options.deliveries1k) / n));
    const target = received + n * k;
    const burst = Buffer.concat(Array.from({ length: k }, () => frame));
    const start = now();
    publisher.write(burst);
    await waitFor(() => received >= target, 'burst', 120_000);
    const seconds = (now() - start) / 1000;
    return {
      deliveriesPerSecond: (n * k) / seconds,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      publishes: k,
    };
  } finally {
    for (const socket of [...subscribers, publisher]) socket.destroy();
    await sleep(200);
  }
}

/** A permessage-deflate publish to 1,000 subscribers (server_no_context_takeover): one compression. */
export async function deflateOnce(n = 1000) {
  const { ensureBuilt } = await import('../../../node/bin/ensure-built.mjs');
  await ensureBuilt();
  const { createServer, zlibBackend, permessageDeflate } = await import('@ws/node');
  const inner = zlibBackend ?? (await import('@ws/codec/pako')).pakoBackend;
  let compressions = 0;
  const backend = {
    name: 'counting',
    createInflater: (bits) => inner.createInflater(bits),
    createDeflater: (options) => {
      const deflater = inner.createDeflater(options);
      return {
        compress: (input) => {
          compressions++;
          return deflater.compress(input);
        },
        reset: () => deflater.reset(),
        dispose: () => deflater.dispose(),
      };
    },
  };
  const server = createServer({ extensions: [permessageDeflate({ serverNoContextTakeover: true, backend })] }, (ws) =>
    ws.subscribe('t'),
  );
  const { port } = await server.listen(0, '127.0.0.1');
  const state = { frameLength: Infinity, firstBytes: [], onMessage: () => {} };
  const sockets = await connectAll(port, 'd', n, state, 'Sec-WebSocket-Extensions: permessage-deflate\r\n');
  try {
    await waitFor(() => server.subscriberCount('t') === n, 'subscribed', 30_000);
    const before = compressions;
    const written = server.publish('t', JSON.stringify({ text: 'x'.repeat(1000) }), { compress: true });
    await waitFor(() => state.firstBytes.length === n, 'deflate publish delivered', 30_000);
    const compressed = state.firstBytes.filter((b) => b === 0xc1).length; // FIN + RSV1 + text
    return { subscribers: n, written, compressions: compressions - before, compressedFrames: compressed };
  } finally {
    for (const socket of sockets) socket.destroy();
    await server.close();
  }
}

export async function runFanout({
  only = null,
  subscribers = [1000, 10_000],
  sizes = [32, 1024],
  latencyRounds = 20,
  deliveries32 = 400_000,
  deliveries1k = 100_000,
} = {}) {
  if (TASKSET) spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
  const rows = [];
  for (const target of TARGETS) {
    if (only !== null && !only.includes(target.id)) continue;
    for (const n of subscribers) {
      let server = null;
      try {
        server = await startServer(target);
        if (server === null) {
          rows.push({ target: target.id, n, error: 'not installed' });
          continue;
        }
        for (const size of sizes) {
          const result = await measure(server.port, n, size, { latencyRounds, deliveries32, deliveries1k });
          rows.push({ target: target.id, n, size, ...result });
          console.error(
            `  ${target.id} N=${n} ${size} B: ${Math.round(result.deliveriesPerSecond).toLocaleString('en')} deliveries/s, p99 ${result.p99.toFixed(1)} ms`,
          );
        }
      } catch (error) {
        rows.push({ target: target.id, n, error: String(error?.message ?? error) });
        console.error(`  ${target.id} N=${n}: ${error?.message ?? error}`);
      } finally {
        await server?.stop();
      }
    }
  }
  return rows;
}

function report(rows, deflate) {
  const lines = [
    '<!-- generated by packages/bench/src/fanout/run.mjs; do not edit -->',
    '# Fan-out: one publisher, N subscribers',
    '',
  ];
  lines.push(
    `Run ${new Date().toISOString()} on ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)} at the end; one run, no repetition (ratios move with machine load).`,
    '',
  );
  lines.push(
    '| server | N | size | deliveries/s | p50 ms | p99 ms | vs peer (deliveries/s) | vs peer (p99, ours ÷ theirs) |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const row of rows) {
    if (row.error) {
      lines.push(`| ${row.target} | ${row.n} | | error: ${row.error} | | | | |`);
      continue;
    }
    const target = TARGETS.find((t) => t.id === row.target);
    const peer = target.peer
      ? rows.find((r) => r.target === target.peer && r.n === row.n && r.size === row.size && !r.error)
      : null;
    const ratio = peer ? `${(row.deliveriesPerSecond / peer.deliveriesPerSecond).toFixed(2)}×` : '';
    const p99 = peer ? `${(row.p99 / peer.p99).toFixed(2)}×` : '';
    lines.push(
      `| ${target.name} | ${row.n} | ${row.size} B | ${Math.round(row.deliveriesPerSecond).toLocaleString('en')} | ${row.p50.toFixed(1)} | ${row.p99.toFixed(1)} | ${ratio} | ${p99} |`,
    );
  }
  if (deflate) {
    lines.push(
      '',
      `permessage-deflate (server_no_context_takeover), one \`server.publish\` of 1 KiB to ${deflate.subscribers} subscribers: **${deflate.compressions} compression(s)**, written to ${deflate.written}, ${deflate.compressedFrames} compressed frames received.`,
    );
  }
  return lines.join('\n') + '\n';
}

export async function main(argv) {
  const value = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const quick = argv.includes('--quick');
  const only = value('--only')?.split(',') ?? null;
  const subscribers = value('--subscribers')?.split(',').map(Number) ?? (quick ? [200] : [1000, 10_000]);
  const deflate = await deflateOnce(quick ? 200 : 1000);
  console.error(
    `deflate publish to ${deflate.subscribers}: ${deflate.compressions} compression(s), ${deflate.compressedFrames} compressed frames received`,
  );
  const rows = await runFanout({
    only,
    subscribers,
    latencyRounds: quick ? 3 : 20,
    deliveries32: quick ? 2000 : 400_000,
    deliveries1k: quick ? 1000 : 100_000,
  });
  const md = report(rows, deflate);
  process.stdout.write(md);
  if (!quick) {
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(path.join(RESULTS, 'fanout.md'), md);
    writeFileSync(path.join(RESULTS, 'fanout.json'), JSON.stringify({ rows, deflate }, null, 2));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
