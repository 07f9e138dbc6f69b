// A stand-in for Autobahn's fuzzingserver, for every runtime's `autobahn-client` script test
// (bun test and vitest): the cases it serves, whether a case's echo was right, and the checks on a
// finished run. Each test serves these over its own WebSocket server; failures are thrown.
import { assert, assertEquals } from './assert.ts';
import { bytes, sameBytes } from './bytes.ts';

/** The `--agent` the tests pass. */
export const AGENT = 'test agent';

/** Three cases, each the messages the client must echo back unchanged and of the same type. */
export const CASES: ReadonlyArray<ReadonlyArray<string | Uint8Array>> = [
  ['case one'],
  [bytes(70_000), 'ü'],
  [new Uint8Array(0)],
];

/** The case a `/runCase?case=N&…` query names. */
export const caseOf = (search: string): ReadonlyArray<string | Uint8Array> =>
  CASES[Number(new URLSearchParams(search).get('case')) - 1]!;

/** Whether `echoed` (text as strings, binary as bytes) is `expected`, message by message. */
export function echoedAll(
  expected: ReadonlyArray<string | Uint8Array>,
  echoed: ReadonlyArray<string | Uint8Array>,
): boolean {
  return (
    echoed.length === expected.length &&
    expected.every((m, i) => {
      const e = echoed[i]!;
      return typeof m === 'string' ? e === m : typeof e !== 'string' && sameBytes(e, m);
    })
  );
}

/** A finished run: exit code 0, every case echoed right, the loop's requests in order, the last log line. */
export function checkAutobahnRun(run: {
  code: number | null;
  results: boolean[];
  visits: string[];
  output: string;
}): void {
  assertEquals(run.code, 0, `exit code (output: ${run.output.slice(-2000)})`);
  assertEquals(
    run.results,
    CASES.map(() => true),
    'every case echoed',
  );
  assertEquals(
    run.visits,
    [
      '/getCaseCount',
      '/runCase?case=1&agent=test%20agent',
      '/runCase?case=2&agent=test%20agent',
      '/runCase?case=3&agent=test%20agent',
      '/updateReports?agent=test%20agent',
    ],
    'the requests, in order',
  );
  assert(run.output.includes('reports updated'), `'reports updated' in the output: ${run.output.slice(-2000)}`);
}
