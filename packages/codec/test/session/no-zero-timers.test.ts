// A timed wait that begins in the codec outside tick(now) (the handshake, a close) shows as
// nextDeadline() 0: the session starts its clock with a tick there and then, never with a timer
// armed for 0 ms. Counted through the session's `timers` and `clock` options on the in-memory pair.
import { describe, expect, it } from 'vitest';
import type { Timers } from '../../src/session/index.ts';
import { pair, settle } from './memory-transport.ts';

function counting(): { timers: Timers; delays: number[] } {
  const delays: number[] = [];
  const timers: Timers = {
    setTimeout: (fn: () => void, ms: number) => {
      delays.push(ms);
      return setTimeout(fn, ms);
    },
    clearTimeout: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
  return { timers, delays };
}

describe('session: no 0 ms timer for a wait that begins', () => {
  it('a handshake and a close arm timers only for real deadlines', async () => {
    const server = counting();
    const client = counting();
    const p = pair(
      { timers: server.timers, timeouts: { closeTimeout: 5000 } },
      { timers: client.timers, timeouts: { closeTimeout: 5000 } },
    );
    const ws = await p.client.opened;
    await p.server;
    ws.close(1000);
    await ws.closed;
    await settle();
    const all = [...server.delays, ...client.delays];
    expect(all.length).toBeGreaterThan(0); // the handshake's deadline at least was armed
    expect(all.filter((ms) => ms <= 0)).toEqual([]);
  });
});
