// Session timers on a FakeClock for the in-memory session tests: `advance` runs what falls due,
// in order, and lets the memory transport deliver (microtasks) between timers.
import { fakeTimers } from '../../../../test/shared/fake-timers.ts';
import { settle } from './memory-transport.ts';

export function fakeTime() {
  const time = fakeTimers();
  async function advance(ms: number): Promise<void> {
    const end = time.clock.now() + ms;
    do await settle();
    while (time.runNext(end));
    time.clock.set(end);
    await settle();
  }
  return { clock: time.clock, timers: time.options.timers, advance, options: time.options };
}
