// Fan-out across three processes through Redis, against the same subscribers on one process with
// the in-process broker, in the same run (issue 21).
//
//   pnpm run bench:fanout -- --redis [--quick] [--rounds R] [--subscribers N] [--sizes 32] [--seconds S]
//
// Starts one `redis-server` on a free port of 127.0.0.1 (no persistence, a temporary directory),
// then per round (the two in alternating order): the cluster-chat example on @ws/node alone (in-process broker), and the example
// on @ws/node, @ws/deno and @ws/bun together, each with `--redis`. The C load generator's `fanout`
// mode spreads the N subscribers round-robin over the three processes (`SUB_PORTS`) and publishes
// from one connection on the @ws/node process. Every delivery is counted: the total must be
// N × publishes (Redis pub/sub is at-most-once: `missing` is a loss; `extra` would be a duplicate,
// e.g. the publishing process getting its own message back from Redis). Everything it starts, it
// stops. All servers and redis-server share core 0, the load generator has core 1.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLoadgen, loadgenLines, startServer, stopServer } from '../e2e/run.mjs';
import { fmt, machine, median, table } from '../lib/report.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RESULTS = path.join(HERE, '../../results');
const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((f) => existsSync(f)) ?? null;
const log = (...a) => console.error('[fanout-redis]', ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

const accepting = (port) =>
  new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket.destroy() ?? true));
    socket.once('error', () => resolve(false));
  });

/** One redis-server on a free port of 127.0.0.1: `{ url, stop }`. */
async function startRedis() {
  if (REDIS_SERVER === null) throw new Error('redis-server is not installed (apt-get install -y redis-server)');
  const dir = mkdtempSync(path.join(tmpdir(), 'ws-bench-redis-'));
  const port = await freePort();
  const child = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 4000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) break;
    if (await accepting(port)) return { url: `redis://127.0.0.1:${port}`, stop };
    await sleep(25);
  }
  await stop();
  throw new Error(`redis-server did not accept connections on port ${port}`);
}

const withRedis = (targets, id, url) => {
  const target = targets.find((t) => t.id === id);
  return { ...target, argv: () => target.argv()?.concat(['--redis', url]) ?? null };
};

/** Per round: @ws/node alone (in-process broker), then node + deno + bun sharing Redis. */
/** `targets`: run.mjs's TARGETS (passed in: run.mjs imports this file, a cycle would deadlock its top-level await). */
export async function runFanoutRedis(
  targets,
  {
    quick = false,
    rounds = quick ? 1 : 3,
    subscribers = quick ? 300 : 1000,
    sizes = [32],
    seconds = quick ? 0.5 : 2,
    warmup = quick ? 0.2 : 0.5,
    latency = quick ? 0.2 : 0.5,
    window = 32,
  } = {},
) {
  const bin = buildLoadgen();
  const redis = await startRedis();
  const rows = [];
  const started = Date.now();
  try {
    const cluster = ['node', 'deno', 'bun'].map((id) => withRedis(targets, id, redis.url));
    const missing = cluster.filter((t) => t.argv() === null);
    if (missing.length > 0) throw new Error(`not installed: ${missing.map((t) => t.name).join(', ')}`);
    const single = targets.find((t) => t.id === 'node');
    for (let round = 0; round < rounds; round++) {
      for (const setup of round % 2 === 0 ? ['single', 'redis'] : ['redis', 'single']) {
        const servers = [];
        try {
          for (const target of setup === 'single' ? [single] : cluster) servers.push(await startServer(target));
          const [pub] = servers;
          const args = ['fanout', '127.0.0.1', pub.port, subscribers, `/rooms/${setup}${round}`, window, 0];
          args.push(warmup, seconds, latency, sizes.join(','), setup === 'single' ? pub.pid : 0);
          if (setup === 'redis') args.push(servers.map((s) => s.port).join(','));
          for (const line of loadgenLines(bin, args, { timeoutMs: 90_000 })) {
            rows.push({ round, setup, n: subscribers, ...line });
            if (line.error) log(`  ${setup}: ${line.error}`);
            else
              log(
                `  round ${round + 1} ${setup} N=${subscribers} ${line.size} B: ${fmt(line.deliveriesPerSec / 1000, 1)} k deliveries/s, p99 ${fmt(line.p99us / 1000)} ms, ${line.publishes + line.latencyPublishes} publishes, missing ${line.missing}, extra ${line.extra}, publisher got ${line.publisherGot} B`,
              );
          }
        } catch (error) {
          rows.push({ round, setup, error: String(error?.message ?? error).split('\n')[0] });
          log(`  ${setup}: ${error?.message ?? error}`);
        } finally {
          for (const server of servers.reverse()) await stopServer(server);
        }
      }
    }
  } finally {
    await redis.stop();
  }
  log(`${((Date.now() - started) / 1000).toFixed(0)} s`);
  return { rows, rounds, subscribers, sizes, seconds, warmup, latency, window };
}

/** Markdown: the ratio (three processes through Redis ÷ one process), then both setups' figures. */
export function summariseRedis({ rows, rounds, subscribers, sizes, seconds, warmup, latency, window }) {
  const ok = (r) => !r.error && r.deliveriesPerSec > 0;
  const label = (size) =>
    `${subscribers.toLocaleString('en-US')} × ${size < 1024 ? `${size} B` : `${size / 1024} KiB`}`;
  const ratios = [];
  const figures = [];
  for (const size of sizes) {
    const pick = (setup, round) => rows.find((r) => ok(r) && r.setup === setup && r.size === size && r.round === round);
    const rate = [];
    const p99 = [];
    for (let round = 0; round < rounds; round++) {
      const [a, b] = [pick('redis', round), pick('single', round)];
      if (a && b) rate.push(a.deliveriesPerSec / b.deliveriesPerSec), p99.push(a.p99us / b.p99us);
    }
    const show = (v) =>
      v.length === 0
        ? 'n/a'
        : `${fmt(median(v))}×${v.length > 1 ? ` (${fmt(Math.min(...v))}–${fmt(Math.max(...v))})` : ''}`;
    ratios.push([`3 processes through Redis ÷ 1 process, ${label(size)}`, show(rate), show(p99)]);
    for (const setup of ['single', 'redis']) {
      const c = rows.filter((r) => ok(r) && r.setup === setup && r.size === size);
      const failed = rows.find((r) => r.setup === setup && r.error);
      figures.push([
        setup === 'single' ? '@ws/node, in-process broker' : '@ws/node + @ws/deno + @ws/bun, Redis broker',
        label(size),
        c.length ? fmt(median(c.map((r) => r.deliveriesPerSec)) / 1000, 1) : failed ? `error: ${failed.error}` : 'n/a',
        c.length ? `${fmt(median(c.map((r) => r.p50us)) / 1000)} / ${fmt(median(c.map((r) => r.p99us)) / 1000)}` : '',
        String(c.reduce((s, r) => s + r.deliveries, 0)),
        String(c.reduce((s, r) => s + r.missing, 0)),
        String(c.reduce((s, r) => s + (r.extra ?? 0) + r.errors + r.publisherGot, 0)),
      ]);
    }
  }
  return [
    '## Fan-out across processes (Redis)',
    '',
    `One publisher, ${subscribers.toLocaleString('en-US')} subscribers: the cluster-chat example on @ws/node alone (in-process broker), against @ws/node, @ws/deno and @ws/bun sharing one redis-server, the subscribers round-robin over the three, the publisher on @ws/node. All servers and Redis on core 0, the load generator on core 1; ${rounds} round${rounds === 1 ? '' : 's'}; ${warmup} s warm-up, ${seconds} s measured (at most ${window} publishes ahead of the average subscriber), ${latency} s of one publish at a time for latency.`,
    '',
    '### Across processes',
    '',
    table(['case (subscribers × size)', 'deliveries/s (median, range)', 'p99 latency'], ratios),
    '',
    'Every delivery is counted: lost must be 0 (Redis pub/sub is at-most-once, so a loss would be reported, not retried); duplicates (more than N per publish, the publishing connection getting its own message, unexpected frames) must be 0.',
    '',
    '### Each setup',
    '',
    table(
      [
        'setup',
        'subscribers × size',
        'deliveries/s (k)',
        'latency p50 / p99 (ms)',
        'deliveries measured (all rounds)',
        'lost',
        'duplicates / unexpected',
      ],
      figures,
    ),
    '',
  ].join('\n');
}

export async function main(argv, targets) {
  const value = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const quick = argv.includes('--quick');
  const options = { quick };
  if (value('--rounds')) options.rounds = Number(value('--rounds'));
  if (value('--seconds')) options.seconds = Number(value('--seconds'));
  if (value('--subscribers')) options.subscribers = Number(value('--subscribers'));
  if (value('--sizes')) options.sizes = value('--sizes').split(',').map(Number);
  const result = await runFanoutRedis(targets, options);
  const md = summariseRedis(result);
  process.stdout.write(`${md}\n`);
  // The assertion: every publish reached every subscriber once (deliveries = N × publishes), nothing else came.
  const bad = result.rows.filter((r) => r.error || r.missing || r.extra || r.errors || r.publisherGot);
  if (bad.length > 0) {
    log(`${bad.length} run(s) with an error, a loss or a duplicate: see the table`);
    process.exitCode = 1;
  }
  if (!quick) {
    const m = machine();
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(
      path.join(RESULTS, 'fanout-redis.md'),
      `<!-- generated by \`pnpm run bench:fanout -- --redis\` on ${m.date}; do not edit -->\n# @ws fan-out across processes\n\n${m.cpu}, ${m.cores} cores, load average ${m.load} at the end; Node ${m.versions.node}, Bun ${m.versions.bun ?? '–'}, Deno ${m.versions.deno ?? '–'}.\n\n${md}`,
    );
    writeFileSync(
      path.join(RESULTS, 'fanout-redis.json'),
      `${JSON.stringify({ machine: m, rows: result.rows }, null, 1)}\n`,
    );
  }
  return result;
}
