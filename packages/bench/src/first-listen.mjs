#!/usr/bin/env node
// What the first `listen` of a process costs with @ws/node: fresh processes, each timing
// `await createServer(options).listen(0, '127.0.0.1')` once (the once-per-process self-tests of
// the shared reads and the direct writes run there) and a second listen after it; the variants
// (and builds) interleaved process by process; quartiles printed, with the median CPU time (user +
// system, all threads) the process spent during the first listen: the loopback traffic is system
// time, and CPU time is less at the mercy of other load than the wall clock.
//   node packages/bench/src/first-listen.mjs [--runs N] [--compare REF]
// --runs: processes per variant (default 40). --compare: also the same variants with
// packages/node/src as git REF has it (e.g. main), to read a change as a paired before/after.
// The working tree is bundled as lib/build.mjs does for the in-process benchmarks. Run it without
// `nice`; on a shared machine read only ratios of one run.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ROOT, buildNode } from './lib/build.mjs';

/** What each variant passes to createServer. */
const VARIANTS = {
  default: {},
  'directWrites: false': { directWrites: false },
  'sharedReadBuffer: false': { sharedReadBuffer: false },
  'both false': { directWrites: false, sharedReadBuffer: false },
};

/** @ws/node's sources as git `ref` has them, bundled like the working tree (the codec from the working tree). */
async function bundleAt(ref) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ws-first-listen-'));
  try {
    const archive = execFileSync('git', ['-C', ROOT, 'archive', ref, 'packages/node/src']);
    execFileSync('tar', ['-x', '-C', dir], { input: archive });
    return await buildNode(path.join(dir, 'packages/node/src'), `node-${ref.replace(/[^\w.-]/g, '_')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  const { createServer } = await import(pathToFileURL(process.argv[3] ?? '').href);
  const options = JSON.parse(process.argv[4] ?? '{}');
  const timeListen = async () => {
    const server = createServer(options);
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    await server.listen(0, '127.0.0.1');
    const ms = performance.now() - start;
    const { user, system } = process.cpuUsage(cpuBefore);
    await server.close();
    return { ms, cpu: (user + system) / 1000 };
  };
  const first = await timeListen();
  const second = await timeListen();
  process.stdout.write(`${JSON.stringify({ first: first.ms, cpu: first.cpu, second: second.ms })}\n`);
} else {
  const option = (name) => {
    const at = process.argv.indexOf(name);
    return at > 0 ? process.argv[at + 1] : undefined;
  };
  const runs = Number(option('--runs') ?? 40);
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError('--runs takes a positive integer');
  const ref = option('--compare');
  const builds = { 'working tree': await buildNode() };
  if (ref !== undefined) builds[ref] = await bundleAt(ref);
  const self = fileURLToPath(import.meta.url);
  const times = {};
  for (let run = 0; run < runs; run++) {
    for (const [label, bundle] of Object.entries(builds)) {
      for (const [name, options] of Object.entries(VARIANTS)) {
        const child = spawnSync(process.execPath, [self, '--child', bundle, JSON.stringify(options)], {
          encoding: 'utf8',
          timeout: 30_000,
        });
        if (child.status !== 0) throw new Error(`${label}, ${name}: exit ${child.status}\n${child.stderr}`);
        const { first, cpu, second } = JSON.parse(child.stdout);
        const key = `${label}: ${name}`;
        times[key] ??= { first: [], cpu: [], second: [] };
        times[key].first.push(first);
        times[key].cpu.push(cpu);
        times[key].second.push(second);
      }
    }
  }
  const quantile = (values, q) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  };
  const ms = (value) => value.toFixed(2).padStart(7);
  console.log(`listen, ms (${runs} fresh processes per row, interleaved; Node ${process.version})`);
  console.log(`${''.padEnd(40)}  first: p25  median     p75   CPU: median   second: median`);
  for (const [key, { first, cpu, second }] of Object.entries(times)) {
    console.log(
      `${key.padEnd(40)} ${ms(quantile(first, 0.25))} ${ms(quantile(first, 0.5))} ${ms(quantile(first, 0.75))}      ${ms(quantile(cpu, 0.5))}          ${ms(quantile(second, 0.5))}`,
    );
  }
}
