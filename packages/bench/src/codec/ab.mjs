// A/B of two codec bundles (e.g. before/after a change), interleaved, same worker:
//   node src/codec/ab.mjs A.mjs B.mjs '{"sizes":[16,125],"only":["parse"]}' [rounds]
// Prints the median GB/s of each of our implementations per cell, and B/A.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '../lib/report.mjs';

const [a, b, json = '{}', roundsArg = '3'] = process.argv.slice(2);
const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.mjs');
const cells = new Map();
for (let r = 0; r < Number(roundsArg); r++) {
  for (const [name, bundle] of r % 2
    ? [
        ['B', b],
        ['A', a],
      ]
    : [
        ['A', a],
        ['B', b],
      ]) {
    const out = spawnSync(
      'taskset',
      ['-c', '1', process.execPath, worker, JSON.stringify({ ...JSON.parse(json), codec: path.resolve(bundle) })],
      { encoding: 'utf8' },
    );
    if (out.status !== 0) throw new Error(out.stderr);
    for (const line of out.stdout.trim().split('\n')) {
      const row = JSON.parse(line);
      const key = `${row.op} | ${row.impl} | ${row.size}`;
      if (!cells.has(key)) cells.set(key, { A: [], B: [] });
      cells.get(key)[name].push(row.gbps);
    }
  }
}
for (const [key, { A, B }] of cells) {
  const ma = median(A),
    mb = median(B);
  console.log(
    `${key.padEnd(42)} A ${ma.toFixed(3).padStart(7)}  B ${mb.toFixed(3).padStart(7)}  B/A ${(mb / ma).toFixed(2)}   [${A.map((x) => x.toFixed(3)).join(' ')}] [${B.map((x) => x.toFixed(3)).join(' ')}]`,
  );
}
