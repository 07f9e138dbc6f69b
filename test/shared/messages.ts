// Reading one of our connections in every runner's tests (deno test, bun test, vitest).
import type { WebSocketConnection } from '../../packages/codec/src/session/index.ts';

/** The next `n` messages of our connection: text as strings, binary as bytes. Unbounded: wrap it in `within`. */
export function nextMessages(ws: WebSocketConnection, n: number): Promise<Array<string | Uint8Array>> {
  return new Promise((resolve) => {
    const got: Array<string | Uint8Array> = [];
    const onMessage = (data: string | Uint8Array): void => {
      got.push(data);
      if (got.length === n) {
        ws.off('message', onMessage);
        resolve(got);
      }
    };
    ws.on('message', onMessage);
  });
}
