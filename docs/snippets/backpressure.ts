import type { WebSocketConnection } from '@ws/node';

/** Send everything without outrunning the peer: send() returns 'buffered' at highWaterMark, drain() waits. */
export async function sendAll(ws: WebSocketConnection, chunks: Iterable<Uint8Array>): Promise<void> {
  for (const chunk of chunks) {
    if (ws.send(chunk) === 'buffered') await ws.drain();
  }
}

/** Receive at your own pace: `for await` reads no further ahead than maxQueuedMessages (16). */
export async function saveAll(ws: WebSocketConnection, save: (message: string | Uint8Array) => Promise<void>): Promise<number> {
  let count = 0;
  for await (const message of ws) {
    await save(message); // while this waits, the socket is not read and TCP slows the peer down
    count++;
  }
  return count;
}
