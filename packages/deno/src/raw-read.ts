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
 * checked (`op-self-test.ts`, shared with `raw-write.ts`): once per process, before any
 * connection uses them, `rawReads.works()` sends known bytes through a loopback TCP connection
 * and reads them back through the op (see {@link rawReadSelfTest}). Until that has passed, or
 * if it failed, or the process may not use 127.0.0.1, connections read with `conn.read()`; only
 * conns of the class the self-test read
 * (Deno's TCP conns, not TLS or Unix ones) use the op. Servers and clients can turn it off
 * (`rawReads: false`). Reads through the op resolve 0 at the end of the stream, as the op does;
 * `conn.read()` resolves null there. The transport never calls `conn.unref()`, the one thing the
 * wrapper's bookkeeping is for.
 */
import { coreOp, knownBytes, loopbackSelfTest, OpCheck } from './op-self-test.ts';

/** Deno's read op: reads the resource `rid` into `buffer`; resolves the bytes read, 0 at the end of the stream. */
export type ReadOp = (rid: number, buffer: Uint8Array) => Promise<number>;

/**
 * The read op for this process: `rawReads.works()` runs the self-test once (later calls share
 * it) and resolves true once it has passed; then `rawReads.op` is the op and
 * `rawReads.ridFor(conn)` the resource id to read `conn` with (`op(rid, buffer)`, resolving 0 at
 * the end of the stream), or -1 where the op is not to be used.
 */
export const rawReads = new OpCheck<ReadOp>(coreOp<ReadOp>('read'), (op) => rawReadSelfTest(op));

/** The sizes of the writes: a read buffer of READ bytes splits the first and the last across reads. */
const WRITES = [1000, 1, 1999];
/** The read buffer: a view this large, GUARD bytes into a larger one whose other bytes must stay as they were. */
const READ = 700;
const GUARD = 16;
const UNTOUCHED = 0xa5;

/**
 * @internal The round trip (`loopbackSelfTest`): the client writes known bytes in three writes
 * and then FIN, and the accepted conn is read through `op` with the resource id found on it,
 * into a view at an offset of a larger buffer, 700 bytes at a time (a read is pending before the
 * first write, and writes are split across reads). Passes when every read resolved a count
 * between 1 and the view's length, wrote only inside the view, the bytes came back exactly, in
 * order, and the read after them resolved 0 (the end of the stream). Resolves the class of the
 * conn it read when it passed, else null (also without an op, or after `timeoutMs`); never
 * rejects, and closes all it opened.
 */
export function rawReadSelfTest(op: ReadOp | null, timeoutMs?: number): Promise<unknown> {
  if (op === null) return Promise.resolve(null);
  return loopbackSelfTest(async (client, _server, rid) => {
    const expected = knownBytes(WRITES.reduce((a, b) => a + b, 0));
    const write = async (): Promise<void> => {
      let at = 0;
      for (const size of WRITES) {
        const end = at + size;
        while (at < end) at += await client.write(expected.subarray(at, end));
      }
      await client.closeWrite();
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
  }, timeoutMs);
}
