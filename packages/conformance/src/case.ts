// A test case and its judge. A case is data (id, texts, the events that earn each outcome, the
// closing behaviour the spec requires) plus a script that drives the connection. The judge follows
// Autobahn's `Case` class: the peer's events are compared with each expected sequence; once they
// match, the fuzzer starts the closing handshake itself (unless the case says not to); when the
// TCP connection is gone, the closing behaviour is checked against the expectation.
import {
  describeObserved,
  sameSequence,
  combine,
  type CloseBehavior,
  type Observed,
  type Outcome,
  type Verdict,
} from './outcome.ts';
import type { DeflateCaseSpec } from './deflate.ts';
import type { FrameSendSpec, FuzzConnection, SendOptions } from './fuzz-connection.ts';

/** The closing behaviour a case requires. */
export interface ExpectedClose {
  /** Whether the fuzzer (true) or the peer (false) must start the closing handshake. */
  closedByMe: boolean;
  /** Acceptable close codes from the peer (an empty close frame is always acceptable). */
  codes: readonly number[];
  /** Whether the close must be clean (close frames exchanged, TCP closed by the right side). */
  requireClean: boolean;
  /** When the wrong side closes, the case fails outright (the peer did not detect the fault). */
  wrongEndpointIsFatal?: boolean;
}

export interface CaseDef {
  /** Autobahn's id, e.g. `6.4.1`. */
  id: string;
  description: string;
  expectation: string;
  /** Event sequences that earn an outcome; the first that matches wins (OK before NON-STRICT). */
  expected?: Partial<Record<'OK' | 'NON-STRICT', readonly Observed[]>>;
  close: ExpectedClose;
  /** What a NON-STRICT match means, for the report. */
  nonStrictWhy?: string;
  /**
   * OK or NON-STRICT depends on timing for a correct peer that answers asynchronously (its echo of
   * a valid message may or may not leave before it fails the connection on the next frame). The
   * gate does not count a change between the two as a regression.
   */
  timingDependent?: boolean;
  /** Do not start the closing handshake once the expected events arrived (the script does). */
  suppressClose?: boolean;
  /** In section 7 a wrong close code fails the case (Autobahn's close-handling cases do this). */
  wrongCodeIsFatal?: boolean;
  /** Run alone, after the others, even when cases run concurrently (large, timed cases). */
  exclusive?: boolean;
  /** Negotiate permessage-deflate (sections 12, 13): the offers we make as a client, what we ask as a server. */
  deflate?: DeflateCaseSpec;
  /** Hard bound for the whole case in seconds (before scaling); the case's timers end it first. */
  limit?: number;
  /** The connection is open: send, and set timers. */
  start(run: CaseRun): void;
  /** Replaces the default handling of the peer's events (record, then close when done). */
  onEvent?(run: CaseRun, event: Observed): void;
  /** Adjusts the verdict once the connection is gone (Autobahn's per-case overrides). */
  finish?(run: CaseRun, verdict: Verdict): void;
}

/** Everything a run of one case found out. */
export interface CaseResult {
  id: string;
  description: string;
  expectation: string;
  outcome: Outcome;
  /** Why, in words (Autobahn's result and closing-behaviour texts). */
  reason: string;
  behavior: Outcome;
  behaviorClose: CloseBehavior;
  result: string;
  resultClose: string;
  /** The close code the peer sent (even an invalid one), or null for none / an empty close. */
  remoteCloseCode: number | null;
  remoteCloseReason: string | null;
  localCloseCode: number | null;
  wasClean: boolean;
  wasNotCleanReason: string | null;
  closedByMe: boolean;
  failedByMe: boolean;
  droppedByMe: boolean;
  /** Protocol violations the fuzzer saw from the peer. */
  violations: string[];
  received: string[];
  expected: Record<string, string[]>;
  expectedClose: ExpectedClose;
  /** See CaseDef.timingDependent. */
  timingDependent?: boolean;
  durationMs: number;
}

/** One run of a case over one connection: the script's API and the judge. */
export class CaseRun {
  readonly def: CaseDef;
  readonly conn: FuzzConnection;
  readonly received: Observed[] = [];
  behavior: Outcome = 'FAILED';
  result = 'Actual events differ from any expected.';
  /** Free-form values a script keeps between steps (e.g. a message count). */
  readonly state: Record<string, unknown> = {};
  readonly #started = performance.now();

  constructor(def: CaseDef, conn: FuzzConnection) {
    this.def = def;
    this.conn = conn;
    conn.onEvent = (event) => (def.onEvent ? def.onEvent(this, event) : this.#record(event));
  }

  // ---- the script's API (Autobahn's names where there is one) ---------------------------------
  sendFrame(spec: FrameSendSpec): void {
    this.conn.sendFrame(spec);
  }
  sendRaw(bytes: Uint8Array, options?: SendOptions): void {
    this.conn.sendRaw(bytes, options);
  }
  sendMessage(binary: boolean, payload: Uint8Array, fragmentSize?: number): void {
    this.conn.sendMessage(binary, payload, fragmentSize);
  }
  sendClose(code?: number, reason?: string | Uint8Array): void {
    this.conn.sendClose(code, reason);
  }
  /** Fail the connection after `seconds` unless it is gone by then (Autobahn's killAfter). */
  killAfter(seconds: number): void {
    this.conn.after(seconds, () => this.conn.fail(1001, 'Going Away'));
  }
  /** Start the closing handshake after `seconds` (Autobahn's closeAfter: an empty close frame). */
  closeAfter(seconds: number): void {
    this.conn.after(seconds, () => this.conn.sendClose());
  }
  /** Run `fn` after `seconds` if the connection is still there (Autobahn's continueLater). */
  continueLater(seconds: number, fn: () => void): void {
    this.conn.after(seconds, fn);
  }
  get isOpen(): boolean {
    return this.conn.isOpen;
  }
  /** Note an event of the script's own (e.g. a timeout that passed). */
  note(event: Observed): void {
    this.received.push(event);
  }

  #record(event: Observed): void {
    this.received.push(event);
    // Close once the events match every expected sequence (Autobahn's finishWhenDone).
    const lists = Object.values(this.def.expected ?? {});
    if (lists.length === 0 || !lists.every((list) => sameSequence(this.received, list))) return;
    if (this.def.close.closedByMe && !this.def.suppressClose) this.conn.sendClose(this.def.close.codes[0]);
  }

  // ---- the verdict ------------------------------------------------------------------------------
  /** Call once the connection is gone. `opened` is false when the opening handshake failed. */
  judge(opened = true, handshakeError?: string): CaseResult {
    const def = this.def;
    const conn = this.conn;
    const verdict: Verdict = {
      behavior: this.behavior,
      result: this.result,
      behaviorClose: 'FAILED',
      resultClose: 'TCP connection was dropped without close handshake',
    };
    if (def.expected) {
      for (const [outcome, list] of Object.entries(def.expected) as [Outcome, Observed[]][]) {
        if (sameSequence(this.received, list)) {
          verdict.behavior = outcome;
          verdict.result =
            outcome === 'OK'
              ? 'Actual events match at least one expected.'
              : `Actual events match the ${outcome} expectation${def.nonStrictWhy ? `: ${def.nonStrictWhy}` : '.'}`;
          break;
        }
      }
    }
    if (!opened) {
      verdict.behavior = 'FAILED';
      verdict.result = `The WebSocket opening handshake was never completed: ${handshakeError ?? 'unknown error'}`;
      verdict.resultClose = 'The WebSocket opening handshake was never completed!';
    } else {
      const close = def.close;
      if (close.closedByMe !== conn.closedByMe) {
        verdict.resultClose = 'The connection was failed by the wrong endpoint';
      } else if (close.requireClean && !conn.wasClean) {
        verdict.behaviorClose = 'UNCLEAN';
        verdict.resultClose = `The spec requires the connection to be failed cleanly here (${conn.wasNotCleanReason ?? 'not clean'})`;
      } else if (conn.remoteCloseCode !== null && !close.codes.includes(conn.remoteCloseCode)) {
        verdict.behaviorClose = 'WRONG CODE';
        verdict.resultClose = `The close code should have been ${close.codes.join(',')} or empty, was ${conn.remoteCloseCode}`;
      } else if (conn.role === 'client' && conn.droppedByMe) {
        verdict.behaviorClose = 'FAILED BY CLIENT';
        verdict.resultClose = `It is preferred that the server close the TCP connection (${conn.wasNotCleanReason ?? 'the fuzzer closed it'})`;
      } else {
        verdict.behaviorClose = 'OK';
        verdict.resultClose = 'Connection was properly closed';
      }
      if (close.wrongEndpointIsFatal && close.closedByMe !== conn.closedByMe) {
        verdict.behavior = 'FAILED';
        verdict.result = 'The wrong endpoint closed: the peer did not detect the fault.';
      }
      if (def.wrongCodeIsFatal && verdict.behaviorClose === 'WRONG CODE') {
        verdict.behavior = 'FAILED';
        verdict.result = verdict.resultClose;
      }
      def.finish?.(this, verdict);
    }
    const { outcome, reason } = combine(verdict);
    const expected: Record<string, string[]> = {};
    for (const [k, list] of Object.entries(def.expected ?? {})) expected[k] = list.map(describeObserved);
    return {
      id: def.id,
      description: def.description,
      expectation: def.expectation,
      outcome,
      reason,
      ...verdict,
      remoteCloseCode: conn.remoteCloseCode,
      remoteCloseReason: conn.remoteCloseReason,
      localCloseCode: conn.localCloseCode,
      wasClean: conn.wasClean,
      wasNotCleanReason: conn.wasNotCleanReason,
      closedByMe: conn.closedByMe,
      failedByMe: conn.failedByMe,
      droppedByMe: conn.droppedByMe,
      violations: [...conn.violations],
      received: summarize(this.received),
      expected,
      expectedClose: def.close,
      ...(def.timingDependent ? { timingDependent: true } : {}),
      durationMs: Math.round(performance.now() - this.#started),
    };
  }
}

function summarize(events: readonly Observed[]): string[] {
  const out = events.slice(0, 20).map(describeObserved);
  if (events.length > 20) out.push(`… ${events.length - 20} more`);
  return out;
}

/** A result for a case that could not run at all (no connection, or the peer never asked). */
export function missingResult(def: CaseDef, why: string): CaseResult {
  return {
    id: def.id,
    description: def.description,
    expectation: def.expectation,
    outcome: 'FAILED',
    reason: why,
    behavior: 'FAILED',
    behaviorClose: 'FAILED',
    result: why,
    resultClose: why,
    remoteCloseCode: null,
    remoteCloseReason: null,
    localCloseCode: null,
    wasClean: false,
    wasNotCleanReason: null,
    closedByMe: false,
    failedByMe: false,
    droppedByMe: false,
    violations: [],
    received: [],
    expected: {},
    expectedClose: def.close,
    durationMs: 0,
  };
}
