#!/usr/bin/env node
// Fuzz @ws/codec: `pnpm run fuzz -- --inputs 10000000 --seed 1 [--workers 2] [--hang-ms 10000]`.
//
// Bundles packages/fuzz/src/worker.ts with esbuild (Node 20 cannot run .ts), then runs the cases
// [0, inputs) of the seeded run on worker threads (one per core by default). A watchdog reads
// each worker's progress from shared memory: a worker that finishes no case for --hang-ms is
// terminated, the case it was running is reported as a hang, and a fresh worker carries on after
// it. Each worker has a heap cap (--max-heap-mb); running out of it is reported as a crash.
// Crashes are written as replayable JSON vectors to --out (default packages/fuzz/crashes); move
// the ones you fix into packages/fuzz/vectors, which packages/codec/test/hardening-fuzz.test.ts
// replays. Prints progress with RSS, then a summary, and exits 1 on any crash or hang.
//
//   --replay INDEX   run one case with recording on and print its vector (for debugging)
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const FUZZ = path.join(ROOT, 'packages/fuzz');

function parseArgs(argv) {
  const out = {
    inputs: '100000',
    seed: '1',
    workers: String(Math.max(1, os.availableParallelism?.() ?? os.cpus().length)),
    'hang-ms': '10000',
    'max-heap-mb': '1024',
    out: path.join(FUZZ, 'crashes'),
    replay: '',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') continue;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (!(name in out)) throw new Error(`unknown option --${name} (known: ${Object.keys(out).join(', ')})`);
    if (value === undefined) throw new Error(`--${name} needs a value`);
    out[name] = value;
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const inputs = Number(args.inputs);
const seed = Number(args.seed) >>> 0;
const workers = Math.max(1, Math.min(Number(args.workers), inputs || 1));
const hangMs = Number(args['hang-ms']);
const maxHeapMb = Number(args['max-heap-mb']);
if (!Number.isSafeInteger(inputs) || inputs < 0) throw new Error(`--inputs must be a whole number, got ${args.inputs}`);

// ---- bundle ---------------------------------------------------------------------------------
const outDir = path.join(ROOT, 'node_modules', '.cache', 'ws-fuzz');
mkdirSync(outDir, { recursive: true });
// Per process, so a run in progress is never affected by another one rebuilding.
const bundle = path.join(outDir, `worker-${process.pid}.mjs`);
const library = path.join(outDir, `index-${process.pid}.mjs`);
process.on('exit', () => {
  rmSync(bundle, { force: true });
  rmSync(library, { force: true });
});
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['source'],
  logLevel: 'warning',
  sourcemap: 'inline',
};
await build({ ...common, entryPoints: [path.join(FUZZ, 'src/worker.ts')], outfile: bundle });

if (args.replay !== '') {
  await build({ ...common, entryPoints: [path.join(FUZZ, 'src/index.ts')], outfile: library });
  const lib = await import(pathToFileURL(library).href);
  const holder = {};
  let error = null;
  try {
    lib.fuzzOne(seed, Number(args.replay), new lib.Stats(), true, holder);
  } catch (e) {
    error = e;
  }
  console.log(
    JSON.stringify(
      {
        seed,
        index: Number(args.replay),
        error: error ? String(error.stack ?? error) : null,
        vector: holder.case ?? null,
      },
      null,
      1,
    ),
  );
  process.exit(error ? 1 : 0);
}

// ---- run ------------------------------------------------------------------------------------
const shared = new SharedArrayBuffer(workers * 2 * 4);
const progress = new Int32Array(shared);
const started = performance.now();
const crashes = [];
const hangs = [];
const seen = new Set();
let peakRss = process.memoryUsage.rss();
let peakHeap = 0;
let slowest = { index: -1, ms: 0, target: '' };
const stats = {};
const slots = [];

function mergeStats(into, from) {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

function saveCrash(crash) {
  // One file per distinct failure (message without numbers, first stack frame in the codec).
  const where = (crash.stack.split('\n').find((l) => l.includes('/packages/codec/src/')) ?? '').trim();
  const key = `${crash.name}:${crash.message.replace(/[0-9]+/g, 'N').slice(0, 120)}:${where}`;
  crashes.push(crash);
  if (seen.has(key)) return;
  seen.add(key);
  mkdirSync(args.out, { recursive: true });
  const file = path.join(args.out, `${crash.target}-seed${seed}-case${crash.index}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        seed,
        index: crash.index,
        target: crash.target,
        error: `${crash.name}: ${crash.message}`,
        stack: crash.stack,
        case: crash.vector,
      },
      null,
      1,
    ) + '\n',
  );
  console.log(
    `CRASH case ${crash.index} (${crash.target}): ${crash.name}: ${crash.message.slice(0, 300)}\n  ${where}\n  vector: ${path.relative(ROOT, file)}`,
  );
}

function startWorker(slot, start, end) {
  const state = {
    slot,
    start,
    end,
    base: 0,
    worker: null,
    lastDone: -1,
    lastChange: performance.now(),
    finished: false,
    done: 0,
  };
  slots[slot] = state;
  Atomics.store(progress, slot * 2, 0);
  Atomics.store(progress, slot * 2 + 1, start);
  const worker = new Worker(bundle, {
    workerData: { seed, start, end, slot, shared },
    resourceLimits: { maxOldGenerationSizeMb: maxHeapMb },
  });
  state.worker = worker;
  worker.on('message', (m) => {
    if (m.type === 'crash') return saveCrash(m);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    if (m.slowest.ms > slowest.ms) slowest = m.slowest;
    state.lastStats = m.stats;
    if (m.type === 'done') {
      state.finished = true;
      state.done = m.done;
      mergeStats(stats, m.stats);
    }
  });
  worker.on('error', (error) => {
    // Out of memory or an error outside a case: report the case it was on and go on after it.
    const index = Atomics.load(progress, slot * 2 + 1);
    saveCrash({
      slot,
      index,
      target: 'worker',
      name: error.code ?? error.name,
      message: String(error.message),
      stack: String(error.stack ?? ''),
      vector: null,
    });
    state.failed = true;
  });
  worker.on('exit', () => {
    state.exited = true;
    if (!state.finished && !state.restarting) {
      if (state.lastStats) mergeStats(stats, state.lastStats);
      const index = Atomics.load(progress, slot * 2 + 1);
      completedBefore += index - start;
      if (index + 1 < end) startWorker(slot, index + 1, end);
      else remaining--;
    } else if (state.finished) {
      completedBefore += state.done;
      remaining--;
    }
    if (remaining === 0) finish();
  });
}

let completedBefore = 0; // cases finished by workers that are gone
let remaining = workers;
const per = Math.ceil(inputs / workers);
for (let w = 0; w < workers; w++) startWorker(w, w * per, Math.min(inputs, (w + 1) * per));

const fmt = (n) => n.toLocaleString('en-US');
const mb = (n) => `${Math.round(n / 2 ** 20)} MiB`;
function doneNow() {
  let n = completedBefore;
  for (const s of slots) if (!s.exited) n += Atomics.load(progress, s.slot * 2);
  return n;
}

let lastPrint = performance.now();
const watchdog = setInterval(() => {
  const now = performance.now();
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  for (const s of slots) {
    if (s.exited || s.finished) continue;
    const done = Atomics.load(progress, s.slot * 2);
    const current = Atomics.load(progress, s.slot * 2 + 1);
    const key = `${done}:${current}`;
    if (key !== s.lastKey) {
      s.lastKey = key;
      s.lastChange = now;
    } else if (now - s.lastChange > hangMs) {
      hangs.push({ index: current });
      console.log(
        `HANG case ${current}: no progress for ${hangMs} ms; reproduce with --replay ${current} --seed ${seed}`,
      );
      s.lastChange = Infinity;
      void s.worker.terminate();
    }
  }
  if (now - lastPrint >= 10_000) {
    lastPrint = now;
    const done = doneNow();
    const seconds = (now - started) / 1000;
    console.log(
      `${fmt(done)} / ${fmt(inputs)} cases · ${fmt(Math.round(done / seconds))}/s · ${seconds.toFixed(0)} s · RSS ${mb(process.memoryUsage.rss())} (peak ${mb(peakRss)}) · crashes ${crashes.length} · hangs ${hangs.length}`,
    );
  }
}, 250);

function finish() {
  clearInterval(watchdog);
  const seconds = (performance.now() - started) / 1000;
  const done = completedBefore;
  const summary = {
    seed,
    inputs: done,
    workers,
    seconds: Number(seconds.toFixed(1)),
    perSecond: Math.round(done / seconds),
    peakRssMiB: Math.round(peakRss / 2 ** 20),
    peakWorkerHeapMiB: Math.round(peakHeap / 2 ** 20),
    slowestCase: { ...slowest, ms: Number(slowest.ms.toFixed(1)) },
    crashes: crashes.length,
    hangs: hangs.length,
    reached: stats,
  };
  console.log(JSON.stringify(summary, null, 1));
  console.log(
    `fuzz: ${fmt(done)} inputs in ${seconds.toFixed(1)} s (${fmt(summary.perSecond)}/s, ${workers} workers), peak RSS ${summary.peakRssMiB} MiB, slowest case ${summary.slowestCase.ms} ms, ${crashes.length} crashes, ${hangs.length} hangs`,
  );
  process.exitCode = crashes.length > 0 || hangs.length > 0 ? 1 : 0;
}
