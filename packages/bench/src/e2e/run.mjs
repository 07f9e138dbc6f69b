// End-to-end benchmarks: echo servers over loopback driven by the C load generator
// (src/loadgen/loadgen.c, built here with the machine's cc). Server pinned to core 0, load
// generator to core 1; servers interleaved in every round; medians over rounds and the spread.
// Writes results/e2e.{json,md,svg} (or only prints, with --quick).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH, OUT, ROOT } from '../lib/build.mjs';
import { barChart, fmt, fmtSize, machine, median, spread, table } from '../lib/report.mjs';
import { INPROC_MESSAGES } from './inproc.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const rootRequire = createRequire(path.join(ROOT, 'package.json'));
const benchRequire = createRequire(path.join(BENCH, 'package.json'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error('[e2e]', ...a);

// ---- the load generator ------------------------------------------------------------------
export function buildLoadgen() {
  const src = path.join(BENCH, 'src/loadgen/loadgen.c');
  const bin = path.join(OUT, 'loadgen');
  mkdirSync(OUT, { recursive: true });
  if (existsSync(bin) && statSync(bin).mtimeMs >= statSync(src).mtimeMs) return bin;
  const r = spawnSync('cc', ['-O2', '-o', bin, src], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building the load generator with cc failed');
  return bin;
}

// ---- servers -------------------------------------------------------------------------------
function binaryOf(pkg, rel) {
  try {
    const file = path.join(path.dirname(rootRequire.resolve(`${pkg}/package.json`)), rel);
    return existsSync(file) ? file : null;
  } catch {
    return null;
  }
}
const BUN = binaryOf('bun', 'bin/bun.exe') ?? binaryOf('bun', 'bin/bun');
const DENO = binaryOf('deno', 'deno');
const ROOT_SCRIPTS = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts ?? {};

/**
 * The `echo:<runtime>` script of the checkout at `root` (this one by default) as argv, run directly,
 * not through pnpm, so the pid is the server's; another checkout's files are named by full path.
 */
function echoScript(runtime, root = ROOT) {
  const scripts =
    root === ROOT ? ROOT_SCRIPTS : (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts ?? {});
  const script = scripts[`echo:${runtime}`];
  if (!script) return null;
  const argv = script.trim().split(/\s+/);
  if (argv[0] === 'node') argv[0] = process.execPath;
  else if (argv[0] === 'node_modules/.bin/bun' || argv[0] === 'bun') argv[0] = BUN;
  else if (argv[0] === 'node_modules/.bin/deno' || argv[0] === 'deno') argv[0] = DENO;
  // Every file it names must exist (an adapter still being written has no echo yet).
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (!a.includes('/') || !/\.(m?js|ts)$/.test(a)) continue;
    if (!existsSync(path.join(root, a))) return null;
    if (root !== ROOT) argv[i] = path.join(root, a);
  }
  return argv;
}

const wsNoAddons = { WS_NO_BUFFER_UTIL: '1', WS_NO_UTF_8_VALIDATE: '1' };
export const SERVERS = [
  { id: 'node', name: '@ws/node', kind: 'ours', runtime: 'node', argv: () => echoScript('node') },
  {
    id: 'ws',
    name: 'ws + bufferutil',
    kind: 'peer',
    runtime: 'node',
    argv: () => [process.execPath, path.join(HERE, 'servers/ws-echo.cjs')],
  },
  {
    id: 'ws-noaddon',
    name: 'ws, no addon',
    kind: 'peer',
    runtime: 'node',
    env: wsNoAddons,
    argv: () => [process.execPath, path.join(HERE, 'servers/ws-echo.cjs')],
  },
  { id: 'bun', name: '@ws/bun', kind: 'ours', runtime: 'bun', argv: () => (BUN ? echoScript('bun') : null) },
  {
    id: 'bun-builtin',
    name: 'Bun.serve',
    kind: 'peer',
    runtime: 'bun',
    argv: () => (BUN ? [BUN, path.join(HERE, 'servers/bun-echo.ts')] : null),
  },
  { id: 'deno', name: '@ws/deno', kind: 'ours', runtime: 'deno', argv: () => (DENO ? echoScript('deno') : null) },
  {
    id: 'deno-builtin',
    name: 'Deno.upgradeWebSocket',
    kind: 'peer',
    runtime: 'deno',
    argv: () => (DENO ? [DENO, 'run', '--allow-net', path.join(HERE, 'servers/deno-echo.ts')] : null),
  },
  // Ours from another checkout (BENCH_ALT_ROOT, e.g. a clone of main before a change), for
  // before/after pairs in one run: that checkout's own echo scripts. Run only when named:
  // --only bun,bun-alt,bun-builtin (node-alt, deno-alt likewise).
  ...['node', 'bun', 'deno'].map((runtime) => ({
    id: `${runtime}-alt`,
    name: `@ws/${runtime} (BENCH_ALT_ROOT)`,
    kind: 'ours',
    runtime,
    optIn: true,
    argv: () => {
      const alt = process.env.BENCH_ALT_ROOT;
      return alt ? echoScript(runtime, alt) : null;
    },
  })),
  {
    // Not a WebSocket server: the floor for any JavaScript codec over Bun.listen (a fixed 101, each
    // small frame unmasked and echoed inline). Run only when named: --only bun,bun-builtin,bun-floor.
    id: 'bun-floor',
    name: 'Bun.listen floor (no codec)',
    kind: 'peer',
    runtime: 'bun',
    optIn: true,
    argv: () => (BUN ? [BUN, path.join(HERE, 'servers/bun-floor-echo.ts')] : null),
  },
];

function children(pid) {
  const out = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

/** The process that serves: the deepest descendant (wrappers such as run.mjs spawn the runtime). */
function serverPid(pid) {
  for (;;) {
    const kids = children(pid);
    if (kids.length === 0) return pid;
    pid = kids[kids.length - 1];
  }
}

function rssKiB(pid) {
  let total = 0;
  for (const p of [pid, ...children(pid)]) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      total += m ? Number(m[1]) : 0;
    } catch {
      // gone
    }
  }
  return total;
}

let nextPort = 9400 + Math.floor(Math.random() * 200);

export async function startServer(server, { nice = 0 } = {}) {
  const port = nextPort++;
  const argv = server.argv();
  const prefix = ['taskset', '-c', '0', ...(nice ? ['nice', '-n', String(nice)] : [])];
  const child = spawn(prefix[0], [...prefix.slice(1), ...argv, '--port', String(port)], {
    cwd: server.cwd ?? ROOT,
    env: { ...process.env, ...(server.env ?? {}), NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${server.name} did not print "listening" within 60 s:\n${output}`)),
      60_000,
    );
    const onData = (d) => {
      output += d;
      if (/listening/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${server.name} exited (${code}) before listening:\n${output}`));
    });
  });
  child.removeAllListeners('exit');
  return { child, port, pid: serverPid(child.pid) };
}

export async function stopServer({ child }) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  // Signal the whole tree (a wrapper forwards SIGTERM; be sure anyway).
  const tree = [child.pid];
  for (let i = 0; i < tree.length; i++) tree.push(...children(tree[i]));
  for (const pid of tree.reverse())
    try {
      process.kill(pid, 'SIGTERM');
    } catch {}
  const killRest = () => {
    for (const pid of tree)
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
  };
  const t = setTimeout(killRest, 4000);
  await exited;
  clearTimeout(t);
  // The wrapper can exit on SIGTERM before what it started does (a `.bin/deno` shim did, and left
  // servers running): wait up to 4 s for the rest of the tree, then kill what is left.
  for (let i = 0; i < 40 && tree.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
  killRest();
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Run the load generator on core 1: its JSON lines (one per measurement), or `[{ error }]`. */
export function loadgenLines(bin, args, { nice, timeoutMs = 120_000 } = {}) {
  const prefix = ['-c', '1', ...(nice ? ['nice', '-n', String(nice)] : []), bin];
  const r = spawnSync('taskset', [...prefix, ...args.map(String)], { encoding: 'utf8', timeout: timeoutMs });
  const lines = r.stdout?.trim() ? r.stdout.trim().split('\n') : [];
  try {
    const parsed = lines.map((line) => JSON.parse(line));
    if (r.status !== 0 && (r.status !== 1 || parsed.length === 0))
      return [{ error: (r.stderr || `exit ${r.status ?? r.signal}`).trim() }];
    return parsed;
  } catch {
    return [{ error: `unreadable load generator output: ${r.stdout.trim()}` }];
  }
}

function loadgen(bin, args, options) {
  const last = loadgenLines(bin, args, options).pop() ?? { error: 'no output' };
  return last.errors > 0 ? { error: `${last.errors} unexpected frames` } : last;
}

// ---- scenarios -----------------------------------------------------------------------------
export const ECHO = [
  { id: '1x1-32', conns: 1, inflight: 1, size: 32, label: '1 conn, 1 in flight, 32 B' },
  { id: '1x32-32', conns: 1, inflight: 32, size: 32, label: '1 conn, 32 in flight, 32 B' },
  { id: '100x1-32', conns: 100, inflight: 1, size: 32, label: '100 conns, 32 B' },
  { id: '1x1-64k', conns: 1, inflight: 1, size: 65536, label: '1 conn, 1 in flight, 64 KiB' },
  { id: '1x32-64k', conns: 1, inflight: 32, size: 65536, label: '1 conn, 32 in flight, 64 KiB' },
  { id: '100x1-64k', conns: 100, inflight: 1, size: 65536, label: '100 conns, 64 KiB' },
];

function idleConnections() {
  // Both ends live on this machine: the server and the generator each hold one descriptor per
  // connection, in separate processes, so the per-process limit applies to each.
  const want = 10_000;
  const r = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' });
  const limit = Number(r.stdout.trim()) || 1024;
  return { count: Math.min(want, limit - 200), limit };
}

async function measureMemory(bin, server, count, opts) {
  const s = await startServer(server, opts);
  try {
    // Warm the server up (code paths, pools), then take its resting size.
    loadgen(bin, ['echo', '127.0.0.1', s.port, 10, 1, 32, 0.2, 0.5, s.pid], opts);
    await sleep(1000);
    const before = rssKiB(s.pid);
    const prefix = ['-c', '1', bin];
    const hold = spawn('taskset', [...prefix, 'hold', '127.0.0.1', String(s.port), String(count)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '',
      err = '';
    hold.stdout.on('data', (d) => (out += d));
    hold.stderr.on('data', (d) => (err += d));
    const ok = await new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), 120_000);
      hold.stdout.on('data', () => {
        if (/ready/.test(out)) {
          clearTimeout(t);
          resolve(true);
        }
      });
      hold.on('exit', () => {
        clearTimeout(t);
        resolve(false);
      });
    });
    if (!ok) {
      hold.kill();
      return { error: err.trim() || 'hold failed' };
    }
    await sleep(2000);
    const after = rssKiB(s.pid);
    hold.stdin.end();
    await new Promise((r) => hold.once('exit', r));
    return { kibPerConn: (after - before) / count, before, after, count };
  } finally {
    await stopServer(s);
  }
}

export async function runE2E({
  quick = false,
  rounds = quick ? 1 : 3,
  only = null,
  nice = 0,
  memory = !quick,
  seconds = quick ? 1 : 3,
  warmup = quick ? 0.3 : 2,
  handshakes = true,
  echo: echoIds = null,
  inproc = !quick,
  warm = true,
} = {}) {
  const bin = buildLoadgen();
  const servers = SERVERS.filter((s) => (only ? only.includes(s.id) : s.optIn !== true));
  const available = [];
  const missing = [];
  for (const s of servers) (s.argv() ? available : missing).push(s);
  for (const s of missing) log(`skipping ${s.name}: no echo server for it yet`);
  // Build what the echo scripts need outside the timed part (ensure-built, Deno's cache).
  for (const s of warm ? available.filter((x) => x.kind === 'ours') : []) {
    log(`warming ${s.name} up (build/cache)…`);
    await stopServer(await startServer(s, { nice }));
  }
  const echo = echoIds
    ? ECHO.filter((e) => echoIds.includes(e.id))
    : quick
      ? ECHO.filter((e) => ['1x32-32', '100x1-32'].includes(e.id))
      : ECHO;
  const mem = idleConnections();
  const rows = [];
  const started = Date.now();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? available : [...available].reverse();
    for (const server of order) {
      log(`round ${round + 1}/${rounds}: ${server.name}`);
      const s = await startServer(server, { nice });
      try {
        for (const e of echo) {
          const r = loadgen(bin, ['echo', '127.0.0.1', s.port, e.conns, e.inflight, e.size, warmup, seconds, s.pid], {
            nice,
          });
          if (r.error) log(`  ${e.label}: ${r.error}`);
          rows.push({ round, server: server.name, scenario: e.id, ...r });
        }
        if (handshakes) {
          const h = loadgen(bin, ['handshake', '127.0.0.1', s.port, 32, warmup, seconds, s.pid], { nice });
          if (h.error) log(`  handshakes: ${h.error}`);
          rows.push({ round, server: server.name, scenario: 'handshake', ...h });
        }
      } finally {
        await stopServer(s);
      }
      if (memory) {
        const m = await measureMemory(bin, server, mem.count, { nice });
        if (m.error) log(`  memory: ${m.error}`);
        rows.push({ round, server: server.name, scenario: 'memory', ...m });
      }
    }
  }
  // The JavaScript each Node server spends per echo, without sockets (src/e2e/inproc.mjs), with
  // ws's addons and without, each in its own process.
  const inprocRows = [];
  if (inproc) {
    for (const env of [{}, { WS_NO_BUFFER_UTIL: '1', WS_NO_UTF_8_VALIDATE: '1' }]) {
      log(`in-process echo path${env.WS_NO_BUFFER_UTIL ? ', ws without addons' : ''}…`);
      const r = spawnSync('taskset', ['-c', '1', process.execPath, path.join(HERE, 'inproc.mjs')], {
        cwd: BENCH,
        env: { ...process.env, ...env },
        encoding: 'utf8',
        timeout: 300_000,
      });
      if (r.status !== 0) log(`  in-process echo failed: ${r.stderr}`);
      else for (const line of r.stdout.trim().split('\n')) inprocRows.push(JSON.parse(line));
    }
  }
  log(`${((Date.now() - started) / 1000).toFixed(0)} s`);
  return summarise({
    rows,
    available,
    missing,
    echo,
    rounds,
    mem,
    seconds,
    warmup,
    memory,
    nice,
    handshakes,
    inprocRows,
  });
}

// ---- summary ---------------------------------------------------------------------------------
function pick(rows, server, scenario, key) {
  return rows.filter((r) => r.server === server && r.scenario === scenario && !r.error).map((r) => r[key]);
}

function summarise({
  rows,
  available,
  missing,
  echo,
  rounds,
  mem,
  seconds,
  warmup,
  memory,
  nice,
  handshakes,
  inprocRows,
}) {
  const names = available.map((s) => s.name);
  const kind = Object.fromEntries(available.map((s) => [s.name, s.kind]));
  const cellOf = (server, scenario, key) => {
    const v = pick(rows, server, scenario, key);
    return { value: median(v), spread: spread(v) };
  };
  const show = (c, digits) =>
    Number.isFinite(c.value)
      ? `${fmt(c.value, digits)}${Number.isFinite(c.spread) ? ` <sub>±${Math.round(c.spread / 2)}%</sub>` : ''}`
      : 'n/a';
  const label = (n) => (kind[n] === 'ours' ? `**${n}**` : n);
  const section = (title, note, header, line) =>
    `### ${title}\n\n${note ? `${note}\n\n` : ''}${table(
      header,
      names.map((n) => [label(n), ...line(n)]),
    )}\n`;
  const k = (x) => (Number.isFinite(x) ? x / 1000 : NaN);

  const parts = [];
  parts.push(
    section(
      'Echo throughput (messages/s, thousands)',
      `Each message goes to the server and back; a new one is sent for every echo. Median of ${rounds} interleaved runs of ${seconds} s, each after ${warmup} s of the same load (JIT warm-up: Bun's compiler thread needs seconds on a busy machine); ± is half the spread between runs.`,
      ['server', ...echo.map((e) => e.label)],
      (n) =>
        echo.map((e) => {
          const c = cellOf(n, e.id, 'msgsPerSec');
          return show({ value: k(c.value), spread: c.spread }, 1);
        }),
    ),
  );
  parts.push(
    section(
      'Echo throughput per server CPU-second (thousands)',
      'Messages echoed per second of CPU the server process used (all its threads): steadier than wall-clock rates on a shared machine.',
      ['server', ...echo.map((e) => e.label)],
      (n) =>
        echo.map((e) => {
          const v = rows
            .filter((r) => r.server === n && r.scenario === e.id && !r.error && r.serverCpu > 0)
            .map((r) => r.msgsPerSec / r.serverCpu);
          return show({ value: k(median(v)), spread: spread(v) }, 1);
        }),
    ),
  );
  const instrTotal = (r) =>
    r.instrPerEchoUser >= 0 && r.instrPerEchoKernel >= 0 ? r.instrPerEchoUser + r.instrPerEchoKernel : NaN;
  const counted = rows.some((r) => Number.isFinite(instrTotal(r)));
  if (counted)
    parts.push(
      section(
        'Server instructions per echo (thousands: user + kernel)',
        "Instructions the server's threads retired in the measured window (perf_event_open, from the load generator), divided by the echoes: the work each server does per message, which barely moves when other jobs share the machine. The kernel's share is the same for every server here (the same read, write and epoll calls); the difference is user space.",
        ['server', ...echo.map((e) => e.label)],
        (n) =>
          echo.map((e) => {
            const mine = rows.filter((r) => r.server === n && r.scenario === e.id && !r.error);
            const u = median(mine.map((r) => r.instrPerEchoUser).filter((x) => x >= 0));
            const t = median(mine.map(instrTotal).filter(Number.isFinite));
            return Number.isFinite(t) ? `${fmt(u / 1000, 1)} + ${fmt((t - u) / 1000, 1)}` : 'n/a';
          }),
      ),
    );
  parts.push(
    section('Round-trip latency p50 / p99 (ms)', null, ['server', ...echo.map((e) => e.label)], (n) =>
      echo.map(
        (e) =>
          `${fmt(median(pick(rows, n, e.id, 'p50us')) / 1000)} / ${fmt(median(pick(rows, n, e.id, 'p99us')) / 1000)}`,
      ),
    ),
  );
  if (handshakes || memory)
    parts.push(
      section(
        'Handshakes and idle memory',
        memory
          ? `Handshakes: 32 concurrent connect → upgrade → 101 → reset loops. Memory: growth of the server's resident set with ${mem.count.toLocaleString('en-US')} idle connections open (ulimit -n is ${mem.limit}), divided by their number.`
          : null,
        ['server', 'handshakes/s', 'server CPU share', ...(memory ? ['KiB per idle connection'] : [])],
        (n) => [
          show(cellOf(n, 'handshake', 'perSec'), 0),
          fmt(median(pick(rows, n, 'handshake', 'serverCpu'))),
          ...(memory ? [show(cellOf(n, 'memory', 'kibPerConn'), 1)] : []),
        ],
      ),
    );

  // Load generator headroom: its own CPU share, and that it drives the fastest peer faster than ours.
  const lg = rows.filter((r) => r.loadgenCpu !== undefined && r.scenario !== 'handshake' && r.scenario !== 'memory');
  const headroom = echo.map((e) => {
    const best = names
      .map((n) => ({ n, v: median(pick(rows, n, e.id, 'msgsPerSec')) }))
      .filter((x) => Number.isFinite(x.v))
      .sort((a, b) => b.v - a.v)[0];
    const lgCpu = Math.max(...lg.filter((r) => r.scenario === e.id).map((r) => r.loadgenCpu));
    return [e.label, best ? `${best.n} (${fmt(best.v / 1000, 1)} k/s)` : 'n/a', fmt(lgCpu)];
  });
  parts.push(
    `### The load generator is not the bottleneck\n\nOne C process on its own core (src/loadgen/loadgen.c: epoll, pre-built masked frames, writev). Its highest CPU share in any run (1.00 = a whole core) and the fastest server it drove:\n\n${table(['scenario', 'fastest server (median)', 'load generator CPU, max'], headroom)}\n`,
  );

  if (inprocRows.length > 0) {
    const body = [];
    for (const message of INPROC_MESSAGES) {
      for (const addons of [true, false]) {
        for (const r of inprocRows.filter((x) => x.addons === addons && (x.message ?? 'binary-32') === message.id)) {
          const name =
            r.impl === 'ws'
              ? addons
                ? 'ws + bufferutil'
                : 'ws, no addon'
              : `**${r.impl}**${addons ? '' : ' (beside ws without addons)'}`;
          body.push([
            message.label,
            name,
            fmt(r.usPerEcho),
            fmt(r.bestUsPerEcho),
            r.impl === 'ws' ? '1' : `${fmt(r.speedupVsWs)}×`,
          ]);
        }
      }
    }
    parts.push(
      `### JavaScript per echo, without sockets\n\nThe Node servers' own cost per message when every read holds one message (as in the 100-connection case): a fake socket (a \`stream.Duplex\` whose writes complete at once) feeds masked frames one per \`data\` event and takes the echoes. Each server echoes what its API hands it: ws a Buffer, @ws/node a string for text (decoded, then encoded again). No syscalls, CPU time, 41 paired rounds (src/e2e/inproc.mjs).\n\n${table(['message', 'server', 'µs per echo (median)', 'best', 'speed vs ws (paired median)'], body)}\n`,
    );
  }

  // Targets.
  const targets = [];
  /** Per round, `ratio(a's row, b's row)` for `scenario`; rounds missing either (or the figure) are left out. */
  const perRound = (a, b, scenario, ratio) => {
    const per = [];
    for (const round of new Set(rows.map((r) => r.round))) {
      const x = rows.find((r) => r.round === round && r.server === a && r.scenario === scenario && !r.error);
      const y = rows.find((r) => r.round === round && r.server === b && r.scenario === scenario && !r.error);
      const v = x && y ? ratio(x, y) : NaN;
      if (Number.isFinite(v)) per.push(v);
    }
    return per;
  };
  const ratioRows = (a, b, scenario, key) => perRound(a, b, scenario, (x, y) => x[key] / y[key]);
  /** Per round, a's `key` per second of its server's CPU ÷ b's. */
  const perCpu = (a, b, scenario, key) =>
    perRound(a, b, scenario, (x, y) =>
      x.serverCpu > 0 && y.serverCpu > 0 ? x[key] / x.serverCpu / (y[key] / y.serverCpu) : NaN,
    );
  const onCpu = 'same goal, on CPU cost';
  const addTarget = (name, per, goal, lowerIsBetter = false, extra = '') => {
    const v = median(per);
    const met = Number.isFinite(v) && (lowerIsBetter ? v <= goal : v >= goal);
    targets.push([
      name,
      Number.isFinite(v) ? `${fmt(v)}× (runs ${fmt(Math.min(...per))}–${fmt(Math.max(...per))})` : 'n/a',
      `${lowerIsBetter ? '≤' : '≥'} ${goal}×`,
      Number.isFinite(v) ? (met ? 'met' : '**missed**') : 'not run',
      extra,
    ]);
  };
  const has = (n) => names.includes(n);
  if (has('@ws/node') && has('ws + bufferutil')) {
    addTarget(
      '@ws/node vs ws + bufferutil, 100 conns × 32 B, msgs/s',
      ratioRows('@ws/node', 'ws + bufferutil', '100x1-32', 'msgsPerSec'),
      1.5,
    );
    addTarget('… p99 latency (ours ÷ ws)', ratioRows('@ws/node', 'ws + bufferutil', '100x1-32', 'p99us'), 1, true);
    addTarget(
      '… msgs per server CPU-second',
      perCpu('@ws/node', 'ws + bufferutil', '100x1-32', 'msgsPerSec'),
      1.5,
      false,
      onCpu,
    );
  }
  // The same goals on instructions per echo (theirs ÷ ours: above 1 is fewer for us).
  const instrRatio = (a, b) => perRound(a, b, '100x1-32', (x, y) => instrTotal(y) / instrTotal(x));
  const onInstructions = 'same goal, on server instructions per echo (theirs ÷ ours)';
  if (counted && has('@ws/node') && has('ws + bufferutil'))
    addTarget('… server instructions per echo', instrRatio('@ws/node', 'ws + bufferutil'), 1.5, false, onInstructions);
  if (has('@ws/deno') && has('Deno.upgradeWebSocket')) {
    addTarget(
      '@ws/deno vs Deno built-in, 100 conns × 32 B',
      ratioRows('@ws/deno', 'Deno.upgradeWebSocket', '100x1-32', 'msgsPerSec'),
      1,
    );
    addTarget(
      '… msgs per server CPU-second',
      perCpu('@ws/deno', 'Deno.upgradeWebSocket', '100x1-32', 'msgsPerSec'),
      1,
      false,
      onCpu,
    );
    if (counted)
      addTarget(
        '… server instructions per echo',
        instrRatio('@ws/deno', 'Deno.upgradeWebSocket'),
        1,
        false,
        onInstructions,
      );
  }
  if (has('@ws/bun') && has('Bun.serve')) {
    addTarget(
      '@ws/bun vs Bun.serve, 100 conns × 32 B',
      ratioRows('@ws/bun', 'Bun.serve', '100x1-32', 'msgsPerSec'),
      0.9,
    );
    addTarget(
      '… msgs per server CPU-second',
      perCpu('@ws/bun', 'Bun.serve', '100x1-32', 'msgsPerSec'),
      0.9,
      false,
      onCpu,
    );
    if (counted)
      addTarget('… server instructions per echo', instrRatio('@ws/bun', 'Bun.serve'), 0.9, false, onInstructions);
  }
  // Issue 24: handshakes at least the built-in's on Deno and Bun; idle memory on Bun within 2× Bun.serve's.
  for (const [ours, peer] of [
    ['@ws/deno', 'Deno.upgradeWebSocket'],
    ['@ws/bun', 'Bun.serve'],
  ]) {
    if (!has(ours) || !has(peer)) continue;
    addTarget(`${ours} vs ${peer}, handshakes/s`, ratioRows(ours, peer, 'handshake', 'perSec'), 1);
    addTarget('… handshakes per server CPU-second', perCpu(ours, peer, 'handshake', 'perSec'), 1, false, onCpu);
  }
  if (memory && has('@ws/bun') && has('Bun.serve'))
    addTarget(
      '@ws/bun idle memory per connection vs Bun.serve',
      ratioRows('@ws/bun', 'Bun.serve', 'memory', 'kibPerConn'),
      2,
      true,
    );
  if (memory && has('@ws/node') && has('ws + bufferutil'))
    addTarget(
      '@ws/node idle memory per connection vs ws',
      ratioRows('@ws/node', 'ws + bufferutil', 'memory', 'kibPerConn'),
      1,
      true,
    );
  for (const m of missing) targets.push([`${m.name}`, 'not run', '', 'n/a', 'no echo server yet']);

  const md = [
    '## End to end: echo over loopback',
    '',
    `Server pinned to core 0 (\`taskset\`), the load generator to core 1${nice ? `, both at nice ${nice}` : ''}; ${rounds} rounds, the servers in a different order each round.`,
    '',
    '### Targets',
    '',
    table(['target', 'measured (median, range over runs)', 'goal', '', 'note'], targets),
    '',
    ...parts,
  ].join('\n');

  const main = '100x1-32';
  const base = median(pick(rows, 'ws + bufferutil', main, 'msgsPerSec'));
  const groups = echo.map((e) => ({
    title: e.label,
    bars: names.map((n) => ({ label: n, value: median(pick(rows, n, e.id, 'msgsPerSec')) / 1000, kind: kind[n] })),
  }));
  const svg = barChart({
    title: 'Echo over loopback: messages per second (thousands)',
    subtitle: `median of ${rounds} interleaved runs; server and load generator on separate cores; ws + bufferutil at 100 × 32 B: ${fmt(base / 1000, 1)} k/s`,
    unit: 'thousand messages per second',
    groups,
  });
  return { rows, md, svg, targets };
}

export async function main(argv) {
  const quick = argv.includes('--quick');
  const arg = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const options = { quick };
  if (arg('--rounds')) options.rounds = Number(arg('--rounds'));
  if (arg('--seconds')) options.seconds = Number(arg('--seconds'));
  if (arg('--warmup')) options.warmup = Number(arg('--warmup'));
  if (arg('--nice')) options.nice = Number(arg('--nice'));
  if (arg('--only')) options.only = arg('--only').split(',');
  if (argv.includes('--no-memory')) options.memory = false;
  if (argv.includes('--memory')) options.memory = true;
  if (argv.includes('--no-handshakes')) options.handshakes = false;
  if (argv.includes('--no-inproc')) options.inproc = false;
  if (arg('--echo') !== undefined) options.echo = arg('--echo') === 'none' ? [] : arg('--echo').split(',');
  const result = await runE2E(options);
  if (!quick) {
    const dir = path.join(BENCH, 'results');
    mkdirSync(dir, { recursive: true });
    const m = machine();
    writeFileSync(path.join(dir, 'e2e.json'), JSON.stringify({ machine: m, rows: result.rows }, null, 1) + '\n');
    writeFileSync(
      path.join(dir, 'e2e.md'),
      `<!-- generated by \`pnpm run bench:e2e\` on ${m.date}; do not edit -->\n# @ws end-to-end benchmarks\n\n${m.cpu}, ${m.cores} cores, load average ${m.load} at the end; Node ${m.versions.node}, Bun ${m.versions.bun ?? '–'}, Deno ${m.versions.deno ?? '–'}.\n\n${result.md}`,
    );
    writeFileSync(path.join(dir, 'e2e.svg'), result.svg);
  }
  process.stdout.write(result.md + '\n');
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.env.WS_ROOT ??= ROOT;
  await main(process.argv.slice(2));
}
