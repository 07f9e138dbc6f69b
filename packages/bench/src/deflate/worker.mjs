// One process of the permessage-deflate benchmarks (src/deflate/run.mjs starts them):
//   node worker.mjs speed '<json options>'    → one JSON line per cell
//   node --expose-gc worker.mjs memory '<json options>'  → one JSON line
//
// Speed: MB/s of *uncompressed* payload (1 MB = 10⁶ B) per CPU-second of this process, all its
// threads included (ws compresses on libuv's threadpool; process.cpuUsage() counts those threads).
// A batch is N distinct messages sent one after the other on one connection, to completion:
// - ours: a server Connection with permessage-deflate negotiated compresses (`sendBinary(data,
//   true)` + `takeOutput()`); a client Connection decompresses (`receiveData` of the frames in
//   64 KiB reads + `nextEvent()`), so ours also pays framing, which ws's numbers leave out;
// - ws: PerMessageDeflate#compress / #decompress (async, zlib on the threadpool), each message
//   started when the previous one's callback ran, as ws's Sender and Receiver do.
// Decompression inputs are the same bytes for everyone (zlib level 1, what ours sends by default).
import { createRequire } from 'node:module';
import { randomFillSync } from 'node:crypto';
import path from 'node:path';

const require = createRequire(import.meta.url);
const [mode, json] = process.argv.slice(2);
const opts = JSON.parse(json ?? '{}');
const codec = await import(opts.codec);
const { ConnectionPair, permessageDeflate, pakoBackend, zlibBackend, serializeFrame } = codec;
const PerMessageDeflate = require(path.join(path.dirname(require.resolve('ws')), 'lib/permessage-deflate.js'));

const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

// ---- inputs ---------------------------------------------------------------------------------
let seed = 12345;
const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const WORDS = [
  'alpha',
  'beta',
  'gamma',
  'delta',
  'user',
  'price',
  'status',
  'ok',
  'error',
  'value',
  'Jürgen',
  'order',
  'created',
  'updated',
];
/** JSON-like text of records with varied ids, words, numbers and timestamps (ASCII/UTF-8). */
function jsonText(bytes) {
  const parts = [];
  let n = 0;
  while (n < bytes) {
    const rec = `{"id":${Math.floor(rnd() * 1e7)},"user":"${WORDS[Math.floor(rnd() * WORDS.length)]}_${Math.floor(rnd() * 1000)}","type":"${WORDS[Math.floor(rnd() * WORDS.length)]}","price":${(rnd() * 1000).toFixed(2)},"qty":${Math.floor(rnd() * 50)},"tags":["${WORDS[Math.floor(rnd() * WORDS.length)]}","${WORDS[Math.floor(rnd() * WORDS.length)]}"],"ts":"2026-11-${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')}T${String(Math.floor(rnd() * 24)).padStart(2, '0')}:${String(Math.floor(rnd() * 60)).padStart(2, '0')}:00Z","ok":${rnd() < 0.5}},`;
    parts.push(rec);
    n += rec.length;
  }
  return Buffer.from(parts.join(''));
}
function randomBytes(n) {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i += 65536) randomFillSync(b, i, Math.min(65536, n - i));
  return b;
}
/** N distinct messages of `size` bytes: consecutive slices of one long text, or random bytes. */
function messages(kind, size, count) {
  const all = kind === 'json' ? jsonText(size * count) : randomBytes(size * count);
  return Array.from({ length: count }, (_, i) => all.subarray(i * size, (i + 1) * size));
}

// ---- the contestants ------------------------------------------------------------------------
const LEVEL = 1; // ours' default; ws is run at the same level, and at its own default (zlib's 6)
const params = (noTakeover) =>
  noTakeover
    ? [
        { name: 'server_no_context_takeover', value: null },
        { name: 'client_no_context_takeover', value: null },
      ]
    : [];

function ourPair(backend, noTakeover) {
  const ext = () =>
    permessageDeflate({
      backend,
      serverNoContextTakeover: noTakeover,
      clientNoContextTakeover: noTakeover,
      level: LEVEL,
    });
  const pair = new ConnectionPair({ client: { extensions: [ext()] }, server: { extensions: [ext()] } });
  pair.pump();
  if (pair.client.extensions.length !== 1) throw new Error('permessage-deflate not negotiated');
  return pair;
}

function wsDeflate(isServer, noTakeover, level) {
  const pmd = new PerMessageDeflate({
    isServer,
    threshold: 0,
    serverNoContextTakeover: noTakeover,
    clientNoContextTakeover: noTakeover,
    zlibDeflateOptions: level === undefined ? {} : { level },
  });
  const conf = noTakeover ? { server_no_context_takeover: [true], client_no_context_takeover: [true] } : {};
  pmd.accept([conf]);
  return pmd;
}

/** Compress a batch: returns { run(): void | Promise<void>, size(): compressed bytes of one batch }. */
const compressors = {
  'ours (pako)': (msgs, noTakeover) => ourCompressor(pakoBackend, msgs, noTakeover),
  'ours (node:zlib)': (msgs, noTakeover) => ourCompressor(zlibBackend, msgs, noTakeover),
  'ws (level 1)': (msgs, noTakeover) => wsCompressor(msgs, noTakeover, 1),
  'ws (default, level 6)': (msgs, noTakeover) => wsCompressor(msgs, noTakeover, undefined),
};

function ourCompressor(backend, msgs, noTakeover) {
  return () => {
    const server = ourPair(backend, noTakeover).server;
    server.takeOutput();
    return () => {
      let bytes = 0;
      for (const m of msgs) {
        server.sendBinary(m, true);
        for (const o of server.takeOutput()) if (o.type === 'write') bytes += o.data.length;
      }
      return bytes;
    };
  };
}

function wsCompressor(msgs, noTakeover, level) {
  return () => {
    const pmd = wsDeflate(true, noTakeover, level);
    return () =>
      new Promise((resolve, reject) => {
        let i = 0;
        let bytes = 0;
        const next = () => {
          if (i === msgs.length) return resolve(bytes);
          pmd.compress(msgs[i++], true, (err, out) => {
            if (err) return reject(err);
            bytes += out.length + (out.length < 126 ? 2 : out.length < 65536 ? 4 : 10);
            next();
          });
        };
        next();
      });
  };
}

/** The frames (server → client, unmasked, RSV1) and payloads of a batch compressed by zlib level 1. */
function compressedBatch(msgs, noTakeover) {
  const deflater = zlibBackend.createDeflater({ windowBits: 15, memLevel: 8, level: LEVEL });
  const payloads = msgs.map((m) => {
    const out = deflater.compress(m);
    if (noTakeover) deflater.reset();
    return Buffer.from(out.subarray(0, out.length - 4));
  });
  deflater.dispose();
  const frames = [];
  for (const p of payloads) serializeFrame(frames, true, 4, 2, p, null);
  const wire = Buffer.concat(frames);
  const reads = [];
  for (let at = 0; at < wire.length; at += 65536) reads.push(wire.subarray(at, at + 65536));
  return { payloads, reads, bytes: payloads.reduce((n, p) => n + p.length, 0) };
}

const decompressors = {
  'ours (pako)': (batch, msgs, noTakeover) => ourDecompressor(pakoBackend, batch, msgs, noTakeover),
  'ours (node:zlib)': (batch, msgs, noTakeover) => ourDecompressor(zlibBackend, batch, msgs, noTakeover),
  ws: (batch, msgs, noTakeover) => wsDecompressor(batch, msgs, noTakeover),
};

function ourDecompressor(backend, batch, msgs, noTakeover) {
  return () => {
    const client = ourPair(backend, noTakeover).client;
    return () => {
      let n = 0;
      let bytes = 0;
      for (const read of batch.reads) {
        client.receiveData(read);
        for (let e = client.nextEvent(); e !== null; e = client.nextEvent()) {
          if (e.type !== 'binary') throw new Error(`unexpected ${e.type}: ${JSON.stringify(e).slice(0, 200)}`);
          if (CHECK && !Buffer.from(e.data).equals(msgs[n])) throw new Error(`message ${n} differs`);
          bytes += e.data.length;
          n++;
        }
      }
      if (n !== msgs.length) throw new Error(`${n} of ${msgs.length} messages`);
      return bytes;
    };
  };
}

function wsDecompressor(batch, msgs, noTakeover) {
  return () => {
    const pmd = wsDeflate(false, noTakeover, undefined);
    return () =>
      new Promise((resolve, reject) => {
        let i = 0;
        let bytes = 0;
        const next = () => {
          if (i === batch.payloads.length) return resolve(bytes);
          const at = i++;
          pmd.decompress(batch.payloads[at], true, (err, out) => {
            if (err) return reject(err);
            if (CHECK && !out.equals(msgs[at])) return reject(new Error(`ws message ${at} differs`));
            bytes += out.length;
            next();
          });
        };
        next();
      });
  };
}

let CHECK = false;

/**
 * CPU ms per batch: `make()` builds a fresh connection (untimed) and returns the batch function.
 * One checked batch, one warm-up, then samples until ≈ budget ms; the fastest sample (a sample
 * disturbed by the machine's other jobs is slower, never faster).
 */
async function time(make, budgetMs) {
  CHECK = true;
  const result = await make()();
  CHECK = false;
  await make()();
  const samples = [];
  const start = cpu();
  while (samples.length < 3 || (cpu() - start < budgetMs && samples.length < 15)) {
    const run = make();
    const w0 = performance.now();
    const t0 = cpu();
    await run();
    samples.push({ cpu: cpu() - t0, wall: performance.now() - w0 });
  }
  const best = samples.reduce((a, b) => (b.cpu < a.cpu ? b : a));
  return { cpuMs: best.cpu, wallMs: best.wall, wireBytes: result };
}

async function speed() {
  const sizes = opts.sizes ?? [125, 4096, 65536, 1048576];
  const budget = opts.budgetMs ?? 250;
  const batchBytes = opts.batchBytes ?? 1024 * 1024;
  const order = opts.reverse ? (a) => [...a].reverse() : (a) => a;
  for (const kind of ['json', 'random']) {
    for (const size of sizes) {
      const count = Math.max(2, Math.round((size < 1024 ? batchBytes / 4 : batchBytes) / size));
      const msgs = messages(kind, size, count);
      const total = size * count;
      for (const noTakeover of order([false, true])) {
        const takeover = noTakeover ? 'no takeover' : 'takeover';
        for (const [impl, make] of order(Object.entries(compressors))) {
          const r = await time(make(msgs, noTakeover), budget);
          emit({
            op: 'compress',
            impl,
            kind,
            size,
            takeover,
            messages: count,
            ...r,
            mbps: total / r.cpuMs / 1e3,
            wallMbps: total / r.wallMs / 1e3,
            ratio: r.wireBytes / total,
          });
        }
        const batch = compressedBatch(msgs, noTakeover);
        for (const [impl, make] of order(Object.entries(decompressors))) {
          const r = await time(make(batch, msgs, noTakeover), budget);
          emit({
            op: 'decompress',
            impl,
            kind,
            size,
            takeover,
            messages: count,
            ...r,
            mbps: total / r.cpuMs / 1e3,
            wallMbps: total / r.wallMs / 1e3,
            ratio: batch.bytes / total,
          });
        }
      }
    }
  }
}

function emit(row) {
  delete row.wireBytes;
  process.stdout.write(JSON.stringify(row) + '\n');
}

// ---- memory ---------------------------------------------------------------------------------
/**
 * Bytes per connection that deflate state costs a server endpoint after one compressed message
 * each way (both directions' compressors exist then): RSS growth over K endpoints, after GC.
 * Endpoints are the extension objects alone (ours) or PerMessageDeflate (ws), not whole sockets.
 */
async function memory() {
  const { impl, config, count = 400 } = opts;
  const settings = {
    default: { bits: 15, memLevel: 8, noTakeover: false },
    'no context takeover': { bits: 15, memLevel: 8, noTakeover: true },
    'windows 10 bits, memLevel 5': { bits: 10, memLevel: 5, noTakeover: false },
  }[config];
  const msg = jsonText(4096).subarray(0, 4096);
  const peer = zlibBackend.createDeflater({ windowBits: settings.bits, memLevel: 8, level: 1 });
  const c = peer.compress(msg);
  const incoming = Buffer.from(c.subarray(0, c.length - 4));
  const keep = [];
  const gc = async () => {
    for (let i = 0; i < 3; i++) {
      global.gc();
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const make = async () => {
    if (impl.startsWith('ours')) {
      const backend = impl === 'ours (pako)' ? pakoBackend : zlibBackend;
      const factory = permessageDeflate({
        backend,
        level: 1,
        memLevel: settings.memLevel,
        serverNoContextTakeover: settings.noTakeover,
        serverMaxWindowBits: settings.bits === 15 ? undefined : settings.bits,
        clientMaxWindowBits: settings.bits === 15 ? undefined : settings.bits,
      });
      const offer = [
        { name: 'client_max_window_bits', value: null },
        ...(settings.noTakeover ? [{ name: 'client_no_context_takeover', value: null }] : []),
      ];
      const ext = factory.negotiate([offer]).extension;
      ext.encode(msg, true, true, true);
      ext.decodeStart(4);
      let got = 0;
      const err = ext.decode(incoming, true, (p) => ((got += p.length), true));
      if (err !== null || got !== msg.length) throw new Error(`decode: ${err} ${got}`);
      return ext;
    }
    const pmd = new PerMessageDeflate({
      isServer: true,
      threshold: 0,
      serverNoContextTakeover: settings.noTakeover,
      clientNoContextTakeover: settings.noTakeover,
      serverMaxWindowBits: settings.bits === 15 ? undefined : settings.bits,
      clientMaxWindowBits: settings.bits === 15 ? undefined : settings.bits,
      zlibDeflateOptions: { level: 1, memLevel: settings.memLevel },
    });
    pmd.accept([
      { client_max_window_bits: [true], ...(settings.noTakeover ? { client_no_context_takeover: [true] } : {}) },
    ]);
    await new Promise((resolve, reject) => pmd.compress(msg, true, (e) => (e ? reject(e) : resolve())));
    await new Promise((resolve, reject) =>
      pmd.decompress(incoming, true, (e, out) =>
        e ? reject(e) : out.length === msg.length ? resolve() : reject(new Error('ws decompress')),
      ),
    );
    return pmd;
  };
  // Warm up (module-wide scratch buffers, pools, code), then measure.
  for (let i = 0; i < 20; i++) keep.push(await make());
  await gc();
  const before = process.memoryUsage();
  for (let i = 0; i < count; i++) keep.push(await make());
  await gc();
  const after = process.memoryUsage();
  const per = (k) => (after[k] - before[k]) / count;
  process.stdout.write(
    JSON.stringify({
      impl,
      config,
      count,
      rss: per('rss'),
      heap: per('heapUsed'),
      external: per('external'),
      arrayBuffers: per('arrayBuffers'),
      kept: keep.length,
    }) + '\n',
  );
}

if (mode === 'speed') await speed();
else if (mode === 'memory') await memory();
else throw new Error(`unknown mode ${mode}`);
