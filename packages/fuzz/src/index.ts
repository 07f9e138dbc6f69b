// @ws/fuzz: structure-aware fuzzing of @ws/codec. This file only re-exports.
export { Rng } from './rng.ts';
export { GROUP, TARGETS, FuzzFailure, Stats, fuzzOne, runCase, targetOfCase, toHex, fromHex } from './targets/index.ts';
export type { Case, Step, VictimOptions, TargetName } from './targets/index.ts';
