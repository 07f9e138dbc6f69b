/**
 * A connection's time, on the session's side: the one host timer it arms, and what the codec
 * cannot see for its keepalive and idle deadlines. The deadlines themselves are the codec's
 * (`nextDeadline()`, `tick(now)`), plus the session's drain timeout; the connection asks
 * {@link armTimer} after every pump, and its timer's callback ticks the codec.
 */
import type { Connection } from '../connection.ts';
import type { ResolvedSessionOptions } from './options.ts';

/** The one timer of a connection that wants one: the host's handle while armed, and for when. */
export class SessionTimer {
  handle: unknown = null;
  /** The armed deadline; Infinity while not armed. */
  at = Infinity;
  readonly fire: () => void;

  constructor(fire: () => void) {
    this.fire = fire;
  }

  /** It fired: no longer armed. */
  fired(): void {
    this.handle = null;
    this.at = Infinity;
  }

  cancel(options: ResolvedSessionOptions): void {
    if (this.handle !== null) options.timers.clearTimeout(this.handle);
    this.handle = null;
    this.at = Infinity;
  }
}

/**
 * Arm `timer` for the earlier of the codec's deadline `due` and the drain deadline `drain` (-1:
 * none), making it if it is null; returns the timer to keep, null when no deadline is wanted
 * (then `timer` is cancelled). Called after every pump, so it compares two numbers and leaves an
 * armed timer alone when the deadline is where it was, or later: that timer fires, finds nothing
 * due, and is armed again.
 */
export function armTimer(
  timer: SessionTimer | null,
  due: number | null,
  drain: number,
  options: ResolvedSessionOptions,
  fire: () => void,
): SessionTimer | null {
  if (due === null && drain < 0) {
    // Most connections without keepalive need no timer once open: nothing more to work out.
    timer?.cancel(options);
    return null;
  }
  const deadline = drain < 0 ? (due as number) : due === null ? drain : Math.min(due, drain);
  const armed = timer ?? new SessionTimer(fire);
  if (armed.handle !== null) {
    if (armed.at <= deadline) return armed;
    options.timers.clearTimeout(armed.handle);
  }
  armed.at = deadline;
  armed.handle = options.timers.setTimeout(armed.fire, Math.max(0, deadline - options.clock()));
  return armed;
}

/**
 * What the codec cannot see for its keepalive and idle deadlines (it keeps both): whether the
 * send buffer moves, and whether our keepalive ping still waits in it. No times: the codec
 * learns of progress through `noteOutputProgress`, and checks at its deadline. Made once open,
 * with idle or keepalive on.
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
