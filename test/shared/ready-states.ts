// The readyState a WHATWG WebSocket shows over its life, for every runner's tests (deno test, bun
// test, vitest): sampled on each turn of the event loop until its close event, so that a state
// held for a turn or more (CLOSING between a failure and the close event, say) is seen.

interface Sampled {
  readonly readyState: number;
  addEventListener(type: 'close', listener: () => void): void;
}

/**
 * Every readyState `ws` shows until its close event, without repeats (the close event's own
 * state included). `turn` waits one turn of the event loop: the runtime's fastest (Node's
 * setImmediate; a 0 ms timer elsewhere). Fails if the close event does not come within 10,000 turns.
 */
export async function readyStates(
  ws: Sampled,
  turn: () => Promise<void> = () => new Promise((resolve) => setTimeout(resolve, 0)),
): Promise<number[]> {
  const seen = [ws.readyState];
  let closed = false;
  ws.addEventListener('close', () => {
    closed = true;
    if (seen.at(-1) !== ws.readyState) seen.push(ws.readyState);
  });
  for (let i = 0; i < 10_000 && !closed; i++) {
    await turn();
    if (!closed && seen.at(-1) !== ws.readyState) seen.push(ws.readyState);
  }
  if (!closed) throw new Error('no close event within 10,000 turns of the event loop');
  return seen;
}
