/**
 * The connection's deadlines (time as data, see deadlines.ts): which one is next in each state
 * (`nextDeadline()`), and what a `tick(now)` does when one has passed: the handshake timeout
 * (or the plain-HTTP phase's own), keepalive and idle on an open connection, the wait for the
 * peer's Close, and the wait for a transport that lingers after the close (closed's one row).
 */
import { WebSocketUsageError, describe } from './errors.ts';
import { LIVE_IDLE, LIVE_PING, LIVE_PONG_TIMEOUT, PENDING, after } from './deadlines.ts';
import { Opcode } from './opcode.ts';
import { type ConnectionCore, EMPTY, LIVENESS_PAUSED, move, transportState } from './connection-core.ts';
import { ON_TIMEOUT, transportEnded, transportTransition } from './transitions.ts';
import { close, closingOf, fail, failAndDestroy } from './closing.ts';
import { destroy, writeFrame } from './output-queue.ts';
import { afterHttp } from './http-serving.ts';

/**
 * The transport is finished with: no more output will come and no input is wanted. In the
 * transport's table: a state nothing leaves (finished, destroyed).
 */
export function isFinished(core: ConnectionCore): boolean {
  return transportEnded(transportState(core));
}

/** Closed's deadline waits for the transport: the transport's table has a `timeout` row where it is. */
function awaitsTransport(core: ConnectionCore): boolean {
  return transportTransition(transportState(core), ON_TIMEOUT) >= 0;
}

/** See `Connection.nextDeadline`. */
export function nextDeadline(core: ConnectionCore): number | null {
  let due: number | null;
  if (core.state === 'open') {
    // Asked after every read: one field (no live state: nothing timed).
    const live = core.live;
    if (live === null) return null;
    due = live.due;
  } else {
    due = phaseDeadline(core);
  }
  return due === PENDING ? 0 : due === Infinity ? null : due;
}

/** The deadline of a state other than open (PENDING while its clock has not started). */
function phaseDeadline(core: ConnectionCore): number | null {
  const t = core.timeouts;
  const hs = core.hs;
  switch (core.state) {
    case 'handshake':
    case 'serving-http':
    case 'awaiting-accept':
    case 'refusal-body':
      if (hs === null) return null;
      if (hs.type === 'server' && hs.http !== null) return hs.http.deadline();
      return t.handshakeTimeout > 0 ? after(hs.startedAt, t.handshakeTimeout) : null;
    case 'closing':
      return t.closeTimeout > 0 ? after(closingOf(core).deadline, 0) : null;
    case 'closed':
      return t.closeTimeout > 0 && awaitsTransport(core) ? after(closingOf(core).deadline, 0) : null;
    default:
      return null;
  }
}

/** See `Connection.tick`. */
export function tick(core: ConnectionCore, now: number): void {
  if (typeof now !== 'number' || Number.isNaN(now)) {
    throw new WebSocketUsageError('INVALID_ARGUMENT', `tick(now) needs the time in milliseconds, got ${describe(now)}`);
  }
  act(core, now);
  // A wait that began in what this tick did (the close an idle timeout sends, the wait for the
  // transport after a failure) began at `now`: its deadline is known, not PENDING.
  const closing = core.closing;
  if (closing !== null && closing.deadline === PENDING && (core.state === 'closing' || core.state === 'closed'))
    closing.deadline = now + core.timeouts.closeTimeout;
}

/** Start the clock of a wait that began since the last tick, and act on every deadline that has passed. */
function act(core: ConnectionCore, now: number): void {
  const t = core.timeouts;
  switch (core.state) {
    case 'handshake':
    case 'serving-http':
    case 'awaiting-accept':
    case 'refusal-body': {
      const hs = core.hs;
      if (hs === null) return;
      if (hs.type === 'server' && hs.http !== null) {
        hs.http.tick(now);
        afterHttp(core, hs);
        return;
      }
      if (hs.startedAt === PENDING) hs.startedAt = now;
      if (t.handshakeTimeout === 0 || now < hs.startedAt + t.handshakeTimeout) return;
      failAndDestroy(
        core,
        'timeout',
        'HANDSHAKE_TIMEOUT',
        `the handshake did not complete within ${t.handshakeTimeout} ms`,
      );
      return;
    }
    case 'open': {
      const live = core.live;
      if (live === null || now < live.due) return;
      const seen = core.seen;
      const action = live.check(now, seen);
      core.seen = seen & ~live.read;
      if (action === LIVE_PING) {
        writeFrame(core, true, 0, Opcode.Ping, EMPTY);
      } else if (action === LIVE_IDLE) {
        close(core, 1001, 'idle timeout', 'IDLE_TIMEOUT');
      } else if (action === LIVE_PONG_TIMEOUT) {
        // §7.1.7: fail the connection (a Close with 1011, then close TCP), as on a violation.
        fail(core, 'PONG_TIMEOUT', 1011, `no answer to a keepalive ping within ${t.keepaliveTimeout} ms`);
      }
      return;
    }
    case 'closing':
    case 'closed': {
      // (Our FIN and a destroy come only once closed: in closing the transport is both-open.)
      if (t.closeTimeout === 0 || !awaitsTransport(core)) return;
      const closing = closingOf(core);
      if (closing.deadline === PENDING) closing.deadline = now + t.closeTimeout;
      if (now < closing.deadline) return;
      if (core.state === 'closed') {
        // The transport lingered past closeTimeout after the close (closed's one row).
        move(core, 'timeout');
        destroy(core, ON_TIMEOUT);
        return;
      }
      failAndDestroy(core, 'timeout', 'CLOSE_TIMEOUT', `no Close frame from the peer within ${t.closeTimeout} ms`);
      return;
    }
  }
}

/** See `Connection.pauseLiveness`. */
export function pauseLiveness(core: ConnectionCore, paused: boolean): void {
  if (paused === ((core.flags & LIVENESS_PAUSED) !== 0)) return;
  core.flags = paused ? core.flags | LIVENESS_PAUSED : core.flags & ~LIVENESS_PAUSED;
  const live = core.live;
  if (live === null) return;
  if (paused) live.due = Infinity;
  else live.restart();
}
