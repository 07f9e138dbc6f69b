/**
 * Receiving, when messages wait: those no consumer has taken yet (held, in arrival order), and
 * the `for await` loop's queue. The connection delivers a message straight to its consumers
 * while none is held (its hot path); the rest is here: holding what finds no consumer, pausing
 * reading at `maxQueuedMessages`, delivering the held ones on a microtask once a consumer comes
 * (so the code that attached it finishes first), and the loop itself. The rules are in
 * {@link WebSocketConnection}'s doc.
 *
 * It works on the connection's {@link SessionCore} (its flag bits, its two lists, its
 * listeners), as the other concern modules do: no accessor objects, nothing made per message.
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
import type { SessionCore } from './session-core.ts';

/** A fragment event held for a 'fragment' listener (streaming mode). */
export type FragmentEvent = Extract<Event, { type: 'fragment' }>;

/** What waits in a connection's held list. */
export type Held = Message | FragmentEvent;

/** A 'message' listener or the loop (a 'fragment' listener in streaming mode) is there to take messages. */
export function hasConsumer(core: SessionCore): boolean {
  if ((core.flags & ASSEMBLE) === 0) return core.connection.listenerCount('fragment') > 0;
  return core.queue !== null || core.connection.listenerCount('message') > 0;
}

/** Keep what no consumer took; pause reading at `maxQueuedMessages`. */
export function hold(core: SessionCore, item: Held): void {
  const held = (core.held ??= new Fifo());
  // Closing at the application's request, with the bound reached and nobody reading: dropped.
  if ((core.flags & LOCAL_CLOSE) !== 0 && held.length >= core.options.maxQueuedMessages && !hasConsumer(core)) return;
  held.push(item);
  core.flags |= HOLDING;
  checkHeldFull(core, held);
  if (hasConsumer(core)) scheduleFlush(core);
}

function checkHeldFull(core: SessionCore, held: Fifo<Held>): void {
  if ((core.flags & HELD_FULL) === 0 && held.length >= core.options.maxQueuedMessages) {
    core.flags |= HELD_FULL;
    core.applyFlow();
  }
}

/** Deliver the held messages on a microtask: the code that attached a consumer finishes first. */
export function scheduleFlush(core: SessionCore): void {
  if ((core.flags & FLUSH_QUEUED) !== 0) return;
  core.flags |= FLUSH_QUEUED;
  microtask(() => flush(core));
}

/**
 * Give the held messages, oldest first, to the consumers there are (ones that arrive meanwhile,
 * e.g. read by a `send()` from a listener, join the end); then read on if reading was stopped.
 */
export function flush(core: SessionCore): void {
  core.flags &= ~FLUSH_QUEUED;
  const held = core.held;
  if (held !== null) {
    while (held.length > 0 && hasConsumer(core)) {
      const item = held.shift();
      if (item === undefined) break; // (never: its length says so)
      if (typeof item === 'string') deliver(core, item, false);
      else if (item instanceof Uint8Array) deliver(core, item, true);
      else core.emit('fragment', item.data, { kind: item.kind, first: item.first, fin: item.fin });
    }
    if (held.length === 0) core.flags &= ~HOLDING;
    if ((core.flags & HELD_FULL) !== 0 && held.length <= core.options.maxQueuedMessages >> 2) {
      core.flags &= ~HELD_FULL;
      core.applyFlow();
    }
  }
  if (core.info !== null) {
    if ((core.flags & HOLDING) === 0) core.queue?.end();
    return;
  }
  if ((core.flags & BACKLOG) !== 0 && (core.flags & RECEIVE_FULL) === 0) {
    core.flags &= ~BACKLOG;
    core.pump();
  }
}

function deliver(core: SessionCore, data: Message, isBinary: boolean): void {
  core.queue?.push(data);
  core.emit2('message', data, isBinary);
}

/** The connection's `[Symbol.asyncIterator]()`: see its doc. */
export function iterate(core: SessionCore): AsyncIterableIterator<Message> {
  if (core.queue !== null) throw new WebSocketUsageError('INVALID_STATE', 'this connection is already being iterated');
  if ((core.flags & ASSEMBLE) === 0) {
    throw new WebSocketUsageError(
      'INVALID_STATE',
      "iteration needs whole messages: listen to 'fragment' events when assembleMessages is false",
    );
  }
  const queue = new MessageQueue(core.options.maxQueuedMessages, (full) => {
    core.set(QUEUE_PAUSED, full);
    core.applyFlow();
    if (!full) scheduleFlush(core); // take the events the codec kept meanwhile
  });
  core.queue = queue;
  if ((core.flags & HOLDING) !== 0)
    scheduleFlush(core); // it ends the queue too, once closed and delivered
  else if (core.info !== null) queue.end();
  const release = (): void => {
    if (core.queue === queue) core.queue = null;
    const rest = queue.close();
    if (rest.length > 0 && core.connection.listenerCount('message') === 0) {
      const held = (core.held ??= new Fifo());
      held.unshift(rest);
      core.flags |= HOLDING;
      checkHeldFull(core, held);
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
