// The read op behind `rawReads` (raw-read.ts): its self-test passes on this Deno, and then a real
// TCP socket is read through the op (bytes in order, 0 at the end); before it has passed,
// for a conn of another class and for a fake conn, rawReads.ridFor is -1; a self-test that sees wrong
// bytes, wrong counts, no end, writes outside the view, or an op that throws, fails; one that
// runs out of time leaves no socket open. Without net permission: op-self-test.test.ts. Which
// path a real server or client takes: raw-reads-option.test.ts.
import { rawReads, rawReadSelfTest, type ReadOp } from '../src/raw-read.ts';
import { assert, assertEquals } from '../../../test/shared/assert.ts';
import {
  denoOp,
  loopbackPair,
  opOnceSelfTested,
  refusesOtherConns,
  slowOp,
  timedOutLeavesNoSocket,
} from './helpers.ts';

const realOp = (): ReadOp => denoOp<ReadOp>('read');

Deno.test('rawReads.ridFor is -1 until the self-test has passed; then it reads a TCP socket through the op: the bytes, then 0 at the end', async () => {
  const p = await loopbackPair();
  try {
    const read = await opOnceSelfTested(rawReads, p.server);
    await p.client.write(Uint8Array.of(1, 2, 3, 4, 5));
    const received: number[] = [];
    const buffer = new Uint8Array(3);
    while (received.length < 5) {
      const n = await read(buffer);
      assert(n > 0, 'data before the end');
      received.push(...buffer.subarray(0, n));
    }
    assertEquals(received, [1, 2, 3, 4, 5]);
    await p.client.closeWrite();
    assertEquals(await read(buffer), 0, 'the end of the stream');
  } finally {
    p.close();
  }
  await refusesOtherConns(rawReads);
});

Deno.test('the self-test passes with the real op and fails on each kind of wrong read', async () => {
  const real = realOp();
  assert((await rawReadSelfTest(real)) !== null, 'the real op passes');
  assertEquals(await rawReadSelfTest(null), null, 'no op');
  const wrong: Record<string, ReadOp> = {
    'a changed byte': async (rid, buffer) => {
      const n = await real(rid, buffer);
      if (n > 0) buffer[n - 1] ^= 1;
      return n;
    },
    'one byte more counted than read': async (rid, buffer) => {
      const n = await real(rid, buffer);
      return n > 0 && n < buffer.length ? n + 1 : n;
    },
    "the previous read's bytes in place of the next ones": (() => {
      let previous: Uint8Array | null = null;
      return async (rid: number, buffer: Uint8Array) => {
        const n = await real(rid, buffer);
        const got = buffer.slice(0, n);
        if (previous !== null && n > 0) buffer.set(previous.subarray(0, Math.min(n, previous.length)));
        previous = got;
        return n;
      };
    })(),
    'null at the end (conn.read()’s way), not 0': async (rid, buffer) => {
      const n = await real(rid, buffer);
      return (n === 0 ? null : n) as number;
    },
    'a write before the view': async (rid, buffer) => {
      const n = await real(rid, buffer);
      if (buffer.byteOffset > 0) new Uint8Array(buffer.buffer)[buffer.byteOffset - 1] = 0;
      return n;
    },
    'a write after the view': async (rid, buffer) => {
      const n = await real(rid, buffer);
      const whole = new Uint8Array(buffer.buffer);
      const after = buffer.byteOffset + buffer.length;
      if (after < whole.length) whole[after] = 0;
      return n;
    },
    'an op that throws': () => {
      throw new Error('no such op');
    },
    'an op that rejects': () => Promise.reject(new Error('bad resource')),
  };
  for (const [what, op] of Object.entries(wrong)) assertEquals(await rawReadSelfTest(op), null, what);
});

Deno.test('a self-test that runs out of time, wherever it is, leaves no socket open', async () => {
  const real = realOp();
  // 0 ms runs out while connecting; the slow op runs out with a read pending.
  await timedOutLeavesNoSocket(rawReadSelfTest, [
    [real, 0],
    [slowOp(real), 20],
  ]);
});
