// Session timers on a FakeClock, for every runner's tests (vitest, deno test, bun test): pass
// `options` (`timers`, `clock`) to a session or server; time moves only when told to.
import { FakeClock } from '../../packages/codec/src/testing/index.ts';
import type { SessionOptions } from '../../packages/codec/src/session/index.ts';

export function fakeTimers() {
  const clock = new FakeClock(1_000_000);
  const pending = new Map<number, { fn: () => void; at: number }>();
  let ids = 0;
  const options: Required<Pick<SessionOptions, 'timers' | 'clock'>> = {
    clock: clock.now,
    timers: {
      setTimeout: (fn, ms) => {
        pending.set(++ids, { fn, at: clock.now() + ms });
        return ids;
      },
      clearTimeout: (handle) => void pending.delete(handle as number),
    },
  };
  /** Runs the earliest timer due by `end` (the clock moved to its time); false if none is. */
  function runNext(end: number): boolean {
    let next: [number, { fn: () => void; at: number }] | null = null;
    for (const entry of pending) if (entry[1].at <= end && (next === null || entry[1].at < next[1].at)) next = entry;
    if (next === null) return false;
    clock.set(Math.max(clock.now(), next[1].at));
    pending.delete(next[0]);
    next[1].fn();
    return true;
  }
  /** Moves time on by `ms`, running what falls due in order, synchronously. */
  function advance(ms: number): void {
    const end = clock.now() + ms;
    while (runNext(end));
    clock.set(end);
  }
  /** Timers armed and not yet run (or cleared). */
  const pendingCount = (): number => pending.size;
  return { clock, options, runNext, advance, pendingCount };
}
