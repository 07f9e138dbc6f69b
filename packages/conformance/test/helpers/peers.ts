// Shared by the conformance tests: where the reference peers are, and how to judge a run.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseResult, Outcome } from '../../src/index.ts';

export const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PEERS_DIR = path.join(PACKAGE_DIR, 'peers');

/**
 * A Python with `websockets` (Debian's python3-websockets 10.4): /usr/bin/python3 first, since a
 * pyenv `python3` earlier on PATH does not see Debian's packages. Null when there is none.
 */
export function findPythonWithWebsockets(): string | null {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    const probe = spawnSync(candidate, ['-c', 'import websockets'], { stdio: 'ignore', timeout: 10_000 });
    if (probe.status === 0) return candidate;
  }
  return null;
}

/** Outcome of each case by id. */
export const outcomes = (results: readonly CaseResult[]): Record<string, Outcome> =>
  Object.fromEntries(results.map((r) => [r.id, r.outcome]));

/** Ids of the cases with an outcome other than OK, as "id OUTCOME" strings (readable diffs). */
export const notOk = (results: readonly CaseResult[]): string[] =>
  results.filter((r) => r.outcome !== 'OK').map((r) => `${r.id} ${r.outcome}`);

/** Cases the spec leaves open: always INFORMATIONAL. */
export const INFORMATIONAL_CASES = ['7.1.6', '7.13.1', '7.13.2'];

/** Why a result is what it is, for assertion messages. */
export const explain = (results: readonly CaseResult[]): string =>
  results
    .filter((r) => r.outcome !== 'OK')
    .map((r) => `${r.id} ${r.outcome}: ${r.reason} [close ${r.remoteCloseCode}, clean ${r.wasClean}]`)
    .join('\n');
