// Backpressure over real sockets: a slow reader (bufferedAmount rises, drain resolves, every
// message arrives in order) and a peer that never reads (the send buffer hits maxBufferedAmount
// and the connection is terminated, so memory stays bounded), each with writes through Deno's
// write op (`rawWrites: true`) and through conn.write() (the default). The scenarios are shared by every
// runtime: see test/shared/backpressure.ts.
import { connect } from '../src/index.ts';
import { neverReads, type OurServer, slowReader, UPGRADE_REQUEST } from '../../../test/shared/backpressure.ts';
import { HOST, ourServer, readHead, writeAll } from './helpers.ts';

for (const rawWrites of [true, false]) {
  const server: OurServer = (options, onConnection) => ourServer({ ...options, rawWrites }, onConnection);
  const path = rawWrites ? 'through the write op' : 'through conn.write()';

  Deno.test(`a slow reader: send() returns 'buffered', drain() resolves, all messages arrive in order (${path})`, () =>
    slowReader(server, (url) => connect(url, { rawWrites })));

  Deno.test(`a peer that never reads is terminated once maxBufferedAmount is exceeded (${path})`, () =>
    neverReads(server, async (port) => {
      const conn = await Deno.connect({ hostname: HOST, port });
      await writeAll(conn, new TextEncoder().encode(UPGRADE_REQUEST));
      await readHead(conn); // the 101, then never read again
      return () => conn.close();
    }));
}
