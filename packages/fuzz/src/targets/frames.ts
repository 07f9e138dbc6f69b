/**
 * The `frames` target: the frame parser alone, both masking directions, random RSV permissions
 * and frame size limits. Split and whole parses must agree, payload chunks must add up to the
 * length, and every step must make progress.
 */
import { FAILED, FrameParser, HEADER, NEED_MORE, PAYLOAD } from '../../../codec/src/frame-parser.ts';
import { concatBytes, encodeFrame, frameRun, frameSpec, mutate, split } from '../generators.ts';
import type { Rng } from '../rng.ts';
import { toHex, type Sink } from './case.ts';
import { check } from './oracle.ts';
import type { Stats } from './stats.ts';

export function runFrames(
  expectMasked: boolean,
  maxFrameSize: number,
  allowedRsv: number,
  chunks: Uint8Array[],
): string {
  // Parse a copy whole and the chunks as given (the parser unmasks in place): same frames, same end.
  const parse = (pieces: Uint8Array[]): string => {
    const parser = new FrameParser({ expectMasked, maxFrameSize });
    parser.allowedRsv = allowedRsv;
    const out: string[] = [];
    let total = 0;
    for (const p of pieces) total += p.length;
    let steps = 0;
    const budget = total * 2 + 64;
    let frameBytes = 0;
    let hash = 0x811c9dc5;
    let inFrame = false;
    for (const piece of pieces) {
      parser.push(piece);
      for (;;) {
        check(++steps <= budget + pieces.length * 2, 'frame parser makes no progress');
        const step = parser.next();
        if (step === NEED_MORE) break;
        if (step === FAILED) {
          check(parser.next() === FAILED, 'failure is not sticky');
          check(parser.errorCode !== null, 'FAILED without an error code');
          out.push(`fail ${parser.errorCode} ${parser.errorCloseCode}`);
          return out.join('|');
        }
        if (step === HEADER) {
          check(!inFrame, 'HEADER inside a frame');
          check(parser.length <= maxFrameSize, 'frame over maxFrameSize accepted');
          check((parser.rsv & ~allowedRsv) === 0, 'RSV bits accepted that were not allowed');
          check(parser.opcode < 8 || (parser.fin && parser.length <= 125), 'bad control frame accepted');
          inFrame = true;
          frameBytes = 0;
          hash = 0x811c9dc5;
          out.push(`h ${parser.fin ? 1 : 0}${parser.rsv}${parser.opcode} ${parser.length}`);
          continue;
        }
        check(step === PAYLOAD, () => `unknown step ${step}`);
        check(inFrame, 'PAYLOAD outside a frame');
        const payload = parser.payload;
        frameBytes += payload.length;
        for (let i = 0; i < payload.length; i++) hash = Math.imul(hash ^ payload[i]!, 0x01000193);
        check(frameBytes <= parser.length, 'payload longer than the frame length');
        if (parser.opcode >= 8)
          check(parser.frameEnd && parser.payload.length === parser.length, 'control payload not delivered whole');
        if (parser.frameEnd) {
          check(frameBytes === parser.length, () => `payload ${frameBytes} bytes, length says ${parser.length}`);
          inFrame = false;
          out.push(`p ${(hash >>> 0).toString(36)}`);
        }
      }
    }
    out.push(`need ${parser.bufferedAmount}`);
    return out.join('|');
  };
  const whole = parse([concatBytes(chunks)]);
  const pieces = parse(chunks.map((c) => c.slice()));
  // The whole parse may already have unmasked its copy; the chunks were copied before.
  check(whole === pieces, 'frame parse depends on the split');
  return whole;
}

export interface FramesBase {
  expectMasked: boolean;
  maxFrameSize: number;
  allowedRsv: number;
  bytes: Uint8Array;
}

export function framesBase(rng: Rng): FramesBase {
  const expectMasked = rng.chance(0.5);
  const maxFrameSize = rng.chance(0.5) ? 64 * 1024 * 1024 : rng.pick([0, 1, 125, 126, 1000, 65535, 65536]);
  const allowedRsv = rng.chance(0.7) ? 0 : rng.chance(0.8) ? 4 : rng.int(8);
  const parts: Uint8Array[] = [];
  const n = rng.range(1, 4);
  for (let i = 0; i < n; i++) {
    if (rng.chance(0.5)) parts.push(encodeFrame(frameSpec(rng, expectMasked), rng));
    else for (const spec of frameRun(rng, expectMasked)) parts.push(encodeFrame(spec, rng));
  }
  return { expectMasked, maxFrameSize, allowedRsv, bytes: concatBytes(parts) };
}

export function framesCase(base: FramesBase, rng: Rng, sink: Sink, stats: Stats): void {
  const { expectMasked, maxFrameSize, allowedRsv } = base;
  let bytes = base.bytes;
  if (rng.chance(0.6)) bytes = mutate(rng, bytes, 3);
  const chunks = split(rng, bytes);
  sink?.({ target: 'frames', expectMasked, maxFrameSize, allowedRsv, chunks: chunks.map(toHex) });
  const outcome = runFrames(expectMasked, maxFrameSize, allowedRsv, chunks);
  const end = outcome.slice(outcome.lastIndexOf('|') + 1);
  stats.add(`frames.${end.startsWith('fail') ? end.split(' ')[1] : 'ok'}`);
}
