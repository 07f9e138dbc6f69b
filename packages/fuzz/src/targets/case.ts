/**
 * The replayable case format (the regression vectors in `packages/fuzz/vectors`): what a target
 * was given, as plain JSON with bytes in hex, and the conversions to and from it.
 */
import type { Command } from '../../../codec/src/events.ts';
import type { PerMessageDeflateOptions } from '../../../codec/src/extensions/permessage-deflate.ts';
import type { Limits, Timeouts } from '../../../codec/src/limits.ts';

export type Step =
  | { op: 'data'; hex: string }
  | { op: 'eof' }
  | { op: 'tick'; at: number }
  | { op: 'send'; command: JsonCommand };

/** A command with its bytes as hex, so a vector is plain JSON. */
export type JsonCommand = Record<string, unknown>;

export interface VictimOptions {
  role: 'client' | 'server';
  url?: string;
  deflate?: PerMessageDeflateOptions | null;
  assembleMessages?: boolean;
  autoPong?: boolean;
  limits?: Partial<Limits>;
  timeouts?: Partial<Timeouts>;
  randomSeed?: number;
  protocols?: string[];
  origins?: string[] | null;
}

/**
 * A replayable input. `head` and `frames` cases carry their chunks; connection cases their
 * steps. Bytes are hex; `HEX*N` stands for N repetitions (for vectors that need size). `expect`
 * (optional, in hand-made vectors) is what {@link runCase} must return.
 */
export type Case = (
  | {
      target: 'head';
      kind: 'request' | 'response';
      limits: { maxHeadBytes: number; maxHeaders: number };
      chunks: string[];
      key?: string;
      protocols?: string[];
    }
  | { target: 'frames'; expectMasked: boolean; maxFrameSize: number; allowedRsv: number; chunks: string[] }
  | { target: 'connection'; options: VictimOptions; steps: Step[] }
) & { note?: string; expect?: string };

/** Receives the case being generated (live: connection steps are appended as they run). */
export type Sink = ((c: Case) => void) | null;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!];
  return s;
}

export function fromHex(hex: string): Uint8Array {
  const star = hex.indexOf('*');
  if (star !== -1) {
    const unit = fromHex(hex.slice(0, star));
    const times = Number(hex.slice(star + 1));
    const out = new Uint8Array(unit.length * times);
    for (let i = 0; i < times; i++) out.set(unit, i * unit.length);
    return out;
  }
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function commandToJson(command: Command): JsonCommand {
  const out: JsonCommand = { ...command };
  if ('data' in command && command.data instanceof Uint8Array) out.data = { hex: toHex(command.data) };
  if ('body' in command && command.body instanceof Uint8Array) out.body = { hex: toHex(command.body) };
  return out;
}

export function commandFromJson(json: JsonCommand): Command {
  const out: Record<string, unknown> = { ...json };
  for (const key of ['data', 'body']) {
    const value = out[key] as { hex?: string } | undefined;
    if (typeof value === 'object' && value !== null && typeof value.hex === 'string') out[key] = fromHex(value.hex);
  }
  return out as unknown as Command;
}
