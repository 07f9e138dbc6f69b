// permessage-deflate benchmarks: ours (pako, and @ws/node's zlib backend) vs ws 8.23's
// PerMessageDeflate, compress and decompress, JSON-like and random payloads, 125 B – 1 MiB, with
// and without context takeover; then deflate memory per connection. Interleaved worker processes
// pinned to one core (the order of contestants flips every round); medians over rounds with the
// spread. Writes results/deflate.{json,md} (or only prints, with --quick).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BENCH, OUT, ROOT } from '../lib/build.mjs';
import { fmt, fmtSize, machine, median, spread, table } from '../lib/report.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WORKER = path.join(HERE, 'worker.mjs');
const SIZES = [125, 4096, 65536, 1048576];
const MEMORY_CONFIGS = ['default', 'no context takeover', 'windows 10 bits, memLevel 5'];
const MEMORY_IMPLS = ['ours (pako)', 'ours (node:zlib)', 'ws'];

export async function buildDeflate() {
  const outfile = path.join(OUT, 'deflate.mjs');
  await build({
    entryPoints: [path.join(HERE, 'entry.ts')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    conditions: ['source', 'import', 'module', 'default'],
    target: 'node20',
    outfile,
    logLevel: 'error',
  });
  return outfile;
}

export function runWorker(args, nodeArgs = []) {
  // Pinned to one core: ws's zlib threadpool shares it, and CPU time counts every thread.
  const argv = ['-c', '1', process.execPath, ...nodeArgs, WORKER, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', argv, { cwd: BENCH, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`deflate worker ${args[0]} exited with ${code}`));
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

export async function runDeflate({ quick = false, rounds = quick ? 1 : 3, memory = true, log = console.error } = {}) {
  const codec = await buildDeflate();
  const sizes = quick ? [4096, 65536] : SIZES;
  const rows = [];
  const mem = [];
  const started = Date.now();
  for (let round = 0; round < rounds; round++) {
    log(`[deflate] speed, round ${round + 1}/${rounds}…`);
    const options = {
      codec,
      sizes,
      reverse: round % 2 === 1,
      ...(quick ? { budgetMs: 60, batchBytes: 256 * 1024 } : {}),
    };
    for (const row of await runWorker(['speed', JSON.stringify(options)])) rows.push({ ...row, round });
    if (memory) {
      log(`[deflate] memory, round ${round + 1}/${rounds}…`);
      const impls = round % 2 === 0 ? MEMORY_IMPLS : [...MEMORY_IMPLS].reverse();
      for (const config of MEMORY_CONFIGS) {
        for (const impl of impls) {
          const [row] = await runWorker(
            ['memory', JSON.stringify({ codec, impl, config, count: quick ? 100 : 400 })],
            ['--expose-gc'],
          );
          mem.push({ ...row, round });
        }
      }
    }
  }
  log(`[deflate] ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return summarise(rows, mem, sizes, rounds);
}

const key = (r) => `${r.op}|${r.impl}|${r.kind}|${r.size}|${r.takeover}`;

function cellOf(rows, op, impl, kind, size, takeover) {
  const hits = rows.filter(
    (r) => r.op === op && r.impl === impl && r.kind === kind && r.size === size && r.takeover === takeover,
  );
  return {
    mbps: median(hits.map((r) => r.mbps)),
    spread: spread(hits.map((r) => r.mbps)),
    ratio: median(hits.map((r) => r.ratio)),
    n: hits.length,
  };
}

/** ours ÷ peer computed per round (same process), then the median and range. */
function ratioOf(rows, op, ours, peer, kind, size, takeover) {
  const per = [];
  for (const round of new Set(rows.map((r) => r.round))) {
    const a = rows.find((r) => r.round === round && key(r) === key({ op, impl: ours, kind, size, takeover }));
    const b = rows.find((r) => r.round === round && key(r) === key({ op, impl: peer, kind, size, takeover }));
    if (a && b) per.push(a.mbps / b.mbps);
  }
  return { value: median(per), min: Math.min(...per), max: Math.max(...per) };
}

const showRatio = (r) => (Number.isFinite(r.value) ? `**${fmt(r.value)}×** (${fmt(r.min)}–${fmt(r.max)})` : '–');
const showCell = (c) =>
  Number.isFinite(c.mbps) ? `${fmt(c.mbps)}${Number.isFinite(c.spread) ? ` ±${Math.round(c.spread / 2)} %` : ''}` : '–';
const kib = (b) => (Number.isFinite(b) ? `${fmt(b / 1024)} KiB` : '–');

function summarise(rows, mem, sizes, rounds) {
  const out = [];
  const compressImpls = ['ours (pako)', 'ours (node:zlib)', 'ws (level 1)', 'ws (default, level 6)'];
  const decompressImpls = ['ours (pako)', 'ours (node:zlib)', 'ws'];
  const headline = [];
  for (const takeover of ['takeover', 'no takeover']) {
    for (const kind of ['json', 'random']) {
      for (const size of sizes) {
        const c = (impl) => cellOf(rows, 'compress', impl, kind, size, takeover);
        const d = (impl) => cellOf(rows, 'decompress', impl, kind, size, takeover);
        headline.push([
          takeover,
          kind === 'json' ? 'JSON' : 'random',
          fmtSize(size),
          fmt(c('ours (pako)').mbps),
          fmt(c('ours (node:zlib)').mbps),
          fmt(c('ws (level 1)').mbps),
          showRatio(ratioOf(rows, 'compress', 'ours (pako)', 'ws (level 1)', kind, size, takeover)),
          showRatio(ratioOf(rows, 'compress', 'ours (node:zlib)', 'ws (level 1)', kind, size, takeover)),
          fmt(d('ours (pako)').mbps),
          fmt(d('ours (node:zlib)').mbps),
          fmt(d('ws').mbps),
          showRatio(ratioOf(rows, 'decompress', 'ours (pako)', 'ws', kind, size, takeover)),
          showRatio(ratioOf(rows, 'decompress', 'ours (node:zlib)', 'ws', kind, size, takeover)),
        ]);
      }
    }
  }
  out.push(
    '### Summary: MB/s of uncompressed payload per CPU-second, ours ÷ ws at the same level (1)',
    '',
    'Medians over rounds; ratios computed per round (same process) then the median, with the range over rounds.',
    '',
    table(
      [
        'context',
        'payload',
        'size',
        'compress: pako',
        'node:zlib',
        'ws L1',
        'pako ÷ ws',
        'node:zlib ÷ ws',
        'decompress: pako',
        'node:zlib',
        'ws',
        'pako ÷ ws',
        'node:zlib ÷ ws',
      ],
      headline,
    ),
    '',
  );

  // Compressed sizes: wire bytes (frame headers included) ÷ payload bytes.
  const sizeRows = [];
  for (const takeover of ['takeover', 'no takeover']) {
    for (const kind of ['json', 'random']) {
      sizeRows.push([
        takeover,
        kind === 'json' ? 'JSON' : 'random',
        ...compressImpls.map((impl) =>
          sizes.map((s) => fmt(cellOf(rows, 'compress', impl, kind, s, takeover).ratio * 100, 1) + ' %').join(' / '),
        ),
      ]);
    }
  }
  out.push(
    `### Compressed size (frames on the wire ÷ payload; ${sizes.map(fmtSize).join(' / ')})`,
    '',
    'ours and ws at level 1 emit the same DEFLATE stream (pako is a port of zlib; both sync-flush per message), so level 1 costs no ratio against ws at level 1; ws\u2019s own default is level 6.',
    '',
    table(['context', 'payload', ...compressImpls], sizeRows),
    '',
  );

  for (const op of ['compress', 'decompress']) {
    for (const takeover of ['takeover', 'no takeover']) {
      const impls = op === 'compress' ? compressImpls : decompressImpls;
      const body = [];
      for (const kind of ['json', 'random']) {
        for (const impl of impls)
          body.push([
            kind === 'json' ? 'JSON' : 'random',
            impl.startsWith('ours') ? `**${impl}**` : impl,
            ...sizes.map((s) => showCell(cellOf(rows, op, impl, kind, s, takeover))),
          ]);
      }
      out.push(
        `### ${op === 'compress' ? 'Compress' : 'Decompress'}, ${takeover === 'takeover' ? 'with context takeover' : 'without context takeover'} (MB/s per CPU-second, ± half the spread over rounds)`,
        '',
        table(['payload', 'implementation', ...sizes.map(fmtSize)], body),
        '',
      );
    }
  }

  if (mem.length > 0) {
    const body = [];
    for (const config of MEMORY_CONFIGS) {
      const cells = MEMORY_IMPLS.map((impl) => {
        const hits = mem.filter((m) => m.impl === impl && m.config === config);
        const rss = hits.map((m) => m.rss);
        return {
          rss: median(rss),
          min: Math.min(...rss),
          max: Math.max(...rss),
          js: median(hits.map((m) => m.heap + m.arrayBuffers)),
        };
      });
      body.push([config, ...cells.map((c) => `${kib(c.rss)} (${kib(c.min)}–${kib(c.max)}; JS ${kib(c.js)})`)]);
    }
    out.push(
      '### Deflate memory per connection (server side, after one compressed message each way)',
      '',
      'RSS growth over 400 endpoints after GC, per endpoint (median, range over rounds); "JS" is the JS heap + ArrayBuffers part of it. The endpoints are the permessage-deflate objects only (our `Extension`, ws\u2019s `PerMessageDeflate`), not sockets or connections. Without context takeover ours keeps no (de|in)flater between messages (a small module-wide pool serves them); ws keeps both zlib streams and resets them.',
      '',
      table(['configuration', ...MEMORY_IMPLS], body),
      '',
    );
  }

  const md = [
    '## permessage-deflate: ours vs ws 8.23',
    '',
    `${rounds} interleaved rounds, each a worker process pinned to one core (the order of contestants flips every round). A cell is the fastest of ≥ 3 batches (≈ 1 MiB of distinct messages each, 256 KiB for 125 B, 2 × 1 MiB for 1 MiB) sent one after another on a fresh connection, timed in CPU time of the whole process (ws\u2019s zlib runs on the libuv threadpool; those threads count). Ours goes through a \`Connection\` (compress: \`sendBinary(data, true)\` to frames; decompress: frames in 64 KiB reads to \`binary\` events), so ours also pays framing; ws is \`PerMessageDeflate#compress/#decompress\` alone. Both compress at level 1 (our default) unless noted; decompression inputs are the same zlib level-1 streams for all. MB = 10⁶ B of uncompressed payload.`,
    '',
    ...out,
  ].join('\n');
  return { rows, mem, md };
}

export async function main(argv) {
  const quick = argv.includes('--quick');
  const roundsAt = argv.indexOf('--rounds');
  const rounds = roundsAt >= 0 ? Number(argv[roundsAt + 1]) : undefined;
  const result = await runDeflate({ quick, rounds, memory: !argv.includes('--no-memory') });
  if (quick) {
    process.stdout.write(result.md + '\n');
    return result;
  }
  const dir = path.join(BENCH, 'results');
  mkdirSync(dir, { recursive: true });
  const m = machine();
  writeFileSync(
    path.join(dir, 'deflate.json'),
    JSON.stringify({ machine: m, rows: result.rows, memory: result.mem }, null, 1) + '\n',
  );
  writeFileSync(
    path.join(dir, 'deflate.md'),
    `<!-- generated by \`pnpm run bench:deflate\` on ${m.date}; do not edit -->\n# @ws permessage-deflate benchmarks\n\n${m.cpu}, ${m.cores} cores, load ${m.load}; Node ${m.versions.node}.\n\n${result.md}`,
  );
  process.stdout.write(result.md + '\n');
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.env.WS_ROOT ??= ROOT;
  await main(process.argv.slice(2));
}
