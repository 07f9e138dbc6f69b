// The server's echo path in one process, without sockets: a fake socket (a stream.Duplex whose
// writes complete at once) feeds one masked 32-byte frame per 'data' event, as a read of one
// message would, and the server echoes it. What is left is each library's own JavaScript per
// message: parsing, events, the send path and Node's stream machinery (no syscalls), measured
// in CPU time, which stays meaningful on a loaded machine where socket benchmarks do not.
//   node src/e2e/inproc.mjs [--quick]   → JSON lines
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
  setNoDelay() { return this; }
  setTimeout() { return this; }
  setKeepAlive() { return this; }
}

function frames(size, count) {
  const out = [];
  for (let i = 0; i < count; i++) {
    const f = Buffer.allocUnsafe(size + 6);
    f[0] = 0x82;
    f[1] = 0x80 | size;
    randomFillSync(f, 2);
    out.push(f);
  }
  return out;
}

const HANDSHAKE = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');

async function oursServer() {
  const node = await import(await buildNode());
  return async () => {
    const socket = new FakeSocket();
    const { ServerSession } = await sessionExports();
    const transport = new node.NodeTransport(socket);
    let opened;
    const ready = new Promise((r) => (opened = r));
    const s = new ServerSession(transport, {}, (ws) => {
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
  await build({ entryPoints: [path.join(BENCH, '../codec/src/session/index.ts')], bundle: true, format: 'esm', platform: 'node', conditions: ['source'], target: 'node20', outfile, logLevel: 'error' });
  sessionModule = await import(outfile);
  return sessionModule;
}

function wsServer() {
  const wsDir = path.dirname(require.resolve('ws'));
  const WebSocket = require(path.join(wsDir, 'lib/websocket.js'));
  return async () => {
    const socket = new FakeSocket();
    const ws = new WebSocket(null, undefined, {});
    ws.setSocket(socket, Buffer.alloc(0), { allowSynchronousEvents: true, maxPayload: 100 * 1024 * 1024, skipUTF8Validation: false });
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    await new Promise((r) => setImmediate(r)); // the socket starts flowing on the next tick
    return socket;
  };
}

const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };

export async function runInproc({ quick = false } = {}) {
  const impls = [['@ws/node', await oursServer()], ['ws', wsServer()]].filter(([n]) => !process.env.INPROC_ONLY || process.env.INPROC_ONLY === n);
  // Same-process ratio: ws's addons are whatever this process loaded (see the config field).
  const input = frames(32, 4096);
  const rows = [];
  const rounds = quick ? 3 : 41;
  const sockets = {};
  for (const [name, make] of impls) sockets[name] = await make();
  const run = (socket) => { for (let i = 0; i < input.length; i++) socket.push(input[i]); };
  for (const [name] of impls) for (let i = 0; i < 30; i++) run(sockets[name]);
  // Paired rounds (both, alternating which goes first) so machine noise hits both alike.
  const per = Object.fromEntries(impls.map(([n]) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name] of r % 2 ? [...impls].reverse() : impls) {
      const socket = sockets[name];
      const before = socket.written;
      const t0 = cpu();
      run(socket);
      const ms = cpu() - t0;
      if (socket.written - before !== input.length * 34) throw new Error(`${name}: echoed ${socket.written - before} bytes, expected ${input.length * 34}`);
      per[name].push(ms / input.length);
    }
  }
  const addons = /bufferUtil\./.test(String(require(path.join(path.dirname(require.resolve('ws')), 'lib/buffer-util.js')).unmask));
  const med = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
  for (const [name] of impls) {
    const ratios = impls.length > 1 ? per[name].map((x, i) => per.ws[i] / x) : [];
    rows.push({ impl: name, addons, usPerEcho: med(per[name]) * 1000, bestUsPerEcho: Math.min(...per[name]) * 1000, speedupVsWs: ratios.length ? med(ratios) : null });
  }
  return rows;
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  for (const row of await runInproc({ quick: process.argv.includes('--quick') })) console.log(JSON.stringify(row));
}
