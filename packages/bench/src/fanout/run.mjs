// Fan-out: one publisher, N subscribers (1,000 and 10,000), text messages of 32 B and 1 KiB,
// over loopback. Ours is the cluster-chat example (`ws.publish`: framed once, the same bytes to
// every subscriber) on each runtime, against the same contract on ws + bufferutil (a send loop),
// Bun.serve (its built-in ws.publish) and Deno.upgradeWebSocket (a send loop).
//
//   node packages/bench/src/fanout/run.mjs [--quick] [--rounds R] [--only node,ws,...]
//        [--subscribers 1000,10000] [--sizes 32,1024] [--seconds S] [--window W]
//   node packages/bench/src/fanout/run.mjs --redis …   three processes through Redis (redis.mjs)
//
// The subscribers and the publisher are the C load generator's (src/loadgen/loadgen.c, mode
// `fanout`: one thread, epoll, frames counted without copying), pinned to core 1, the server to
// core 0, as for the echo benchmarks. Per server, round and N, one load generator run: every
// subscriber joins the room `/rooms/…`, then per size the publisher sends as fast as the server
// delivers (at most W publishes beyond what the average subscriber has received), and the run
// reports deliveries per second over all subscribers, the server's CPU time over the window,
// and the p50/p99 delivery latency of one publish at a time. Servers are interleaved, in a
// different order each round; ratios are ours ÷ the peer within a round, medians over rounds.
// Plus a check that a permessage-deflate publish to 1,000 subscribers (no context takeover)
// costs one compression (counted in-process, @ws/node).
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVERS as E2E_SERVERS, buildLoadgen, loadgenLines, startServer, stopServer } from '../e2e/run.mjs';
import { fmt, machine, median, spread, table } from '../lib/report.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../../..');
const RESULTS = path.join(HERE, '../../results');
const BUN = E2E_SERVERS.find((s) => s.id === 'bun-builtin').argv()?.[0] ?? null;
const DENO = E2E_SERVERS.find((s) => s.id === 'deno-builtin').argv()?.[0] ?? null;
const CHAT = path.join(ROOT, 'examples/cluster-chat');
const log = (...a) => console.error('[fanout]', ...a);

export const TARGETS = [
  {
    id: 'node',
    name: '@ws/node publish',
    kind: 'ours',
    argv: () => [process.execPath, path.join(CHAT, 'main-node.mjs')],
  },
  {
    id: 'ws',
    name: 'ws + bufferutil, send loop',
    kind: 'peer',
    argv: () => [process.execPath, path.join(HERE, 'servers/ws-loop.cjs')],
  },
  {
    id: 'bun',
    name: '@ws/bun publish',
    kind: 'ours',
    argv: () => (BUN ? [BUN, '--conditions', 'source', path.join(CHAT, 'main-bun.ts')] : null),
  },
  {
    id: 'bun-builtin',
    name: 'Bun.serve publish',
    kind: 'peer',
    argv: () => (BUN ? [BUN, path.join(HERE, 'servers/bun-publish.ts')] : null),
  },
  {
    id: 'deno',
    name: '@ws/deno publish',
    kind: 'ours',
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
    kind: 'peer',
    argv: () => (DENO ? [DENO, 'run', '--allow-net', path.join(HERE, 'servers/deno-loop.ts')] : null),
  },
];

/** Ours against the peer, and the issue's goal for the ratio (null: reported, no goal). */
export const PAIRS = [
  { ours: 'node', peer: 'ws', goal: 3 },
  { ours: 'bun', peer: 'bun-builtin', goal: 0.8 },
  { ours: 'deno', peer: 'deno-builtin', goal: null },
];

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

/** Ours and peers, every round in a different order; one load generator run per server, round and N. */
export async function runFanout({
  quick = false,
  rounds = quick ? 1 : 3,
  only = null,
  subscribers = quick ? [200] : [1000, 10_000],
  sizes = [32, 1024],
  window = null,
  seconds = quick ? 0.5 : 1,
  warmup = quick ? 0.2 : 0.5,
  latency = quick ? 0.2 : 0.3,
  warm = true,
} = {}) {
  const bin = buildLoadgen();
  // Publishes in flight: 32, fewer for many subscribers (about 40,000 deliveries in flight at
  // most), so that what is in flight when a measurement ends drains in seconds on the slowest server.
  const windowFor = (n) => window ?? Math.min(32, Math.max(4, Math.round(40_000 / n)));
  const targets = TARGETS.filter((t) => only === null || only.includes(t.id));
  const available = targets.filter((t) => t.argv() !== null);
  for (const t of targets) if (t.argv() === null) log(`skipping ${t.name}: its runtime is not installed`);
  // Build and cache what our servers need outside the measured part (ensure-built, Deno's cache).
  for (const t of warm ? available.filter((x) => x.kind === 'ours') : []) {
    log(`warming ${t.name} up (build/cache)…`);
    await stopServer(await startServer(t));
  }
  const rows = [];
  const started = Date.now();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? available : [...available].reverse();
    for (const target of order) {
      let server = null;
      try {
        server = await startServer(target);
        for (const n of subscribers) {
          const room = `/rooms/r${round}-${n}`;
          const args = ['fanout', '127.0.0.1', server.port, n, room, windowFor(n), 0, warmup, seconds, latency];
          const lines = loadgenLines(bin, [...args, sizes.join(','), server.pid], { timeoutMs: 180_000 });
          for (const line of lines) {
            rows.push({ round, target: target.id, n, ...line });
            if (line.error) log(`  ${target.id} N=${n}: ${line.error}`);
            else
              log(
                `  round ${round + 1} ${target.id} N=${n} ${line.size} B: ${fmt(line.deliveriesPerSec / 1000, 1)} k deliveries/s, server CPU ${fmt(line.serverCpu)}, p99 ${fmt(line.p99us / 1000)} ms${line.missing ? `, ${line.missing} missing` : ''}`,
              );
          }
        }
      } catch (error) {
        rows.push({ round, target: target.id, error: String(error?.message ?? error).split('\n')[0] });
        log(`  ${target.id}: ${error?.message ?? error}`);
      } finally {
        if (server !== null) await stopServer(server);
      }
    }
  }
  log(`${((Date.now() - started) / 1000).toFixed(0)} s`);
  return { rows, rounds, subscribers, sizes, windows: subscribers.map(windowFor), seconds, warmup, latency, available };
}

const perCpu = (r) => (r.serverCpu > 0 ? r.deliveriesPerSec / r.serverCpu : NaN);

/** Markdown: the targets (ratios per round, medians), then each server's figures. */
export function summarise({ rows, rounds, subscribers, sizes, windows, seconds, warmup, latency, available }, deflate) {
  const ok = (r) => !r.error && r.deliveriesPerSec > 0;
  const cells = (target, n, size) => rows.filter((r) => r.target === target && r.n === n && r.size === size && ok(r));
  /** Per round, f(ours' row, the peer's row); rounds missing either are left out. */
  const perRound = (a, b, n, size, f) => {
    const out = [];
    for (let round = 0; round < rounds; round++) {
      const x = cells(a, n, size).find((r) => r.round === round);
      const y = cells(b, n, size).find((r) => r.round === round);
      const v = x && y ? f(x, y) : NaN;
      if (Number.isFinite(v)) out.push(v);
    }
    return out;
  };
  const show = (values) =>
    values.length === 0
      ? 'n/a'
      : `${fmt(median(values))}×${values.length > 1 ? ` (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})` : ''}`;
  const name = (id) => TARGETS.find((t) => t.id === id).name;
  const has = (id) => available.some((t) => t.id === id);
  const label = (n, size) => `${n.toLocaleString('en-US')} × ${size < 1024 ? `${size} B` : `${size / 1024} KiB`}`;
  const targets = [];
  for (const pair of PAIRS) {
    if (!has(pair.ours) || !has(pair.peer)) continue;
    for (const n of subscribers) {
      for (const size of sizes) {
        const rate = perRound(pair.ours, pair.peer, n, size, (x, y) => x.deliveriesPerSec / y.deliveriesPerSec);
        const cpu = perRound(pair.ours, pair.peer, n, size, (x, y) => perCpu(x) / perCpu(y));
        const p99 = perRound(pair.ours, pair.peer, n, size, (x, y) => x.p99us / y.p99us);
        const verdict = (values) =>
          pair.goal === null || values.length === 0 ? '' : median(values) >= pair.goal ? 'met' : '**missed**';
        targets.push([
          `${name(pair.ours)} ÷ ${name(pair.peer)}, ${label(n, size)}`,
          show(rate),
          show(cpu),
          pair.goal === null ? '–' : `≥ ${pair.goal}×`,
          [verdict(rate), verdict(cpu)].filter(Boolean).join(' / '),
          show(p99),
        ]);
      }
    }
  }
  const figures = [];
  for (const target of available) {
    for (const n of subscribers) {
      for (const size of sizes) {
        const c = cells(target.id, n, size);
        if (c.length === 0) {
          const failed = rows.find((r) => r.target === target.id && (r.n === n || r.n === undefined) && r.error);
          figures.push([
            target.kind === 'ours' ? `**${target.name}**` : target.name,
            label(n, size),
            failed ? `error: ${failed.error}` : 'n/a',
            '',
            '',
            '',
            '',
          ]);
          continue;
        }
        const rate = c.map((r) => r.deliveriesPerSec);
        const sp = spread(rate);
        figures.push([
          target.kind === 'ours' ? `**${target.name}**` : target.name,
          label(n, size),
          `${fmt(median(rate) / 1000, 1)}${Number.isFinite(sp) ? ` <sub>±${Math.round(sp / 2)}%</sub>` : ''}`,
          fmt(median(c.map(perCpu)) / 1000, 1),
          fmt(median(c.map((r) => r.serverCpu))),
          `${fmt(median(c.map((r) => r.p50us)) / 1000)} / ${fmt(median(c.map((r) => r.p99us)) / 1000)}`,
          String(c.reduce((sum, r) => sum + (r.missing ?? 0) + (r.errors ?? 0), 0)),
        ]);
      }
    }
  }
  const lg = Math.max(...rows.filter(ok).map((r) => r.loadgenCpu));
  const parts = [
    '## Fan-out: one publisher, N subscribers',
    '',
    `Server pinned to core 0 (\`taskset\`), the C load generator (subscribers and publisher) to core 1; ${rounds} round${rounds === 1 ? '' : 's'}, the servers in a different order each round. Per size: ${warmup} s of warm-up, ${seconds} s measured with the publisher at most ${subscribers.map((n, i) => `${windows[i]} (N = ${n.toLocaleString('en-US')})`).join(', ')} publishes ahead of the average subscriber (so about that many publishes arrive in each read of the server), then ${latency} s of one publish at a time for latency. Ratios are ours ÷ the peer within a round; the median over rounds, the range in brackets.`,
    '',
    '### Targets',
    '',
    table(
      [
        'target (subscribers × message size)',
        'deliveries/s',
        'deliveries per server CPU-second',
        'goal',
        '',
        'p99 latency (ours ÷ peer)',
      ],
      targets,
    ),
    '',
    deflate
      ? `permessage-deflate (server_no_context_takeover), one \`server.publish\` of 1 KiB of JSON to ${deflate.subscribers.toLocaleString('en-US')} subscribers (@ws/node): **${deflate.compressions} compression${deflate.compressions === 1 ? '' : 's'}**, written to ${deflate.written}, ${deflate.compressedFrames} compressed frames received (goal: 1).\n`
      : '',
    '### Each server',
    '',
    'Deliveries: messages received per second over all subscribers (thousands); per server CPU-second: the same divided by the CPU time the server process used (all threads; steadier than rates when other jobs share the machine). Latency: from the publish leaving the load generator to each subscriber having it, one publish at a time. Lost: messages never delivered plus unexpected frames (must be 0).',
    '',
    table(
      [
        'server',
        'subscribers × size',
        'deliveries/s (k)',
        'per server CPU-s (k)',
        'server CPU share',
        'latency p50 / p99 (ms)',
        'lost',
      ],
      figures,
    ),
    '',
    `The load generator's highest CPU share in any run: ${fmt(lg)} (1.00 = a whole core). A server CPU share well below 1.00 means other jobs on the machine took the rest of core 0: compare the per CPU-second figures then.`,
    '',
  ];
  return { md: parts.join('\n'), targets };
}

export async function main(argv) {
  if (argv.includes('--redis')) return (await import('./redis.mjs')).main(argv, TARGETS);
  const value = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const list = (name) => value(name)?.split(',');
  const quick = argv.includes('--quick');
  const options = { quick };
  if (value('--rounds')) options.rounds = Number(value('--rounds'));
  if (value('--seconds')) options.seconds = Number(value('--seconds'));
  if (value('--window')) options.window = Number(value('--window'));
  if (list('--only')) options.only = list('--only');
  if (list('--subscribers')) options.subscribers = list('--subscribers').map(Number);
  if (list('--sizes')) options.sizes = list('--sizes').map(Number);
  const deflate = await deflateOnce(quick ? 200 : 1000);
  log(
    `deflate publish to ${deflate.subscribers}: ${deflate.compressions} compression(s), ${deflate.compressedFrames} compressed frames received`,
  );
  const result = await runFanout(options);
  const { md } = summarise(result, deflate);
  process.stdout.write(`${md}\n`);
  if (!quick) {
    const m = machine();
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(
      path.join(RESULTS, 'fanout.md'),
      `<!-- generated by \`pnpm run bench:fanout\` on ${m.date}; do not edit -->\n# @ws fan-out benchmarks\n\n${m.cpu}, ${m.cores} cores, load average ${m.load} at the end; Node ${m.versions.node}, Bun ${m.versions.bun ?? '–'}, Deno ${m.versions.deno ?? '–'}.\n\n${md}`,
    );
    writeFileSync(
      path.join(RESULTS, 'fanout.json'),
      `${JSON.stringify({ machine: m, deflate, rows: result.rows }, null, 1)}\n`,
    );
  }
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.env.WS_ROOT ??= ROOT;
  await main(process.argv.slice(2));
}
