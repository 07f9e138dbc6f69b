/**
 * The events a connection has for its caller, oldest first: the first in a field of its own,
 * the rest in an array made only when two or more wait (most reads queue one event at a time).
 * `nextEvent()`, `nextEventOrMessage()` and `takeEvents()` read from here; everything else in
 * the connection adds to it with {@link emit}.
 */
import type { Event } from './events.ts';
import { type ConnectionCore, NO_EVENTS } from './connection-core.ts';

export function emit(core: ConnectionCore, event: Event): void {
  if (core.event === null) core.event = event;
  else if (core.later === NO_EVENTS) core.later = [event];
  else core.later.push(event);
}

/** Take the oldest queued event, `event` (the caller read it from `core.event`, not null). */
export function dequeue(core: ConnectionCore, event: Event): Event {
  const later = core.later;
  if (later === NO_EVENTS) {
    core.event = null;
  } else {
    const next = later[core.laterHead++];
    core.event = next === undefined ? null : next;
    if (core.laterHead >= later.length) {
      core.later = NO_EVENTS;
      core.laterHead = 0;
    }
  }
  return event;
}

/** Every queued event, oldest first; the queue is left empty. */
export function takeAllEvents(core: ConnectionCore): Event[] {
  const events: Event[] = [];
  if (core.event !== null) {
    events.push(core.event);
    const later = core.later;
    for (let i = core.laterHead; i < later.length; i++) {
      const event = later[i];
      if (event !== undefined) events.push(event);
    }
  }
  core.event = null;
  core.later = NO_EVENTS;
  core.laterHead = 0;
  return events;
}

/** The newest event not yet taken, or null. */
export function lastQueued(core: ConnectionCore): Event | null {
  const later = core.later;
  return later.length > core.laterHead ? (later[later.length - 1] ?? null) : core.event;
}
