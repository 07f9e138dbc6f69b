// The fuzzer's share of every CI run: the regression vectors in packages/fuzz/vectors, replayed
// with all their checks, and a seeded slice of the structure-aware fuzzer (the full run is
// `pnpm run fuzz -- --inputs 10000000 --seed S`, see docs/hardening.md). FUZZ_CI_INPUTS changes
// the slice's size; FUZZ_CI_SEED its seed.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GROUP, Stats, TARGETS, fuzzOne, runCase, targetOfCase, type Case } from '../../fuzz/src/index.ts';

const VECTORS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fuzz/vectors');
const INPUTS = Number(process.env.FUZZ_CI_INPUTS ?? 30_000);
const SEED = Number(process.env.FUZZ_CI_SEED ?? 20261125);

describe('fuzz regression vectors', () => {
  const files = readdirSync(VECTORS).filter((f) => f.endsWith('.json'));

  it('the directory holds vectors', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)(
    '%s replays without a failure',
    (file) => {
      const vector = JSON.parse(readFileSync(path.join(VECTORS, file), 'utf8')) as Case | { case: Case };
      // A crash file written by the fuzzer wraps the case; a hand-made vector is the case.
      const c = 'case' in vector ? vector.case : vector;
      const outcome = runCase(c);
      if (c.expect !== undefined) expect(outcome).toBe(c.expect);
    },
    60_000,
  );
});

describe('fuzz: a seeded slice', () => {
  it(`${INPUTS} cases (seed ${SEED}) raise nothing and break no oracle`, () => {
    const stats = new Stats();
    const failures: string[] = [];
    for (let index = 0; index < INPUTS; index++) {
      try {
        fuzzOne(SEED, index, stats);
      } catch (error) {
        failures.push(`case ${index} (${targetOfCase(SEED, index)}): ${(error as Error).stack ?? error}`);
        if (failures.length >= 3) break;
      }
    }
    expect(failures).toEqual([]);
    // The slice is deep enough to matter: every target ran, handshakes opened, frames parsed.
    const reached = Object.keys(stats.toJSON());
    for (const target of TARGETS)
      expect(reached.some((k) => k.startsWith(`${target}.`) || (target === 'head' && k.startsWith('head.')))).toBe(
        true,
      );
    expect(reached.some((k) => k.startsWith('conversation.') && k.endsWith('.clean'))).toBe(true);
    expect(reached).toContain('frames.ok');
  }, 120_000);

  it('case N depends only on (seed, N): the same case twice gives the same recording', () => {
    for (const index of [0, GROUP - 1, GROUP * 7 + 3, 12_345]) {
      const a = fuzzOne(SEED, index, new Stats(), true);
      const b = fuzzOne(SEED, index, new Stats(), true);
      expect(JSON.stringify(a)).toBe(JSON.stringify(b));
      // And the recording replays.
      expect(() => runCase(a!)).not.toThrow();
    }
  }, 60_000);
});
