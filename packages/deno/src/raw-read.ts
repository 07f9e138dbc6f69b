/**
 * Reading a `Deno.Conn` without `conn.read()`'s wrapper, where this Deno allows it.
 *
 * `conn.read(buffer)` is an async function around Deno's read op: a second promise and a
 * second hop through the microtask queue per read, and a `Set` it adds the op's promise to and
 * removes it from (for `conn.unref()`). At 100 connections × 32 B echoes that wrapper was the
 * largest cost in JavaScript after the write op itself (≈ 7 % of @ws/deno's busy samples), and
 * reading through the op directly gave 1.07× the echoes per server CPU-second (median of 8
 * paired rounds, Deno 2.9).
 *
 * The op and the socket's resource id are Deno internals (`Deno[Deno.internal].core.read`, the
 * conn's `Deno.internal.rid` symbol property), so they are looked up, never assumed: if either is
 * missing (another Deno, a socket made elsewhere, a test double), the transport calls
 * `conn.read()` as before. Reads through the op resolve 0 at the end of the stream, as the op
 * does; `conn.read()` resolves null there. The transport never calls `conn.unref()`, the one
 * thing the wrapper's bookkeeping is for.
 */

/** Reads into `buffer`; resolves the bytes read, 0 at the end of the stream. */
export type RawRead = (buffer: Uint8Array) => Promise<number>;

type ReadOp = (rid: number, buffer: Uint8Array) => Promise<number>;

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

/** The socket's resource id, if this conn carries one where Deno 2 keeps it. */
function ridOf(conn: Deno.Conn): number | null {
  for (const symbol of Object.getOwnPropertySymbols(conn)) {
    if (symbol.description !== 'Deno.internal.rid') continue;
    const rid = (conn as unknown as Record<symbol, unknown>)[symbol];
    return typeof rid === 'number' && Number.isInteger(rid) && rid >= 0 ? rid : null;
  }
  return null;
}

/** A direct read of `conn` through Deno's read op, or null where that is not available. */
export function rawRead(conn: Deno.Conn): RawRead | null {
  if (READ_OP === null) return null;
  const rid = ridOf(conn);
  if (rid === null) return null;
  const op = READ_OP;
  return (buffer) => op(rid, buffer);
}
