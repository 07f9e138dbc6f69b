/**
 * Writing a `Deno.Conn` without `conn.write()`'s wrappers, where this Deno allows it and a
 * self-test has shown that it works.
 *
 * `conn.write(data)` is `Conn.prototype.write` calling Deno's I/O `write` function calling the
 * write op: two JavaScript calls around the op per write, ≈ 1.5 % of @ws/deno's busy samples at
 * 100 connections × 32 B. Writing through the op directly skips them.
 *
 * The op and the socket's resource id are Deno internals (`Deno[Deno.internal].core.write`, the
 * conn's `Deno.internal.rid` symbol property), looked up and checked as the read op is
 * (`op-self-test.ts`): once per process, before any connection uses it, `rawWrites.works()`
 * writes known bytes through the op on a loopback TCP connection and reads them back with
 * `conn.read()` (see {@link rawWriteSelfTest}): small writes, writes the kernel takes only part
 * of, a write that stays pending while the socket's buffers are full and completes once the peer
 * reads, and a close while a write is pending. Until that has passed, or if it failed, or the
 * process may not use 127.0.0.1, connections write with `conn.write()`; only conns of the class
 * the self-test wrote (Deno's TCP conns, not TLS or Unix ones) use the op. Off unless a server
 * or client asks for it (`rawWrites: true`): paired with `conn.write()` on a quiet machine it
 * echoed 0.99× as many messages per CPU-second (8 rounds), while its self-test costs the first
 * `listen` ≈ 20 ms of CPU.
 */
import { closeQuietly, coreOp, knownBytes, loopbackSelfTest, OpCheck, ridOf } from './op-self-test.ts';

/** Deno's write op: writes `data` (or its first part) to the resource `rid`; resolves the bytes written. */
export type WriteOp = (rid: number, data: Uint8Array) => Promise<number>;

/**
 * The write op for this process: `rawWrites.works()` runs the self-test once (later calls share
 * it) and resolves true once it has passed; then `rawWrites.op` is the op and
 * `rawWrites.ridFor(conn)` the resource id to write `conn` with (`op(rid, data)`, resolving the
 * bytes written as `conn.write()` does), or -1 where the op is not to be used.
 */
export const rawWrites = new OpCheck<WriteOp>(coreOp<WriteOp>('write'), (op) => rawWriteSelfTest(op));

/** The first writes' sizes (each written whole, over as many writes as the op needs). */
const SMALL = [1000, 1, 1999];
/** The size of the writes that fill the socket's buffers (≈ 4 MB on Linux's loopback before one stays pending). */
const LARGE = 256 * 1024;
/** The writes that fill the buffers give up (the self-test fails) past this many bytes without one pending. */
const FILL_MAX = 64 * 1024 * 1024;
/**
 * The stream repeats the known bytes with this period: a prime, so that no read or write size
 * used here is a multiple of it (a stale or repeated buffer would not match).
 */
const PERIOD = 4093;
/** Each write goes out from a view this far into a buffer whose other bytes are SCRIBBLE. */
const OFFSET = 16;
const SCRIBBLE = 0x5a;
/** The client's read buffer. */
const READ = 64 * 1024;

/**
 * Are the first `words` words of `got` those of `expected` from `first` on? A function of its
 * own, so that V8 optimises it after a few calls: inline in the read loop, the check of ≈ 4.5 MB
 * cost 12–20 ms of CPU in a fresh process, 3–6 ms this way.
 */
function sameWords(got: Uint32Array, expected: Uint32Array, first: number, words: number): boolean {
  for (let w = 0; w < words; w++) if (got[w] !== expected[first + w]) return false;
  return true;
}

const PENDING = Symbol('pending');
/** `write` settled, or PENDING if it has not after a turn of the event loop (a timer). */
function settledOrPending(write: Promise<number>): Promise<number | typeof PENDING> {
  return Promise.race([write, new Promise<typeof PENDING>((resolve) => setTimeout(() => resolve(PENDING), 0))]);
}

/**
 * @internal The round trip (`loopbackSelfTest`): the accepted conn is written through `op` with
 * the resource id found on it, and the client reads what arrives with `conn.read()` and checks
 * every byte against the stream of known bytes. Each write goes out from a view at an offset of
 * a larger buffer (bytes outside the view must not leave), and the buffer is scribbled over as
 * soon as the write settles (what was not yet sent then must not leave either). In order:
 * 1. three small writes (1000, 1, 1999 bytes), read back;
 * 2. writes of 256 KiB until one has not settled after a turn of the event loop (the kernel's
 *    buffers are full: the last ones are taken in part), then the client reads: the pending
 *    write must complete, the rest of its chunk is written, and every byte must arrive;
 * 3. the other direction's buffers filled through the op on the client's conn until a write is
 *    pending, and that conn closed under it: the write must settle (rejected, or resolved with
 *    a count as above).
 * Every write must resolve an integer between 1 and the bytes given. Resolves the class of the
 * conn it wrote when it passed, else null (also without an op, or after `timeoutMs`); never
 * rejects, and closes all it opened.
 */
export function rawWriteSelfTest(op: WriteOp | null, timeoutMs?: number): Promise<unknown> {
  if (op === null) return Promise.resolve(null);
  return loopbackSelfTest(async (client, server, rid) => {
    // The stream: byte i is source[i % PERIOD]; source holds it from any offset below PERIOD, LARGE bytes on.
    const source = new Uint8Array(PERIOD + LARGE);
    source.set(knownBytes(PERIOD));
    for (let filled = PERIOD; filled < source.length; filled *= 2)
      source.copyWithin(filled, 0, Math.min(filled, source.length - filled));
    const out = new Uint8Array(OFFSET + LARGE + OFFSET).fill(SCRIBBLE);
    /** Bytes the op said it wrote. */
    let sent = 0;
    /** Start a write of `size` bytes of the stream from `sent` on, to the resource `to`. */
    const start = (to: number, size: number): Promise<number> => {
      const from = sent % PERIOD;
      out.set(source.subarray(from, from + size), OFFSET);
      return op(to, out.subarray(OFFSET, OFFSET + size));
    };
    /** The write of `size` bytes settled with `n`: false unless a count it could have written. */
    const settled = (n: unknown, size: number): boolean => {
      out.fill(SCRIBBLE, OFFSET, OFFSET + size);
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > size) return false;
      sent += n;
      return true;
    };
    /** Write the stream to the accepted conn up to `end`, however many writes that takes. */
    const writeTo = async (end: number): Promise<boolean> => {
      while (sent < end) {
        const size = end - sent;
        if (!settled(await start(rid, size), size)) return false;
      }
      return true;
    };
    /** Fill the buffers of `to`: the first write that stays pending (its size), or null after FILL_MAX bytes. */
    const fill = async (to: number): Promise<{ write: Promise<number>; size: number } | null> => {
      for (const end = sent + FILL_MAX; sent < end; ) {
        const write = start(to, LARGE);
        const result = await settledOrPending(write);
        if (result === PENDING) return { write, size: LARGE };
        if (!settled(result, LARGE)) return null;
      }
      return null;
    };
    /** Bytes the client has read and checked. */
    let received = 0;
    const buffer = new Uint8Array(READ);
    // The check compares 32-bit words: the read buffer's, and those of the stream from offset
    // `shift` (0-3) on, in a copy of its own (aligned).
    const got = new Uint32Array(buffer.buffer);
    const span = (PERIOD + READ + 3) & ~3;
    const streams = [0, 1, 2, 3].map((shift) => new Uint32Array(source.slice(shift, shift + span).buffer));
    /** The client reads up to `end` of the stream: false at a wrong byte, or the end of the stream before it. */
    const readTo = async (end: number): Promise<boolean> => {
      while (received < end) {
        const n = await client.read(buffer);
        if (n === null || received + n > end) return false;
        const from = received % PERIOD;
        const shift = from & 3;
        const expected = streams[shift];
        if (expected === undefined) return false; // shift < 4: never
        const first = (from - shift) >> 2;
        const words = n >> 2;
        if (!sameWords(got, expected, first, words)) return false;
        for (let i = words << 2; i < n; i++) if (buffer[i] !== source[from + i]) return false;
        received += n;
      }
      return true;
    };

    // 1. Small writes.
    for (const size of SMALL) if (!(await writeTo(sent + size))) return false;
    if (!(await readTo(sent))) return false;
    // 2. A write that stays pending, and completes once the client reads. Either side failing
    // closes the other's conn, so that nothing waits for the time limit.
    const pending = await fill(rid);
    if (pending === null) return false;
    const end = sent + pending.size;
    const [wrote, read] = await Promise.all([
      pending.write
        .then((n) => settled(n, pending.size) && writeTo(end))
        .catch(() => false)
        .then((ok) => ok || (closeQuietly(client), false)),
      readTo(end)
        .catch(() => false)
        .then((ok) => ok || (closeQuietly(server), false)),
    ]);
    if (!wrote || !read) return false;
    // 3. Closed while a write is pending: the write settles. The other direction, written from
    // the client's side (the accepted conn never reads): its buffers are as small as they start.
    const clientRid = ridOf(client);
    if (clientRid === null) return false;
    const last = await fill(clientRid);
    if (last === null) return false;
    closeQuietly(client);
    return last.write.then(
      (n) => settled(n, last.size),
      () => true,
    );
  }, timeoutMs);
}
