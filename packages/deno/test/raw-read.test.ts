// The read op behind `rawReads` (raw-read.ts): its self-test passes on this Deno and rawRead then
// reads a real TCP socket through the op (bytes in order, 0 at the end); before it has passed,
// for a conn of another class and for a fake conn, rawRead is null; a self-test that sees wrong
// bytes, wrong counts, no end, writes outside the view, or an op that throws, fails; without
// net permission for 127.0.0.1 the self-test fails without a prompt (a subprocess). Which path a
// real server or client takes: raw-reads-option.test.ts.
import { rawRead, rawReadSelfTest, rawReadsWork, type ReadOp } from '../src/raw-read.ts';
import { assert, assertEquals } from '../../../test/shared/assert.ts';

/** Deno's own read op, looked up as raw-read.ts does (the tests' fakes wrap it). */
function realOp(): ReadOp {
  const internal = (Deno as unknown as { internal: symbol }).internal;
  const core = (Deno as unknown as Record<symbol, { core: { read: ReadOp } }>)[internal].core;
  return core.read.bind(core);
}

async function pair(): Promise<{ listener: Deno.Listener; client: Deno.Conn; server: Deno.Conn; close(): void }> {
  const listener = Deno.listen({ hostname: '127.0.0.1', port: 0 });
  const client = await Deno.connect({ hostname: '127.0.0.1', port: (listener.addr as Deno.NetAddr).port });
  const server = await listener.accept();
  return {
    listener,
    client,
    server,
    close() {
      client.close();
      server.close();
      listener.close();
    },
  };
}

Deno.test('rawRead is null until the self-test has passed; then it reads a TCP socket through the op: the bytes, then 0 at the end', async () => {
  const p = await pair();
  try {
    assertEquals(rawRead(p.server), null, 'not before the self-test');
    assertEquals(await rawReadsWork(), true, 'the self-test passes on this Deno (the fast path is tested)');
    assertEquals(await rawReadsWork(), true, 'once per process: the same verdict');
    const read = rawRead(p.server);
    assert(read !== null, 'a TCP conn reads through the op once the self-test has passed');
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
  assertEquals(rawRead({ read: () => Promise.resolve(null) } as unknown as Deno.Conn), null, 'a fake conn');
  // A conn of a class the self-test did not read (as a TLS or Unix conn is): conn.read().
  const p2 = await pair();
  try {
    Object.defineProperty(p2.server, 'constructor', { value: class OtherConn {} });
    assertEquals(rawRead(p2.server), null, 'another class of conn');
  } finally {
    p2.close();
  }
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

/** Sockets this process holds (Linux: /proc/self/fd), or null where that cannot be read. */
function openSockets(): number | null {
  try {
    let n = 0;
    for (const entry of Deno.readDirSync('/proc/self/fd')) {
      try {
        if (Deno.readLinkSync(`/proc/self/fd/${entry.name}`).startsWith('socket:')) n++;
      } catch {
        // closed while listed
      }
    }
    return n;
  } catch {
    return null;
  }
}

Deno.test('a self-test that runs out of time, wherever it is, leaves no socket open', async () => {
  const before = openSockets();
  if (before === null) throw new Error('this test counts sockets in /proc/self/fd (Linux)');
  const real = realOp();
  // 0 ms runs out while connecting; the slow op runs out with a read pending.
  const slow: ReadOp = (rid, buffer) => new Promise((resolve) => setTimeout(resolve, 50)).then(() => real(rid, buffer));
  for (const [op, ms] of [
    [real, 0],
    [slow, 20],
  ] as const) {
    assertEquals(await rawReadSelfTest(op, ms), null, `timed out after ${ms} ms`);
    assertEquals(openSockets(), before, `sockets left after a ${ms} ms self-test`);
  }
});

Deno.test('without net permission for all of 127.0.0.1 the self-test fails, and does not prompt', async () => {
  const script = new URL('./fixtures/raw-reads-verdict.ts', import.meta.url).pathname;
  const run = async (...flags: string[]): Promise<string> => {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ['run', '--no-prompt', ...flags, script],
      stdin: 'null',
      stdout: 'piped',
      stderr: 'piped',
    }).output();
    assertEquals(code, 0, new TextDecoder().decode(stderr));
    return new TextDecoder().decode(stdout).trim();
  };
  assertEquals(await run(), 'false', 'no net permission');
  assertEquals(await run('--allow-net=127.0.0.1:1'), 'false', 'one port of 127.0.0.1 only');
  assertEquals(await run('--allow-net=127.0.0.1'), 'true', 'all of 127.0.0.1 (the control)');
});
