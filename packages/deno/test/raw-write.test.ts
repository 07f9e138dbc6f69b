// The write op behind `rawWrites` (raw-write.ts): its self-test passes on this Deno, and takes the
// real op through writes the kernel takes only in part and a write that stays pending; then a
// real TCP socket is written through the op; before it has passed, for a conn of another class
// and for a fake conn, rawWrites.ridFor is -1; a self-test that sees a wrong byte, a wrong count, bytes
// from outside the view, a write that resolves before its bytes are taken, an op that throws or
// rejects, or a pending write that never settles when its socket is closed, fails; one that runs
// out of time leaves no socket open. Without net permission: op-self-test.test.ts. Which path a
// real server or client takes: raw-writes-option.test.ts.
import { rawWrites, rawWriteSelfTest, type WriteOp } from '../src/raw-write.ts';
import { assert, assertEquals } from '../../../test/shared/assert.ts';
import {
  denoOp,
  loopbackPair,
  opOnceSelfTested,
  readAll,
  refusesOtherConns,
  slowOp,
  timedOutLeavesNoSocket,
} from './helpers.ts';

const realOp = (): WriteOp => denoOp<WriteOp>('write');

Deno.test('rawWrites.ridFor is -1 until the self-test has passed; then it writes a TCP socket through the op', async () => {
  const p = await loopbackPair();
  try {
    const write = await opOnceSelfTested(rawWrites, p.server);
    const data = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) & 0xff);
    let at = 0;
    while (at < data.length) {
      const n = await write(data.subarray(at));
      assert(n > 0 && at + n <= data.length, `a count within the bytes given (${n})`);
      at += n;
    }
    p.server.close();
    assertEquals([...(await readAll(p.client))], [...data], 'every byte, in order, then the end');
  } finally {
    p.close();
  }
  await refusesOtherConns(rawWrites);
});

Deno.test('the self-test takes the real op through partial writes and a write that stays pending', async () => {
  const real = realOp();
  const seen = { writes: 0, partial: 0, pending: 0 };
  const watched: WriteOp = (rid, data) => {
    seen.writes++;
    let settled = false;
    const write = real(rid, data).then((n) => {
      settled = true;
      if (n < data.length) seen.partial++;
      return n;
    });
    // Not settled once the event loop has turned: the op waited for room in the socket's buffers.
    setTimeout(() => {
      if (!settled) seen.pending++;
    }, 0);
    return write;
  };
  assert((await rawWriteSelfTest(watched)) !== null, 'the real op passes');
  assert(seen.partial > 0, `a write taken in part (${JSON.stringify(seen)})`);
  assert(seen.pending >= 2, `writes that stayed pending: resumed, and closed (${JSON.stringify(seen)})`);
});

Deno.test('the self-test fails on each kind of wrong write', async () => {
  const real = realOp();
  assertEquals(await rawWriteSelfTest(null), null, 'no op');
  const wrong: Record<string, WriteOp> = {
    'a changed byte': (rid, data) => {
      const copy = data.slice();
      copy[copy.length - 1] ^= 1;
      return real(rid, copy);
    },
    'one byte fewer counted than written': async (rid, data) => {
      const n = await real(rid, data);
      return n > 1 ? n - 1 : n;
    },
    'a count past the bytes given': async (rid, data) => (await real(rid, data)) + 1,
    'a count of 0': async (rid, data) => {
      await real(rid, data);
      return 0;
    },
    'null, not a count': async (rid, data) => {
      await real(rid, data);
      return null as unknown as number;
    },
    'the byte before the view sent': (rid, data) =>
      real(rid, new Uint8Array(data.buffer, data.byteOffset - 1, data.length)),
    'resolved before its bytes are taken': (rid, data) => {
      // The bytes leave later, from the buffer as it is by then.
      setTimeout(() => real(rid, data).catch(() => {}), 5);
      return Promise.resolve(data.length);
    },
    'an op that throws': () => {
      throw new Error('no such op');
    },
    'an op that rejects': () => Promise.reject(new Error('bad resource')),
  };
  for (const [what, op] of Object.entries(wrong)) assertEquals(await rawWriteSelfTest(op), null, what);
});

/** The real op, except that a write cancelled by its socket's close never settles. */
function neverSettlesOnClose(real: WriteOp): WriteOp {
  return (rid, data) => new Promise((resolve) => void real(rid, data).then(resolve, () => {}));
}

Deno.test('a pending write that never settles once its socket is closed fails the self-test', async () => {
  assertEquals(await rawWriteSelfTest(neverSettlesOnClose(realOp()), 1000), null);
});

Deno.test('a self-test that runs out of time, wherever it is, leaves no socket open', async () => {
  const real = realOp();
  // 0 ms runs out while connecting; the slow op runs out during the small writes; the last one
  // with a write pending on a closed socket, which never settles.
  await timedOutLeavesNoSocket(rawWriteSelfTest, [
    [real, 0],
    [slowOp(real), 20],
    [neverSettlesOnClose(real), 500],
  ]);
});
