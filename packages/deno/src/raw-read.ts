/**
 * Reading a `Deno.Conn` without `conn.read()`'s wrapper, where this Deno allows it and a
 * self-test has shown that it works.
 *
 * `conn.read(buffer)` is an async function around Deno's read op: a second promise and a
 * second hop through the microtask queue per read, and a `Set` it adds the op's promise to and
 * removes it from (for `conn.unref()`). At 100 connections × 32 B echoes that wrapper was the
 * largest cost in JavaScript after the write op itself (≈ 7 % of @ws/deno's busy samples), and
 * reading through the op directly gave 1.07× the echoes per server CPU-second (median of 8
 * paired rounds, Deno 2.9).
 *
 * The op and the socket's resource id are Deno internals (`Deno[Deno.internal].core.read`, the
 * conn's `Deno.internal.rid` symbol property), so they are looked up, never assumed, and then
 * checked: once per process, before any connection uses them, {@link rawReadsWork} sends known
 * bytes through a loopback TCP connection and reads them back through the op (see
 * {@link rawReadSelfTest}). Until that has passed, or if it failed, or the process may not use
 * 127.0.0.1, connections read with `conn.read()`; only conns of the class the self-test read
 * (Deno's TCP conns, not TLS or Unix ones) use the op. Servers and clients can turn it off
 * (`rawReads: false`). Reads through the op resolve 0 at the end of the stream, as the op does;
 * `conn.read()` resolves null there. The transport never calls `conn.unref()`, the one thing the
 * wrapper's bookkeeping is for.
 */

/** Reads into `buffer`; resolves the bytes read, 0 at the end of the stream. */
export type RawRead = (buffer: Uint8Array) => Promise<number>;

/** Deno's read op: reads the resource `rid` into `buffer`. */
export type ReadOp = (rid: number, buffer: Uint8Array) => Promise<number>;

const READ_OP: ReadOp | null = (() => {
  try {
    const internal = (Deno as unknown as { internal?: unknown }).internal;
    if (typeof internal !== 'symbol') return null;
    const core = (Deno as unknown as Record<symbol, { core?: { read?: unknown } } | undefined>)[internal]?.core;
    const read = core?.read;
    return typeof read === 'function' ? (read.bind(core) as ReadOp) : null;
  } catch {
    return null;
  }
})();

/** The symbol a conn keeps its resource id under, once one was found (every conn has the same). */
let ridSymbol: symbol | null = null;

/** The socket's resource id, if this conn carries one where Deno 2 keeps it. */
function ridOf(conn: Deno.Conn): number | null {
  // The symbol found before, else looked for (a list of the conn's symbols: once per process).
  let symbol = ridSymbol !== null && Object.hasOwn(conn, ridSymbol) ? ridSymbol : null;
  if (symbol === null) {
    symbol = Object.getOwnPropertySymbols(conn).find((s) => s.description === 'Deno.internal.rid') ?? null;
    if (symbol === null) return null;
    ridSymbol = symbol;
  }
  const rid = (conn as unknown as Record<symbol, unknown>)[symbol];
  return typeof rid === 'number' && Number.isInteger(rid) && rid >= 0 ? rid : null;
}

/** What a passed self-test verified: the op, and the class of conn it read. */
interface Verified {
  op: ReadOp;
  kind: unknown;
}

let verified: Verified | null = null;
let verdict: Promise<boolean> | null = null;
let pending: Promise<boolean> | null = null;

/**
 * A direct read of `conn` through Deno's read op, or null where that is not available: the
 * self-test has not passed (yet), or `conn` is not of the class it read, or has no resource id.
 */
export function rawRead(conn: Deno.Conn): RawRead | null {
  const v = verified;
  if (v === null || conn.constructor !== v.kind) return null;
  const rid = ridOf(conn);
  if (rid === null) return null;
  const op = v.op;
  return (buffer) => op(rid, buffer);
}

/**
 * Run the self-test once per process (later calls share it) with this Deno's op; resolves true
 * once it has passed, and {@link rawRead} then reads through the op.
 */
export function rawReadsWork(): Promise<boolean> {
  return verdict ?? retestRawReads(READ_OP);
}

/** The self-test while it runs (a connection waits for it before its first read and its close), else null. */
export function rawReadsPending(): Promise<boolean> | null {
  return pending;
}

/** @internal Tests: run the self-test again with `op` (a fake one) and use its verdict from now on. */
export function retestRawReads(op: ReadOp | null): Promise<boolean> {
  verified = null;
  const run = rawReadSelfTest(op).then((kind) => {
    if (pending === run) pending = null;
    if (kind !== null && op !== null) verified = { op, kind };
    return kind !== null;
  });
  pending = run;
  verdict = run;
  return run;
}

/** The self-test's known bytes: every byte value, in a pattern a shifted, stale or repeated read would not match. */
function knownBytes(): Uint8Array {
  const bytes = new Uint8Array(3000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 7) & 0xff;
  return bytes;
}

/** The sizes of the writes: a read buffer of READ bytes splits the first and the last across reads. */
const WRITES = [1000, 1, 1999];
/** The read buffer: a view this large, GUARD bytes into a larger one whose other bytes must stay as they were. */
const READ = 700;
const GUARD = 16;
const UNTOUCHED = 0xa5;
/** How long the self-test may take before it counts as failed (a loopback round trip takes ≈ 1 ms). */
const SELF_TEST_MS = 2000;

/** May this process listen on and connect to 127.0.0.1 (any port) without a prompt? */
function loopbackAllowed(): boolean {
  try {
    return Deno.permissions.querySync({ name: 'net', host: '127.0.0.1' }).state === 'granted';
  } catch {
    return false;
  }
}

const close = (resource: { close(): void } | null): void => {
  try {
    resource?.close();
  } catch {
    // already closed
  }
};

/**
 * @internal The round trip: a listener on 127.0.0.1 (port from the OS), a client that writes
 * known bytes in three writes and then FIN, and the accepted conn read through `op` with the
 * resource id found on it, into a view at an offset of a larger buffer, 700 bytes at a time (a
 * read is pending before the first write, and writes are split across reads). Passes when every
 * read resolved a count between 1 and the view's length, wrote only inside the view, the bytes
 * came back exactly, in order, and the read after them resolved 0 (the end of the stream).
 * Resolves the class of the conn it read when it passed, else null (also without the
 * permission, on any error, or after `timeoutMs`: SELF_TEST_MS unless a test says); never
 * rejects. Closes all it opened, also what a round trip cut short by the time limit opens
 * afterwards, and resolves once the reads and writes it started have settled.
 */
export async function rawReadSelfTest(op: ReadOp | null, timeoutMs = SELF_TEST_MS): Promise<unknown> {
  if (op === null || !loopbackAllowed()) return null;
  let listener: Deno.Listener | null = null;
  let client: Deno.Conn | null = null;
  let server: Deno.Conn | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Set when the verdict is in (a timeout included): what the round trip opens after that, it closes at once. */
  let settled = false;
  const closeAll = (): void => {
    close(client);
    close(server);
    close(listener);
  };
  const roundTrip = async (): Promise<boolean> => {
    const l = Deno.listen({ hostname: '127.0.0.1', port: 0, transport: 'tcp' });
    listener = l;
    const [connected, accepted] = await Promise.allSettled([
      Deno.connect({ hostname: '127.0.0.1', port: (l.addr as Deno.NetAddr).port, transport: 'tcp' }),
      l.accept(),
    ]);
    if (connected.status === 'fulfilled') client = connected.value;
    if (accepted.status === 'fulfilled') server = accepted.value;
    if (settled) {
      // Timed out while connecting: closeAll() ran before these existed.
      closeAll();
      return false;
    }
    const c = client;
    const s = server;
    if (c === null || s === null) return false;
    const rid = ridOf(s);
    if (rid === null) return false;
    const expected = knownBytes();
    const write = async (): Promise<void> => {
      let at = 0;
      for (const size of WRITES) {
        const end = at + size;
        while (at < end) at += await c.write(expected.subarray(at, end));
      }
      await c.closeWrite();
    };
    const read = async (): Promise<boolean> => {
      const area = new Uint8Array(READ + 2 * GUARD);
      let at = 0;
      for (let reads = 0; reads <= expected.length; reads++) {
        area.fill(UNTOUCHED);
        const n: unknown = await op(rid, area.subarray(GUARD, GUARD + READ));
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > READ || at + n > expected.length)
          return false;
        if (n === 0) return at === expected.length;
        for (let i = 0; i < area.length; i++) {
          // The bytes read, where they belong; outside the view, nothing written.
          const inView = i >= GUARD && i < GUARD + READ;
          const want = inView ? (i < GUARD + n ? expected[at + i - GUARD] : area[i]) : UNTOUCHED;
          if (area[i] !== want) return false;
        }
        at += n;
      }
      return false;
    };
    const [wrote, readBack] = await Promise.allSettled([write(), read()]);
    return wrote.status === 'fulfilled' && readBack.status === 'fulfilled' && readBack.value;
  };
  const run = roundTrip().catch(() => false);
  // 0 ms: out of time before anything could happen (a test's way to stop it while connecting).
  const timeout =
    timeoutMs === 0
      ? Promise.resolve(false)
      : new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), timeoutMs);
        });
  const ok = await Promise.race([run, timeout]);
  settled = true;
  clearTimeout(timer);
  const kind = ok ? (server as Deno.Conn | null)?.constructor : null;
  closeAll();
  // Closing the conns ends what is still pending (after a timeout): wait for it, so nothing is left running.
  if (!ok) {
    await run;
    closeAll();
  }
  return kind ?? null;
}
