/**
 * One host timer for many connections' deadlines.
 *
 * Each connection that wants attention at some time (its codec's `nextDeadline()`, or its drain
 * timeout) is an entry here with that time; the sweep keeps them in a binary min-heap and arms a
 * single host timer for the earliest. When it fires, every entry due by then is taken out and
 * run (each one re-enters with its next deadline, if it has one). So an idle server holds one
 * timer however many connections it has, and a connection holds no timer object, only its
 * position in the heap (a small integer the connection keeps, through {@link SweepHooks}).
 *
 * Deadlines are kept exactly (no rounding to a tick): the codec's own checks are coarse where
 * coarseness is allowed (keepalive and idle, see `deadlines.ts`), and the handshake, close and
 * drain timeouts stay as precise as the host's timers. Entries that fall due in the same
 * millisecond, or while the host was busy, run in one wake-up.
 *
 * The host timer is armed only while some entry waits, and moved only to an earlier time: an
 * entry that leaves, or moves later, leaves it alone (it fires, finds nothing due, and re-arms
 * for what is left), so that the common case (a connection's keepalive check pushed out) costs
 * a heap update and no host call.
 */
import { reportError } from './emitter.ts';
import type { Timers } from './options.ts';

/** How the sweep reaches into its entries: where each one sits in the heap, and what to run when it is due. */
export interface SweepHooks<E> {
  /** The entry's position as last set by `setSlot` (-1 when never set). */
  slot(entry: E): number;
  setSlot(entry: E, slot: number): void;
  /** The entry's deadline has come (it is out of the heap: schedule it again for a later one). */
  fire(entry: E): void;
}

/** Not in the heap. */
export const UNSCHEDULED = -1;
/** Taken out of the heap by the running sweep, to be fired by it. */
const FIRING = -2;

export class DeadlineSweep<E> {
  readonly #timers: Timers;
  readonly #clock: () => number;
  readonly #hooks: SweepHooks<E>;
  /** The heap: `#entries[i]` is due at `#due[i]`; a parent is due no later than its children. */
  readonly #entries: E[] = [];
  readonly #due: number[] = [];
  /** The host timer's handle while armed, and the time it was armed for. */
  #handle: unknown = null;
  #armedAt = Number.POSITIVE_INFINITY;
  /** Entries taken out by the current sweep (reused). */
  readonly #batch: E[] = [];
  readonly #run = (): void => this.#sweep();

  constructor(timers: Timers, clock: () => number, hooks: SweepHooks<E>) {
    this.#timers = timers;
    this.#clock = clock;
    this.#hooks = hooks;
  }

  /** Entries waiting. */
  get size(): number {
    return this.#entries.length;
  }

  /** When `entry` is due, or Infinity while it is not scheduled. */
  dueOf(entry: E): number {
    return this.dueAt(this.#hooks.slot(entry));
  }

  /** When the entry at `slot` (as its `setSlot` was told) is due, or Infinity for a negative slot. */
  dueAt(slot: number): number {
    return slot >= 0 ? (this.#due[slot] as number) : Number.POSITIVE_INFINITY;
  }

  /** Run `entry` at `at` (or soon after): added, or moved from the time it had. */
  schedule(entry: E, at: number): void {
    const hooks = this.#hooks;
    const due = this.#due;
    let slot = hooks.slot(entry);
    if (slot >= 0) {
      const before = due[slot] as number;
      due[slot] = at;
      if (at < before) this.#up(slot);
      else if (at > before) this.#down(slot);
    } else {
      slot = this.#entries.length;
      this.#entries.push(entry);
      due.push(at);
      hooks.setSlot(entry, slot);
      this.#up(slot);
    }
    // The earliest entry, not necessarily this one: while a sweep runs, the timer is disarmed and
    // an entry it fires that schedules itself for later must not arm past those still waiting.
    const earliest = due[0] as number;
    if (earliest < this.#armedAt) this.#arm(earliest);
  }

  /** Take `entry` out (a no-op when it is not scheduled). */
  cancel(entry: E): void {
    const hooks = this.#hooks;
    const slot = hooks.slot(entry);
    if (slot < 0) {
      if (slot === FIRING) hooks.setSlot(entry, UNSCHEDULED); // the running sweep skips it
      return;
    }
    hooks.setSlot(entry, UNSCHEDULED);
    const entries = this.#entries;
    const due = this.#due;
    const last = entries.pop() as E;
    const lastDue = due.pop() as number;
    if (slot < entries.length) {
      const before = due[slot] as number;
      entries[slot] = last;
      due[slot] = lastDue;
      hooks.setSlot(last, slot);
      if (lastDue < before) this.#up(slot);
      else this.#down(slot);
    }
    if (entries.length === 0 && this.#handle !== null) {
      // Nothing left to wait for: no timer outlives the last deadline.
      this.#timers.clearTimeout(this.#handle);
      this.#handle = null;
      this.#armedAt = Number.POSITIVE_INFINITY;
    }
  }

  #arm(at: number): void {
    if (this.#handle !== null) this.#timers.clearTimeout(this.#handle);
    this.#armedAt = at;
    this.#handle = this.#timers.setTimeout(this.#run, Math.max(0, at - this.#clock()));
  }

  #sweep(): void {
    this.#handle = null;
    this.#armedAt = Number.POSITIVE_INFINITY;
    const hooks = this.#hooks;
    const entries = this.#entries;
    const due = this.#due;
    const now = this.#clock();
    // Take out everything due first: what an entry does when it runs (schedule itself again, even
    // for now, or end other entries) then waits for the next sweep instead of looping here.
    const batch = this.#batch;
    while (entries.length > 0 && (due[0] as number) <= now) {
      const entry = entries[0] as E;
      const last = entries.pop() as E;
      const lastDue = due.pop() as number;
      if (entries.length > 0) {
        entries[0] = last;
        due[0] = lastDue;
        hooks.setSlot(last, 0);
        this.#down(0);
      }
      hooks.setSlot(entry, FIRING);
      batch.push(entry);
    }
    for (let i = 0; i < batch.length; i++) {
      const entry = batch[i] as E;
      batch[i] = undefined as E; // let it go as soon as it has run
      if (hooks.slot(entry) !== FIRING) continue; // cancelled, or scheduled again, meanwhile
      hooks.setSlot(entry, UNSCHEDULED);
      try {
        hooks.fire(entry);
      } catch (error) {
        reportError(error); // the other entries still run
      }
    }
    batch.length = 0;
    if (entries.length > 0 && this.#handle === null) this.#arm(due[0] as number);
  }

  /** Move the entry at `slot` towards the root while it is due before its parent. */
  #up(slot: number): void {
    const entries = this.#entries;
    const due = this.#due;
    const hooks = this.#hooks;
    const entry = entries[slot] as E;
    const at = due[slot] as number;
    while (slot > 0) {
      const parent = (slot - 1) >> 1;
      const parentAt = due[parent] as number;
      if (parentAt <= at) break;
      const moved = entries[parent] as E;
      entries[slot] = moved;
      due[slot] = parentAt;
      hooks.setSlot(moved, slot);
      slot = parent;
    }
    entries[slot] = entry;
    due[slot] = at;
    hooks.setSlot(entry, slot);
  }

  /** Move the entry at `slot` towards the leaves while a child is due before it. */
  #down(slot: number): void {
    const entries = this.#entries;
    const due = this.#due;
    const hooks = this.#hooks;
    const length = entries.length;
    const entry = entries[slot] as E;
    const at = due[slot] as number;
    for (;;) {
      let child = 2 * slot + 1;
      if (child >= length) break;
      let childAt = due[child] as number;
      const right = child + 1;
      if (right < length && (due[right] as number) < childAt) {
        child = right;
        childAt = due[right] as number;
      }
      if (childAt >= at) break;
      const moved = entries[child] as E;
      entries[slot] = moved;
      due[slot] = childAt;
      hooks.setSlot(moved, slot);
      slot = child;
    }
    entries[slot] = entry;
    due[slot] = at;
    hooks.setSlot(entry, slot);
  }
}
