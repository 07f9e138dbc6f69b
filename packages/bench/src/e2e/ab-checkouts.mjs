// Before/after of our echo servers from two checkouts of the repository (e.g. clones in /tmp at
// two commits, each set up with `node scripts/setup.mjs`), interleaved in one run with the peers'
// servers: per round and runtime, A's `echo:<runtime>`, B's and the peer's are each started in
// turn (the order flips every round), pinned to core 0, and driven by the C load generator on
// core 1 (or, for permessage-deflate, by `deflate-client.mjs`, which the load generator cannot
// replace). Prints, per runtime and scenario, the per-round ratios B ÷ A and ours ÷ peer of
// messages per server CPU-second and of rate, and their medians.
//
//   node src/e2e/ab-checkouts.mjs --a /tmp/rg-before --b /tmp/rg-after
//     [--runtimes node,deno,bun] [--no-peers] [--echo 1x1-64k,100x1-64k|none]
//     [--deflate 16x1-65536,1x1-4096] [--rounds 6] [--seconds 3] [--warmup 1.5] [--json OUT]
//
// --deflate scenarios are CONNSx1-SIZE (one in flight per connection); the peers then run with
// ECHO_DEFLATE=1 (ws and Bun.serve accept the offer; Deno's built-in has no permessage-deflate).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '../lib/report.mjs';
import { buildLoadgen, ECHO, loadgenLines, SERVERS, startServer, stopServer } from './run.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const A = path.resolve(arg('--a', ''));
const B = path.resolve(arg('--b', ''));
if (!arg('--a') || !arg('--b')) {
  console.error('usage: ab-checkouts.mjs --a CHECKOUT --b CHECKOUT [--runtimes node,deno,bun] [--no-peers] …');
  process.exit(2);
}
const runtimes = arg('--runtimes', 'node,deno,bun').split(',');
const peers = !argv.includes('--no-peers');
const echoArg = arg('--echo', '1x1-64k');
const echo = echoArg === 'none' ? [] : ECHO.filter((e) => echoArg.split(',').includes(e.id));
const deflate = (arg('--deflate', '') || '')
  .split(',')
  .filter(Boolean)
  .map((id) => {
    const m = /^(\d+)x1-(\d+)$/.exec(id);
    if (!m) throw new Error(`--deflate scenario ${id}: expected CONNSx1-SIZE`);
    return { id: `deflate ${id}`, conns: Number(m[1]), size: Number(m[2]) };
  });
const rounds = Number(arg('--rounds', '6'));
const seconds = Number(arg('--seconds', '3'));
const warmup = Number(arg('--warmup', '1.5'));
const log = (...a) => console.error('[ab]', ...a);

/** A checkout's `echo:<runtime>` script as argv, its files and binaries resolved in that checkout. */
function echoArgv(root, runtime) {
  const scripts = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts ?? {};
  const words = scripts[`echo:${runtime}`]?.trim().split(/\s+/);
  if (!words) throw new Error(`${root} has no echo:${runtime} script`);
  const req = createRequire(path.join(root, 'package.json'));
  const bin = (pkg, ...rels) => {
    const dir = path.dirname(req.resolve(`${pkg}/package.json`));
    return rels.map((r) => path.join(dir, r)).find(existsSync);
  };
  const exe = { node: process.execPath, bun: bin('bun', 'bin/bun.exe', 'bin/bun'), deno: bin('deno', 'deno') };
  const first = words[0].replace(/^node_modules\/\.bin\//, '');
  return [
    exe[first] ?? words[0],
    ...words.slice(1).map((w) => (/\.(m?js|ts)$/.test(w) && w.includes('/') ? path.join(root, w) : w)),
  ];
}

const PEER = { node: 'ws', deno: 'deno-builtin', bun: 'bun-builtin' };
const lineup = runtimes.map((runtime) => {
  const ours = (label, root) => ({
    name: `@ws/${runtime} ${label}`,
    role: label,
    kind: 'ours',
    cwd: root,
    argv: () => echoArgv(root, runtime),
  });
  const list = [ours('A', A), ours('B', B)];
  if (peers) {
    const peer = SERVERS.find((s) => s.id === PEER[runtime]);
    list.push({
      ...peer,
      role: 'peer',
      env: { ...(peer.env ?? {}), ...(deflate.length ? { ECHO_DEFLATE: '1' } : {}) },
    });
  }
  return { runtime, list };
});

const loadgenBin = buildLoadgen();
for (const { list } of lineup)
  for (const s of list.filter((x) => x.kind === 'ours')) {
    log(`warming ${s.name} up (build/cache)…`);
    await stopServer(await startServer(s));
  }

const rows = [];
const started = Date.now();
for (let round = 0; round < rounds; round++) {
  for (const { runtime, list } of lineup) {
    const order = round % 2 === 0 ? list : [...list].reverse();
    for (const server of order) {
      log(`round ${round + 1}/${rounds}: ${server.name}`);
      const s = await startServer(server);
      try {
        for (const e of echo) {
          const out = loadgenLines(loadgenBin, [
            'echo',
            '127.0.0.1',
            s.port,
            e.conns,
            e.inflight,
            e.size,
            warmup,
            seconds,
            s.pid,
          ]);
          const r = out.pop() ?? { error: 'no output' };
          if (r.error || r.errors > 0) log(`  ${e.id}: ${r.error ?? `${r.errors} unexpected frames`}`);
          rows.push({ round, runtime, role: server.role, server: server.name, scenario: e.id, ...r });
        }
        for (const d of deflate) {
          const out = spawnSync(
            'taskset',
            [
              '-c',
              '1',
              process.execPath,
              path.join(HERE, 'deflate-client.mjs'),
              '127.0.0.1',
              String(s.port),
              String(d.conns),
              String(d.size),
              String(warmup),
              String(seconds),
              String(s.pid),
            ],
            { encoding: 'utf8', timeout: 120_000 },
          );
          let r;
          try {
            r = JSON.parse(out.stdout.trim().split('\n').pop());
          } catch {
            r = { error: (out.stderr || `exit ${out.status}`).trim().slice(0, 300) };
          }
          if (r.error) log(`  ${d.id}: ${r.error}`);
          rows.push({ round, runtime, role: server.role, server: server.name, scenario: d.id, ...r });
        }
      } finally {
        await stopServer(s);
      }
    }
  }
}
log(`${((Date.now() - started) / 1000).toFixed(0)} s`);

// ---- per-round ratios ------------------------------------------------------------------------
const ok = (r) => r && !r.error && !(r.errors > 0) && r.msgsPerSec > 0;
const perCpu = (r) => (r.serverCpu > 0 ? r.msgsPerSec / r.serverCpu : NaN);
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const k1 = (x) => (Number.isFinite(x) ? (x / 1000).toFixed(2) : 'n/a');
const find = (round, runtime, role, scenario) =>
  rows.find((r) => r.round === round && r.runtime === runtime && r.role === role && r.scenario === scenario);
const summary = [];
for (const { runtime } of lineup)
  for (const scenario of [...echo.map((e) => e.id), ...deflate.map((d) => d.id)]) {
    const ratios = {
      'B/A cpu': [],
      'B/A rate': [],
      'A/peer cpu': [],
      'B/peer cpu': [],
      'A/peer rate': [],
      'B/peer rate': [],
    };
    const level = { A: [], B: [], peer: [] };
    for (let round = 0; round < rounds; round++) {
      const a = find(round, runtime, 'A', scenario);
      const b = find(round, runtime, 'B', scenario);
      const p = find(round, runtime, 'peer', scenario);
      for (const [role, r] of [
        ['A', a],
        ['B', b],
        ['peer', p],
      ])
        if (ok(r)) level[role].push({ rate: r.msgsPerSec, cpu: perCpu(r) });
      if (ok(a) && ok(b)) {
        ratios['B/A cpu'].push(perCpu(b) / perCpu(a));
        ratios['B/A rate'].push(b.msgsPerSec / a.msgsPerSec);
      }
      if (ok(p))
        for (const [role, r] of [
          ['A', a],
          ['B', b],
        ])
          if (ok(r)) {
            ratios[`${role}/peer cpu`].push(perCpu(r) / perCpu(p));
            ratios[`${role}/peer rate`].push(r.msgsPerSec / p.msgsPerSec);
          }
    }
    const line = { runtime, scenario, medians: {}, ratios: {} };
    console.log(`\n${runtime} ${scenario}`);
    for (const role of ['A', 'B', 'peer']) {
      const v = level[role];
      if (!v.length) continue;
      line.medians[role] = { rate: median(v.map((x) => x.rate)), perCpu: median(v.map((x) => x.cpu)) };
      console.log(
        `  ${role.padEnd(5)} rate ${k1(line.medians[role].rate)} k/s, per CPU-second ${k1(line.medians[role].perCpu)} k  (rounds, per CPU-s: ${v.map((x) => k1(x.cpu)).join(' ')})`,
      );
    }
    for (const [name, v] of Object.entries(ratios)) {
      if (!v.length) continue;
      line.ratios[name] = { median: median(v), rounds: v };
      console.log(`  ${name.padEnd(12)} median ${f2(median(v))}  rounds ${v.map(f2).join(' ')}`);
    }
    summary.push(line);
  }
const json = arg('--json');
if (json) writeFileSync(json, `${JSON.stringify({ a: A, b: B, rounds, seconds, warmup, rows, summary }, null, 1)}\n`);
