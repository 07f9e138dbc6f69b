/**
 * One fuzzing worker thread: runs cases [start, end) of the run seeded `seed`, reports progress
 * through shared memory (the watchdog in bin/fuzz.mjs reads it) and failures as messages.
 * Shared Int32 slots per worker: [cases done, index of the case running now].
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Stats, fuzzOne, targetOfCase, type Case } from './targets/index.ts';

interface Data {
  seed: number;
  start: number;
  end: number;
  slot: number;
  shared: SharedArrayBuffer;
}

const { seed, start, end, slot, shared } = workerData as Data;
const progress = new Int32Array(shared);
const stats = new Stats();
let slowest = { index: -1, ms: 0, target: '' };
let lastReport = performance.now();
let done = 0;

const report = (final: boolean): void => {
  parentPort!.postMessage({
    type: final ? 'done' : 'progress',
    slot,
    done,
    heapUsed: process.memoryUsage().heapUsed,
    slowest,
    stats: stats.toJSON(),
  });
};

// Self-tests of the runner (see packages/node/test/hardening-fuzz-runner.test.ts): a case that hangs, a case that throws.
const hangAt = Number(process.env.WS_FUZZ_SELF_TEST_HANG ?? -1);
const throwAt = Number(process.env.WS_FUZZ_SELF_TEST_THROW ?? -1);

for (let index = start; index < end; index++) {
  Atomics.store(progress, slot * 2 + 1, index);
  const t0 = performance.now();
  try {
    if (index === hangAt) for (;;);
    if (index === throwAt) throw new TypeError('self-test: a case that throws');
    fuzzOne(seed, index, stats);
  } catch (error) {
    // Generate the case again with recording on: the steps recorded up to the failure are the vector.
    const holder: { case?: Case } = {};
    let reproduced = false;
    try {
      fuzzOne(seed, index, new Stats(), true, holder);
    } catch {
      reproduced = true;
    }
    const vector = holder.case ?? null;
    const e = error as Error;
    parentPort!.postMessage({
      type: 'crash',
      slot,
      index,
      target: targetOfCase(seed, index),
      name: e?.name,
      message: String(e?.message ?? e),
      stack: String(e?.stack ?? ''),
      reproduced,
      vector,
    });
  }
  const ms = performance.now() - t0;
  if (ms > slowest.ms) slowest = { index, ms, target: targetOfCase(seed, index) };
  done++;
  if ((done & 63) === 0) {
    Atomics.store(progress, slot * 2, done);
    const now = performance.now();
    if (now - lastReport > 2000) {
      lastReport = now;
      report(false);
    }
  }
}
Atomics.store(progress, slot * 2, done);
report(true);
