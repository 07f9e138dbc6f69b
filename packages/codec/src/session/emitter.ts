/**
 * A small typed event emitter (`on`/`off`/`once`), the same on every runtime. A listener that
 * throws does not stop the others or the connection: its error is re-thrown on a fresh
 * microtask, where the host reports it as uncaught (as `EventTarget` does).
 */

type Listener = (...args: any[]) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
type Entry = { fn: Listener; once: boolean };

export type EventMap = { [event: string]: unknown[] };

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

export class Emitter<E extends EventMap> {
  #listeners: { [K in keyof E]?: Entry[] } = {};

  /** Call `listener` on every `type` event. */
  on<K extends keyof E & string>(type: K, listener: (...args: E[K]) => void): this {
    return this.#add(type, listener, false);
  }

  /** Call `listener` on the next `type` event only. */
  once<K extends keyof E & string>(type: K, listener: (...args: E[K]) => void): this {
    return this.#add(type, listener, true);
  }

  /** Remove `listener` (its first registration) from `type`. */
  off<K extends keyof E & string>(type: K, listener: (...args: E[K]) => void): this {
    const list = this.#listeners[type];
    if (list === undefined) return this;
    const i = list.findIndex((entry) => entry.fn === listener);
    if (i >= 0) {
      // Copy on write: an emit in progress keeps iterating its own snapshot.
      const next = list.slice();
      next.splice(i, 1);
      this.#listeners[type] = next.length === 0 ? undefined : next;
    }
    return this;
  }

  /** Number of listeners for `type`. */
  listenerCount<K extends keyof E & string>(type: K): number {
    return this.#listeners[type]?.length ?? 0;
  }

  /** Call the listeners of `type` in order; false if there were none. */
  protected emit<K extends keyof E & string>(type: K, ...args: E[K]): boolean {
    const list = this.#listeners[type];
    if (list === undefined) return false;
    for (const entry of list) {
      if (entry.once) this.off(type, entry.fn as (...args: E[K]) => void);
      try {
        (entry.fn as (...args: E[K]) => void)(...args);
      } catch (error) {
        reportError(error);
      }
    }
    return true;
  }

  #add<K extends keyof E & string>(type: K, listener: (...args: E[K]) => void, once: boolean): this {
    if (typeof listener !== 'function') {
      throw new TypeError(`a listener must be a function, got ${typeof listener}`);
    }
    const list = this.#listeners[type];
    const entry: Entry = { fn: listener as Listener, once };
    this.#listeners[type] = list === undefined ? [entry] : [...list, entry];
    return this;
  }
}
