/**
 * The queue behind `for await (const message of connection)`: messages wait here until the
 * loop takes them. It tells its owner when it is full (stop reading) and when it has drained
 * to a quarter (read again), so a slow loop bounds memory instead of buffering without end.
 */
import { Fifo } from './fifo.ts';

export type Message = string | Uint8Array;

export class MessageQueue {
  readonly #items = new Fifo<Message>();
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
    return this.#items.length;
  }

  push(message: Message): void {
    if (this.#ended) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      waiter({ done: false, value: message });
      return;
    }
    this.#items.push(message);
    if (!this.#full && this.#items.length >= this.#max) {
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
    const value = this.#items.shift();
    if (value !== undefined) {
      if (this.#full && this.#items.length <= this.#max >> 2) {
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

  /** The loop stopped early: end it, release the pause, and return the messages it had not taken. */
  close(): Message[] {
    const rest = this.#items.takeAll();
    this.end();
    if (this.#full) {
      this.#full = false;
      this.#onFull(false);
    }
    return rest;
  }
}
