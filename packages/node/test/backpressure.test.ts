// Backpressure over real sockets: a slow reader (bufferedAmount rises, drain resolves, every
// message arrives in order) and a peer that never reads (the send buffer hits maxBufferedAmount
// and the connection is terminated, so memory stays bounded). The scenarios are shared by every
// runtime: see test/shared/backpressure.ts; here the slow reader is a `ws` client. A scenario
// throws on the first check that fails: each test expects it to resolve.
import { once } from 'node:events';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { neverReads, slowReader, UPGRADE_REQUEST, type PausableClient } from '../../../test/shared/backpressure.ts';
import { HOST, ourServer, wsClient } from './helpers.ts';

/** A `ws` client as the scenario's pausable client. */
async function pausableWsClient(url: string): Promise<PausableClient> {
  const ws = await wsClient(url);
  const closed = once(ws, 'close');
  return {
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    on: (_event, listener) => ws.on('message', (data: Buffer) => listener(data)),
    close: () => ws.close(),
    closed,
  };
}

describe('backpressure', () => {
  it("with a slow reader: send() returns 'buffered', drain() resolves, all messages arrive in order", async () => {
    await expect(slowReader(ourServer, pausableWsClient)).resolves.toBeUndefined();
  });

  it('terminates a peer that never reads once maxBufferedAmount is exceeded', async () => {
    const scenario = neverReads(ourServer, async (port) => {
      const socket = net.connect(port, HOST);
      socket.on('error', () => {});
      socket.write(UPGRADE_REQUEST);
      await new Promise<void>((resolve) =>
        socket.once('data', () => {
          socket.pause(); // read the 101, then never again
          resolve();
        }),
      );
      return () => socket.destroy();
    });
    await expect(scenario).resolves.toBeUndefined();
  });
});
