// Receiving from the user's side on Node: nothing the peer sent is lost for want of a consumer
// (the README's `await connect(); send; for await`, messages in the 101's write, async server
// handlers, listeners attached after an await, the WHATWG class, a flood while nobody reads,
// messages before a close). The scenarios are shared by every runtime: test/shared/receive.ts.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  asyncHandlers,
  floodWhileNobodyReads,
  messagesBeforeClose,
  messagesWithThe101,
  readmeClient,
  README_SNIPPETS,
  type ReceiveRuntime,
} from '../../../test/shared/receive.ts';
import { connect, createConnection, createServer, WebSocket } from '../src/index.ts';
import { HOST } from './helpers.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

async function rawServer(
  respond: (head: string) => Uint8Array,
  end = false,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = '';
    let answered = false;
    socket.on('data', (chunk) => {
      if (answered) return void socket.end(); // the client's Close: we are done
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      answered = true;
      socket.write(respond(head));
      if (end) socket.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const node: ReceiveRuntime = { createServer, connect, createConnection, WebSocket, rawServer };

describe('receiving: nothing is lost for want of a consumer (Node)', () => {
  it(
    "the README's client (await connect; send; for await) gets the server's welcome first, 20 times out of 20",
    () => readmeClient(node),
    60_000,
  );
  it(
    'messages in the same write as the 101: for await after a timer, a listener after an await, WHATWG onmessage and addEventListener',
    () => messagesWithThe101(node),
    30_000,
  );
  it(
    'messages that arrived before the close: a loop started after it yields them then ends; listeners get them before close',
    () => messagesBeforeClose(node),
    30_000,
  );
  it('server handlers that await before iterating or listening get every message', () => asyncHandlers(node), 30_000);
  it('a flood while nobody reads: at most maxQueuedMessages held, the sender held back, all delivered in order once read', async () => {
    const { maxQueued, senderBuffered } = await floodWhileNobodyReads(node);
    expect(maxQueued).toBeLessThanOrEqual(16);
    expect(senderBuffered).toBeGreaterThan(0);
  }, 90_000);

  it('the README snippets these scenarios run are still in the READMEs, word for word', () => {
    for (const [file, lines] of Object.entries(README_SNIPPETS)) {
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      for (const line of lines) expect(text, `${file} shows ${line}`).toContain(line);
    }
  });
});
