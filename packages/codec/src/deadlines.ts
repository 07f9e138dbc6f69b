/**
 * Time as data: how the codec keeps its deadlines without a clock.
 *
 * The codec never reads a clock. Time reaches it only as the `now` of `tick(now)`. A timed wait
 * that begins inside some other call (the handshake when a connection is made, the close
 * timeout when a Close is sent, a new HTTP request head) starts {@link PENDING}: the connection's
 * `nextDeadline()` is then 0, "call `tick(now)` at once", and that tick starts its clock. One
 * that begins in what a tick does (the close an idle timeout sends) begins at that tick's `now`. A
 * driver that arms its timer from `nextDeadline()` whenever the number changes, and calls
 * `tick(now)` when it fires, does this without knowing: a timer for 0 fires at once.
 *
 * Keepalive and idle ({@link Liveness}) are coarse on purpose, so that no read or send reads a
 * clock or moves a deadline: receiving bytes and sending messages only set a bit, and the
 * deadline, when it comes, looks at the bits. A check that finds activity pushes itself out by
 * the interval; one that finds none acts. So a keepalive ping goes out after between 1× and 2×
 * `keepaliveInterval` of silence from the peer (and, while the peer only answers pings, every
 * `keepaliveInterval`), a ping unanswered for `keepaliveTimeout` fails the connection, and an
 * idle connection closes after between 1× and 2× `idleTimeout` without activity. The heartbeat
 * `ws` documents, and Bun's idle timer, behave the same way in effect.
 */

import type { Timeouts } from './limits.ts';

/** A wait that has begun, at a time the next `tick(now)` supplies. */
export const PENDING = -1;

/** `start + ms`, or {@link PENDING} while `start` is. */
export function after(start: number, ms: number): number {
  return start === PENDING ? PENDING : start + ms;
}

/** Activity bits the connection sets (in its own flags) and a liveness check reads and clears. */
export const SEEN_PEER = 1;
/** Activity for the idle timeout: the peer's bytes, the application's sends, output that moved. */
export const SEEN_ANY = 2;
/** Our keepalive ping still waited behind earlier output, and that output moved (the driver says so). */
export const PING_HELD = 4;

/** What a liveness check asks of the connection. */
export const LIVE_NOTHING = 0;
export const LIVE_PING = 1;
export const LIVE_PONG_TIMEOUT = 2;
export const LIVE_IDLE = 3;
export type LiveAction = typeof LIVE_NOTHING | typeof LIVE_PING | typeof LIVE_PONG_TIMEOUT | typeof LIVE_IDLE;

/**
 * Keepalive and idle for an open connection with either on (an open connection without holds
 * none). `due` is the earlier of the two checks; both start {@link PENDING} when the connection
 * opens or reading resumes.
 */
export class Liveness {
  /** The connection's timeouts (shared by a server's connections: one field here, not three). */
  readonly #timeouts: Readonly<Pick<Timeouts, 'keepaliveInterval' | 'keepaliveTimeout' | 'idleTimeout'>>;
  /** The next keepalive check, or the pong deadline while a ping is out; Infinity when off. */
  #pingDue: number;
  /** The next idle check; Infinity when off. */
  #idleDue: number;
  /** When our keepalive ping went out, or -1 while none is outstanding. */
  #pingAt = -1;
  /** While a ping is out: when it fails unanswered. */
  #pongDue = Infinity;
  /** The earlier of the two checks (read on the hot path: a field, not a computation). */
  due: number;
  /** The activity bits the last `check` read: the caller clears these, and keeps the others for the other check. */
  read = 0;

  constructor(timeouts: Readonly<Pick<Timeouts, 'keepaliveInterval' | 'keepaliveTimeout' | 'idleTimeout'>>) {
    this.#timeouts = timeouts;
    this.#pingDue = timeouts.keepaliveInterval > 0 ? PENDING : Infinity;
    this.#idleDue = timeouts.idleTimeout > 0 ? PENDING : Infinity;
    this.due = PENDING;
  }

  /** A ping is out and no answer has been seen yet. */
  get awaitingPong(): boolean {
    return this.#pingAt >= 0;
  }

  /** Start afresh: both checks {@link PENDING}, no ping outstanding (on open, and when reading resumes). */
  restart(): void {
    this.#pingAt = -1;
    if (this.#timeouts.keepaliveInterval > 0) this.#pingDue = PENDING;
    if (this.#timeouts.idleTimeout > 0) this.#idleDue = PENDING;
    this.due = PENDING;
  }

  /**
   * At `now` (≥ `due`), with the activity bits `seen` gathered since the checks last read them:
   * start pending clocks, push out a check that found activity, and say what must happen. The
   * bits each check read are in `read`, for the caller to clear.
   */
  check(now: number, seen: number): LiveAction {
    const idleTimeout = this.#timeouts.idleTimeout;
    const interval = this.#timeouts.keepaliveInterval;
    let action: LiveAction = LIVE_NOTHING;
    let read = 0;
    if (this.#idleDue === PENDING) {
      this.#idleDue = now + idleTimeout;
      read |= SEEN_ANY;
    } else if (now >= this.#idleDue) {
      read |= SEEN_ANY;
      if ((seen & SEEN_ANY) !== 0) this.#idleDue = now + idleTimeout;
      else action = LIVE_IDLE;
    }
    if (this.#pingDue === PENDING) {
      this.#pingDue = now + interval;
      read |= SEEN_PEER | PING_HELD;
    } else if (action === LIVE_NOTHING && now >= this.#pingDue) {
      read |= SEEN_PEER | PING_HELD;
      if (this.#pingAt >= 0) {
        if ((seen & SEEN_PEER) !== 0) {
          // Answered (or at least heard from): the next ping an interval after this one, as
          // ws's heartbeat does, unless the check that comes then finds the peer talking.
          const next = this.#pingAt + interval;
          this.#pingAt = -1;
          if (next > now) this.#pingDue = next;
          else action = this.#ping(now);
        } else {
          // The ping has not left yet, and what is queued before it moves: not the peer's fault.
          if ((seen & PING_HELD) !== 0) this.#pongDue = now + this.#timeouts.keepaliveTimeout;
          if (now >= this.#pongDue) action = LIVE_PONG_TIMEOUT;
          else this.#pingDue = Math.min(now + interval, this.#pongDue);
        }
      } else if ((seen & SEEN_PEER) !== 0) {
        this.#pingDue = now + interval;
      } else {
        action = this.#ping(now);
      }
    }
    this.due = Math.min(this.#pingDue, this.#idleDue);
    this.read = read;
    return action;
  }

  /** A ping goes out at `now`: looked at again after the interval or at the pong deadline, whichever is first. */
  #ping(now: number): LiveAction {
    this.#pingAt = now;
    this.#pongDue = now + this.#timeouts.keepaliveTimeout;
    this.#pingDue = Math.min(now + this.#timeouts.keepaliveInterval, this.#pongDue);
    return LIVE_PING;
  }
}

/**
 * Keepalive and idle for a connection that opens with `timeouts`, starting with the next tick
 * (standing still while the driver has `paused` reading); null when neither is on.
 */
export function livenessFor(timeouts: Timeouts, paused: boolean): Liveness | null {
  if (timeouts.keepaliveInterval === 0 && timeouts.idleTimeout === 0) return null;
  const live = new Liveness(timeouts);
  if (paused) live.due = Infinity;
  return live;
}
