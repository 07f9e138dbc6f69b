/**
 * The fuzz targets and their oracles. Each case is generated from `Rng(seed, index)` alone and
 * run at once; a failing case is generated again with recording on, which yields a replayable
 * {@link Case} (the regression vector format).
 *
 * Targets
 * - `head`: the HTTP head parser, requests and responses, under random limits; the result must
 *   not depend on how the bytes were split, and a parsed head must then pass through
 *   `validateRequest` / `verifyResponse` without throwing.
 * - `frames`: the frame parser alone, both masking directions, random RSV permissions and frame
 *   size limits; split and whole parses must agree, payload chunks must add up to the length,
 *   and every step must make progress.
 * - `conversation`: a connection (either role, optional permessage-deflate, optional streaming
 *   mode, small or default limits, timeouts on or off) talking to a well-behaved peer codec,
 *   with raw and mutated frames, bad commands, ticks and EOF mixed in. Oracles: the victim's
 *   event and output streams stay well-formed; the peer never sees a protocol error (the victim
 *   only ever writes valid frames); every message the victim sent reaches the peer; and when
 *   nothing was tampered with, every message the peer sent reaches the victim, in order.
 * - `handshake`: a connection fed a generated (often mutated) upgrade request or response,
 *   followed by frames, commands, ticks and EOF.
 *
 * Everything a victim connection does must end: after EOF and a tick far in the future it is
 * `finished`, has no deadline, and has emitted exactly one `closed` event, last.
 */
import { Connection, type ClientConnectionOptions, type ServerConnectionOptions } from '../../codec/src/connection.ts';
import type { Command, Event, Output } from '../../codec/src/events.ts';
import { WebSocketUsageError } from '../../codec/src/errors.ts';
import { FrameParser, FAILED, HEADER, NEED_MORE, PAYLOAD } from '../../codec/src/frame-parser.ts';
import { HeadParser } from '../../codec/src/http/head-parser.ts';
import { validateRequest } from '../../codec/src/handshake/server.ts';
import { verifyResponse } from '../../codec/src/handshake/client.ts';
import type { PerMessageDeflateOptions } from '../../codec/src/extensions/permessage-deflate.ts';
import { pakoPermessageDeflate as permessageDeflate } from '../../codec/src/extensions/pako-backend.ts';
import type { Limits, Timeouts } from '../../codec/src/limits.ts';
import { seededRandom } from '../../codec/src/testing/seeded-random.ts';
import { decodeUtf8, encodeUtf8 } from '../../codec/src/utf8.ts';
import { Rng } from './rng.ts';
import {
  concatBytes,
  encodeFrame,
  frameRun,
  frameSpec,
  latin1,
  mutate,
  split,
  upgradeRequest,
  upgradeResponse,
} from './generators.ts';

// ───────────────────────────── vectors ─────────────────────────────

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
type Sink = ((c: Case) => void) | null;

export class FuzzFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FuzzFailure';
  }
}

/** `message` may be a function, so a message with values costs nothing while the check passes. */
function check(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) throw new FuzzFailure(typeof message === 'string' ? message : message());
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!];
  return s;
}
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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

function commandToJson(command: Command): JsonCommand {
  const out: JsonCommand = { ...command };
  if ('data' in command && command.data instanceof Uint8Array) out.data = { hex: toHex(command.data) };
  if ('body' in command && command.body instanceof Uint8Array) out.body = { hex: toHex(command.body) };
  return out;
}

function commandFromJson(json: JsonCommand): Command {
  const out: Record<string, unknown> = { ...json };
  for (const key of ['data', 'body']) {
    const value = out[key] as { hex?: string } | undefined;
    if (typeof value === 'object' && value !== null && typeof value.hex === 'string') out[key] = fromHex(value.hex);
  }
  return out as unknown as Command;
}

// ───────────────────────────── statistics ─────────────────────────────

/** What the cases reached: protocol-error codes, states, targets. Shows the fuzzer gets deep. */
export class Stats {
  readonly counts = new Map<string, number>();
  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  merge(other: Record<string, number>): void {
    for (const [k, v] of Object.entries(other)) this.counts.set(k, (this.counts.get(k) ?? 0) + v);
  }
  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort());
  }
}

// ───────────────────────────── the victim ─────────────────────────────

function makeConnection(options: VictimOptions, clock: () => number): Connection {
  const common = {
    extensions: options.deflate ? [permessageDeflate(options.deflate)] : [],
    assembleMessages: options.assembleMessages ?? true,
    autoPong: options.autoPong ?? true,
    limits: options.limits ?? {},
    timeouts: options.timeouts ?? {},
    random: seededRandom(options.randomSeed ?? 1),
    clock,
  };
  if (options.role === 'server') {
    return Connection.server({ ...common, origins: options.origins ?? null } satisfies ServerConnectionOptions);
  }
  return Connection.client(options.url ?? 'ws://example.test/chat', {
    ...common,
    protocols: options.protocols ?? [],
  } satisfies ClientConnectionOptions);
}

/** A received message, whole (assembled, or gathered from streaming fragments). */
type Message = { kind: 'text' | 'binary'; data: Uint8Array };

/**
 * One connection under test: every input goes through here, so it is recorded (when asked)
 * and every event and output is checked as it appears.
 */
class Victim {
  readonly conn: Connection;
  readonly options: VictimOptions;
  readonly steps: Step[] | null;
  readonly events: Event[] = [];
  readonly messages: Message[] = [];
  /** Bytes written, not yet taken by the peer. */
  readonly written: Uint8Array[] = [];
  now = 0;
  eof = false;
  closed = false;
  shutdown = false;
  destroyed = false;
  errorCode: string | null = null;
  #streaming: Uint8Array[] | null = null;
  #streamingKind: 'text' | 'binary' = 'binary';
  readonly #maxMessage: number;

  constructor(options: VictimOptions, record: boolean) {
    this.options = options;
    this.steps = record ? [] : null;
    this.conn = makeConnection(options, () => this.now);
    this.#maxMessage = this.conn.limits.maxMessageSize;
    this.drain();
  }

  data(bytes: Uint8Array): void {
    if (this.eof || bytes.length === 0) return;
    this.steps?.push({ op: 'data', hex: toHex(bytes) });
    this.conn.receiveData(bytes);
    this.drain();
  }

  receiveEof(): void {
    if (this.eof) return;
    this.eof = true;
    this.steps?.push({ op: 'eof' });
    this.conn.receiveEof();
    this.drain();
  }

  tick(at: number): void {
    if (at < this.now) at = this.now;
    this.now = at;
    this.steps?.push({ op: 'tick', at });
    this.conn.tick(at);
    this.drain();
  }

  /** A command; returns the usage error if the codec refused it (anything else thrown is a failure). */
  send(command: Command): WebSocketUsageError | null {
    this.steps?.push({ op: 'send', command: commandToJson(command) });
    try {
      this.conn.send(command);
    } catch (error) {
      if (error instanceof WebSocketUsageError) {
        this.drain();
        return error;
      }
      throw error;
    }
    this.drain();
    return null;
  }

  drain(): void {
    for (let event = this.conn.nextEvent(); event !== null; event = this.conn.nextEvent()) this.#onEvent(event);
    for (const output of this.conn.takeOutput()) this.#onOutput(output);
  }

  #onEvent(event: Event): void {
    check(!this.closed, () => `event ${event.type} after closed`);
    this.events.push(event);
    switch (event.type) {
      case 'closed':
        this.closed = true;
        check(this.conn.state === 'closed', () => `closed event in state ${this.conn.state}`);
        return;
      case 'protocol-error':
        check(this.errorCode === null, () => `second protocol-error ${event.code} after ${this.errorCode}`);
        this.errorCode = event.code;
        return;
      case 'text':
        check(event.data.length <= this.#maxMessage, 'text message over maxMessageSize');
        this.messages.push({ kind: 'text', data: encodeUtf8(event.data) });
        return;
      case 'binary':
        check(event.data.length <= this.#maxMessage, 'binary message over maxMessageSize');
        this.messages.push({ kind: 'binary', data: event.data.slice() });
        return;
      case 'fragment': {
        check(this.options.assembleMessages === false, 'fragment event while assembling messages');
        check(event.first === (this.#streaming === null), () => `fragment first=${event.first} out of order`);
        if (event.first) {
          this.#streaming = [];
          this.#streamingKind = event.kind;
        }
        check(event.kind === this.#streamingKind, 'fragment kind changed inside a message');
        this.#streaming!.push(event.data.slice());
        if (event.fin) {
          const data = concatBytes(this.#streaming!);
          check(data.length <= this.#maxMessage, 'streamed message over maxMessageSize');
          if (event.kind === 'text') decodeUtf8(data); // validated incrementally: must decode
          this.messages.push({ kind: event.kind, data });
          this.#streaming = null;
        }
        return;
      }
      default:
        return;
    }
  }

  #onOutput(output: Output): void {
    check(!this.destroyed, () => `${output.type} output after destroy`);
    if (output.type === 'write') {
      check(!this.shutdown, 'write output after shutdown');
      check(output.data.length > 0, 'empty write');
      this.written.push(output.data);
    } else if (output.type === 'shutdown') {
      check(!this.shutdown, 'second shutdown');
      this.shutdown = true;
    } else {
      this.destroyed = true;
    }
  }

  takeWritten(): Uint8Array {
    const bytes = concatBytes(this.written);
    this.written.length = 0;
    return bytes;
  }

  /** EOF, then a tick far in the future: the connection must be finished and quiet. */
  finish(): void {
    this.receiveEof();
    this.tick(this.now + 1e12);
    this.tick(this.now + 1e12);
    check(this.closed, () => `no closed event after EOF and every deadline (state ${this.conn.state})`);
    check(this.events.at(-1)?.type === 'closed', 'closed is not the last event');
    check(this.conn.finished, () => `not finished after EOF and every deadline (state ${this.conn.state})`);
    check(this.conn.nextDeadline() === null, 'a deadline is left after the connection finished');
    check(this.conn.closeInfo !== null, 'no closeInfo after closed');
  }
}

/**
 * Replay a recorded case with every victim-side check. Throws on a failure; returns the outcome
 * (head: `ok` or the error code; frames: `ok` or the error code; connection: the protocol-error
 * code or `none`), which a hand-made vector may pin with `expect`.
 */
export function runCase(c: Case): string {
  switch (c.target) {
    case 'head': {
      const outcome = runHead(c.kind, c.limits, c.chunks.map(fromHex), c.key ?? '', c.protocols ?? []);
      return outcome.startsWith('ok') ? 'ok' : outcome.split(' ')[1]!;
    }
    case 'frames': {
      const outcome = runFrames(c.expectMasked, c.maxFrameSize, c.allowedRsv, c.chunks.map(fromHex));
      const end = outcome.slice(outcome.lastIndexOf('|') + 1);
      return end.startsWith('fail') ? end.split(' ')[1]! : 'ok';
    }
    case 'connection': {
      const victim = new Victim(c.options, false);
      for (const step of c.steps) {
        if (step.op === 'data') victim.data(fromHex(step.hex));
        else if (step.op === 'eof') victim.receiveEof();
        else if (step.op === 'tick') victim.tick(step.at);
        else victim.send(commandFromJson(step.command));
      }
      victim.finish();
      return victim.errorCode ?? 'none';
    }
  }
}

// ───────────────────────────── head target ─────────────────────────────

type HeadOutcome = string;

function parseHead(
  kind: 'request' | 'response',
  limits: { maxHeadBytes: number; maxHeaders: number },
  chunks: Uint8Array[],
): { outcome: HeadOutcome; head: unknown } {
  const parser = new HeadParser(kind, limits);
  let consumed = 0;
  for (const chunk of chunks) {
    const result = parser.push(chunk);
    if (result === null) {
      consumed += chunk.length;
      continue;
    }
    if (!result.ok) return { outcome: `error ${result.error.code} ${result.error.status}`, head: null };
    const used = consumed + chunk.length - result.rest.length;
    check(used <= limits.maxHeadBytes, () => `head of ${used} bytes accepted over maxHeadBytes ${limits.maxHeadBytes}`);
    const fields = [...result.head.headers];
    check(fields.length <= limits.maxHeaders, 'more headers accepted than maxHeaders');
    const { headers: _, ...start } = result.head;
    return { outcome: `ok ${used} ${JSON.stringify(start)} ${JSON.stringify(fields)}`, head: result.head };
  }
  const end = parser.eof();
  return { outcome: `error ${end.error.code} ${end.error.status}`, head: null };
}

function runHead(
  kind: 'request' | 'response',
  limits: { maxHeadBytes: number; maxHeaders: number },
  chunks: Uint8Array[],
  key: string,
  protocols: string[],
  stats?: Stats,
): string {
  const whole = concatBytes(chunks);
  const a = parseHead(kind, limits, [whole]);
  const b = parseHead(kind, limits, chunks);
  check(
    a.outcome === b.outcome,
    () => `head parse depends on the split: ${a.outcome.slice(0, 200)} vs ${b.outcome.slice(0, 200)}`,
  );
  stats?.add(`head.${kind}.${a.outcome.startsWith('ok') ? 'ok' : a.outcome.split(' ')[1]}`);
  if (a.head === null) return a.outcome;
  if (kind === 'request') {
    const verdict = validateRequest(a.head as Parameters<typeof validateRequest>[0], {
      origins: protocols.length % 2 === 0 ? null : ['http://example.test'],
    });
    stats?.add(`handshake.server.${verdict.ok ? 'ok' : verdict.code}`);
  } else {
    const verdict = verifyResponse(a.head as Parameters<typeof verifyResponse>[0], {
      key,
      protocols,
      offeredExtensions: ['permessage-deflate'],
    });
    stats?.add(`handshake.client.${verdict.ok ? 'ok' : verdict.code}`);
  }
  return a.outcome;
}

interface HeadBase {
  kind: 'request' | 'response';
  limits: { maxHeadBytes: number; maxHeaders: number };
  bytes: Uint8Array;
  key: string;
  protocols: string[];
}

function headBase(rng: Rng): HeadBase {
  const kind = rng.chance(0.6) ? 'request' : 'response';
  const limits = rng.chance(0.5)
    ? { maxHeadBytes: 16 * 1024, maxHeaders: 100 }
    : {
        maxHeadBytes: rng.chance(0.2) ? rng.range(1, 64) : rng.range(64, 70_000),
        maxHeaders: rng.range(1, rng.chance(0.1) ? 5000 : 150),
      };
  let bytes: Uint8Array;
  let key = '';
  let protocols: string[] = [];
  if (rng.chance(0.05)) {
    bytes = rng.bytes(rng.int(400));
  } else if (kind === 'request') {
    const req = upgradeRequest(rng);
    protocols = req.protocols;
    bytes = latin1(req.text);
  } else {
    key = 'dGhlIHNhbXBsZSBub25jZQ==';
    protocols = rng.chance(0.5) ? ['chat', 'superchat'] : [];
    bytes = latin1(upgradeResponse(rng, key, protocols, true));
  }
  return { kind, limits, bytes, key, protocols };
}

function headCase(base: HeadBase, rng: Rng, sink: Sink, stats: Stats): void {
  const { kind, limits, key, protocols } = base;
  let bytes = base.bytes;
  if (rng.chance(0.75)) bytes = mutate(rng, bytes, 4);
  if (rng.chance(0.05)) bytes = concatBytes([bytes, rng.bytes(rng.int(40))]);
  const chunks = split(rng, bytes);
  sink?.({ target: 'head', kind, limits, chunks: chunks.map(toHex), key, protocols });
  runHead(kind, limits, chunks, key, protocols, stats);
}

// ───────────────────────────── frames target ─────────────────────────────

function runFrames(expectMasked: boolean, maxFrameSize: number, allowedRsv: number, chunks: Uint8Array[]): string {
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

interface FramesBase {
  expectMasked: boolean;
  maxFrameSize: number;
  allowedRsv: number;
  bytes: Uint8Array;
}

function framesBase(rng: Rng): FramesBase {
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

function framesCase(base: FramesBase, rng: Rng, sink: Sink, stats: Stats): void {
  const { expectMasked, maxFrameSize, allowedRsv } = base;
  let bytes = base.bytes;
  if (rng.chance(0.6)) bytes = mutate(rng, bytes, 3);
  const chunks = split(rng, bytes);
  sink?.({ target: 'frames', expectMasked, maxFrameSize, allowedRsv, chunks: chunks.map(toHex) });
  const outcome = runFrames(expectMasked, maxFrameSize, allowedRsv, chunks);
  const end = outcome.slice(outcome.lastIndexOf('|') + 1);
  stats.add(`frames.${end.startsWith('fail') ? end.split(' ')[1] : 'ok'}`);
}

// ───────────────────────────── connection targets ─────────────────────────────

const QUIET: Partial<Timeouts> = { handshakeTimeout: 0, closeTimeout: 0, keepaliveInterval: 0, idleTimeout: 0 };

function deflateOptions(rng: Rng): PerMessageDeflateOptions {
  const o: PerMessageDeflateOptions = {};
  if (rng.chance(0.3)) o.serverNoContextTakeover = true;
  if (rng.chance(0.3)) o.clientNoContextTakeover = true;
  if (rng.chance(0.3)) o.serverMaxWindowBits = rng.range(8, 15);
  if (rng.chance(0.3)) o.clientMaxWindowBits = rng.range(8, 15);
  if (rng.chance(0.5)) o.threshold = rng.pick([0, 16, 1024]);
  if (rng.chance(0.3)) o.maxDecodeChunk = 1024;
  if (rng.chance(0.5)) o.memLevel = rng.range(1, 4);
  return o;
}

function victimOptions(rng: Rng, role: 'client' | 'server', deflate: boolean): VictimOptions {
  const options: VictimOptions = { role, randomSeed: rng.u32() || 1 };
  if (deflate) options.deflate = deflateOptions(rng);
  if (rng.chance(0.3)) options.assembleMessages = false;
  if (rng.chance(0.1)) options.autoPong = false;
  if (rng.chance(0.3)) {
    options.limits = {
      maxFrameSize: rng.pick([0, 125, 1000, 70_000]),
      maxMessageSize: rng.pick([0, 100, 2000, 100_000]),
      maxFragments: rng.pick([1, 2, 20, 1000]),
      maxHeadBytes: rng.pick([64, 512, 16 * 1024]),
      maxHeaders: rng.pick([1, 5, 100]),
      maxRejectBodyBytes: rng.pick([0, 10, 64 * 1024]),
    };
  }
  if (rng.chance(0.5)) {
    options.timeouts = {
      handshakeTimeout: rng.pick([0, 1000, 10_000]),
      closeTimeout: rng.pick([0, 1000, 10_000]),
      keepaliveInterval: rng.pick([0, 0, 500, 5000]),
      keepaliveTimeout: rng.pick([100, 20_000]),
      idleTimeout: rng.pick([0, 0, 3000, 60_000]),
    };
  }
  if (role === 'client' && rng.chance(0.4)) options.protocols = ['chat', 'superchat'].slice(0, rng.range(1, 2));
  if (role === 'server' && rng.chance(0.1)) options.origins = ['http://example.test'];
  return options;
}

function randomText(rng: Rng, n: number): string {
  switch (rng.int(4)) {
    case 0:
      return 'x'.repeat(n);
    case 1:
      return 'ü€😀a'.repeat(Math.ceil(n / 5)).slice(0, n);
    case 2: {
      let s = '';
      for (let i = 0; i < n; i++) s += String.fromCharCode(rng.int(0xd800));
      return s;
    }
    default:
      return '{"k":' + '1,'.repeat(n >> 1) + '0}';
  }
}

/** What a peer may legitimately send: messages, fragments, pings, pongs, a close. Null if it cannot. */
function peerCommands(rng: Rng): Command[] {
  const compress = rng.pick([undefined, undefined, true, false]);
  switch (rng.int(10)) {
    case 0:
    case 1:
    case 2:
      return [{ type: 'text', data: randomText(rng, rng.size()), compress }];
    case 3:
    case 4:
      return [{ type: 'binary', data: rng.bytes(rng.size(rng.chance(0.02) ? 200_000 : 300)), compress }];
    case 5: {
      const kind = rng.chance(0.5) ? 'text' : 'binary';
      const n = rng.range(1, 6);
      const out: Command[] = [];
      for (let i = 0; i < n; i++) {
        const data = kind === 'text' ? encodeUtf8(randomText(rng, rng.size(40))) : rng.bytes(rng.size(40));
        out.push({ type: 'fragment', kind, data, fin: i === n - 1, compress });
        if (rng.chance(0.2)) out.push({ type: 'ping', data: rng.bytes(rng.int(20)) });
      }
      return out;
    }
    case 6:
      return [{ type: 'ping', data: rng.bytes(rng.int(126)) }];
    case 7:
      return [{ type: 'pong', data: rng.bytes(rng.int(126)) }];
    case 8:
      return rng.chance(0.3)
        ? [{ type: 'close', code: rng.pick([1000, 1001, 3000, 4999]), reason: rng.chance(0.5) ? 'bye' : '' }]
        : [{ type: 'text', data: '' }];
    default:
      return [{ type: 'binary', data: new Uint8Array(0) }];
  }
}

/** Commands that must be refused with a WebSocketUsageError whatever the state. */
function badCommand(rng: Rng): Command {
  const bad: unknown[] = [
    { type: 'close', code: rng.pick([999, 1004, 1005, 1006, 1015, 2000, 5000, 1.5]) },
    { type: 'close', code: 1000, reason: 'r'.repeat(124) },
    { type: 'close', reason: 'no code' },
    { type: 'ping', data: new Uint8Array(126) },
    { type: 'pong', data: new Uint8Array(200) },
    { type: 'text', data: 42 },
    { type: 'binary', data: 'not bytes' },
    { type: 'fragment', kind: 'json', data: new Uint8Array(1), fin: true },
    { type: 'nope' },
  ];
  return rng.pick(bad) as Command;
}

function sameMessages(a: Message[], b: Message[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.kind !== b[i]!.kind || !sameBytes(a[i]!.data, b[i]!.data)) return false;
  }
  return true;
}

function isPrefix(a: Message[], b: Message[]): boolean {
  return a.length <= b.length && sameMessages(a, b.slice(0, a.length));
}

/** The peer: a well-behaved codec in the other role, whose events are checked too. */
class Peer {
  readonly conn: Connection;
  readonly sent: Message[] = [];
  readonly received: Message[] = [];
  error: string | null = null;
  eof = false;
  #sending: 'text' | 'binary' | null = null;
  #parts: Uint8Array[] = [];

  constructor(conn: Connection) {
    this.conn = conn;
  }

  /** Send commands while the peer may; record the messages it sent whole. */
  send(commands: Command[]): void {
    for (const command of commands) {
      if (!this.conn.canSend) return;
      if (
        this.#sending !== null &&
        command.type !== 'fragment' &&
        command.type !== 'ping' &&
        command.type !== 'pong' &&
        command.type !== 'close'
      )
        continue;
      this.conn.send(command);
      if (command.type === 'text') this.sent.push({ kind: 'text', data: encodeUtf8(command.data) });
      else if (command.type === 'binary') this.sent.push({ kind: 'binary', data: command.data });
      else if (command.type === 'fragment') {
        this.#sending = command.kind;
        this.#parts.push(command.data);
        if (command.fin) {
          this.sent.push({ kind: command.kind, data: concatBytes(this.#parts) });
          this.#parts = [];
          this.#sending = null;
        }
      }
    }
  }

  drain(): void {
    for (let event = this.conn.nextEvent(); event !== null; event = this.conn.nextEvent()) {
      if (event.type === 'protocol-error') this.error = `${event.code}: ${event.message}`;
      else if (event.type === 'text') this.received.push({ kind: 'text', data: encodeUtf8(event.data) });
      else if (event.type === 'binary') this.received.push({ kind: 'binary', data: event.data.slice() });
      else if (event.type === 'request')
        this.conn.send({ type: 'accept', protocol: event.request.protocols[0] ?? null });
    }
  }
}

/** Errors a victim may report on untampered traffic: limits and timeouts. */
const LEGIT_ON_CLEAN = new Set([
  'FRAME_TOO_LARGE',
  'MESSAGE_TOO_LARGE',
  'TOO_MANY_FRAGMENTS',
  'PONG_TIMEOUT',
  'IDLE_TIMEOUT',
  'CLOSE_TIMEOUT',
  'HANDSHAKE_TIMEOUT',
]);

function conversationCase(rng: Rng, sink: Sink, stats: Stats): void {
  const role = rng.chance(0.5) ? 'server' : 'client';
  const deflate = rng.chance(0.35);
  const options = victimOptions(rng, role, deflate);
  // The peer handshakes normally, so the limits must let a normal handshake through.
  if (options.limits) {
    options.limits.maxHeadBytes = 16 * 1024;
    options.limits.maxHeaders = 100;
  }
  options.origins = null;
  const victim = new Victim(options, sink !== null);
  sink?.({ target: 'connection', options, steps: victim.steps! });
  const clock = (): number => victim.now;
  const peerDeflate = deflate && rng.chance(0.9) ? [permessageDeflate(deflateOptions(rng))] : [];
  const peerConn =
    role === 'server'
      ? Connection.client('ws://example.test/chat', {
          random: seededRandom(rng.u32() || 1),
          extensions: peerDeflate,
          timeouts: QUIET,
          clock,
          protocols: rng.chance(0.3) ? ['chat'] : [],
        })
      : Connection.server({ extensions: peerDeflate, timeouts: QUIET, clock });
  const peer = new Peer(peerConn);
  let clean = true;
  let victimSending: 'text' | 'binary' | null = null;
  const victimSent: Message[] = [];
  let victimParts: Uint8Array[] = [];

  /** Move bytes both ways until quiet; `tamper` bends what the peer sends this time. */
  const exchange = (tamper: ((bytes: Uint8Array) => Uint8Array) | null): void => {
    for (let round = 0; round < 50; round++) {
      peer.drain();
      let moved = false;
      let toVictim: Uint8Array = new Uint8Array(0);
      let peerEnded = false;
      for (const output of peerConn.takeOutput()) {
        if (output.type === 'write') toVictim = concatBytes([toVictim, output.data]);
        else peerEnded = true;
      }
      if (toVictim.length > 0) {
        moved = true;
        if (tamper !== null) {
          toVictim = tamper(toVictim);
          tamper = null;
        }
        for (const chunk of split(rng, toVictim)) victim.data(chunk);
        if (victim.conn.state === 'awaiting-accept') {
          check(
            victim.send({ type: 'accept', protocol: victim.conn.request?.protocols[0] ?? null }) === null,
            'a valid accept was refused',
          );
        }
      }
      if (peerEnded && !victim.eof) {
        moved = true;
        victim.receiveEof();
      }
      const toPeer = victim.takeWritten();
      if (toPeer.length > 0 && !peer.eof) {
        moved = true;
        for (const chunk of split(rng, toPeer)) peerConn.receiveData(chunk);
      }
      if ((victim.shutdown || victim.destroyed) && !peer.eof) {
        moved = true;
        peer.eof = true;
        peerConn.receiveEof();
      }
      peer.drain();
      if (!moved) return;
    }
  };

  // The handshake: the client side writes first.
  exchange(null);
  const ops = rng.chance(0.1) ? rng.range(10, 30) : rng.range(1, 6);
  for (let i = 0; i < ops; i++) {
    const op = rng.int(100);
    if (op < 38) {
      peer.send(peerCommands(rng));
      exchange(null);
    } else if (op < 46) {
      clean = false;
      const specs = rng.chance(0.5) ? [frameSpec(rng, role === 'server')] : frameRun(rng, role === 'server');
      for (const chunk of split(rng, concatBytes(specs.map((s) => encodeFrame(s, rng))))) victim.data(chunk);
      exchange(null);
    } else if (op < 51) {
      clean = false;
      peer.send(peerCommands(rng));
      exchange((bytes) => mutate(rng, bytes, 2));
    } else if (op < 73) {
      // The victim sends: only what is legal in its state must be accepted.
      if (!victim.conn.canSend) {
        const refused = victim.send(rng.chance(0.5) ? { type: 'text', data: 'late' } : { type: 'ping' });
        check(refused !== null, () => `a send in state ${victim.conn.state} was accepted`);
        if (rng.chance(0.5))
          check(
            victim.send({ type: 'close', code: 1000 }) === null,
            () => `close refused in state ${victim.conn.state}`,
          );
        exchange(null);
        continue;
      }
      const commands = peerCommands(rng);
      for (const command of commands) {
        if (!victim.conn.canSend) break;
        if (victimSending !== null && (command.type === 'text' || command.type === 'binary')) continue;
        if (victimSending !== null && command.type === 'fragment' && command.kind !== victimSending) continue;
        const refused = victim.send(command);
        check(
          refused === null,
          () => `legal ${command.type} refused in state ${victim.conn.state}: ${refused?.message}`,
        );
        if (command.type === 'text') victimSent.push({ kind: 'text', data: encodeUtf8(command.data) });
        else if (command.type === 'binary') victimSent.push({ kind: 'binary', data: command.data.slice() });
        else if (command.type === 'fragment') {
          victimSending = command.fin ? null : command.kind;
          victimParts.push(command.data.slice());
          if (command.fin) {
            victimSent.push({ kind: command.kind, data: concatBytes(victimParts) });
            victimParts = [];
          }
        }
      }
      exchange(null);
    } else if (op < 85) {
      victim.tick(victim.now + rng.pick([1, 100, 499, 500, 1000, 3000, 5000, 20_000, 60_000, 1e7]));
      exchange(null);
    } else if (op < 90) {
      const refused = victim.send(badCommand(rng));
      check(refused !== null, 'a bad command was accepted');
      exchange(null);
    } else if (op < 94) {
      clean = false;
      victim.data(rng.bytes(rng.range(1, 64)));
      exchange(null);
    } else {
      victim.receiveEof();
      exchange(null);
      break;
    }
  }
  exchange(null);
  victim.finish();
  exchange(null);

  // Oracles across the two sides.
  check(peer.error === null, () => `the peer saw a protocol error from the victim's output: ${peer.error}`);
  check(isPrefix(peer.received, victimSent), 'the peer received something other than what the victim sent');
  if (peer.received.length < victimSent.length) {
    // Only an abrupt end may lose messages: EOF before they were written, a destroy, or a failure.
    check(
      victim.destroyed || victim.errorCode !== null || victim.eof,
      'messages the victim sent were lost on a clean close',
    );
  }
  if (clean) {
    check(
      victim.errorCode === null || LEGIT_ON_CLEAN.has(victim.errorCode),
      () => `untampered traffic failed the victim with ${victim.errorCode}`,
    );
    check(isPrefix(victim.messages, peer.sent), 'the victim received something other than what the peer sent');
    if (victim.errorCode === null && !victim.destroyed) {
      check(
        victim.messages.length === peer.sent.length,
        () => `the victim got ${victim.messages.length} of ${peer.sent.length} messages`,
      );
    }
  }
  stats.add(
    `conversation.${role}${deflate ? '.deflate' : ''}${options.assembleMessages === false ? '.streaming' : ''}.${victim.errorCode ?? (victim.conn.closeInfo?.wasClean ? 'clean' : 'abnormal')}`,
  );
}

interface HandshakeBase {
  role: 'client' | 'server';
  options: VictimOptions;
  bytes: Uint8Array;
}

function handshakeBase(rng: Rng): HandshakeBase {
  const role = rng.chance(0.55) ? 'server' : 'client';
  const options = victimOptions(rng, role, rng.chance(0.4));
  if (role === 'client' && rng.chance(0.2))
    options.url = rng.pick(['wss://example.test:8443/a?b=c', 'ws://[::1]:9/', 'ws://127.0.0.1/']);
  let bytes: Uint8Array;
  if (role === 'server') {
    bytes = latin1(upgradeRequest(rng).text);
  } else {
    // The client's key comes from its seeded random source: make one to learn it.
    const probe = makeConnection(options, () => 0);
    const request = new TextDecoder('latin1').decode(
      concatBytes(probe.takeOutput().flatMap((o) => (o.type === 'write' ? [o.data] : []))),
    );
    const key = /Sec-WebSocket-Key: ([^\r]*)/.exec(request)?.[1] ?? '';
    bytes = latin1(upgradeResponse(rng, key, options.protocols ?? [], !!options.deflate));
  }
  if (rng.chance(0.3)) {
    const specs = rng.chance(0.5) ? [frameSpec(rng, role === 'server')] : frameRun(rng, role === 'server');
    bytes = concatBytes([bytes, ...specs.map((s) => encodeFrame(s, rng))]);
  }
  return { role, options, bytes };
}

function handshakeCase(base: HandshakeBase, rng: Rng, sink: Sink, stats: Stats): void {
  const { role, options } = base;
  const victim = new Victim(options, sink !== null);
  sink?.({ target: 'connection', options, steps: victim.steps! });
  victim.takeWritten();
  let bytes = base.bytes;
  if (rng.chance(0.6)) bytes = mutate(rng, bytes, 3);
  for (const chunk of split(rng, bytes)) {
    victim.data(chunk);
    if (rng.chance(0.05)) victim.tick(victim.now + rng.pick([100, 1000, 10_000]));
  }
  // The application's answer to a request, sometimes a wrong one.
  if (victim.conn.state === 'awaiting-accept') {
    const offered = victim.conn.request?.protocols ?? [];
    const choice = rng.int(10);
    if (choice < 6) {
      const protocol = offered.length > 0 && rng.chance(0.7) ? rng.pick(offered) : null;
      check(
        victim.send({ type: 'accept', protocol, extensions: rng.chance(0.9) }) === null,
        'a valid accept was refused',
      );
    } else if (choice < 7) {
      check(
        victim.send({ type: 'accept', protocol: 'never-offered-' + rng.int(9) }) !== null ||
          offered.some((p) => p.startsWith('never-offered-')),
        'accept with a protocol never offered was allowed',
      );
    } else if (choice < 9) {
      const status = rng.pick([400, 401, 403, 404, 500, 503]);
      check(
        victim.send({ type: 'reject', status, body: rng.chance(0.5) ? 'no' : rng.bytes(rng.int(30)) }) === null,
        'a valid reject was refused',
      );
    } else {
      check(
        victim.send({ type: 'reject', status: rng.pick([101, 99, 600, 200.5]) }) !== null,
        'a reject with an impossible status was allowed',
      );
    }
  }
  const more = rng.int(4);
  for (let i = 0; i < more; i++) {
    if (rng.chance(0.5))
      for (const chunk of split(rng, encodeFrame(frameSpec(rng, role === 'server'), rng))) victim.data(chunk);
    else if (rng.chance(0.5)) victim.tick(victim.now + rng.pick([1, 1000, 10_000, 1e9]));
    else if (victim.conn.canSend) check(victim.send({ type: 'text', data: 'hi' }) === null, 'text refused while open');
  }
  victim.finish();
  const first = victim.events.find((e) => e.type === 'protocol-error' || e.type === 'open' || e.type === 'rejected');
  stats.add(
    `handshake.${role}.${first === undefined ? 'none' : first.type === 'protocol-error' ? first.code : first.type}`,
  );
}

// ───────────────────────────── entry ─────────────────────────────

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
