// One process of the codec micro-benchmarks. `ws` picks its native addons up at require time,
// so "with" and "without" (WS_NO_BUFFER_UTIL=1 WS_NO_UTF_8_VALIDATE=1) are separate processes;
// ours and the physical limits run in both, so every ratio compares numbers from one process.
//
//   node worker.mjs '<json options>'   → one JSON line per cell on stdout
//
// Units: payload bytes per second (GB/s = 1e9 B/s) and frames (or calls) per second. Every
// implementation is first checked against the expected output on a fresh input.
import { createRequire } from 'node:module';
import path from 'node:path';
import { randomFillSync } from 'node:crypto';

const require = createRequire(import.meta.url);
const opts = JSON.parse(process.argv[2] ?? '{}');
const SIZES = opts.sizes ?? [16, 125, 4096, 65536, 1048576];
const WARM_MS = opts.warmMs ?? 100;
const SAMPLE_MS = opts.sampleMs ?? 6;
const SAMPLES = opts.samples ?? 15;
const OURS_FIRST = opts.oursFirst ?? true;
const READ = 64 * 1024; // bytes per socket read, as Node's net delivers them

const codec = await import(opts.codec);
// A bundle from before the handshake split (Connection.server) or after it (serverConnection).
const serverConnection = codec.serverConnection ?? ((options) => codec.Connection.server(options));
const wsDir = path.dirname(require.resolve('ws'));
const Receiver = require(path.join(wsDir, 'lib/receiver.js'));
const Sender = require(path.join(wsDir, 'lib/sender.js'));
const wsBufferUtil = require(path.join(wsDir, 'lib/buffer-util.js'));
const wsValidation = require(path.join(wsDir, 'lib/validation.js'));
const ADDONS = !process.env.WS_NO_BUFFER_UTIL && /bufferUtil\./.test(String(wsBufferUtil.unmask));
const CONFIG = ADDONS ? 'addons' : 'no-addons';

// ---- timing ---------------------------------------------------------------------------------
// CPU time of this process (user + system, all its threads), not wall time: on a shared machine
// a wall-clock sample also counts the time other jobs held the core (≈ 2–4× here under load),
// CPU time only what this code cost (±15 %).
const now = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

/**
 * Milliseconds per call of fn(): after a warm-up, SAMPLES samples of about SAMPLE_MS each, and the
 * fastest of them. The machines are shared (2 cores, other jobs): a sample disturbed by them is
 * slower (cache, frequency), never faster, so the fastest sample is the best estimate of the code's own speed. The
 * runner then takes the median of that over interleaved processes. Timed in CPU time (below).
 */
function time(fn) {
  let calls = 0;
  const start = now();
  while (now() - start < WARM_MS || calls < 3) {
    fn();
    calls++;
  }
  const per = (now() - start) / calls;
  const n = Math.max(1, Math.round(SAMPLE_MS / per));
  let best = Infinity;
  for (let s = 0; s < SAMPLES; s++) {
    const t0 = now();
    for (let i = 0; i < n; i++) fn();
    best = Math.min(best, (now() - t0) / n);
  }
  return best;
}

function emit(op, impl, size, ms, bytes, frames, extra = {}) {
  const row = {
    config: CONFIG,
    op,
    impl,
    size,
    msPerCall: ms,
    gbps: bytes / ms / 1e6,
    framesPerSec: (frames / ms) * 1000,
    ...extra,
  };
  process.stdout.write(JSON.stringify(row) + '\n');
}

function check(cond, what) {
  if (!cond) throw new Error(`self-check failed: ${what}`);
}

// ---- inputs ---------------------------------------------------------------------------------
function randomBytes(n) {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i += 65536) randomFillSync(b, i, Math.min(65536, n - i));
  return b;
}

const MIXED = 'Grüße, Jürgen — naïve café; 日本語のテキスト; Ελληνικά; emoji 😀🎉; ascii words in between. ';
function text(n, ascii) {
  const unit = ascii ? 'The quick brown fox jumps over the lazy dog 0123456789. ' : MIXED;
  let s = unit.repeat(Math.ceil(n / Buffer.byteLength(unit)) + 1);
  let b = Buffer.from(s);
  // Cut at n bytes, then back off to a code point boundary so the input is valid.
  let end = Math.min(n, b.length);
  while (end > 0 && (b[end] & 0xc0) === 0x80) end--;
  return Buffer.from(b.subarray(0, end));
}

/** `count` masked binary frames of `size` bytes (random payload and key each), as one buffer. */
function maskedWire(size, count) {
  const header = (size < 126 ? 2 : size <= 0xffff ? 4 : 10) + 4;
  const wire = Buffer.allocUnsafe((header + size) * count);
  const payloads = [];
  const all = randomBytes(size * count);
  const keys = randomBytes(4 * count);
  let o = 0;
  for (let f = 0; f < count; f++) {
    const payload = all.subarray(f * size, (f + 1) * size);
    payloads.push(payload);
    wire[o] = 0x82;
    if (size < 126) wire[o + 1] = 0x80 | size;
    else if (size <= 0xffff) {
      wire[o + 1] = 0x80 | 126;
      wire.writeUInt16BE(size, o + 2);
    } else {
      wire[o + 1] = 0x80 | 127;
      wire.writeUInt32BE(0, o + 2);
      wire.writeUInt32BE(size, o + 6);
    }
    const k = o + header - 4;
    keys.copy(wire, k, 4 * f, 4 * f + 4);
    for (let i = 0; i < size; i++) wire[k + 4 + i] = payload[i] ^ wire[k + (i & 3)];
    o += header + size;
  }
  return { wire, payloads };
}

function split(wire, read) {
  const chunks = [];
  for (let i = 0; i < wire.length; i += read) chunks.push(wire.subarray(i, Math.min(i + read, wire.length)));
  return chunks;
}

const HANDSHAKE = Buffer.from(
  'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
);

// ---- parsers under test: feed(chunks) → frames seen; `last` keeps the payloads for the check ----
function wsReceiver() {
  const r = new Receiver({ isServer: true, maxPayload: 0, binaryType: 'nodebuffer' });
  const state = { frames: 0, bytes: 0, keep: null };
  r.on('message', (data) => {
    state.frames++;
    state.bytes += data.length;
    if (state.keep) state.keep.push(Buffer.from(data));
  });
  r.on('error', (e) => {
    throw e;
  });
  return {
    state,
    feed: (chunks) => {
      for (let i = 0; i < chunks.length; i++) r.write(chunks[i]);
    },
  };
}

function ourConnection() {
  const c = serverConnection({ limits: { maxMessageSize: 1 << 30, maxFrameSize: 1 << 30 } });
  c.receiveData(new Uint8Array(HANDSHAKE));
  const req = c.nextEvent();
  check(req?.type === 'request', 'handshake request event');
  c.send({ type: 'accept' });
  while (c.nextEvent() !== null);
  c.takeOutput();
  const state = { frames: 0, bytes: 0, keep: null };
  return {
    state,
    feed: (chunks) => {
      for (let i = 0; i < chunks.length; i++) {
        c.receiveData(chunks[i]);
        let e;
        while ((e = c.nextEvent()) !== null) {
          state.frames++;
          state.bytes += e.data.length;
          if (state.keep) state.keep.push(Buffer.from(e.data));
        }
      }
    },
  };
}

function ourFrameParser() {
  const p = new codec.FrameParser({ expectMasked: true, maxFrameSize: 1 << 30 });
  const { NEED_MORE, PAYLOAD, FAILED } = codec;
  const state = { frames: 0, bytes: 0, keep: null };
  let parts = [];
  return {
    state,
    feed: (chunks) => {
      for (let i = 0; i < chunks.length; i++) {
        p.push(chunks[i]);
        for (;;) {
          const s = p.next();
          if (s === NEED_MORE) break;
          if (s === FAILED) throw new Error(p.errorMessage);
          if (s === PAYLOAD) {
            state.bytes += p.payload.length;
            if (state.keep) parts.push(Buffer.from(p.payload));
            if (p.frameEnd) {
              state.frames++;
              if (state.keep) state.keep.push(Buffer.concat(parts));
              parts = [];
            }
          }
        }
      }
    },
  };
}

const PARSERS = { ours: ourConnection, 'ours (FrameParser)': ourFrameParser, ws: wsReceiver };

function order(list) {
  return OURS_FIRST ? list : [...list].reverse();
}

// ---- the cells ------------------------------------------------------------------------------
function benchParse(size, read, op) {
  const count = Math.max(4, Math.ceil((1 << 20) / size)) | 0;
  const { wire: pristine, payloads } = maskedWire(size, count);
  for (const impl of order(Object.keys(PARSERS))) {
    const wire = Buffer.from(pristine);
    // Check on a fresh copy: every payload unmasked and delivered whole.
    const probe = PARSERS[impl]();
    probe.state.keep = [];
    probe.feed(split(Buffer.from(pristine), read));
    check(probe.state.frames === count, `${impl} parsed ${probe.state.frames}/${count} frames`);
    for (let f = 0; f < count; f++) check(payloads[f].equals(probe.state.keep[f]), `${impl} payload ${f} of ${size} B`);
    // Measure: unmasking in place flips the payloads each pass, which binary frames do not mind.
    const parser = PARSERS[impl]();
    const chunks = split(wire, read);
    const ms = time(() => parser.feed(chunks));
    emit(op, impl, size, ms, size * count, count);
  }
}

function benchBuild(size, masked) {
  const count = Math.max(1, Math.ceil((256 * 1024) / size)) | 0;
  const payload = randomBytes(size);
  const original = Buffer.from(payload);
  const pool = new codec.MaskKeyPool(codec.defaultRandomSource());
  const out = [];
  const ours = () => {
    for (let i = 0; i < count; i++) {
      codec.serializeFrame(out, true, 0, 2, payload, masked ? pool.next() : null);
      out.length = 0;
    }
  };
  const wsOptions = { fin: true, rsv1: false, opcode: 2, mask: masked, readOnly: true };
  const ws = () => {
    for (let i = 0; i < count; i++) Sender.frame(payload, wsOptions);
  };
  // Check: both produce a frame that unmasks to the payload and leave the caller's bytes alone.
  for (const [impl, make] of [
    [
      'ours',
      () => {
        const o = [];
        codec.serializeFrame(o, true, 0, 2, payload, masked ? pool.next() : null);
        return Buffer.concat(o);
      },
    ],
    ['ws', () => Buffer.concat(Sender.frame(payload, wsOptions))],
  ]) {
    const frame = make();
    const p = ourFrameParser();
    p.state.keep = [];
    if (!masked) frame[1] |= 0x80; // let the server-side parser read it: add a zero mask key
    const wire = masked ? frame : Buffer.concat([frame.subarray(0, frame.length - size), Buffer.alloc(4), payload]);
    if (!masked) wire[1] |= 0x80;
    p.feed([wire]);
    check(
      p.state.frames === 1 && p.state.keep[0].equals(original),
      `${impl} builds a ${size} B ${masked ? 'masked' : 'unmasked'} frame`,
    );
    check(payload.equals(original), `${impl} leaves the payload untouched`);
  }
  const op = masked ? 'build masked' : 'build unmasked';
  for (const [impl, fn] of order([
    ['ours', ours],
    ['ws', ws],
  ]))
    emit(op, impl, size, time(fn), size * count, count);
}

function wordXor(buf, key32) {
  // The plain word-wise loop the task names as a limit: aligned Int32 view, one XOR per word.
  const words = new Int32Array(buf.buffer, buf.byteOffset, buf.length >>> 2);
  for (let i = 0; i < words.length; i++) words[i] ^= key32;
}

function benchUnmask(size) {
  const count = Math.max(1, Math.ceil((256 * 1024) / size)) | 0;
  const buf = randomBytes(size + 8).subarray(8); // 8-aligned start, like a pooled socket read
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const key32 = new Int32Array(new Uint8Array(key).buffer)[0];
  // Check: ours equals the reference byte loop, at every phase.
  const ref = Buffer.from(buf);
  for (let i = 0; i < ref.length; i++) ref[i] ^= key[i & 3];
  const mine = Buffer.from(buf);
  codec.applyMask(mine, key, 0);
  check(mine.equals(ref), `applyMask ${size} B`);
  const target = Buffer.allocUnsafe(size);
  const impls = [
    [
      'ours',
      () => {
        for (let i = 0; i < count; i++) codec.applyMask(buf, key, 0);
      },
    ],
    [
      'ws',
      () => {
        for (let i = 0; i < count; i++) wsBufferUtil.unmask(buf, key);
      },
    ],
    [
      'limit: word XOR loop',
      () => {
        for (let i = 0; i < count; i++) wordXor(buf, key32);
      },
    ],
    [
      'limit: copy',
      () => {
        for (let i = 0; i < count; i++) target.set(buf);
      },
    ],
  ];
  for (const [impl, fn] of order(impls)) emit('unmask', impl, size, time(fn), size * count, count);
}

const DECODER = new TextDecoder('utf-8', { fatal: true });
function benchUtf8(size, ascii) {
  const bytes = text(size, ascii);
  const count = Math.max(1, Math.ceil((256 * 1024) / size)) | 0;
  check(codec.isValidUtf8(bytes) && wsValidation.isValidUTF8(bytes), 'valid text');
  const bad = Buffer.from(bytes);
  bad[bad.length >> 1] = 0xff;
  check(!codec.isValidUtf8(bad) && !wsValidation.isValidUTF8(bad), 'invalid text');
  let sink = 0;
  const impls = [
    [
      'ours',
      () => {
        for (let i = 0; i < count; i++) sink += codec.isValidUtf8(bytes) ? 1 : 0;
      },
    ],
    [
      'ws',
      () => {
        for (let i = 0; i < count; i++) sink += wsValidation.isValidUTF8(bytes) ? 1 : 0;
      },
    ],
    [
      'TextDecoder fatal',
      () => {
        for (let i = 0; i < count; i++) sink += DECODER.decode(bytes).length;
      },
    ],
  ];
  const op = ascii ? 'utf8 ascii' : 'utf8 mixed';
  for (const [impl, fn] of order(impls)) emit(op, impl, size, time(fn), bytes.length * count, count);
  return sink;
}

const only = opts.only ? new Set(opts.only) : null;
const want = (op) => only === null || only.has(op);
for (const size of SIZES) {
  if (want('parse')) benchParse(size, READ, 'parse');
  if (want('parse') && size > READ) benchParse(size, size + 14, 'parse (one read)');
  if (want('build')) benchBuild(size, false);
  if (want('build')) benchBuild(size, true);
  if (want('unmask')) benchUnmask(size);
  if (want('utf8')) benchUtf8(size, true);
  if (want('utf8')) benchUtf8(size, false);
}
