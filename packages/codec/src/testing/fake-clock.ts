/** A clock for tests: time moves only when told to. Pass `clock.now` as a connection's `clock`. */
export class FakeClock {
  #time: number;

  constructor(start = 0) {
    this.#time = start;
  }

  /** The current time in milliseconds (bound: pass it around freely). */
  readonly now = (): number => this.#time;

  advance(ms: number): number {
    if (!(ms >= 0)) throw new RangeError(`advance() takes a duration ≥ 0, got ${ms}`);
    this.#time += ms;
    return this.#time;
  }

  set(time: number): void {
    if (time < this.#time) throw new RangeError(`time cannot go backwards (${time} < ${this.#time})`);
    this.#time = time;
  }
}
