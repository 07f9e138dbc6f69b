/**
 * A connection's time, on the session's side: its place in the deadline sweep its server's
 * connections share (one host timer for them all, see `deadline-sweep.ts`), and what the codec
 * cannot see for its keepalive and idle deadlines. The deadlines themselves are the codec's
 * (`nextDeadline()`, `tick(now)`), plus the session's drain timeout; the connection asks
 * {@link armDeadline} after every pump, and the sweep calls it back to tick the codec.
 */
import type { Connection } from '../connection.ts';
import { DeadlineSweep, UNSCHEDULED, type SweepHooks } from './deadline-sweep.ts';
import { LIVENESS } from './connection-flags.ts';
import type { SessionCore } from './session-core.ts';
import type { ResolvedSessionOptions } from './options.ts';
import type { WebSocketConnection } from './websocket-connection.ts';

let hooks: SweepHooks<WebSocketConnection>;

/** @internal How the sweep reaches a connection's slot and its deadline handler (given once, at load). */
export function provideSweepHooks(given: SweepHooks<WebSocketConnection>): void {
  hooks = given;
}

/** The sweep of the connections made with `options` (a server's share them), made at the first deadline. */
function sweepOf(options: ResolvedSessionOptions): DeadlineSweep<WebSocketConnection> {
  return (options.sweep ??= new DeadlineSweep(options.timers, options.clock, hooks));
}

/**
 * Keep `connection` in its sweep for the earlier of the codec's deadline `due` and the drain
 * deadline `drain` (-1: none); with neither, take it out. Called after every pump, so it
 * compares two numbers and leaves the entry alone when the deadline is where it was, or later:
 * the entry comes due, finds nothing to do, and is put back for the later time. `slot`: where
 * the connection is in the sweep now (negative: not in it).
 */
export function armDeadline(
  connection: WebSocketConnection,
  slot: number,
  due: number | null,
  drain: number,
  options: ResolvedSessionOptions,
): void {
  if (due === null && drain < 0) {
    // Most connections without keepalive need no deadline once open: nothing more to work out.
    if (slot !== UNSCHEDULED) cancelDeadline(connection, options);
    return;
  }
  const deadline = drain < 0 ? (due as number) : due === null ? drain : Math.min(due, drain);
  const sweep = sweepOf(options);
  if (sweep.dueAt(slot) <= deadline) return;
  sweep.schedule(connection, deadline);
}

/** Take `connection` out of its sweep (it has ended, or wants no deadline). */
export function cancelDeadline(connection: WebSocketConnection, options: ResolvedSessionOptions): void {
  options.sweep?.cancel(connection);
}

/**
 * What the codec cannot see for its keepalive and idle deadlines (it keeps both): whether the
 * send buffer moves, and whether our keepalive ping still waits in it. No times: the codec
 * learns of progress through `noteOutputProgress`, and checks at its deadline. Made once open,
 * with idle or keepalive on, when a deadline or a drain first finds bytes queued (until then it
 * would hold only zeros).
 */
export class OutputProgress {
  /** Bytes queued in the transport up to and including our keepalive ping, while it has not left; else 0. */
  behind = 0;
  /** Bytes written to the transport since the ping, while `behind` > 0. */
  writtenSince = 0;
  /** `bufferedAmount` at the last deadline: a fall between deadlines is progress too. */
  buffered = 0;

  /** `chunks` go to the transport. */
  written(chunks: readonly Uint8Array[]): void {
    if (this.behind > 0) for (const chunk of chunks) this.writtenSince += chunk.length;
  }

  /** The transport handed queued bytes to the OS (it holds `buffered` now): activity, and maybe our ping has left. */
  moved(buffered: number, codec: Connection): void {
    this.buffered = buffered;
    const pingWaiting = this.behind > 0;
    // Everything queued up to the ping has gone once what is left is what was written after it.
    if (pingWaiting && buffered <= this.writtenSince) this.behind = 0;
    codec.noteOutputProgress(pingWaiting);
  }

  /**
   * A deadline: tick the codec at `now`, counting a fall of the transport's backlog (`backlog`
   * now) since the last deadline as progress: a transport may report progress only when a write
   * completes (Node's large write is one callback). True when the tick sent a new ping: once it
   * is written, {@link pingQueued} says what is queued up to it.
   */
  tick(codec: Connection, now: number, backlog: number): boolean {
    if (backlog < this.buffered) this.moved(backlog, codec);
    this.buffered = backlog;
    const pinged = codec.awaitingPong;
    codec.tick(now);
    if (!codec.awaitingPong) this.behind = 0;
    else if (!pinged) this.behind = this.writtenSince = 0; // a new ping: see what is queued up to it
    return codec.awaitingPong && !pinged;
  }

  /**
   * A new ping was written behind a backlog: it waits until what was queued before it has left
   * (`buffered`, the transport's backlog with the ping). With nothing queued before it, it left
   * with its write and its wait starts now.
   */
  pingQueued(backlogBefore: number, buffered: number): void {
    if (backlogBefore > 0) this.behind = buffered;
  }
}

/** `core`'s deadline came (the sweep has taken it out: its `arm` puts it back for the next): the drain timeout, then the codec's deadlines (with keepalive progress). */
export function fireTimer(core: SessionCore): void {
  const now = core.options.clock();
  if (core.drainDeadline >= 0 && now >= core.drainDeadline) {
    if (core.bufferedAmount > core.options.highWaterMark) {
      core.fail(
        'DRAIN_TIMEOUT',
        `bufferedAmount stayed above highWaterMark (${core.options.highWaterMark}) for ${core.options.drainTimeout} ms`,
      );
      return;
    }
    core.drainDeadline = -1;
  }
  const codec = core.codec;
  const backlog = core.transport.bufferedAmount;
  let live = core.live;
  if (live === null) {
    // Nothing queued, now or at the last deadline (a progress of zeros): the tick alone.
    if ((core.flags & LIVENESS) === 0 || backlog === 0) {
      codec.tick(now);
      core.pump();
      return;
    }
    live = core.live = new OutputProgress();
  }
  const newPing = live.tick(codec, now, backlog);
  core.pump();
  if (newPing && codec.awaitingPong) live.pingQueued(backlog, core.transport.bufferedAmount);
}
