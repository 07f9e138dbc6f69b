// The server's echo path in one process, without sockets: a fake socket (a stream.Duplex whose
// writes complete at once) feeds one masked frame per 'data' event, as a read of one message
// would, and the server echoes it: 32-byte binary messages, and text of 32 and 1000 bytes (each
// server echoes what its API gives: ws a Buffer, @ws/node a string). What is left is each
// library's own JavaScript per message: parsing, UTF-8, events, the send path and Node's stream
// machinery (no syscalls), measured in CPU time, which stays meaningful on a loaded machine where
// socket benchmarks do not.
//   node src/e2e/inproc.mjs [--quick]   → JSON lines
//   INPROC_OPTIONS='{"timeouts":{"keepaliveInterval":0}}' sets our server's session options (A/B of a default).
import { createRequire } from 'node:module';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { randomFillSync } from 'node:crypto';
import { buildNode, BENCH } from '../lib/build.mjs';

const require = createRequire(path.join(BENCH, 'package.json'));

class FakeSocket extends Duplex {
  constructor() {
    super({ allowHalfOpen: true });
    this.written = 0;
    this.writes = 0;
    this.remoteAddress = '127.0.0.1';
    this.remotePort = 1;
  }
  _read() {}
  _write(chunk, _enc, cb) {
    this.written += chunk.length;
    this.writes++;
    cb();
  }
  _writev(chunks, cb) {
    for (const { chunk } of chunks) this.written += chunk.length;
    this.writes++;
    cb();
  }
  setNoDelay() {
    return this;
  }
  setTimeout() {
    return this;
  }
  setKeepAlive() {
    return this;
  }
}

/** The messages echoed: binary payloads are random; text is JSON-like ASCII. */
export const INPROC_MESSAGES = [
  { id: 'binary-32', label: '32 B binary', text: false, size: 32 },
  { id: 'text-32', label: '32 B text', text: true, size: 32 },
  { id: 'text-1000', label: '1000 B text', text: true, size: 1000 },
];

/** `count` masked client frames (random keys) of `size` bytes, binary or text. */
function frames({ text, size }, count) {
  const header = size < 126 ? 2 : 4;
  const json = Buffer.from(
    '{"id":12345,"user":"someone","tags":["a","b"],"ok":true}'.repeat(Math.ceil(size / 56)).slice(0, size),
  );
  const out = [];
  for (let i = 0; i < count; i++) {
    const f = Buffer.allocUnsafe(header + 4 + size);
    f[0] = text ? 0x81 : 0x82;
    if (size < 126) f[1] = 0x80 | size;
    else {
      f[1] = 0x80 | 126;
      f.writeUInt16BE(size, 2);
    }
    randomFillSync(f, header);
    if (text) for (let j = 0; j < size; j++) f[header + 4 + j] = json[j] ^ f[header + (j & 3)];
    out.push(f);
  }
  return out;
}

const HANDSHAKE = Buffer.from(
  'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
);

/** Our server's options: the defaults, or `INPROC_OPTIONS` (JSON). */
const SESSION_OPTIONS = process.env.INPROC_OPTIONS ? JSON.parse(process.env.INPROC_OPTIONS) : {};

async function oursServer() {
  const node = await import(await buildNode());
  return async () => {
    const socket = new FakeSocket();
    const { ServerSession } = await sessionExports();
    const transport = new node.NodeTransport(socket);
    let opened;
    const ready = new Promise((r) => (opened = r));
    const s = new ServerSession(transport, SESSION_OPTIONS, (ws) => {
      ws.on('message', (data) => ws.send(data));
      opened();
    });
    transport.attach(s);
    socket.push(HANDSHAKE);
    await ready;
    await new Promise((r) => setImmediate(r));
    return socket;
  };
}

let sessionModule = null;
async function sessionExports() {
  // ServerSession is the session layer's; @ws/node re-exports only what users need, so bundle it.
  if (sessionModule) return sessionModule;
  const { build } = await import('esbuild');
  const outfile = path.join(BENCH, '.build/session.mjs');
  await build({
    entryPoints: [path.join(BENCH, '../codec/src/session/index.ts')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    conditions: ['source'],
    target: 'node20',
    outfile,
    logLevel: 'error',
  });
  sessionModule = await import(outfile);
  return sessionModule;
}

function wsServer() {
  const wsDir = path.dirname(require.resolve('ws'));
  const WebSocket = require(path.join(wsDir, 'lib/websocket.js'));
  return async () => {
    const socket = new FakeSocket();
    const ws = new WebSocket(null, undefined, {});
    ws.setSocket(socket, Buffer.alloc(0), {
      allowSynchronousEvents: true,
      maxPayload: 100 * 1024 * 1024,
      skipUTF8Validation: false,
    });
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    await new Promise((r) => setImmediate(r)); // the socket starts flowing on the next tick
    return socket;
  };
}

const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

export async function runInproc({ quick = false } = {}) {
  const impls = [
    ['@ws/node', await oursServer()],
    ['ws', wsServer()],
  ].filter(([n]) => !process.env.INPROC_ONLY || process.env.INPROC_ONLY === n);
  // Same-process ratio: ws's addons are whatever this process loaded (see the config field).
  const addons = /bufferUtil\./.test(
    String(require(path.join(path.dirname(require.resolve('ws')), 'lib/buffer-util.js')).unmask),
  );
  const rows = [];
  const rounds = quick ? 3 : 41;
  const med = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
  for (const message of INPROC_MESSAGES) {
    const input = frames(message, 4096);
    const echoed = input.reduce((n, f) => n + f.length - 4, 0); // the same frames, unmasked
    const sockets = {};
    for (const [name, make] of impls) sockets[name] = await make();
    // Both servers unmask in place. Binary payloads may stay scrambled; text must stay text, so
    // each run gets fresh copies, made before its timed part.
    const batch = () => (message.text ? input.map((f) => Buffer.from(f)) : input);
    const run = (socket, chunks) => {
      for (let i = 0; i < chunks.length; i++) socket.push(chunks[i]);
    };
    for (const [name] of impls) for (let i = 0; i < 30; i++) run(sockets[name], batch());
    // Paired rounds (both, alternating which goes first) so machine noise hits both alike.
    const per = Object.fromEntries(impls.map(([n]) => [n, []]));
    for (let r = 0; r < rounds; r++) {
      for (const [name] of r % 2 ? [...impls].reverse() : impls) {
        const socket = sockets[name];
        const chunks = batch();
        const before = socket.written;
        const t0 = cpu();
        run(socket, chunks);
        const ms = cpu() - t0;
        if (socket.written - before !== echoed)
          throw new Error(`${name}, ${message.label}: echoed ${socket.written - before} bytes, expected ${echoed}`);
        per[name].push(ms / input.length);
      }
    }
    for (const [name] of impls) {
      const ratios = impls.length > 1 ? per[name].map((x, i) => per.ws[i] / x) : [];
      rows.push({
        impl: name,
        message: message.id,
        addons,
        usPerEcho: med(per[name]) * 1000,
        bestUsPerEcho: Math.min(...per[name]) * 1000,
        speedupVsWs: ratios.length ? med(ratios) : null,
      });
    }
  }
  return rows;
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  for (const row of await runInproc({ quick: process.argv.includes('--quick') })) console.log(JSON.stringify(row));
}
