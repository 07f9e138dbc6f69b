/**
 * A clock for tests: time moves only when told to. For a bare codec connection, pass
 * `clock.now()` to its `tick(now)`; for the session layer, pass `clock.now` as its `clock` and
 * `clock.timers` as its `timers`: then `await clock.tick(ms)` runs every timer that falls due
 * (keepalive pings, idle, close and handshake timeouts, your own) in order, letting what each
 * one starts settle before the next.
 */
import type { Timers } from './options.ts';

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/** Let queued microtasks run (in-memory deliveries chain a few): `turns` turns of the queue. */
export async function flushMicrotasks(turns = 50): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}

export class FakeClock {
  #time: number;
  #timers: FakeTimer[] = [];
  #seq = 0;

  constructor(start = 0) {
    this.#time = start;
  }

  /** The current time in milliseconds (bound: pass it around freely). */
  readonly now = (): number => this.#time;

  /** Timer functions on this clock (bound: pass as the session's `timers` option). */
  readonly timers: Timers = {
    setTimeout: (callback, ms) => {
      const timer: FakeTimer = { at: this.#time + Math.max(0, Number(ms) || 0), seq: this.#seq++, fn: callback };
      this.#timers.push(timer);
      return timer;
    },
    clearTimeout: (handle) => {
      const i = this.#timers.indexOf(handle as FakeTimer);
      if (i >= 0) this.#timers.splice(i, 1);
    },
  };

  /** Timers armed and not yet run. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Move time forward by `ms`, running the timers that fall due on the way (synchronously, in order). */
  advance(ms: number): number {
    if (!(ms >= 0)) throw new RangeError(`advance() takes a duration ≥ 0, got ${ms}`);
    const end = this.#time + ms;
    for (let timer = this.#due(end); timer !== null; timer = this.#due(end)) this.#run(timer);
    this.#time = end;
    return this.#time;
  }

  /**
   * Move time forward by `ms` as `advance` does, letting microtasks run after each timer (and
   * before the first): what a timer starts (a ping crossing an in-memory pair, its pong) happens
   * before the next timer runs.
   */
  async tick(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`tick() takes a duration ≥ 0, got ${ms}`);
    const end = this.#time + ms;
    await flushMicrotasks();
    for (let timer = this.#due(end); timer !== null; timer = this.#due(end)) {
      this.#run(timer);
      await flushMicrotasks();
    }
    this.#time = end;
    await flushMicrotasks();
  }

  set(time: number): void {
    if (time < this.#time) throw new RangeError(`time cannot go backwards (${time} < ${this.#time})`);
    this.#time = time;
  }

  /** The earliest timer due by `end`, or null. */
  #due(end: number): FakeTimer | null {
    let first: FakeTimer | null = null;
    for (const timer of this.#timers)
      if (
        timer.at <= end &&
        (first === null || timer.at < first.at || (timer.at === first.at && timer.seq < first.seq))
      )
        first = timer;
    return first;
  }

  #run(timer: FakeTimer): void {
    this.#timers.splice(this.#timers.indexOf(timer), 1);
    if (timer.at > this.#time) this.#time = timer.at;
    timer.fn();
  }
}
