// Results of a run: the JSON document, the summary table, and the trimmed "expected results" form
// that is committed and compared against (any case that gets worse fails the gate).
import type { CaseResult } from './case.ts';
import { SECTION_TITLES, compareIds, sectionOf } from './cases/index.ts';
import { OUTCOMES, OUTCOME_RANK, type Outcome } from './outcome.ts';

/** The role of the implementation under test. */
export type TestedRole = 'server' | 'client';

export interface RunReport {
  tool: '@ws/conformance';
  formatVersion: 1;
  role: TestedRole;
  agent: string;
  target: string;
  quick: boolean;
  startedAt: string;
  durationMs: number;
  counts: Record<Outcome, number>;
  cases: CaseResult[];
  /** Something that went wrong around the run (the peer exited early, …). */
  problem?: string;
  /** The comparison with the expected file, when there was one. */
  comparison?: { file: string; worse: string[]; better: string[] };
}

export interface ExpectedCase {
  outcome: Outcome;
  /** The close code the peer sent, null for none. */
  closeCode: number | null;
  clean: boolean;
  /** Why, for cases that are not OK. */
  reason?: string;
}

/** The committed form: what each case's outcome is expected to be (`expected/<runtime>-<role>.json`). */
export interface ExpectedFile {
  runtime: string;
  role: TestedRole;
  agent: string;
  target: string;
  quick: boolean;
  updated: string;
  counts: Record<Outcome, number>;
  cases: Record<string, ExpectedCase>;
}

export function countOutcomes(outcomes: Iterable<Outcome>): Record<Outcome, number> {
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const o of outcomes) counts[o]++;
  return counts;
}

export function toExpected(report: RunReport, runtime: string): ExpectedFile {
  const cases: Record<string, ExpectedCase> = {};
  for (const r of [...report.cases].sort((a, b) => compareIds(a.id, b.id))) {
    cases[r.id] = {
      outcome: r.outcome,
      closeCode: r.remoteCloseCode,
      clean: r.wasClean,
      ...(r.outcome === 'OK' ? {} : { reason: r.reason }),
    };
  }
  return {
    runtime,
    role: report.role,
    agent: report.agent,
    target: report.target,
    quick: report.quick,
    updated: report.startedAt.slice(0, 10),
    counts: report.counts,
    cases,
  };
}

/** An expected file as JSON with one line per case (readable diffs). */
export function formatExpected(file: ExpectedFile): string {
  const { cases, ...head } = file;
  const top = JSON.stringify(head, null, 2).slice(0, -2); // without the closing "\n}"
  const lines = Object.entries(cases).map(([id, c]) => `    ${JSON.stringify(id)}: ${JSON.stringify(c)}`);
  return `${top},\n  "cases": {\n${lines.join(',\n')}\n  }\n}\n`;
}

export interface Change {
  id: string;
  expected: Outcome;
  actual: Outcome;
  reason: string;
}

export interface Comparison {
  /** Cases whose outcome is worse than expected (a case missing from the file is expected OK). */
  worse: Change[];
  better: Change[];
  /** Cases run that the file does not list. */
  unlisted: string[];
}

/**
 * Compare a run with an expected file. A case missing from the file is expected OK. Strict for
 * every case: our codec parses frames as events are read, so an echo always leaves before a
 * later frame's failure and the timing-dependent cases (CaseDef.timingDependent) are
 * deterministic OK for our adapters. Pass `tolerateTiming` for a peer that answers
 * asynchronously (ws, python websockets), where Autobahn itself accepts NON-STRICT there.
 */
export function compareWithExpected(
  results: readonly CaseResult[],
  expected: ExpectedFile,
  tolerateTiming = false,
): Comparison {
  const out: Comparison = { worse: [], better: [], unlisted: [] };
  const rank = (r: CaseResult, o: Outcome): number =>
    tolerateTiming && r.timingDependent && o === 'NON-STRICT' ? OUTCOME_RANK.OK : OUTCOME_RANK[o];
  for (const r of results) {
    const listed = expected.cases[r.id];
    if (!listed) out.unlisted.push(r.id);
    const want = listed?.outcome ?? 'OK';
    const change = { id: r.id, expected: want, actual: r.outcome, reason: r.reason };
    if (rank(r, r.outcome) > rank(r, want)) out.worse.push(change);
    else if (rank(r, r.outcome) < rank(r, want)) out.better.push(change);
  }
  return out;
}

const COLUMNS: [Outcome, string][] = [
  ['OK', 'OK'],
  ['NON-STRICT', 'NON-STRICT'],
  ['INFORMATIONAL', 'INFO'],
  ['UNIMPLEMENTED', 'UNIMPL'],
  ['FAILED', 'FAILED'],
];

/** Per-section counts, then every case that is not OK, as plain text. */
export function formatSummary(results: readonly CaseResult[]): string {
  const bySection = new Map<string, CaseResult[]>();
  for (const r of results) {
    const s = sectionOf(r.id);
    bySection.set(s, [...(bySection.get(s) ?? []), r]);
  }
  const rows: string[][] = [['section', 'cases', ...COLUMNS.map(([, label]) => label)]];
  for (const [section, list] of [...bySection].sort(([a], [b]) => compareIds(a, b))) {
    const counts = countOutcomes(list.map((r) => r.outcome));
    rows.push([
      `${section} ${SECTION_TITLES[section] ?? ''}`.trim(),
      String(list.length),
      ...COLUMNS.map(([o]) => (counts[o] ? String(counts[o]) : '·')),
    ]);
  }
  const total = countOutcomes(results.map((r) => r.outcome));
  rows.push(['total', String(results.length), ...COLUMNS.map(([o]) => String(total[o]))]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((r) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '),
  );
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const notOk = results.filter((r) => r.outcome !== 'OK');
  if (notOk.length > 0) {
    lines.push('', 'not OK:');
    for (const r of notOk)
      lines.push(`  ${r.id.padEnd(8)} ${r.outcome.padEnd(13)} ${closeInfo(r).padEnd(18)} ${r.reason}`);
  }
  return lines.join('\n');
}

/** "close 1002 clean", "no close, unclean". */
export function closeInfo(r: { remoteCloseCode: number | null; wasClean: boolean }): string {
  return `${r.remoteCloseCode === null ? 'no code' : `close ${r.remoteCloseCode}`}, ${r.wasClean ? 'clean' : 'unclean'}`;
}

export function formatComparison(c: Comparison, file: string): string {
  const lines: string[] = [];
  if (c.worse.length === 0) lines.push(`no case got worse than ${file}`);
  else {
    lines.push(`${c.worse.length} case(s) got worse than ${file}:`);
    for (const w of c.worse) lines.push(`  ${w.id.padEnd(8)} ${w.expected} → ${w.actual}: ${w.reason}`);
  }
  if (c.better.length > 0) {
    lines.push(
      `${c.better.length} case(s) improved (update the file with --update-expected): ${c.better.map((b) => `${b.id} ${b.expected} → ${b.actual}`).join(', ')}`,
    );
  }
  return lines.join('\n');
}
