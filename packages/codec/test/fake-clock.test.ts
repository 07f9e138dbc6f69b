// FakeClock's timers: due timers run in time order (ties in the order armed), cleared ones never,
// advance() runs them synchronously, tick() lets microtasks run between them.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../src/testing/index.ts';

describe('FakeClock timers', () => {
  it('advance() runs due timers in order and moves now() to each one', () => {
    const clock = new FakeClock(100);
    const ran: Array<[string, number]> = [];
    clock.timers.setTimeout(() => ran.push(['b', clock.now()]), 20);
    clock.timers.setTimeout(() => ran.push(['a', clock.now()]), 10);
    clock.timers.setTimeout(() => ran.push(['a2', clock.now()]), 10);
    const cleared = clock.timers.setTimeout(() => ran.push(['never', clock.now()]), 5);
    clock.timers.clearTimeout(cleared);
    clock.timers.clearTimeout({}); // unknown handle: ignored
    clock.timers.setTimeout(() => ran.push(['later', clock.now()]), 1000);
    expect(clock.pendingTimers).toBe(4);
    expect(clock.advance(50)).toBe(150);
    expect(ran).toEqual([
      ['a', 110],
      ['a2', 110],
      ['b', 120],
    ]);
    expect(clock.pendingTimers).toBe(1);
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });

  it('a timer armed by a timer runs in the same advance when due; tick() lets microtasks run between timers', async () => {
    const clock = new FakeClock();
    const ran: string[] = [];
    clock.timers.setTimeout(() => {
      ran.push('first');
      void Promise.resolve().then(() => ran.push('microtask of first'));
      clock.timers.setTimeout(() => ran.push('second'), 0);
    }, 10);
    await clock.tick(10);
    expect(ran).toEqual(['first', 'microtask of first', 'second']);
    expect(clock.now()).toBe(10);
    await expect(clock.tick(-1)).rejects.toThrow(RangeError);
  });
});
