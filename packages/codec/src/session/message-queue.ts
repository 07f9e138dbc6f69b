/**
 * The queue behind `for await (const message of connection)`: messages wait here until the
 * loop takes them. It tells its owner when it is full (pause reading) and when it has drained
 * to a quarter (resume), so a slow loop bounds memory instead of buffering without end.
 */

export type Message = string | Uint8Array;

export class MessageQueue {
  #items: Message[] = [];
  #head = 0;
  #waiters: Array<(result: IteratorResult<Message, undefined>) => void> = [];
  #ended = false;
  #full = false;
  readonly #max: number;
  readonly #onFull: (full: boolean) => void;

  constructor(max: number, onFull: (full: boolean) => void) {
    this.#max = max;
    this.#onFull = onFull;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(message: Message): void {
    if (this.#ended) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      waiter({ done: false, value: message });
      return;
    }
    this.#items.push(message);
    if (!this.#full && this.length >= this.#max) {
      this.#full = true;
      this.#onFull(true);
    }
  }

  /** No more messages: the loop ends once it has taken those queued. */
  end(): void {
    this.#ended = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter({ done: true, value: undefined });
  }

  next(): Promise<IteratorResult<Message, undefined>> {
    if (this.length > 0) {
      const value = this.#items[this.#head]!;
      this.#items[this.#head++] = '';
      if (this.#head === this.#items.length) {
        this.#items = [];
        this.#head = 0;
      } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
      if (this.#full && this.length <= this.#max >> 2) {
        this.#full = false;
        this.#onFull(false);
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.#ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
    });
  }

  /** The loop stopped early: drop what is queued and release the pause. */
  close(): void {
    this.#items = [];
    this.#head = 0;
    this.end();
    if (this.#full) {
      this.#full = false;
      this.#onFull(false);
    }
  }
}
