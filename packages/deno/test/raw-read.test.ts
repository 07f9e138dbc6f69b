// rawRead: Deno's read op for a real socket (this Deno exposes it: the transport's fast path is
// the one the other suites run over TCP and TLS), null for a socket without Deno's resource id
// (the transport then calls conn.read()); bytes in order, 0 at the end of the stream.
import { rawRead } from '../src/raw-read.ts';
import { assert, assertEquals } from '../../../test/shared/assert.ts';

Deno.test('rawRead reads a TCP socket through the op: the bytes, then 0 at the end; a fake conn gets null', async () => {
  const listener = Deno.listen({ hostname: '127.0.0.1', port: 0 });
  const client = await Deno.connect({ hostname: '127.0.0.1', port: (listener.addr as Deno.NetAddr).port });
  const server = await listener.accept();
  try {
    const read = rawRead(server);
    assert(read !== null, 'Deno 2 exposes its read op and the socket id (the fast path is tested)');
    await client.write(Uint8Array.of(1, 2, 3, 4, 5));
    const received: number[] = [];
    const buffer = new Uint8Array(3);
    while (received.length < 5) {
      const n = await read(buffer);
      assert(n > 0, 'data before the end');
      received.push(...buffer.subarray(0, n));
    }
    assertEquals(received, [1, 2, 3, 4, 5]);
    await client.closeWrite();
    assertEquals(await read(buffer), 0, 'the end of the stream');
  } finally {
    client.close();
    server.close();
    listener.close();
  }
  assertEquals(rawRead({ read: () => Promise.resolve(null) } as unknown as Deno.Conn), null);
});
