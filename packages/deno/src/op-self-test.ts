/**
 * Deno's socket ops, used directly where a self-test has shown that they work: what `raw-read.ts`
 * and `raw-write.ts` share.
 *
 * `conn.read()` and `conn.write()` are JavaScript wrappers around Deno's read and write ops. The
 * ops (`Deno[Deno.internal].core.read`/`.write`) and a conn's resource id (its
 * `Deno.internal.rid` symbol property) are internals: looked up here, never assumed, and then
 * checked once per process by a round trip over a loopback TCP connection ({@link loopbackSelfTest})
 * before any connection uses them. An {@link OpCheck} holds one op's verdict: until its self-test
 * has passed, or if it failed, or if the process may not use 127.0.0.1, connections use the
 * public methods; only conns of the class the self-test used (Deno's TCP conns, not TLS or Unix
 * ones) use the op.
 */

/** One of Deno's core functions, bound to its object, or null where this Deno has none of that name. */
export function coreOp<Op>(name: 'read' | 'write'): Op | null {
  try {
    const internal = (Deno as unknown as { internal?: unknown }).internal;
    if (typeof internal !== 'symbol') return null;
    const core = (Deno as unknown as Record<symbol, { core?: Record<string, unknown> } | undefined>)[internal]?.core;
    const op = core?.[name];
    return typeof op === 'function' ? (op.bind(core) as Op) : null;
  } catch {
    return null;
  }
}

/** The symbol a conn keeps its resource id under, once one was found (every conn has the same). */
let ridSymbol: symbol | null = null;

/** The socket's resource id, if this conn carries one where Deno 2 keeps it. */
export function ridOf(conn: Deno.Conn): number | null {
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

/** A read or write op: reads into or writes `bytes` for the resource `rid`; resolves the byte count. */
export type SocketOp = (rid: number, bytes: Uint8Array) => Promise<number>;

/**
 * One op's verdict for this process: its self-test runs once (`works()`; later calls share it),
 * and {@link ridFor} and {@link op} hand it out only once it has passed.
 */
export class OpCheck<Op extends SocketOp> {
  #verified: { op: Op; kind: unknown } | null = null;
  #verdict: Promise<boolean> | null = null;
  #pending: Promise<boolean> | null = null;
  readonly #op: Op | null;
  /** Resolves the class of conn it used once `op` passed, else null; never rejects. */
  readonly #selfTest: (op: Op | null) => Promise<unknown>;

  constructor(op: Op | null, selfTest: (op: Op | null) => Promise<unknown>) {
    this.#op = op;
    this.#selfTest = selfTest;
  }

  /** Run the self-test once per process with this Deno's op; resolves true once it has passed, and {@link op} is then set. */
  works(): Promise<boolean> {
    return this.#verdict ?? this.retest(this.#op);
  }

  /** The self-test while it runs (a connection waits for it before it reports its close), else null. */
  pending(): Promise<boolean> | null {
    return this.#pending;
  }

  /** @internal Tests: run the self-test again with `op` (a fake one) and use its verdict from now on. */
  retest(op: Op | null): Promise<boolean> {
    this.#verified = null;
    const run = this.#selfTest(op).then((kind) => {
      if (this.#pending === run) this.#pending = null;
      if (kind !== null && op !== null) this.#verified = { op, kind };
      return kind !== null;
    });
    this.#pending = run;
    this.#verdict = run;
    return run;
  }

  /** The op once its self-test has passed, else null. */
  get op(): Op | null {
    return this.#verified === null ? null : this.#verified.op;
  }

  /**
   * `conn`'s resource id, to call {@link op} with, or -1 where the op is not to be used: the
   * self-test has not passed (yet), or `conn` is not of the class it used, or has no resource id.
   * Callers keep the op and the id: no closure or object per conn (a call site that saw a closure
   * per connection was 1.2 % of @ws/deno's busy samples, and a connection's setup allocates nothing).
   */
  ridFor(conn: Deno.Conn): number {
    const v = this.#verified;
    if (v === null || conn.constructor !== v.kind) return -1;
    return ridOf(conn) ?? -1;
  }
}

/** How long a self-test may take before it counts as failed (a loopback round trip takes ≈ 1 ms). */
const SELF_TEST_MS = 2000;

/** May this process listen on and connect to 127.0.0.1 (any port) without a prompt? */
function loopbackAllowed(): boolean {
  try {
    return Deno.permissions.querySync({ name: 'net', host: '127.0.0.1' }).state === 'granted';
  } catch {
    return false;
  }
}

/** Close a socket or listener, if any, that may already be closed. */
export function closeQuietly(resource: { close(): void } | null): void {
  try {
    resource?.close();
  } catch {
    // already closed
  }
}

/**
 * A self-test's loopback round trip: a listener on 127.0.0.1 (port from the OS), a client
 * connected to it and the conn it accepted; `check` gets the two conns and the accepted one's
 * resource id, and resolves whether the op behaved (it may close either conn). Resolves the
 * accepted conn's class when `check` resolved true, else null (also without net permission for
 * 127.0.0.1, on any error, or after `timeoutMs`: 0 is out of time at once, a test's way to stop it
 * while connecting); never rejects. Closes all it opened, also what a round trip cut short by
 * the time limit opens afterwards, and resolves once what it started has settled (closing the
 * conns ends a read or write still pending: `check` must wait on nothing else for long), or
 * SELF_TEST_MS after its own limit where an op does not settle even then.
 */
export async function loopbackSelfTest(
  check: (client: Deno.Conn, server: Deno.Conn, rid: number) => Promise<boolean>,
  timeoutMs = SELF_TEST_MS,
): Promise<unknown> {
  if (!loopbackAllowed()) return null;
  let listener: Deno.Listener | null = null;
  let client: Deno.Conn | null = null;
  let server: Deno.Conn | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Set when the verdict is in (a timeout included): what the round trip opens after that, it closes at once. */
  let settled = false;
  const closeAll = (): void => {
    closeQuietly(client);
    closeQuietly(server);
    closeQuietly(listener);
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
    return rid !== null && (await check(c, s, rid));
  };
  const run = roundTrip().catch(() => false);
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
  // Closing the conns ends what is still pending (after a timeout): wait for it, so nothing is
  // left running; an op that does not settle even then, up to SELF_TEST_MS more.
  if (!ok) {
    let stop: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([run, new Promise<void>((resolve) => (stop = setTimeout(resolve, SELF_TEST_MS)))]);
    clearTimeout(stop);
    closeAll();
  }
  return kind ?? null;
}

/**
 * The self-tests' known bytes: every byte value, in a pattern that a shifted, stale or repeated
 * read or write would not match (no period of 256): block `b` of 256 bytes is one run of the
 * byte values in a fixed order, rotated by `29 * b` places. Built by copies, not byte by byte
 * (a loop over each byte runs unoptimised in a fresh process: ≈ 1 ms per 3,000 bytes).
 */
export function knownBytes(length: number): Uint8Array {
  const base = new Uint8Array(512);
  for (let i = 0; i < 256; i++) base[i] = base[i + 256] = (i * 131 + 7) & 0xff;
  const bytes = new Uint8Array(length);
  for (let at = 0, b = 0; at < length; at += 256, b++) {
    const turn = (b * 29) & 0xff;
    bytes.set(base.subarray(turn, turn + Math.min(256, length - at)), at);
  }
  return bytes;
}
