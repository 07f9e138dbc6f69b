// DenoTransport alone, over a fake Deno.Conn: partial writes keep order and bufferedAmount is
// exact; small chunks are gathered; reads are handed over without a copy, in memory never read
// into again, in buffers that grow while reads fill them; pause holds reads;
// end() sends FIN after the queue and the socket closes once both sides are done; destroy()
// drops the queue; a connect that fails ends the transport with its error; behind a backlog, views
// of larger buffers are queued as copies.
import { DenoTransport } from '../src/index.ts';
import type { TransportHandlers } from '@ws/codec/session';
import { assert, assertEquals } from '../../../test/shared/assert.ts';
import { sleep, until } from './helpers.ts';

/** A fake connection: writes at most `maxWrite` bytes per call; reads come from `feed()`. */
class FakeConn {
  chunks: Uint8Array[] = [];
  writeSizes: number[] = [];
  closedWrite = false;
  closed = false;
  reads = 0;
  /** The size of the buffer each completed read was given. */
  readSizes: number[] = [];
  #pendingRead: ((chunk: Uint8Array | null) => void) | null = null;
  #inbox: Array<Uint8Array | null> = [];
  #writeGate: Promise<void> = Promise.resolve();
  openGate!: () => void;

  constructor(readonly maxWrite = 7) {}

  get written(): Uint8Array {
    const out = new Uint8Array(this.chunks.reduce((sum, c) => sum + c.length, 0));
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }

  /** Make writes wait until `openGate()`. */
  holdWrites(): void {
    this.#writeGate = new Promise((resolve) => (this.openGate = resolve));
  }

  async write(p: Uint8Array): Promise<number> {
    await this.#writeGate;
    if (this.closed) throw new Deno.errors.BadResource('closed');
    const n = Math.min(p.length, this.maxWrite);
    this.chunks.push(p.slice(0, n));
    this.writeSizes.push(n);
    return n;
  }

  read(p: Uint8Array): Promise<number | null> {
    this.reads++;
    return new Promise((resolve, reject) => {
      const deliver = (chunk: Uint8Array | null): void => {
        if (this.closed) return reject(new Deno.errors.BadResource('closed'));
        if (chunk === null) return resolve(null);
        // As a socket does: at most what fits, the rest for the next read.
        const n = Math.min(chunk.length, p.length);
        p.set(chunk.subarray(0, n));
        if (n < chunk.length) this.#inbox.unshift(chunk.subarray(n));
        this.readSizes.push(p.length);
        resolve(n);
      };
      const next = this.#inbox.shift();
      if (next !== undefined) deliver(next);
      else this.#pendingRead = deliver;
    });
  }

  feed(chunk: Uint8Array | null): void {
    const pending = this.#pendingRead;
    this.#pendingRead = null;
    if (pending !== null) pending(chunk);
    else this.#inbox.push(chunk);
  }

  closeWrite(): Promise<void> {
    this.closedWrite = true;
    return Promise.resolve();
  }

  close(): void {
    this.closed = true;
    this.feed(null);
  }
}

function recorder() {
  const log = { data: [] as Uint8Array[], drains: 0, ended: 0, closed: [] as unknown[] };
  const handlers: TransportHandlers = {
    onData: (chunk) => log.data.push(chunk),
    onDrain: () => log.drains++,
    onEnd: () => log.ended++,
    onClose: (error) => log.closed.push(error),
  };
  return { log, handlers };
}

const seq = (from: number, n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);

Deno.test('partial writes: order kept, bufferedAmount exact, onDrain as it goes down', async () => {
  const conn = new FakeConn(7);
  const transport = new DenoTransport(conn as unknown as Deno.Conn);
  const { log, handlers } = recorder();
  transport.attach(handlers);
  conn.holdWrites();
  transport.write([seq(0, 10), seq(10, 100)]);
  transport.write([seq(110, 90_000)]);
  assertEquals(transport.bufferedAmount, 90_110);
  conn.openGate();
  await until(() => transport.bufferedAmount === 0, 'flushed');
  const expected = seq(0, 90_110);
  assertEquals(conn.written, expected, 'bytes in order');
  assert(log.drains >= Math.ceil(90_110 / 7), `onDrain after every write (${log.drains})`);
  transport.destroy();
  await sleep(0);
  assertEquals(log.closed, [undefined]);
});

Deno.test('small chunks are gathered into one write, up to 128 KiB of whole chunks; a large chunk is written in place', async () => {
  const conn = new FakeConn(1 << 30);
  const transport = new DenoTransport(conn as unknown as Deno.Conn);
  const { handlers } = recorder();
  transport.attach(handlers);
  conn.holdWrites();
  transport.write([seq(0, 2), seq(2, 100)]); // a frame header and its payload: one write
  transport.write([seq(102, 5)]); // these queue behind it…
  transport.write([seq(107, 200_000)]);
  conn.openGate();
  await until(() => transport.bufferedAmount === 0, 'flushed');
  // …the 5 bytes alone (the next chunk would take the gather over 128 KiB), then the big one in place.
  assertEquals(conn.writeSizes, [102, 5, 200_000]);
  assertEquals(conn.written, seq(0, 200_107), 'bytes in order');

  conn.chunks = [];
  conn.writeSizes = [];
  transport.write([seq(0, 70_000), seq(0, 3)]); // a large head chunk: no copy
  await until(() => transport.bufferedAmount === 0, 'flushed');
  assertEquals(conn.writeSizes, [70_000, 3]);

  conn.chunks = [];
  conn.writeSizes = [];
  conn.holdWrites();
  transport.write([seq(0, 1)]); // in flight while the rest queues
  transport.write([seq(1, 10), seq(11, 65_536)]); // a 64 KiB frame's header and payload: one write
  transport.write([seq(65_547, 30_000), seq(95_547, 40_000)]); // gathered up to 128 KiB, then the rest
  conn.openGate();
  await until(() => transport.bufferedAmount === 0, 'flushed');
  assertEquals(conn.writeSizes, [1, 10 + 65_536 + 30_000, 40_000]);
  assertEquals(conn.written, seq(0, 135_547), 'bytes in order');
  transport.destroy();
});

Deno.test('the gather buffer shared by all transports is not reused while a write holds it', async () => {
  const a = new FakeConn(1 << 30);
  const b = new FakeConn(1 << 30);
  const ta = new DenoTransport(a as unknown as Deno.Conn);
  const tb = new DenoTransport(b as unknown as Deno.Conn);
  ta.attach(recorder().handlers);
  tb.attach(recorder().handlers);
  a.holdWrites();
  b.holdWrites();
  ta.write([seq(0, 2), seq(2, 100)]); // gathered; the write waits, holding its buffer
  tb.write([seq(50, 3), seq(53, 100)]); // gathered elsewhere
  b.openGate();
  await until(() => tb.bufferedAmount === 0, 'b flushed');
  tb.write([seq(90, 4), seq(94, 60)]); // b's write settled: it may have the shared buffer now
  await until(() => tb.bufferedAmount === 0, 'b flushed again');
  a.openGate();
  await until(() => ta.bufferedAmount === 0, 'a flushed');
  assertEquals(a.written, seq(0, 102));
  assertEquals(b.written, Uint8Array.from([...seq(50, 103), ...seq(90, 64)]));
  ta.destroy();
  tb.destroy();
});

Deno.test('reads are handed over without a copy, never read into again; buffers grow while reads fill them; pause holds reads', async () => {
  const conn = new FakeConn();
  const transport = new DenoTransport(conn as unknown as Deno.Conn);
  const { log, handlers } = recorder();
  transport.attach(handlers);
  conn.feed(Uint8Array.of(1, 2, 3));
  conn.feed(Uint8Array.of(4, 5));
  await until(() => log.data.length === 2, 'two reads');
  assertEquals(log.data, [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5)]);
  assert(log.data[0]!.buffer === log.data[1]!.buffer, 'small reads share a buffer');
  assertEquals(log.data[1]!.byteOffset, log.data[0]!.byteOffset + 3, 'each read lands after the last');
  assertEquals(conn.readSizes, [4096, 4093]);

  // 20,000 bytes: the rest of the first 4 KiB (fills it), then buffers of 8 KiB and 16 KiB.
  conn.feed(seq(0, 20_000));
  await until(() => log.data.reduce((sum, c) => sum + c.length, 0) === 20_005, 'all of it');
  assertEquals(conn.readSizes.slice(2), [4091, 8192, 16384]);
  assertEquals(
    log.data.slice(2).map((c) => c.length),
    [4091, 8192, 20_000 - 4091 - 8192],
  );
  const joined = new Uint8Array(20_000);
  let at = 0;
  for (const chunk of log.data.slice(2)) {
    joined.set(chunk, at);
    at += chunk.length;
  }
  assertEquals(joined, seq(0, 20_000));
  assertEquals(log.data.slice(0, 2), [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5)], 'earlier chunks untouched');

  transport.pause();
  await sleep(5);
  const readsWhenPaused = conn.reads;
  const held = log.data.length;
  conn.feed(Uint8Array.of(6)); // completes the read already in flight: held
  await sleep(10);
  assertEquals(log.data.length, held);
  assertEquals(conn.reads, readsWhenPaused, 'no new read while paused');
  transport.resume();
  await until(() => log.data.length === held + 1, 'held chunk delivered');
  assertEquals(log.data[held], Uint8Array.of(6));
  transport.destroy();
  await sleep(0);
  assertEquals(log.closed, [undefined]);
});

const received = (chunks: Uint8Array[]): number => chunks.reduce((sum, c) => sum + c.length, 0);

/** A transport that has just read 200,000 bytes fed at once (buffers double while reads fill them; the last read drains the socket). */
async function afterBurst() {
  const conn = new FakeConn();
  const transport = new DenoTransport(conn as unknown as Deno.Conn);
  const { log, handlers } = recorder();
  transport.attach(handlers);
  conn.feed(seq(0, 200_000));
  await until(() => received(log.data) === 200_000, 'the burst');
  return { conn, transport, log };
}

Deno.test('after a burst the next read waits in a 4 KiB buffer; a read that fills it goes back to the working size, which follows the bursts', async () => {
  const { conn, transport, log } = await afterBurst();
  assertEquals(conn.readSizes, [4096, 8192, 16384, 32768, 65536, 131072]);
  // Quiet now: the next read got a fresh 4 KiB buffer, not the rest of the 128 KiB one. Its
  // 10 bytes are a burst that uses little of the working size, which halves (64 KiB).
  conn.feed(seq(0, 10));
  await until(() => log.data.length === 7, 'a small read');
  assertEquals(conn.readSizes.at(-1), 4096);
  assert(log.data[6]!.buffer.byteLength === 4096 && log.data[6]!.byteOffset === 0, 'a buffer of its own');
  // A large message after the wait: the small buffer fills, the next read gets the working size
  // (filled: it doubles), the rest lands in the 128 KiB buffer.
  conn.feed(seq(0, 100_000));
  await until(() => received(log.data) === 200_010 + 100_000, 'the second burst');
  assertEquals(conn.readSizes.slice(7), [4086, 65536, 131072]);
  // Bursts that use little of the working size halve it: 1,000 bytes (to 64 KiB), then 10,000.
  conn.feed(seq(0, 1000));
  await until(() => received(log.data) === 301_010, 'a small burst');
  conn.feed(seq(0, 10_000));
  await until(() => received(log.data) === 311_010, 'a middling burst');
  assertEquals(conn.readSizes.slice(10), [4096, 3096, 65536]);
  transport.destroy();
});

Deno.test({
  name: 'a read loop waiting for data keeps no earlier buffer alive',
  ignore: typeof (globalThis as { gc?: unknown }).gc !== 'function', // deno test --v8-flags=--expose-gc
  async fn() {
    const gc = (globalThis as unknown as { gc: () => void }).gc;
    const { transport, log } = await afterBurst();
    const large = log.data.filter((c) => c.buffer.byteLength > 4096).map((c) => new WeakRef(c.buffer));
    assertEquals(large.length, 5);
    log.data.length = 0; // the session let go of every chunk; the loop now waits for a read
    await sleep(0); // WeakRef targets live until the current job ends
    gc();
    await sleep(0);
    gc();
    assertEquals(large.filter((ref) => ref.deref() !== undefined).length, 0, 'buffers kept after the burst');
    transport.destroy();
  },
});

Deno.test({
  name: 'behind a backlog of 1 MiB, a chunk that is a small view of a large buffer is queued as a copy: the buffer is not kept alive',
  ignore: typeof (globalThis as { gc?: unknown }).gc !== 'function', // deno test --v8-flags=--expose-gc
  async fn() {
    const gc = (globalThis as unknown as { gc: () => void }).gc;
    const conn = new FakeConn(1 << 30);
    const transport = new DenoTransport(conn as unknown as Deno.Conn);
    transport.attach(recorder().handlers);
    conn.holdWrites(); // the peer reads nothing
    // Echoes of part of a read: each a view of 100 bytes of a 256 KiB read buffer, written, then
    // let go of (as the session does once the frame is queued).
    const echo = (from: number): WeakRef<ArrayBuffer> => {
      const buffer = new ArrayBuffer(256 * 1024);
      const view = new Uint8Array(buffer, 1000, 100);
      view.set(seq(from, 100));
      transport.write([view]);
      return new WeakRef(buffer);
    };
    const early = echo(0); // no backlog yet: queued as it is (no copy)
    transport.write([seq(100, 1024 * 1024)]);
    const late = echo(100 + 1024 * 1024); // behind 1 MiB: copied
    assertEquals(transport.bufferedAmount, 200 + 1024 * 1024);
    await sleep(0); // WeakRef targets live until the current job ends
    gc();
    await sleep(0);
    gc();
    assert(early.deref() !== undefined, 'the queued view keeps its buffer');
    assertEquals(late.deref(), undefined, 'a buffer kept alive by a copied chunk');
    conn.openGate();
    await until(() => transport.bufferedAmount === 0, 'flushed');
    assertEquals(conn.written, seq(0, 200 + 1024 * 1024), 'bytes in order');
    transport.destroy();
  },
});

Deno.test('end(): FIN after the queue; the socket closes when both sides are done', async () => {
  const conn = new FakeConn(3);
  const transport = new DenoTransport(conn as unknown as Deno.Conn);
  const { log, handlers } = recorder();
  transport.attach(handlers);
  transport.write([seq(0, 20)]);
  transport.end();
  transport.write([seq(20, 5)]); // after end(): dropped
  await until(() => conn.closedWrite, 'closeWrite');
  assertEquals(conn.written, seq(0, 20));
  assertEquals(conn.closed, false, 'still reading until the peer ends');
  conn.feed(null); // the peer's FIN
  await until(() => log.closed.length === 1, 'closed');
  assertEquals(log.ended, 1);
  assertEquals(conn.closed, true);
  assertEquals(log.closed, [undefined]);
});

Deno.test('destroy() drops the queue; a failed connect reports its error; destroy while connecting', async () => {
  const conn = new FakeConn(1);
  const transport = new DenoTransport(conn as unknown as Deno.Conn);
  const { log, handlers } = recorder();
  transport.attach(handlers);
  conn.holdWrites();
  transport.write([seq(0, 1000)]);
  transport.destroy();
  assertEquals(transport.bufferedAmount, 0);
  conn.openGate();
  await sleep(5);
  assertEquals(log.closed, [undefined]);

  const refused = new Deno.errors.ConnectionRefused('refused');
  const failing = new DenoTransport(Promise.reject(refused));
  const second = recorder();
  failing.attach(second.handlers);
  failing.write([seq(0, 10)]);
  await until(() => second.log.closed.length === 1, 'onClose');
  assertEquals(second.log.closed, [refused]);

  let aborted = 0;
  let land!: (conn: Deno.Conn) => void;
  const late = new FakeConn();
  const pending = new DenoTransport(new Promise<Deno.Conn>((resolve) => (land = resolve)), () => aborted++);
  const third = recorder();
  pending.attach(third.handlers);
  pending.destroy();
  assertEquals(aborted, 1);
  land(late as unknown as Deno.Conn);
  await sleep(5);
  assertEquals(late.closed, true, 'a connection that lands after destroy() is closed');
  assertEquals(third.log.closed, [undefined]);
});

Deno.test("tunes its connections for Deno: whole text messages skip the host's strict TextDecoder (slower on Deno)", async () => {
  const { ConnectionPair } = await import('@ws/codec/testing');
  const { connect } = await import('../src/index.ts');
  const { ourServer } = await import('./helpers.ts');
  // Count the decodes of strict (fatal) decoders, the codec's included, while this test runs.
  const proto = TextDecoder.prototype;
  const decode = proto.decode;
  let strictDecodes = 0;
  proto.decode = function (this: TextDecoder, ...args: Parameters<TextDecoder['decode']>): string {
    if (this.fatal) strictDecodes++;
    return decode.apply(this, args);
  };
  try {
    const text = 'héllo from Deno, long enough for the host decoder';
    // Control: an untuned codec connection in this process does use it.
    const pair = new ConnectionPair();
    pair.pump();
    pair.client.send({ type: 'text', data: text });
    assertEquals(pair.pump().server, [{ type: 'text', data: text }]);
    assertEquals(strictDecodes, 1);
    strictDecodes = 0;
    const server = await ourServer({}, (ws) => ws.on('message', (data) => ws.send(data as string)));
    try {
      const client = await connect(server.url);
      const echoed = new Promise<unknown>((resolve) => client.on('message', resolve));
      client.send(text);
      assertEquals(await echoed, text);
      assertEquals(strictDecodes, 0); // neither the server's connection nor the client's
      client.terminate();
    } finally {
      await server.server.close();
    }
  } finally {
    proto.decode = decode;
  }
});
