// Receiving from the user's side on Bun: nothing the peer sent is lost for want of a consumer
// (the README's `await connect(); send; for await`, messages in the 101's write, async server
// handlers, listeners attached after an await, the WHATWG class, a flood while nobody reads,
// messages before a close). The scenarios are shared by every runtime: test/shared/receive.ts.
import { describe, expect, it } from 'bun:test';
import type { Socket } from 'bun';
import { connect, createConnection, createServer, WebSocket } from '../src/index.ts';
import {
  asyncHandlers,
  floodWhileNobodyReads,
  messagesBeforeClose,
  messagesWithThe101,
  readmeClient,
  type ReceiveRuntime,
} from '../../../test/shared/receive.ts';
import { HOST } from './helpers.ts';

/** A raw TCP server: answers each request head with `respond(head)` in one write (see ReceiveRuntime). */
async function rawServer(respond: (head: string) => Uint8Array, end = false): Promise<{ port: number; close(): void }> {
  const heads = new Map<Socket<undefined>, string>();
  const listener = Bun.listen({
    hostname: HOST,
    port: 0,
    socket: {
      data(socket, chunk) {
        const head = heads.get(socket);
        if (head === undefined) return void socket.end(); // answered: this is the client's Close
        const text = head + new TextDecoder('latin1').decode(chunk);
        if (!text.includes('\r\n\r\n')) return void heads.set(socket, text);
        heads.delete(socket);
        const response = respond(text);
        const written = socket.write(response);
        if (written !== response.length) throw new Error(`the raw server wrote ${written} of ${response.length} bytes`);
        if (end) socket.end();
      },
      open(socket) {
        heads.set(socket, '');
      },
      error() {},
    },
  });
  return { port: listener.port, close: () => listener.stop(true) };
}

const bun: ReceiveRuntime = { createServer, connect, createConnection, WebSocket, rawServer };

describe('receiving: nothing is lost for want of a consumer (Bun)', () => {
  it(
    "the README's client (await connect; send; for await) gets the server's welcome first, 20 times out of 20",
    () => readmeClient(bun),
    60_000,
  );
  it(
    'messages in the same write as the 101: for await after a timer, a listener after an await, WHATWG onmessage and addEventListener',
    () => messagesWithThe101(bun),
    30_000,
  );
  it(
    'messages that arrived before the close: a loop started after it yields them then ends; listeners get them before close',
    () => messagesBeforeClose(bun),
    30_000,
  );
  it('server handlers that await before iterating or listening get every message', () => asyncHandlers(bun), 30_000);
  it('a flood while nobody reads: at most maxQueuedMessages held, the sender held back, all delivered in order once read', async () => {
    const { maxQueued, senderBuffered } = await floodWhileNobodyReads(bun);
    expect(maxQueued).toBeLessThanOrEqual(16);
    expect(senderBuffered).toBeGreaterThan(0);
  }, 90_000);
});
