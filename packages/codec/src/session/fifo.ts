/**
 * A first-in first-out list over one array and a head index: `shift()` costs no copy, and the
 * array is compacted once most of it has been taken. Used for the messages a connection holds
 * and for the `for await` queue.
 */
export class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    const items = this.#items;
    if (this.#head === items.length) return undefined;
    const item = items[this.#head] as T; // within [head, length): an item put there
    items[this.#head++] = undefined as T; // let go of it
    if (this.#head === items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= items.length) {
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Put `items` back in front, in their order (a consumer that stopped early returns what it had not taken). */
  unshift(items: readonly T[]): void {
    if (items.length === 0) return;
    this.#items = [...items, ...this.#items.slice(this.#head)];
    this.#head = 0;
  }

  /** Remove and return every item, oldest first. */
  takeAll(): T[] {
    const rest = this.#head === 0 ? this.#items : this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return rest;
  }
}
