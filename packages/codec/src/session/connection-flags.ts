/**
 * The bits of a {@link WebSocketConnection}'s `#flags`: booleans packed into one field (an idle
 * connection's size is most of its cost), tested together where a hot path wants one test.
 *
 * Each is what only the session can know: what it did to the transport, what the transport told
 * it, what the application asked for, and where the received messages are. The connection's
 * protocol state is not here: it is the codec's (`Connection.state`, moved only through
 * `transitions.ts`); `readyState` and whether the handshake succeeded are read from the codec and
 * from the handshake's phase object, not kept again.
 */

/** A `pump` is running: a re-entrant call (a listener's send) leaves its work to that loop. */
export const PUMPING = 1 << 1;
/**
 * The transport reported the peer's EOF (or went away) and the codec was told. The codec keeps
 * the same fact for itself; the session's copy is what its read loop tests with the other bits.
 */
export const EOF = 1 << 2;
/** We ended our side of the transport (`transport.end()`). */
export const ENDED = 1 << 3;
/** We destroyed the transport, or it closed: nothing more is written. */
export const DESTROYED = 1 << 4;
/** The transport reported that it closed. */
export const TRANSPORT_CLOSED = 1 << 5;
/**
 * The application (`terminate()`) or the session (a limit, a timeout) gave the connection up: the
 * codec only sees the EOF that follows, so messages it still yields are dropped by this bit.
 */
export const TERMINATED = 1 << 6;
/** A send returned `'buffered'`: a `drain` event is owed. */
export const NEED_DRAIN = 1 << 7;
/** `pause()`: the application stopped reading. */
export const USER_PAUSED = 1 << 8;
/** The `for await` loop's queue is full. */
export const QUEUE_PAUSED = 1 << 9;
/** The transport is paused (the sum of the reasons to pause, applied). */
export const TRANSPORT_PAUSED = 1 << 10;
/** The codec delivers whole messages (`ConnectionInit.assembleMessages`). */
export const ASSEMBLE = 1 << 11;
/** Messages (or fragments) wait in `#held`: every later one joins them, to keep the order. */
export const HOLDING = 1 << 12;
/** `#held` reached `maxQueuedMessages`: reading is paused until it is down to a quarter. */
export const HELD_FULL = 1 << 13;
/** A microtask will deliver the held messages (and take the events the codec kept). */
export const FLUSH_QUEUED = 1 << 14;
/** The read loop stopped while the codec still had events (HELD_FULL or QUEUE_PAUSED). */
export const BACKLOG = 1 << 15;
/** While any of these is set (and until the peer's EOF), the codec's events are left in it. */
export const RECEIVE_FULL = HELD_FULL | QUEUE_PAUSED;
/**
 * The application called `close()` while open: read on whatever is held, to find the peer's
 * Close (what no consumer takes beyond `maxQueuedMessages` is then dropped).
 */
export const LOCAL_CLOSE = 1 << 16;
/** With any of these, read (and parse) everything: the bound on held messages no longer stops reading. */
export const READ_ALL = EOF | LOCAL_CLOSE;
/** The transport was backed up: the codec holds pongs (`holdPongs`) until it drains. */
export const PONGS_HELD = 1 << 17;
/** The server's budget paused reading (see `ServerBudget`). */
export const SERVER_PAUSED = 1 << 18;
/** Published frames wait in the codec; the connection is in `publishedTo`, written at the end of the task. */
export const PUBLISHED = 1 << 19;
/**
 * Open with idle or keepalive on: the send buffer's progress counts for them (see
 * `OutputProgress`, made only once a deadline or a drain finds bytes queued: with none, it
 * would hold only zeros).
 */
export const LIVENESS = 1 << 20;
