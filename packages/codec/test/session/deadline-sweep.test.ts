// The session's deadline sweep (one host timer for many connections' deadlines) on a FakeClock:
// entries run in deadline order and only once due, one timer is armed whatever their number
// (none while empty), moving an entry earlier re-arms it, and what an entry does while the
// sweep runs (cancel another, schedule itself for now, throw) does not upset the others.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/testing/index.ts';
import { DeadlineSweep, UNSCHEDULED } from '../../src/session/deadline-sweep.ts';

interface Entry {
  name: string;
  slot: number;
  onFire?: () => void;
}

function setup() {
  const clock = new FakeClock(1000);
  const fired: Array<[string, number]> = [];
  const sweep = new DeadlineSweep<Entry>(clock.timers, clock.now, {
    slot: (e) => e.slot,
    setSlot: (e, slot) => {
      e.slot = slot;
    },
    fire: (e) => {
      fired.push([e.name, clock.now()]);
      e.onFire?.();
    },
  });
  const entry = (name: string): Entry => ({ name, slot: UNSCHEDULED });
  return { clock, sweep, fired, entry };
}

describe('DeadlineSweep', () => {
  it('runs 1,000 entries in deadline order, each once it is due, on one timer', () => {
    const { clock, sweep, fired, entry } = setup();
    const entries = Array.from({ length: 1000 }, (_, i) => entry(`e${i}`));
    // Deadlines 1001..2000 in a scrambled order.
    entries.forEach((e, i) => sweep.schedule(e, 1001 + ((i * 7919) % 1000)));
    expect(clock.pendingTimers).toBe(1);
    expect(sweep.size).toBe(1000);
    clock.advance(499);
    expect(fired.length).toBe(499);
    for (const [, at] of fired) expect(at).toBeLessThanOrEqual(1499);
    clock.advance(501);
    expect(fired.length).toBe(1000);
    expect(fired.map(([, at]) => at)).toEqual(Array.from({ length: 1000 }, (_, i) => 1001 + i));
    expect(clock.pendingTimers).toBe(0);
    expect(entries.every((e) => e.slot === UNSCHEDULED)).toBe(true);
  });

  it('moving an entry earlier re-arms; later or cancelled leaves the timer, which finds nothing and re-arms', () => {
    const { clock, sweep, fired, entry } = setup();
    const a = entry('a');
    const b = entry('b');
    sweep.schedule(a, 2000);
    sweep.schedule(b, 3000);
    sweep.schedule(b, 1500); // earlier than anything: the timer moves
    expect(sweep.dueOf(b)).toBe(1500);
    clock.advance(500);
    expect(fired).toEqual([['b', 1500]]);
    sweep.schedule(a, 2500); // later: no host call now
    expect(clock.pendingTimers).toBe(1);
    clock.advance(600); // the timer armed for 2000 found nothing due
    expect(fired).toEqual([['b', 1500]]);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(400);
    expect(fired).toEqual([
      ['b', 1500],
      ['a', 2500],
    ]);
  });

  it('cancelling the last entry clears the timer; cancelling twice is harmless', () => {
    const { clock, sweep, fired, entry } = setup();
    const a = entry('a');
    const b = entry('b');
    sweep.schedule(a, 2000);
    sweep.schedule(b, 2000);
    sweep.cancel(a);
    sweep.cancel(a);
    expect(clock.pendingTimers).toBe(1);
    sweep.cancel(b);
    expect(clock.pendingTimers).toBe(0);
    expect(sweep.dueOf(a)).toBe(Number.POSITIVE_INFINITY);
    clock.advance(5000);
    expect(fired).toEqual([]);
  });

  it('an entry that cancels another due in the same sweep stops it; one that reschedules itself for now waits for the next sweep', () => {
    const { clock, sweep, fired, entry } = setup();
    const a = entry('a');
    const b = entry('b');
    let again = 2;
    a.onFire = () => {
      sweep.cancel(b);
      if (again-- > 0) sweep.schedule(a, clock.now());
    };
    sweep.schedule(a, 1100);
    sweep.schedule(b, 1100);
    clock.advance(100);
    // a ran three times (each time on a new sweep, not in a loop inside one), b never.
    expect(fired).toEqual([
      ['a', 1100],
      ['a', 1100],
      ['a', 1100],
    ]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('an entry that schedules itself for later while the sweep runs leaves the timer armed for the earliest still waiting', () => {
    const { clock, sweep, fired, entry } = setup();
    const open = entry('open'); // e.g. a connection whose handshake deadline passed after it opened
    const silent = entry('silent'); // a silent client's handshake deadline, a little later
    open.onFire = () => sweep.schedule(open, 31_000); // its next deadline: a keepalive, far off
    sweep.schedule(open, 1500);
    sweep.schedule(silent, 1520);
    clock.advance(500);
    expect(fired).toEqual([['open', 1500]]);
    clock.advance(20);
    expect(fired).toEqual([
      ['open', 1500],
      ['silent', 1520],
    ]);
    expect(sweep.dueOf(open)).toBe(31_000);
    expect(clock.pendingTimers).toBe(1);
  });

  it('an entry that throws does not stop the others (the error is reported on a microtask)', async () => {
    const { clock, sweep, fired, entry } = setup();
    const a = entry('a');
    const b = entry('b');
    a.onFire = () => {
      throw new Error('from a');
    };
    // Catch the re-thrown error instead of letting it reach the test runner.
    const reported: unknown[] = [];
    const onError = (error: unknown): void => void reported.push(error);
    process.prependListener('uncaughtException', onError);
    sweep.schedule(a, 1100);
    sweep.schedule(b, 1100);
    clock.advance(100);
    try {
      expect(fired.map(([name]) => name).sort()).toEqual(['a', 'b']);
      await new Promise((r) => setTimeout(r, 10));
    } finally {
      process.off('uncaughtException', onError);
    }
    expect(reported).toMatchObject([{ message: 'from a' }]);
  });
});
