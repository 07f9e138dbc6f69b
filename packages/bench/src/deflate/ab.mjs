// A/B of two deflate bundles (each checkout's `buildDeflate()` output, e.g. before/after a change),
// through this checkout's worker, interleaved (the order flips every round):
//   node src/deflate/ab.mjs A.mjs B.mjs [rounds] ['{"sizes":[4096,65536]}'] [--memory]
// For each cell (compress/decompress, implementation, payload, size, context takeover): the median
// MB/s per CPU-second of A and B, the per-round B ÷ A, and ours ÷ ws within each process (the
// ratio `bench:deflate` reports) for A and for B. With --memory, deflate memory per connection too.
import path from 'node:path';
import { median } from '../lib/report.mjs';
import { runWorker } from './run.mjs';

const args = process.argv.slice(2).filter((a) => a !== '--memory');
const memory = process.argv.includes('--memory');
const [a, b, roundsArg = '4', json = '{}'] = args;
const bundles = { A: path.resolve(a), B: path.resolve(b) };
const rounds = Number(roundsArg);
const rows = [];
const mem = [];
for (let round = 0; round < rounds; round++) {
  for (const side of round % 2 ? ['B', 'A'] : ['A', 'B']) {
    console.error(`[deflate ab] round ${round + 1}/${rounds}: ${side}`);
    const options = { ...JSON.parse(json), codec: bundles[side], reverse: round % 2 === 1 };
    for (const row of await runWorker(['speed', JSON.stringify(options)])) rows.push({ ...row, round, side });
    if (memory)
      for (const config of ['default', 'no context takeover'])
        for (const impl of ['ours (pako)', 'ours (node:zlib)', 'ws']) {
          const [row] = await runWorker(
            ['memory', JSON.stringify({ codec: bundles[side], impl, config, count: 400 })],
            ['--expose-gc'],
          );
          mem.push({ ...row, round, side });
        }
  }
}

const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const peerOf = (r) => (r.op === 'compress' ? 'ws (level 1)' : 'ws');
const cell = (r) => `${r.op}|${r.kind}|${r.size}|${r.takeover}`;
const find = (round, side, op, impl, kind, size, takeover) =>
  rows.find(
    (r) =>
      r.round === round &&
      r.side === side &&
      r.op === op &&
      r.impl === impl &&
      r.kind === kind &&
      r.size === size &&
      r.takeover === takeover,
  );
const seen = new Set();
for (const r of rows) {
  if (!r.impl.startsWith('ours') || seen.has(`${cell(r)}|${r.impl}`)) continue;
  seen.add(`${cell(r)}|${r.impl}`);
  const ba = [];
  const toPeer = { A: [], B: [] };
  const level = { A: [], B: [] };
  for (let round = 0; round < rounds; round++) {
    const at = (side, impl) => find(round, side, r.op, impl, r.kind, r.size, r.takeover);
    const [x, y] = [at('A', r.impl), at('B', r.impl)];
    if (x && y) ba.push(y.mbps / x.mbps);
    for (const side of ['A', 'B']) {
      const mine = at(side, r.impl);
      const peer = at(side, peerOf(r));
      if (mine) level[side].push(mine.mbps);
      if (mine && peer) toPeer[side].push(mine.mbps / peer.mbps);
    }
  }
  console.log(
    `${`${r.op} ${r.impl} ${r.kind} ${r.size} ${r.takeover}`.padEnd(52)} A ${f2(median(level.A)).padStart(7)}  B ${f2(median(level.B)).padStart(7)} MB/s  B/A ${f2(median(ba))} [${ba.map(f2).join(' ')}]  ÷ws: A ${f2(median(toPeer.A))} B ${f2(median(toPeer.B))}`,
  );
}
for (const config of new Set(mem.map((m) => m.config)))
  for (const impl of new Set(mem.map((m) => m.impl))) {
    const kib = (side) =>
      median(mem.filter((m) => m.config === config && m.impl === impl && m.side === side).map((m) => m.rss / 1024));
    console.log(`memory ${config} ${impl}: RSS per connection A ${f2(kib('A'))} KiB, B ${f2(kib('B'))} KiB`);
  }
