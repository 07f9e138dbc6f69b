// Summarise a .cpuprofile (node --cpu-prof, bun --cpu-prof): self time per function, top N.
//   node src/lib/profile-summary.mjs file.cpuprofile [N] [--samples] [--busy]
// --samples: count samples instead of summing their time deltas. Use it for Bun's profiles: Bun
// samples only while JavaScript runs and adds the idle gap to the next sample's delta, so by time
// the idle time goes to whatever function ran last (V8 records idle as its own `(idle)` node).
// --busy: leave V8's `(idle)` out, so percentages are of the time the JavaScript thread was busy.
import { readFileSync } from 'node:fs';

const bySamples = process.argv.includes('--samples');
const busy = process.argv.includes('--busy');
const [file, n = '25'] = process.argv.slice(2).filter((a) => a !== '--samples' && a !== '--busy');
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map();
const dt = profile.timeDeltas;
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const node = byId.get(profile.samples[i]);
  const f = node.callFrame;
  if (busy && f.functionName === '(idle)') continue;
  const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-1)[0]}:${f.lineNumber + 1}`;
  const t = bySamples ? 1 : (dt[i] ?? 0);
  self.set(key, (self.get(key) ?? 0) + t);
  total += t;
}
const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(n));
for (const [key, t] of rows) console.log(`${((t / total) * 100).toFixed(1).padStart(5)} %  ${key}`);
