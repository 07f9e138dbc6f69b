// Receiving from the user's side on Deno: nothing the peer sent is lost for want of a consumer
// (the README's `await connect(); send; for await`, messages in the 101's write, async server
// handlers, listeners attached after an await, the WHATWG class, a flood while nobody reads,
// messages before a close). The scenarios are shared by every runtime: test/shared/receive.ts.
import { connect, createConnection, createServer, WebSocket } from '../src/index.ts';
import {
  asyncHandlers,
  floodWhileNobodyReads,
  messagesBeforeClose,
  messagesWithThe101,
  readmeClient,
  type ReceiveRuntime,
} from '../../../test/shared/receive.ts';
import { assert } from '../../../test/shared/assert.ts';
import { HOST, readHead, writeAll } from './helpers.ts';

/** A raw TCP server: answers each request head with `respond(head)` in one write (see ReceiveRuntime). */
function rawServer(
  respond: (head: string) => Uint8Array,
  end = false,
): Promise<{ port: number; close(): Promise<void> }> {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const conns = new Set<Deno.Conn>();
  const serving: Promise<void>[] = [];
  const serve = async (conn: Deno.Conn): Promise<void> => {
    try {
      const { head } = await readHead(conn);
      await writeAll(conn, respond(head));
      if (!end) await conn.read(new Uint8Array(1024)); // the client's Close (or its EOF)
      await conn.closeWrite();
      await conn.read(new Uint8Array(1024));
    } catch {
      // the client went first
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
    for await (const conn of listener) {
      conns.add(conn);
      serving.push(serve(conn));
    }
  })().catch(() => {});
  const { port } = listener.addr as Deno.NetAddr;
  return Promise.resolve({
    port,
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
      await Promise.all(serving);
    },
  });
}

const deno: ReceiveRuntime = { createServer, connect, createConnection, WebSocket, rawServer };

Deno.test("the README's client (await connect; send; for await) gets the server's welcome first, 20 times out of 20", () =>
  readmeClient(deno));
Deno.test('messages in the same write as the 101: for await after a timer, a listener after an await, WHATWG onmessage and addEventListener', () =>
  messagesWithThe101(deno));
Deno.test('messages that arrived before the close: a loop started after it yields them then ends; listeners get them before close', () =>
  messagesBeforeClose(deno));
Deno.test('server handlers that await before iterating or listening get every message', () => asyncHandlers(deno));
Deno.test('a flood while nobody reads: at most maxQueuedMessages held, the sender held back, all delivered in order once read', async () => {
  const { maxQueued, senderBuffered } = await floodWhileNobodyReads(deno);
  assert(maxQueued <= 16 && senderBuffered > 0, `${maxQueued} held, ${senderBuffered} bytes held back`);
});
