// Outcomes as the Autobahn|Testsuite defines them, and how we fold its two verdicts (what the peer
// did, how the connection closed) into the one outcome a gate can compare.
import { equalBytes, hexPreview } from './bytes.ts';

/** The case outcome. */
export type Outcome = 'OK' | 'NON-STRICT' | 'INFORMATIONAL' | 'UNIMPLEMENTED' | 'FAILED';
export const OUTCOMES: readonly Outcome[] = ['OK', 'NON-STRICT', 'INFORMATIONAL', 'UNIMPLEMENTED', 'FAILED'];

/** Autobahn's closing-behaviour verdict. */
export type CloseBehavior = 'OK' | 'FAILED' | 'UNCLEAN' | 'WRONG CODE' | 'FAILED BY CLIENT' | 'INFORMATIONAL';

/**
 * How bad an outcome is, for "did this case get worse": OK and INFORMATIONAL are passes (an
 * informational case reports behaviour the spec leaves open), NON-STRICT breaks a SHOULD,
 * UNIMPLEMENTED means an optional feature is missing, FAILED breaks a MUST.
 */
export const OUTCOME_RANK: Readonly<Record<Outcome, number>> = {
  OK: 0,
  INFORMATIONAL: 0,
  'NON-STRICT': 1,
  UNIMPLEMENTED: 2,
  FAILED: 3,
};

/** What the peer did, as the fuzzer records it. */
export type Observed =
  | { type: 'message'; binary: boolean; payload: Uint8Array }
  | { type: 'ping'; payload: Uint8Array }
  | { type: 'pong'; payload: Uint8Array }
  | { type: 'timeout'; tag: string };

export function sameObserved(a: Observed, b: Observed): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'timeout') return a.tag === (b as { tag: string }).tag;
  if (a.type === 'message' && a.binary !== (b as { binary: boolean }).binary) return false;
  return equalBytes(a.payload, (b as { payload: Uint8Array }).payload);
}

export const sameSequence = (a: readonly Observed[], b: readonly Observed[]): boolean =>
  a.length === b.length && a.every((x, i) => sameObserved(x, b[i]!));

export function describeObserved(o: Observed): string {
  switch (o.type) {
    case 'timeout':
      return `timeout ${o.tag}`;
    case 'message':
      return `${o.binary ? 'binary' : 'text'} message ${hexPreview(o.payload, 24) || '(empty)'}`;
    default:
      return `${o.type} ${hexPreview(o.payload, 24) || '(empty)'}`;
  }
}

/** The two verdicts Autobahn reports for a case. */
export interface Verdict {
  behavior: Outcome;
  result: string;
  behaviorClose: CloseBehavior;
  resultClose: string;
}

/**
 * One outcome from Autobahn's two verdicts. Autobahn's summary shows them side by side; a gate
 * needs one. A wrong closing endpoint or an unclean close where the spec requires a clean one
 * fails the case; a close code other than the expected ones, or a server that leaves closing the
 * TCP connection to the client, is NON-STRICT (both break a SHOULD).
 */
export function combine(v: Verdict): { outcome: Outcome; reason: string } {
  const b = v.behavior;
  if (b === 'INFORMATIONAL' || b === 'UNIMPLEMENTED') return { outcome: b, reason: v.result };
  if (b === 'FAILED')
    return { outcome: 'FAILED', reason: v.behaviorClose === 'OK' ? v.result : `${v.result} ${v.resultClose}` };
  if (v.behaviorClose === 'FAILED' || v.behaviorClose === 'UNCLEAN')
    return { outcome: 'FAILED', reason: v.resultClose };
  if (v.behaviorClose === 'WRONG CODE' || v.behaviorClose === 'FAILED BY CLIENT') {
    return { outcome: 'NON-STRICT', reason: b === 'NON-STRICT' ? `${v.result} ${v.resultClose}` : v.resultClose };
  }
  return { outcome: b, reason: v.result };
}
