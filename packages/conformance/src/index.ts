// @ws/conformance: an Autobahn|Testsuite-equivalent conformance suite. This file only re-exports.
export {
  allCases,
  selectCases,
  matchesPattern,
  compareIds,
  sectionOf,
  SECTION_TITLES,
  SUBSECTION_TITLES,
  EXTRA_SECTIONS,
} from './cases/index.ts';
export type { RegistryOptions } from './cases/index.ts';
export { UTF8_GROUPS } from './cases/section-6-utf8.ts';
export { CaseRun, missingResult } from './case.ts';
export type { CaseDef, CaseResult, ExpectedClose } from './case.ts';
export { OUTCOMES, OUTCOME_RANK, combine } from './outcome.ts';
export type { Outcome, CloseBehavior, Observed, Verdict } from './outcome.ts';
export { FuzzConnection, DEFAULT_TIMING } from './fuzz-connection.ts';
export type { FuzzRole, Timing } from './fuzz-connection.ts';
export { runAgainstServer } from './client-runner.ts';
export type { ClientRunOptions } from './client-runner.ts';
export { FuzzingServer } from './server-runner.ts';
export type { FuzzingServerOptions } from './server-runner.ts';
export { Utf8Validator, isValidUtf8 } from './utf8.ts';
export { startMiniServer, runMiniClient, FLAWS } from './testing/mini-peer.ts';
export type { Flaw, MiniServer } from './testing/mini-peer.ts';
export { compareWithExpected, formatExpected, formatSummary, toExpected, countOutcomes } from './report.ts';
export type { ExpectedFile, ExpectedCase, RunReport, Comparison, TestedRole } from './report.ts';
