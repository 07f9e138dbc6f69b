/**
 * One server's budget for bytes waiting to be sent, across all its connections
 * (`maxServerBufferedAmount`). `maxBufferedAmount` bounds each connection; this bounds their sum,
 * so that a few hundred slow readers cannot exhaust the process between them.
 *
 * The policy when the sum passes the budget:
 * 1. Every open connection of the server stops reading (its transport is paused): no new input
 *    makes more output (an echo, a reply) while the backlog is this large.
 * 2. If the sum is still over the budget `serverBufferGracePeriod` ms later, the connections with
 *    the largest backlogs are terminated, largest first, until it is not: each gets a Close 1013
 *    ("try again later", as its `sentCode`; a peer that is not reading will rarely see it) and
 *    its socket is destroyed at once, which frees its backlog. Its `error` event and close
 *    info say `SERVER_BUFFER_OVERFLOW`.
 * 3. Reading resumes on every connection once the sum falls to three quarters of the budget
 *    (as the backlogs drain), or to the budget (by terminating connections, step 2).
 *
 * The connections report their backlog after every pump and drain, with their previous report: a
 * report is one addition to the sum, no map of backlogs (an echo's 0 → 34 → 0 bytes cost a map
 * entry made and dropped, ≈ 1.5 % of @ws/deno's CPU at 100 × 32 B echoes). A report may be stale
 * on the high side (a transport that drained part of its backlog without a drain event), so the
 * open connections' backlogs are taken afresh before anyone is terminated; a connection still in
 * its handshake counts in the sum but is not terminated (its handshake timeout bounds it).
 * Written for one server; a registry of a server's connections can own it.
 */
import type { Timers } from './options.ts';
import { sessionInput } from './connection-wiring.ts';
import type { WebSocketConnection } from './websocket-connection.ts';

export class ServerBudget {
  /** Bytes; 0: no budget (nothing is tracked). */
  readonly limit: number;
  /** Milliseconds between pausing and terminating. */
  readonly grace: number;
  readonly #timers: Timers;
  /** The sum of the connections' last reports. */
  #total = 0;
  /** Open connections (to pause and resume). */
  readonly #open = new Set<WebSocketConnection>();
  #paused = false;
  #timer: unknown = null;

  constructor(limit: number, grace: number, timers: Timers) {
    this.limit = limit;
    this.grace = grace;
    this.#timers = timers;
  }

  /** Bytes waiting to be sent, summed over the server's connections (as last reported). */
  get bufferedAmount(): number {
    return this.#total;
  }

  /** Reading is paused on every connection (the sum passed the budget). */
  get paused(): boolean {
    return this.#paused;
  }

  /** A connection opened: it is paused with the others while the budget is exceeded. */
  opened(connection: WebSocketConnection): void {
    this.#open.add(connection);
    if (this.#paused) sessionInput.serverPause(connection, true);
  }

  /** A connection is gone: its backlog (`before`, its last report) no longer counts. */
  closed(connection: WebSocketConnection, before: number): void {
    this.#open.delete(connection);
    this.report(0, before);
  }

  /** A connection's backlog is now `bytes`; `before` was its last report (0 for its first). */
  report(bytes: number, before: number): void {
    if (bytes === before) return;
    this.#total += bytes - before;
    if (!this.#paused) {
      if (this.#total > this.limit) this.#pause();
    } else if (this.#total <= this.limit - (this.limit >>> 2)) {
      this.#resume();
    }
  }

  #pause(): void {
    this.#paused = true;
    for (const connection of this.#open) sessionInput.serverPause(connection, true);
    this.#timer = this.#timers.setTimeout(() => this.#enforce(), this.grace);
  }

  #resume(): void {
    this.#paused = false;
    if (this.#timer !== null) {
      this.#timers.clearTimeout(this.#timer);
      this.#timer = null;
    }
    for (const connection of this.#open) sessionInput.serverPause(connection, false);
  }

  /** The grace period is over: take the sum afresh, then terminate the largest backlogs until it fits. */
  #enforce(): void {
    this.#timer = null;
    // Fresh backlogs (each report updates the sum), largest first.
    const backlogs: Array<[WebSocketConnection, number]> = [];
    for (const connection of this.#open) {
      const bytes = sessionInput.reportBacklog(connection);
      if (bytes > 0) backlogs.push([connection, bytes]);
    }
    if (!this.#paused) return; // it fell far enough meanwhile
    backlogs.sort((a, b) => b[1] - a[1]);
    // Bounded: each round removes one connection's backlog for good.
    for (let i = 0; i < backlogs.length && this.#total > this.limit; i++) {
      const [connection, most] = backlogs[i] as [WebSocketConnection, number];
      const total = this.#total;
      sessionInput.serverEvict(
        connection,
        `the server's send buffers hold ${total} bytes, over maxServerBufferedAmount (${this.limit}); this connection had the largest backlog (${most} bytes)`,
      );
      sessionInput.reportBacklog(connection, 0); // destroyed: its backlog is gone (its close may come later)
    }
    // Within the budget again: read again (past it again, the next grace period starts).
    if (this.#paused) this.#resume();
  }
}
