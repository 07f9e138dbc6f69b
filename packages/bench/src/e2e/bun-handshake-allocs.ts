// What one `@ws/bun` handshake allocates on the JavaScript heap, step by step, counted with
// JavaScriptCore's own cell counts (`heapStats().objectTypeCounts` from `bun:jsc`).
//
//   node_modules/.bin/bun --conditions source packages/bench/src/e2e/bun-handshake-allocs.ts [--bare] [--rounds N] [--time]
//
// The standalone server's own path (`createServer(...).listen()`, its `open` handler and
// `socketHandlers`), over stubbed sockets: `Bun.listen` is replaced before `listen()` so that
// the handlers it is given can be called directly. Each round: 300 sockets accepted (`open`),
// then each sent the load generator's request (`data`: head parsed and validated, the 101
// written, the connection open), then each reset by the peer (`close` with an ECONNRESET error,
// as Bun reports it). Cells counted before and after each step, nothing collected in between
// (a round is discarded when a collection ran inside it: the counts went down). Options: the
// echo server's (`permessageDeflate()`, a `fetch` handler, `message` and `error` listeners),
// or with `--bare` none of them. Prints cells per handshake by type, per step; the median of
// the rounds that counted. `--time`: CPU time per handshake over the same path instead (warm
// caches: a server's handshakes cost far more, see the README's "Bun, third pass").
import { heapStats } from 'bun:jsc';
import { createServer, permessageDeflate } from '../../../bun/src/index.ts';
import { echoFetch } from '../../../codec/src/session/tooling/index.ts';

const argv = process.argv.slice(2);
const bare = argv.includes('--bare');
const roundsAt = argv.indexOf('--rounds');
const ROUNDS = roundsAt >= 0 ? Number(argv[roundsAt + 1]) : 7;
const N = 300;

// ---- the listener's handlers, captured ----
type Handlers = {
  open(socket: FakeSocket): void;
  data(socket: FakeSocket, chunk: Uint8Array): void;
  close(socket: FakeSocket, error?: unknown): void;
};
let handlers: Handlers | null = null;
(Bun as unknown as { listen: unknown }).listen = (options: { socket: Handlers }) => {
  handlers = options.socket;
  return { hostname: '127.0.0.1', port: 1, stop() {} };
};

/** What `BunTransport` and the server read of a Bun socket. */
class FakeSocket {
  data: unknown = undefined;
  remoteAddress = '127.0.0.1';
  remotePort = 40000;
  authorized = true;
  written = 0;
  closed = false;
  write(chunk: Uint8Array, offset = 0, length = chunk.length - offset): number {
    this.written += length;
    return length;
  }
  pause(): void {}
  resume(): void {}
  shutdown(): void {}
  terminate(): void {
    if (this.closed) return;
    this.closed = true;
    handlers?.close(this);
  }
  getAuthorizationError(): null {
    return null;
  }
}

const server = createServer(
  bare ? {} : { extensions: [permessageDeflate()], fetch: echoFetch },
  bare
    ? undefined
    : (ws) => {
        ws.on('message', (data) => ws.send(data));
        ws.on('error', () => {});
      },
);
await server.listen(0, '127.0.0.1');
const h = handlers as Handlers | null;
if (h === null) throw new Error('listen() did not call Bun.listen');

const REQUEST = new TextEncoder().encode(
  'GET / HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
);

type Counts = Record<string, number>;
const counts = (): Counts => ({ ...heapStats().objectTypeCounts });
const total = (c: Counts): number => Object.values(c).reduce((a, b) => a + b, 0);
let overhead: Counts = {};
function delta(before: Counts, after: Counts): Counts | null {
  const out: Counts = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const raw = (after[key] ?? 0) - (before[key] ?? 0);
    if (raw < 0) return null; // something was collected: this step's count is incomplete
    const d = Math.max(0, raw - (overhead[key] ?? 0));
    if (d !== 0) out[key] = d;
  }
  return out;
}

const steps = ['accept', 'request → 101', 'reset'] as const;
function round(record: boolean): Array<Counts | null> {
  const sockets: FakeSocket[] = [];
  for (let i = 0; i < N; i++) sockets.push(new FakeSocket());
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < N; i++) chunks.push(REQUEST.slice());
  const errors: Error[] = [];
  for (let i = 0; i < N; i++)
    errors.push(Object.assign(new Error('ECONNRESET: connection reset by peer, read'), { code: 'ECONNRESET' }));
  const marks: Counts[] = [];
  if (record) {
    // What counting itself allocates (the counts object), subtracted from every step.
    const a = counts();
    const b = counts();
    overhead = delta(a, b) ?? {};
    if (process.env.SHOW_OVERHEAD) console.log(overhead);
    marks.push(counts());
  }
  for (const s of sockets) h?.open(s);
  if (record) marks.push(counts());
  for (let i = 0; i < N; i++) h?.data(sockets[i] as FakeSocket, chunks[i] as Uint8Array);
  if (record) marks.push(counts());
  for (let i = 0; i < N; i++) {
    const s = sockets[i] as FakeSocket;
    if (s.closed) continue;
    s.closed = true;
    h?.close(s, errors[i]);
  }
  if (record) marks.push(counts());
  if (!record) return [];
  const out = [0, 1, 2].map((i) => delta(marks[i] as Counts, marks[i + 1] as Counts));
  overhead = {};
  return out;
}

// Warm up (the structures exist and the code is compiled, as in a server that has run a while).
for (let i = 0; i < 40; i++) round(false);
await new Promise((resolve) => setTimeout(resolve, 50));
if (server.connections.size !== 0) throw new Error(`${server.connections.size} connections left open`);

if (argv.includes('--time')) {
  // CPU time per handshake instead (GC included): rounds of 20,000, after more warm-up; the median.
  const cpu = (): number => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  for (let i = 0; i < 200; i++) round(false);
  const times: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = cpu();
    for (let i = 0; i < 20_000 / N; i++) round(false);
    times.push((cpu() - start) / 20_000);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  times.sort((a, b) => a - b);
  const rounded = times.map((t) => t.toFixed(2)).join(', ');
  console.log(`µs of CPU per handshake, median of ${ROUNDS}: ${times[(ROUNDS - 1) >> 1]?.toFixed(2)} (${rounded})`);
  process.exit(0);
}

const per: Array<Counts[]> = [[], [], []];
for (let r = 0; r < ROUNDS; r++) {
  Bun.gc(true);
  const result = round(true);
  result.forEach((d, i) => {
    if (d !== null) per[i]?.push(d);
  });
  await new Promise((resolve) => setTimeout(resolve, 10));
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[(s.length - 1) >> 1] as number);
};
console.log(`@ws/bun handshake allocations (${bare ? 'no options' : "echo server's options"}), cells per handshake:`);
let sum = 0;
steps.forEach((name, i) => {
  const rounds = per[i] as Counts[];
  const keys = new Set(rounds.flatMap((c) => Object.keys(c)));
  const row: string[] = [];
  for (const key of [...keys].sort()) {
    const m = median(rounds.map((c) => c[key] ?? 0)) / N;
    if (m >= 0.05) row.push(`${key} ${m.toFixed(2)}`);
  }
  const t = median(rounds.map(total)) / N;
  sum += t;
  console.log(`  ${name}: ${t.toFixed(1)} (${rounds.length} rounds) — ${row.join(', ')}`);
});
console.log(`  total: ${sum.toFixed(1)}`);
process.exit(0);
