// Our Deno client against a raw TCP server (Deno.listen) that answers the upgrade with a 101 our
// client must refuse (`Upgrade: h2c, websocket`, an empty `Sec-WebSocket-Protocol` after an
// offer, …) or accept (valid, in odd case and layout): the scenarios of test/shared/lenient-101.ts.
import { connect } from '../src/index.ts';
import { checkAnswers, respond, type RawAnswerServer } from '../../../test/shared/lenient-101.ts';
import { HOST } from './helpers.ts';

/** A Deno.listen server answering every upgrade request with `answer`; drops a client that says more. */
const serve: RawAnswerServer = async (answer) => {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const conns = new Set<Deno.Conn>();
  const handle = async (conn: Deno.Conn): Promise<void> => {
    conns.add(conn);
    const buffer = new Uint8Array(16 * 1024);
    let head = '';
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        if (head.includes('\r\n\r\n')) break; // said more after our answer: drop it
        head += String.fromCharCode(...buffer.subarray(0, n));
        if (head.includes('\r\n\r\n')) await conn.write(Uint8Array.from(respond(head, answer), (c) => c.charCodeAt(0)));
      }
    } catch {
      // the client reset, or close() below closed it
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) void handle(conn);
    } catch {
      // listener closed
    }
  })();
  const { port } = listener.addr as Deno.NetAddr;
  return {
    url: `ws://${HOST}:${port}/`,
    close: async () => {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
      await accepting;
    },
  };
};

Deno.test('@ws/deno client: fails on Upgrade other than exactly websocket and on a subprotocol that is empty or not offered; accepts odd case and layout', async () => {
  await checkAnswers(connect, serve);
});
