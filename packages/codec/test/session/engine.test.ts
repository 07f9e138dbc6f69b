// The session passes each transport's `engine` tuning to that connection's codec (server and
// client): two connections of one process on differently tuned transports differ, and only in
// how their small arrays are made.
import { describe, expect, it } from 'vitest';
import type { EngineTuning, WebSocketConnection } from '../../src/session/index.ts';
import { ServerSession, connectSession, transportHandlers } from '../../src/session/index.ts';
import { settle, transportPair } from './memory-transport.ts';

const ownsMemory = (bytes: Uint8Array): boolean => bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length;

/** A server and a client session in memory, both transports tuned with `engine` (undefined: not at all). */
async function open(
  engine: EngineTuning | undefined,
): Promise<{ server: WebSocketConnection; client: WebSocketConnection }> {
  const [serverSide, clientSide] = transportPair();
  if (engine !== undefined) {
    Object.assign(serverSide, { engine });
    Object.assign(clientSide, { engine });
  }
  let server: WebSocketConnection | null = null;
  serverSide.handlers = new ServerSession(serverSide, {}, (ws) => (server = ws), { remoteAddress: '192.0.2.1' });
  const client = connectSession(clientSide, 'ws://example.test/');
  clientSide.handlers = transportHandlers(client);
  await client.opened;
  await settle();
  if (server === null) throw new Error('the server side did not open');
  return { server, client };
}

describe('session: Transport.engine reaches the codec', () => {
  it('a JavaScriptCore-tuned pair and an untuned pair in one process: only the tuned one receives arrays of their own', async () => {
    const tuned = await open({ freshArrays: true });
    const plain = await open(undefined);
    const data = new Uint8Array(40).map((_, i) => i);
    const got = new Map<WebSocketConnection, Uint8Array[]>();
    for (const side of [tuned.server, tuned.client, plain.server, plain.client]) {
      const list: Uint8Array[] = [];
      got.set(side, list);
      side.on('message', (message) => list.push(message as Uint8Array));
    }
    for (const [from, to] of [
      [tuned.client, tuned.server],
      [plain.client, plain.server],
      [tuned.server, tuned.client],
      [plain.server, plain.client],
    ] as const) {
      from.send(data);
      await settle();
      expect(got.get(to)).toEqual([data]);
    }
    expect([tuned.server, tuned.client].map((side) => ownsMemory(got.get(side)![0]!))).toEqual([true, true]);
    // Untuned (V8): views of the chunks the transport delivered.
    expect([plain.server, plain.client].map((side) => ownsMemory(got.get(side)![0]!))).toEqual([false, false]);
  });
});
