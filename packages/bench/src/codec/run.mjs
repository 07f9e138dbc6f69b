// Codec micro-benchmarks: interleaved child processes, `ws` with its native addons and without
// (WS_NO_BUFFER_UTIL=1 WS_NO_UTF_8_VALIDATE=1), ours and the physical limits in every process.
// Writes results/codec.{json,md,svg} (or only prints, with --quick).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCodec, BENCH, ROOT } from '../lib/build.mjs';
import { barChart, fmt, fmtSize, machine, median, spread, table } from '../lib/report.mjs';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.mjs');
const SIZES = [16, 125, 4096, 65536, 1048576];
const SMALL = new Set([16, 125]);

function runWorker(config, options) {
  const env = { ...process.env };
  if (config === 'no-addons') Object.assign(env, { WS_NO_BUFFER_UTIL: '1', WS_NO_UTF_8_VALIDATE: '1' });
  else delete env.WS_NO_BUFFER_UTIL, delete env.WS_NO_UTF_8_VALIDATE;
  // Pinned to one core: the other is left to the rest of the machine.
  const args = ['-c', '1', process.execPath, WORKER, JSON.stringify(options)];
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', args, { cwd: BENCH, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`codec worker (${config}) exited with ${code}`));
      else
        resolve(
          out
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l)),
        );
    });
  });
}

export async function runCodec({ quick = false, rounds = quick ? 1 : 3, log = console.error } = {}) {
  const codecPath = await buildCodec();
  const options = quick
    ? { codec: codecPath, sizes: [16, 4096], warmMs: 15, sampleMs: 3, samples: 3 }
    : { codec: codecPath, sizes: SIZES };
  const rows = [];
  const started = Date.now();
  for (let round = 0; round < rounds; round++) {
    for (const config of round % 2 === 0 ? ['addons', 'no-addons'] : ['no-addons', 'addons']) {
      log(`[codec] round ${round + 1}/${rounds}, ws ${config === 'addons' ? 'with' : 'without'} addons…`);
      const result = await runWorker(config, { ...options, oursFirst: round % 2 === 0 });
      for (const row of result) rows.push({ ...row, round });
    }
  }
  log(`[codec] ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return summarise(rows, quick ? [16, 4096] : SIZES, rounds);
}

/** Median over rounds of a cell's GB/s (and frames/s), plus the spread. */
function cell(rows, config, op, impl, size) {
  const hits = rows.filter((r) => r.config === config && r.op === op && r.impl === impl && r.size === size);
  return {
    gbps: median(hits.map((r) => r.gbps)),
    fps: median(hits.map((r) => r.framesPerSec)),
    spread: spread(hits.map((r) => r.gbps)),
    rounds: hits.length,
  };
}

/** Ratio ours/peer computed per round (same process), then the median. */
function ratio(rows, config, op, ours, peer, size) {
  const per = [];
  for (const round of new Set(rows.map((r) => r.round))) {
    const a = rows.find(
      (r) => r.round === round && r.config === config && r.op === op && r.impl === ours && r.size === size,
    );
    const b = rows.find(
      (r) => r.round === round && r.config === config && r.op === op && r.impl === peer && r.size === size,
    );
    if (a && b) per.push(a.gbps / b.gbps);
  }
  return { value: median(per), min: Math.min(...per), max: Math.max(...per) };
}

function summarise(rows, sizes, rounds) {
  const show = (c, small) =>
    Number.isFinite(c.gbps) ? `${fmt(c.gbps)}${small ? ` (${fmt(c.fps / 1e6)} M/s)` : ''}` : '–';
  const spreadNote = (cells) => {
    const s = median(cells.map((c) => c.spread));
    return Number.isFinite(s) ? `±${Math.round(s / 2)} %` : '';
  };
  const sections = [];
  const opTable = (op, title, impls, note, extraSizes = sizes) => {
    const body = impls.map(([label, config, impl]) => {
      const cells = extraSizes.map((size) => cell(rows, config, op, impl, size));
      return [label, ...cells.map((c, i) => show(c, SMALL.has(extraSizes[i]))), spreadNote(cells)];
    });
    sections.push(
      `### ${title}\n\n${note ? `${note}\n\n` : ''}${table(['GB/s (frames/s)', ...extraSizes.map(fmtSize), 'spread'], body)}`,
    );
  };

  const ours = [['**@ws/codec** Connection', 'addons', 'ours']];
  const wsBoth = [
    ['ws 8.23 + bufferutil', 'addons', 'ws'],
    ['ws 8.23, no addon', 'no-addons', 'ws'],
  ];
  const limits = [
    ['limit: `Uint8Array#set` copy', 'addons', 'limit: copy'],
    ['limit: plain Int32 XOR loop', 'addons', 'limit: word XOR loop'],
  ];
  opTable(
    'parse',
    'Parse masked client frames (a server receiving), 64 KiB reads',
    [...ours, ['@ws/codec FrameParser alone', 'addons', 'ours (FrameParser)'], ...wsBoth],
    'Binary frames, random payloads and mask keys, fed in 64 KiB chunks as a socket delivers them (frames split across chunks); through to whole-message events (`nextEvent()` / ws `Receiver` `message`).',
  );
  if (sizes.includes(1048576)) {
    opTable(
      'parse (one read)',
      'Parse a 1 MiB frame that arrives in one read',
      [...ours, ['@ws/codec FrameParser alone', 'addons', 'ours (FrameParser)'], ...wsBoth],
      'No reassembly: the cost is unmasking in place.',
      [1048576],
    );
  }
  opTable(
    'build unmasked',
    'Build unmasked frames (a server sending)',
    [...ours.map(([, c, i]) => ['**@ws/codec** `serializeFrame`', c, i]), ['ws `Sender.frame`', 'addons', 'ws']],
    'ws returns `[header, payload]` without copying; ours copies payloads under 64 KiB next to the header (one buffer, one write), so it pays a copy ws leaves to the socket.',
  );
  opTable('build masked', 'Build masked frames (a client sending; the caller\u2019s bytes stay unchanged)', [
    ...ours.map(([, c, i]) => ['**@ws/codec** `serializeFrame` + key pool', c, i]),
    ['ws `Sender.frame` (readOnly) + bufferutil', 'addons', 'ws'],
    ['ws `Sender.frame` (readOnly), no addon', 'no-addons', 'ws'],
  ]);
  opTable('unmask', 'Unmask in place', [
    ...ours.map(([, c, i]) => ['**@ws/codec** `applyMask`', c, i]),
    ['ws `unmask` + bufferutil', 'addons', 'ws'],
    ['ws `unmask`, no addon (JS byte loop)', 'no-addons', 'ws'],
    ...limits,
  ]);
  const utf8Impls = [
    ['**@ws/codec** `isValidUtf8`', 'addons', 'ours'],
    ['ws `isValidUTF8` (Node 20: `buffer.isUtf8` from 24 B)', 'addons', 'ws'],
    ['`TextDecoder({fatal:true}).decode`', 'addons', 'TextDecoder fatal'],
  ];
  opTable(
    'utf8 ascii',
    'Validate UTF-8: ASCII text',
    utf8Impls,
    'On Node ≥ 18.14 ws validates with `buffer.isUtf8` (native simdutf) and never loads utf-8-validate, so "with/without addon" is the same here.',
  );
  opTable('utf8 mixed', 'Validate UTF-8: mixed text (Latin, Greek, CJK, emoji)', utf8Impls);

  // Targets.
  const targets = [];
  const t = (name, r, goal, extra = '') => {
    const met = r.value >= goal;
    targets.push([
      name,
      `${fmt(r.value)}× (runs ${fmt(r.min)}–${fmt(r.max)})`,
      `≥ ${goal}×`,
      met ? 'met' : '**missed**',
      extra,
    ]);
    return met;
  };
  for (const size of sizes.filter((s) => SMALL.has(s))) {
    t(`parse ${fmtSize(size)} frames vs ws + bufferutil`, ratio(rows, 'addons', 'parse', 'ours', 'ws', size), 2);
    t(`parse ${fmtSize(size)} frames vs ws, no addon`, ratio(rows, 'no-addons', 'parse', 'ours', 'ws', size), 2);
  }
  if (sizes.includes(1048576)) {
    t(
      'parse 1 MiB frame (one read) vs copy bandwidth',
      crossRatio(rows, 'parse (one read)', 'ours', 'unmask', 'limit: copy', 1048576),
      0.8,
      'copy = `Uint8Array#set` of 1 MiB',
    );
    t(
      'parse 1 MiB frame (64 KiB reads) vs copy bandwidth',
      crossRatio(rows, 'parse', 'ours', 'unmask', 'limit: copy', 1048576),
      0.8,
      'reassembly costs one copy',
    );
  }
  const md = [
    `## Codec micro-benchmarks`,
    '',
    `Median of ${rounds} interleaved runs per configuration (each run: the fastest of 15 samples after a warm-up, in a process pinned to one core; ws with and without its addons in separate processes, ours and the limits measured in both). GB/s counts payload bytes (1 GB = 10⁹ B).`,
    '',
    '### Targets',
    '',
    table(['target', 'measured (median, range over runs)', 'goal', '', 'note'], targets),
    '',
    ...sections.map((s) => s + '\n'),
  ].join('\n');

  // Chart: parse throughput relative to ws + bufferutil, per size.
  const groups = [];
  for (const size of sizes) {
    const base = cell(rows, 'addons', 'parse', 'ws', size).gbps;
    const bars = [
      { label: '@ws/codec', value: cell(rows, 'addons', 'parse', 'ours', size).gbps / base, kind: 'ours' },
      { label: 'ws + bufferutil', value: 1 },
      { label: 'ws, no addon', value: cell(rows, 'no-addons', 'parse', 'ws', size).gbps / base },
    ];
    groups.push({ title: `parse ${fmtSize(size)} frames`, bars });
  }
  const svg = barChart({
    title: 'Parsing masked frames, relative to ws 8.23 + bufferutil (= 1)',
    subtitle: 'higher is better; 64 KiB reads; median of interleaved runs',
    unit: 'throughput ÷ ws + bufferutil',
    groups,
    reference: 1,
  });
  return { rows, md, svg, targets };
}

/** Ratio of one op's GB/s to another op's (e.g. parse vs the copy limit), per round, then the median. */
function crossRatio(rows, op, impl, refOp, refImpl, size) {
  const per = [];
  for (const round of new Set(rows.map((r) => r.round))) {
    const a = rows.find(
      (r) => r.round === round && r.config === 'addons' && r.op === op && r.impl === impl && r.size === size,
    );
    const b = rows.find(
      (r) => r.round === round && r.config === 'addons' && r.op === refOp && r.impl === refImpl && r.size === size,
    );
    if (a && b) per.push(a.gbps / b.gbps);
  }
  return { value: median(per), min: Math.min(...per), max: Math.max(...per) };
}

export async function main(argv) {
  const quick = argv.includes('--quick');
  const result = await runCodec({ quick });
  if (quick) {
    process.stdout.write(result.md + '\n');
    return result;
  }
  const dir = path.join(BENCH, 'results');
  mkdirSync(dir, { recursive: true });
  const m = machine();
  writeFileSync(path.join(dir, 'codec.json'), JSON.stringify({ machine: m, rows: result.rows }, null, 1) + '\n');
  writeFileSync(
    path.join(dir, 'codec.md'),
    `<!-- generated by \`pnpm run bench:codec\` on ${m.date}; do not edit -->\n# @ws codec benchmarks\n\n${m.cpu}, ${m.cores} cores, load ${m.load}; Node ${m.versions.node}.\n\n${result.md}`,
  );
  writeFileSync(path.join(dir, 'codec.svg'), result.svg);
  process.stdout.write(result.md + '\n');
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.env.WS_ROOT ??= ROOT;
  await main(process.argv.slice(2));
}
