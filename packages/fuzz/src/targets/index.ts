/**
 * The fuzz targets' registry: which target case N of a seeded run goes to, and the base input a
 * group of cases shares. Each case is generated from `Rng(seed, index)` alone and run at once; a
 * failing case is generated again with recording on, which yields a replayable {@link Case} (the
 * regression vector format, `case.ts`; replayed by `replay.ts`).
 *
 * Targets, one file each, with their oracles: `head.ts` (the HTTP head parser), `frames.ts` (the
 * frame parser), `conversation.ts` (a connection talking to a well-behaved peer, `peer.ts`) and
 * `handshake.ts` (a connection fed an upgrade request or response). The connection targets drive
 * a `Victim` (`victim.ts`): everything it does must end, so after EOF and a tick far in the
 * future it is `finished`, has no deadline, and has emitted exactly one `closed` event, last.
 *
 * The order of {@link TARGETS} and the weights in `targetOf` fix which input a (seed, index)
 * stands for: changing either changes what every recorded seed means.
 */
import { Rng } from '../rng.ts';
import type { Case, Sink } from './case.ts';
import { conversationCase } from './conversation.ts';
import { framesBase, framesCase, type FramesBase } from './frames.ts';
import { handshakeBase, handshakeCase, type HandshakeBase } from './handshake.ts';
import { headBase, headCase, type HeadBase } from './head.ts';
import type { Stats } from './stats.ts';

export { fromHex, toHex } from './case.ts';
export type { Case, JsonCommand, Step, VictimOptions } from './case.ts';
export { FuzzFailure } from './oracle.ts';
export { runCase } from './replay.ts';
export { Stats } from './stats.ts';

export const TARGETS = ['head', 'frames', 'conversation', 'handshake'] as const;
export type TargetName = (typeof TARGETS)[number];

/**
 * Cases come in groups of {@link GROUP}: a group shares one generated base input (a head, a
 * frame stream, a handshake), and each case of the group is a different mutation and split of
 * it, so the cost of generating from the grammar is paid once per group. Conversations are
 * generated whole for every case. Case N depends only on (seed, N).
 */
export const GROUP = 16;

type Base =
  | { target: 'head'; head: HeadBase }
  | { target: 'frames'; frames: FramesBase }
  | { target: 'handshake'; handshake: HandshakeBase }
  | { target: 'conversation' };

function baseRng(seed: number, group: number): Rng {
  return new Rng((seed ^ 0x5bd1e995) >>> 0, group);
}

/** Weights: head 35 %, frames 40 %, handshake 15 %, conversation 10 % (the dearest: many inputs each). */
function targetOf(rng: Rng): TargetName {
  const x = rng.int(20);
  return x < 7 ? 'head' : x < 15 ? 'frames' : x < 18 ? 'handshake' : 'conversation';
}

let cached: { seed: number; group: number; base: Base } | null = null;

function baseOf(seed: number, group: number): Base {
  if (cached !== null && cached.seed === seed && cached.group === group) return cached.base;
  const rng = baseRng(seed, group);
  const target = targetOf(rng);
  const base: Base =
    target === 'head'
      ? { target, head: headBase(rng) }
      : target === 'frames'
        ? { target, frames: framesBase(rng) }
        : target === 'handshake'
          ? { target, handshake: handshakeBase(rng) }
          : { target };
  cached = { seed, group, base };
  return base;
}

/**
 * Generate and run case `index` of the run seeded `seed`. Throws on a failure (a FuzzFailure for
 * a broken oracle, anything else for an exception escaping the codec). With `record`, the
 * replayable case is left in `holder.case` (also when it throws) and returned.
 */
export function fuzzOne(
  seed: number,
  index: number,
  stats: Stats,
  record = false,
  holder: { case?: Case } = {},
): Case | null {
  const base = baseOf(seed, Math.floor(index / GROUP));
  const rng = new Rng(seed, index);
  const sink: Sink = record ? (c) => (holder.case = c) : null;
  switch (base.target) {
    case 'head':
      headCase(base.head, rng, sink, stats);
      break;
    case 'frames':
      framesCase(base.frames, rng, sink, stats);
      break;
    case 'conversation':
      conversationCase(rng, sink, stats);
      break;
    case 'handshake':
      handshakeCase(base.handshake, rng, sink, stats);
      break;
  }
  return holder.case ?? null;
}

/** The target of case `index`, without running it. */
export function targetOfCase(seed: number, index: number): TargetName {
  return targetOf(baseRng(seed, Math.floor(index / GROUP)));
}
