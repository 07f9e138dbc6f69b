/**
 * Receiving, when messages wait: those no consumer has taken yet (held, in arrival order), and
 * the `for await` loop's queue. The connection delivers a message straight to its consumers
 * while none is held (its hot path); the rest is here: holding what finds no consumer, pausing
 * reading at `maxQueuedMessages`, delivering the held ones on a microtask once a consumer comes
 * (so the code that attached it finishes first), and the loop itself. The rules are in
 * {@link WebSocketConnection}'s doc.
 *
 * What it needs of a connection comes through {@link ReceiveAccess}, given once by
 * `websocket-connection.ts`: its flag bits, its two lists, and its listeners.
 */
import { WebSocketUsageError } from '../errors.ts';
import type { Event } from '../events.ts';
import {
  ASSEMBLE,
  BACKLOG,
  FLUSH_QUEUED,
  HELD_FULL,
  HOLDING,
  LOCAL_CLOSE,
  QUEUE_PAUSED,
  RECEIVE_FULL,
} from './connection-flags.ts';
import { microtask } from './emitter.ts';
import { Fifo } from './fifo.ts';
import { MessageQueue, type Message } from './message-queue.ts';
import type { WebSocketConnection } from './websocket-connection.ts';

/** A fragment event held for a 'fragment' listener (streaming mode). */
export type FragmentEvent = Extract<Event, { type: 'fragment' }>;

/** What waits in a connection's held list. */
export type Held = Message | FragmentEvent;

/** @internal A connection's parts the receive side uses. */
export interface ReceiveAccess {
  /** Any of `bits` is set in its flags. */
  has(connection: WebSocketConnection, bits: number): boolean;
  set(connection: WebSocketConnection, bit: number, on: boolean): void;
  held(connection: WebSocketConnection): Fifo<Held> | null;
  makeHeld(connection: WebSocketConnection): Fifo<Held>;
  queue(connection: WebSocketConnection): MessageQueue | null;
  setQueue(connection: WebSocketConnection, queue: MessageQueue | null): void;
  maxQueuedMessages(connection: WebSocketConnection): number;
  /** `close` has fired. */
  closed(connection: WebSocketConnection): boolean;
  emitMessage(connection: WebSocketConnection, data: Message, isBinary: boolean): void;
  emitFragment(connection: WebSocketConnection, event: FragmentEvent): void;
  /** Pause or resume the transport as the flags now say. */
  applyFlow(connection: WebSocketConnection): void;
  pump(connection: WebSocketConnection): void;
}

let access: ReceiveAccess;

/** @internal Called once by `websocket-connection.ts` as it loads. */
export function provideReceiveAccess(parts: ReceiveAccess): void {
  access = parts;
}

/** A 'message' listener or the loop (a 'fragment' listener in streaming mode) is there to take messages. */
export function hasConsumer(c: WebSocketConnection): boolean {
  if (!access.has(c, ASSEMBLE)) return c.listenerCount('fragment') > 0;
  return access.queue(c) !== null || c.listenerCount('message') > 0;
}

/** Keep what no consumer took; pause reading at `maxQueuedMessages`. */
export function hold(c: WebSocketConnection, item: Held): void {
  const held = access.held(c) ?? access.makeHeld(c);
  // Closing at the application's request, with the bound reached and nobody reading: dropped.
  if (access.has(c, LOCAL_CLOSE) && held.length >= access.maxQueuedMessages(c) && !hasConsumer(c)) return;
  held.push(item);
  access.set(c, HOLDING, true);
  checkHeldFull(c, held);
  if (hasConsumer(c)) scheduleFlush(c);
}

function checkHeldFull(c: WebSocketConnection, held: Fifo<Held>): void {
  if (!access.has(c, HELD_FULL) && held.length >= access.maxQueuedMessages(c)) {
    access.set(c, HELD_FULL, true);
    access.applyFlow(c);
  }
}

/** Deliver the held messages on a microtask: the code that attached a consumer finishes first. */
export function scheduleFlush(c: WebSocketConnection): void {
  if (access.has(c, FLUSH_QUEUED)) return;
  access.set(c, FLUSH_QUEUED, true);
  microtask(() => flush(c));
}

/**
 * Give the held messages, oldest first, to the consumers there are (ones that arrive meanwhile,
 * e.g. read by a `send()` from a listener, join the end); then read on if reading was stopped.
 */
export function flush(c: WebSocketConnection): void {
  access.set(c, FLUSH_QUEUED, false);
  const held = access.held(c);
  if (held !== null) {
    while (held.length > 0 && hasConsumer(c)) {
      const item = held.shift();
      if (item === undefined) break; // (never: its length says so)
      if (typeof item === 'string') deliver(c, item, false);
      else if (item instanceof Uint8Array) deliver(c, item, true);
      else access.emitFragment(c, item);
    }
    if (held.length === 0) access.set(c, HOLDING, false);
    if (access.has(c, HELD_FULL) && held.length <= access.maxQueuedMessages(c) >> 2) {
      access.set(c, HELD_FULL, false);
      access.applyFlow(c);
    }
  }
  if (access.closed(c)) {
    if (!access.has(c, HOLDING)) access.queue(c)?.end();
    return;
  }
  if (access.has(c, BACKLOG) && !access.has(c, RECEIVE_FULL)) {
    access.set(c, BACKLOG, false);
    access.pump(c);
  }
}

function deliver(c: WebSocketConnection, data: Message, isBinary: boolean): void {
  access.queue(c)?.push(data);
  access.emitMessage(c, data, isBinary);
}

/** The connection's `[Symbol.asyncIterator]()`: see its doc. */
export function iterate(c: WebSocketConnection): AsyncIterableIterator<Message> {
  if (access.queue(c) !== null)
    throw new WebSocketUsageError('INVALID_STATE', 'this connection is already being iterated');
  if (!access.has(c, ASSEMBLE)) {
    throw new WebSocketUsageError(
      'INVALID_STATE',
      "iteration needs whole messages: listen to 'fragment' events when assembleMessages is false",
    );
  }
  const queue = new MessageQueue(access.maxQueuedMessages(c), (full) => {
    access.set(c, QUEUE_PAUSED, full);
    access.applyFlow(c);
    if (!full) scheduleFlush(c); // take the events the codec kept meanwhile
  });
  access.setQueue(c, queue);
  if (access.has(c, HOLDING))
    scheduleFlush(c); // it ends the queue too, once closed and delivered
  else if (access.closed(c)) queue.end();
  const release = (): void => {
    if (access.queue(c) === queue) access.setQueue(c, null);
    const rest = queue.close();
    if (rest.length > 0 && c.listenerCount('message') === 0) {
      const held = access.held(c) ?? access.makeHeld(c);
      held.unshift(rest);
      access.set(c, HOLDING, true);
      checkHeldFull(c, held);
    }
  };
  const iterator: AsyncIterableIterator<Message> = {
    next: () => queue.next(),
    return: (): Promise<IteratorResult<Message, undefined>> => {
      release();
      return Promise.resolve({ done: true, value: undefined });
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
