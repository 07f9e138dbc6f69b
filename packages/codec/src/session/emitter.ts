/**
 * A small typed event emitter (`on`/`off`/`once`), the same on every runtime. A listener that
 * throws does not stop the others or the connection: its error is re-thrown on a fresh
 * microtask, where the host reports it as uncaught (as `EventTarget` does). Listeners are called
 * with the emitter as `this` (as Node's `EventEmitter` does), so one function can serve many
 * emitters without a closure per emitter.
 */

// biome-ignore lint/suspicious/noExplicitAny: listeners of every event share this store; each event's typed `on` checks its own signature
type Listener = (...args: any[]) => void;

/** A `once` registration. */
class Once {
  readonly fn: Listener;
  constructor(fn: Listener) {
    this.fn = fn;
  }
}

/**
 * One event's listeners: a lone listener as itself (the common case costs no array), several as
 * an array that is replaced, never changed, when listeners come and go.
 */
type Slot = Listener | Once | ReadonlyArray<Listener | Once>;

const fnOf = (item: Listener | Once): Listener => (item instanceof Once ? item.fn : item);

/**
 * An emitter's events: each name to its listeners' arguments (a tuple, or a union of tuples
 * when one argument narrows another). An interface without an index signature is closed:
 * other names do not compile.
 */
export type EventMap<E = Record<string, unknown[]>> = { [K in keyof E]: unknown[] };

const hostQueueMicrotask = (globalThis as { queueMicrotask?: (callback: () => void) => void }).queueMicrotask;

/** Run `callback` on a fresh microtask (the host's `queueMicrotask`, else a resolved promise). */
export function microtask(callback: () => void): void {
  if (hostQueueMicrotask !== undefined) hostQueueMicrotask(callback);
  else void Promise.resolve().then(callback);
}

/** Report a listener's exception without unwinding the caller: thrown again, uncaught, on a microtask. */
export function reportError(error: unknown): void {
  microtask(() => {
    throw error;
  });
}

export class Emitter<E extends EventMap<E>> {
  // Allocated on the first registration: most connections have two listeners or none.
  #listeners: { [type: string]: Slot | undefined } | null = null;

  // Each method has two signatures: the whole argument list (where a union of tuples lets one
  // argument narrow another), and the first argument alone, for a listener that takes only it
  // (TypeScript does not accept `(data) => …` for a union of two-element tuples).

  /** Call `listener` on every `type` event. */
  on<K extends keyof E & string>(type: K, listener: (...args: E[K]) => unknown): this;
  on<K extends keyof E & string>(type: K, listener: (first: E[K][0]) => unknown): this;
  on(type: string, listener: Listener): this {
    return this.#add(type, listener, false);
  }

  /** Call `listener` on the next `type` event only. */
  once<K extends keyof E & string>(type: K, listener: (...args: E[K]) => unknown): this;
  once<K extends keyof E & string>(type: K, listener: (first: E[K][0]) => unknown): this;
  once(type: string, listener: Listener): this {
    return this.#add(type, listener, true);
  }

  /** Remove `listener` (its first registration) from `type`. */
  off<K extends keyof E & string>(type: K, listener: (...args: E[K]) => unknown): this;
  off<K extends keyof E & string>(type: K, listener: (first: E[K][0]) => unknown): this;
  off(type: string, listener: Listener): this {
    const listeners = this.#listeners;
    const slot = listeners?.[type];
    if (listeners === null || slot === undefined) return this;
    if (!Array.isArray(slot)) {
      if (fnOf(slot as Listener | Once) === listener) listeners[type] = undefined;
      return this;
    }
    const list = slot as ReadonlyArray<Listener | Once>;
    const i = list.findIndex((item) => fnOf(item) === listener);
    if (i >= 0) {
      // Copy on write: an emit in progress keeps iterating its own snapshot.
      const next = list.slice();
      next.splice(i, 1);
      listeners[type] = next.length === 1 ? next[0] : next;
    }
    return this;
  }

  /** Number of listeners for `type`. */
  listenerCount<K extends keyof E & string>(type: K): number {
    const slot = this.#listeners?.[type];
    return slot === undefined ? 0 : Array.isArray(slot) ? slot.length : 1;
  }

  /** Call the listeners of `type` in order; false if there were none. */
  protected emit<K extends keyof E & string>(type: K, ...args: E[K]): boolean {
    const slot = this.#listeners?.[type];
    if (slot === undefined) return false;
    if (typeof slot === 'function') {
      try {
        slot.apply(this, args);
      } catch (error) {
        reportError(error);
      }
      return true;
    }
    for (const item of Array.isArray(slot) ? (slot as ReadonlyArray<Listener | Once>) : [slot as Once]) {
      let fn: Listener;
      if (item instanceof Once) {
        fn = item.fn;
        this.#removeOnce(type, item);
      } else {
        fn = item;
      }
      try {
        fn.apply(this, args);
      } catch (error) {
        reportError(error);
      }
    }
    return true;
  }

  /**
   * `emit` of exactly two arguments, for the per-message event: a lone listener is called
   * without the rest-arguments array `emit` makes.
   */
  protected emit2<K extends keyof E & string>(type: K, a: E[K][0], b: E[K][1]): boolean {
    const slot = this.#listeners?.[type];
    if (slot === undefined) return false;
    if (typeof slot === 'function') {
      try {
        slot.call(this, a, b);
      } catch (error) {
        reportError(error);
      }
      return true;
    }
    return this.emit(type, ...([a, b] as unknown as E[K]));
  }

  /** `emit` of exactly one argument: a lone listener is called without an arguments array (as {@link emit2}). */
  protected emit1<K extends keyof E & string>(type: K, a: E[K][0]): boolean {
    const slot = this.#listeners?.[type];
    if (slot === undefined) return false;
    if (typeof slot === 'function') {
      try {
        slot.call(this, a);
      } catch (error) {
        reportError(error);
      }
      return true;
    }
    return this.emit(type, ...([a] as unknown as E[K]));
  }

  /** `emit` of no argument: a lone listener is called without an arguments array (as {@link emit2}). */
  protected emit0<K extends keyof E & string>(type: K): boolean {
    const slot = this.#listeners?.[type];
    if (slot === undefined) return false;
    if (typeof slot === 'function') {
      try {
        slot.call(this);
      } catch (error) {
        reportError(error);
      }
      return true;
    }
    return this.emit(type, ...([] as unknown as E[K]));
  }

  #removeOnce(type: string, item: Once): void {
    const listeners = this.#listeners;
    if (listeners === null) return;
    const slot = listeners[type];
    if (slot === item) {
      listeners[type] = undefined;
      return;
    }
    if (!Array.isArray(slot)) return;
    const list = slot as ReadonlyArray<Listener | Once>;
    const i = list.indexOf(item);
    if (i < 0) return;
    const next = list.slice();
    next.splice(i, 1);
    listeners[type] = next.length === 0 ? undefined : next.length === 1 ? next[0] : next;
  }

  #add(type: string, listener: Listener, once: boolean): this {
    if (typeof listener !== 'function') {
      throw new TypeError(`a listener must be a function, got ${typeof listener}`);
    }
    const item = once ? new Once(listener) : listener;
    const listeners = (this.#listeners ??= {});
    const slot = listeners[type];
    listeners[type] =
      slot === undefined
        ? item
        : Array.isArray(slot)
          ? [...(slot as ReadonlyArray<Listener | Once>), item]
          : [slot as Listener | Once, item];
    this.listenerAdded(type);
    return this;
  }

  /** Called after a listener was added for `type` (a subclass may deliver what waited for one). */
  protected listenerAdded(_type: string): void {}
}
