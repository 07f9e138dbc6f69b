/**
 * permessage-deflate (RFC 7692) as an {@link ExtensionFactory}: negotiation of all four
 * parameters in both roles (§7.1), and the per-message transform (§7.2) with context takeover
 * or without, a per-message on/off, and inflation in bounded pieces (decompression bombs).
 * The compressor is a {@link DeflateBackend} (given by the caller: `@ws/codec/pako` and `@ws/zlib` give one); framing, RSV checks on
 * continuation frames and the message-size limit are the connection's.
 *
 * Negotiation
 * - Client: one offer, built from the options; `client_max_window_bits` is advertised bare by
 *   default so the server may pick. The response is checked (§7.1): unknown, duplicate or
 *   malformed parameters, `client_max_window_bits` above what we offered, a missing echo of
 *   `server_no_context_takeover` or `server_max_window_bits` we asked for → the handshake fails.
 * - Server: takes the first acceptable offer; an offer with unknown, duplicate or malformed
 *   parameters is declined (§5, §7.1), as is one without `client_max_window_bits` when the
 *   `clientMaxWindowBits` option demands a limit. A requested `server_max_window_bits` is met
 *   with min(requested, ours); a bare `client_max_window_bits` is answered only if we limit it.
 * - Parameter names are matched case-insensitively; values must be 8–15 without leading zeros.
 *
 * Window bits 8: zlib (and pako, and Node) refuse a raw deflater with windowBits 8. We still
 * negotiate 8 when asked and compress with a windowBits-9 zlib deflater, whose distances never
 * exceed 2^9 − 262 = 250 bytes, so its output is valid for a 256-byte window (the same reasoning
 * as Node's zlib, which ws relies on). Inflaters accept 8 as is.
 *
 * Per message (§7.2): RSV1 on the first frame only; `compress` true/false forces compression,
 * undefined lets `threshold` decide on the first frame's size (like ws), kept for the message.
 * Every frame of a compressed message is sync-flushed (so a fragment is decodable as soon as it
 * arrives); the final frame drops the `00 00 ff ff` tail, and the receiver appends it back. An
 * empty message compresses to the single byte `00` (§7.2.3.6).
 *
 * Decompression is pulled in pieces of at most `maxDecodeChunk` bytes, each handed to the sink
 * as it appears; when the sink refuses (the connection hit its message-size limit and failed
 * with 1009) inflation stops, so a bomb never costs more than the limit plus one piece. Corrupt
 * DEFLATE data — including a message that stops inside a block — makes `decode` return a
 * description, and the connection fails with 1007: RFC 7692 §8 names no code, and 1007 ("data
 * not consistent with the type of the message", RFC 6455 §7.4.1) fits a payload that claims
 * (RSV1) to be DEFLATE data and is not; ws uses the same code.
 *
 * Memory per connection (pako backend, windowBits w, memLevel m; w = 15, m = 8 by default):
 * - sending with context takeover: one deflater, ≈ 2^(w+2) + 2^(m+9) bytes = 256 KiB;
 * - receiving with context takeover: one inflater, ≈ 2^w + 7 KiB = 39 KiB;
 * - a direction without context takeover holds nothing between messages: its (de|in)flater is
 *   taken from a small module-wide pool for one message and given back reset.
 * Measured on Node 20 with both directions taking over context: ≈ 300 KiB per connection (with
 * windows of 10 bits and memLevel 5: ≈ 38 KiB; without context takeover: ≈ 2 KiB).
 * Both are created lazily, at the first compressed message each way; `dispose()` frees them.
 * Smaller windows (`serverMaxWindowBits`/`clientMaxWindowBits`) and `memLevel` shrink them.
 */
import { WebSocketUsageError, describe } from '../errors.ts';
import type { DeflateBackend, DeflaterOptions, RawDeflater, RawInflater } from './deflate-backend.ts';
import type { Extension, ExtensionFactory, ExtensionParam, ExtensionSink } from './extension.ts';
import { foldAscii } from '../http/ascii-case.ts';

export interface PerMessageDeflateOptions {
  /**
   * Client: ask the server not to use context takeover (saves our inflater between messages).
   * Server: never use context takeover (answer `server_no_context_takeover` to every offer).
   * Offers that ask for it are always accepted. Default false.
   */
  serverNoContextTakeover?: boolean;
  /**
   * Client: promise not to use context takeover (offer `client_no_context_takeover`).
   * Server: require the client not to use it. Offers that promise it are always accepted.
   * Default false.
   */
  clientNoContextTakeover?: boolean;
  /**
   * The server's LZ77 window, 8–15. Client: a number asks the server for at most that window.
   * Server: a number caps the window we compress with. `true` (default): no limit of our own; a
   * server still honours a client's request.
   */
  serverMaxWindowBits?: number | true;
  /**
   * The client's LZ77 window, 8–15. Client: `true` (default) advertises the parameter bare (the
   * server may pick); a number offers at most that window. Server: a number requires the client
   * to use at most that window (offers that don't advertise the parameter are declined); `true`
   * accepts whatever the client uses.
   */
  clientMaxWindowBits?: number | true;
  /**
   * zlib compression level 0–9. Default 1, not zlib's 6: with a JS compressor, level 6 costs
   * 1.4–4.5× the CPU on JSON-like text for output only 15–21 % smaller (pako, Node 20, 1 KiB to
   * 1 MiB messages with context takeover).
   */
  level?: number;
  /** zlib memLevel 1–9 (hash table and symbol-buffer size). Default 8, zlib's default. */
  memLevel?: number;
  /**
   * Messages smaller than this many bytes are sent uncompressed when the command leaves
   * `compress` undefined (the first frame decides for a fragmented message). Default 1024, as
   * ws: a 1 KiB JSON message saves ≈ 750 bytes for 70–130 µs of CPU with pako; a 128-byte one
   * saves ≈ 90 bytes with context takeover and ≈ 20 without (ratio 0.84), for 25–110 µs.
   */
  threshold?: number;
  /**
   * The most decompressed bytes handed to the connection at once, 1 KiB–16 MiB. Bounds the
   * overshoot past the message-size limit, and the shared scratch buffer. Default 64 KiB.
   */
  maxDecodeChunk?: number;
  /**
   * The compressor. Required here, so that a bundle pays for no compressor it does not use:
   * `pakoBackend` from `@ws/codec/pako` (pure JS, any engine), or `@ws/zlib`'s native one. The
   * `permessageDeflate` of `@ws/codec/pako`, `@ws/zlib` and the adapters choose one by default.
   */
  backend?: DeflateBackend;
}

const NAME = 'permessage-deflate';
const RSV1 = 0x4;
const EMPTY = new Uint8Array(0);
const TAIL = Uint8Array.of(0x00, 0x00, 0xff, 0xff);
const DEFAULT_LEVEL = 1;
const DEFAULT_MEM_LEVEL = 8;
const DEFAULT_THRESHOLD = 1024;
const DEFAULT_MAX_DECODE_CHUNK = 64 * 1024;
const MAX_WINDOW_BITS = 15;

const SERVER_NO_CONTEXT_TAKEOVER = 'server_no_context_takeover';
const CLIENT_NO_CONTEXT_TAKEOVER = 'client_no_context_takeover';
const SERVER_MAX_WINDOW_BITS = 'server_max_window_bits';
const CLIENT_MAX_WINDOW_BITS = 'client_max_window_bits';

/** RFC 7692 §7.1.2.1/§7.1.2.2: a decimal integer 8–15 with no leading zeros. */
const WINDOW_BITS_VALUE = /^(?:[89]|1[0-5])$/;

/** What one offer or response says, checked for syntax. */
interface Parsed {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | null;
  /** 'bare' only in an offer. */
  clientMaxWindowBits: number | 'bare' | null;
}

/** What both sides agreed for one connection, from our side's point of view. */
interface Agreement {
  /** The window our compressor may use, and whether it restarts every message. */
  sendWindowBits: number;
  sendNoContextTakeover: boolean;
  /** The window the peer may use, and whether it restarts every message. */
  receiveWindowBits: number;
  receiveNoContextTakeover: boolean;
}

interface Settings {
  backend: DeflateBackend;
  level: number;
  memLevel: number;
  threshold: number;
  maxDecodeChunk: number;
}

function parseParams(params: readonly ExtensionParam[], response: boolean): Parsed | string {
  const parsed: Parsed = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: null,
    clientMaxWindowBits: null,
  };
  const seen = new Set<string>();
  for (const param of params) {
    const name = foldAscii(param.name);
    if (seen.has(name)) return `duplicate parameter ${name}`;
    seen.add(name);
    const value = param.value;
    switch (name) {
      case SERVER_NO_CONTEXT_TAKEOVER:
      case CLIENT_NO_CONTEXT_TAKEOVER:
        if (value !== null) return `${name} takes no value`;
        if (name === SERVER_NO_CONTEXT_TAKEOVER) parsed.serverNoContextTakeover = true;
        else parsed.clientNoContextTakeover = true;
        break;
      case SERVER_MAX_WINDOW_BITS:
        if (value === null || !WINDOW_BITS_VALUE.test(value))
          return `${name} must be 8..15, got ${value === null ? 'no value' : JSON.stringify(value)}`;
        parsed.serverMaxWindowBits = Number(value);
        break;
      case CLIENT_MAX_WINDOW_BITS:
        if (value === null) {
          // §7.1.2.2: bare in an offer; a response must give a value.
          if (response) return `${name} needs a value in a response`;
          parsed.clientMaxWindowBits = 'bare';
        } else {
          if (!WINDOW_BITS_VALUE.test(value)) return `${name} must be 8..15, got ${JSON.stringify(value)}`;
          parsed.clientMaxWindowBits = Number(value);
        }
        break;
      default:
        return `unknown parameter ${JSON.stringify(param.name)}`;
    }
  }
  return parsed;
}

function param(name: string, value: number | null = null): ExtensionParam {
  return { name, value: value === null ? null : String(value) };
}

function checkWindowBits(name: string, value: unknown): number | null {
  if (value === undefined || value === true) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 8 || value > MAX_WINDOW_BITS) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `permessageDeflate: ${name} must be an integer 8..15 or true, got ${describe(value)}`,
    );
  }
  return value;
}

function checkInteger(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `permessageDeflate: ${name} must be an integer ${min}..${max}, got ${describe(value)}`,
    );
  }
  return value;
}

function checkBoolean(name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean')
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `permessageDeflate: ${name} must be a boolean, got ${describe(value)}`,
    );
  return value;
}

/**
 * The permessage-deflate extension (RFC 7692), to put in a connection's `extensions` option on
 * either side. Throws a {@link WebSocketUsageError} for options out of range.
 */
export function permessageDeflate(options: PerMessageDeflateOptions = {}): ExtensionFactory {
  if (typeof options !== 'object' || options === null) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `permessageDeflate: options must be an object, got ${describe(options)}`,
    );
  }
  const serverNoContextTakeover = checkBoolean('serverNoContextTakeover', options.serverNoContextTakeover);
  const clientNoContextTakeover = checkBoolean('clientNoContextTakeover', options.clientNoContextTakeover);
  const serverMaxWindowBits = checkWindowBits('serverMaxWindowBits', options.serverMaxWindowBits);
  const clientMaxWindowBits = checkWindowBits('clientMaxWindowBits', options.clientMaxWindowBits);
  const backend = options.backend;
  if (backend === undefined) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      "permessageDeflate: no backend: pass { backend: pakoBackend } (import { pakoBackend } from '@ws/codec/pako'), or use the permessageDeflate of '@ws/codec/pako' (pure JS) or '@ws/zlib' (native zlib), which choose one",
    );
  }
  if (
    typeof backend !== 'object' ||
    backend === null ||
    typeof backend.createDeflater !== 'function' ||
    typeof backend.createInflater !== 'function'
  ) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `permessageDeflate: backend must be a DeflateBackend, got ${describe(backend)}`,
    );
  }
  const settings: Settings = {
    backend,
    level: checkInteger('level', options.level, DEFAULT_LEVEL, 0, 9),
    memLevel: checkInteger('memLevel', options.memLevel, DEFAULT_MEM_LEVEL, 1, 9),
    threshold: checkInteger('threshold', options.threshold, DEFAULT_THRESHOLD, 0, Number.MAX_SAFE_INTEGER),
    maxDecodeChunk: checkInteger(
      'maxDecodeChunk',
      options.maxDecodeChunk,
      DEFAULT_MAX_DECODE_CHUNK,
      1024,
      16 * 1024 * 1024,
    ),
  };

  return Object.freeze({
    name: NAME,

    offer(): ExtensionParam[][] {
      const params: ExtensionParam[] = [];
      if (serverNoContextTakeover) params.push(param(SERVER_NO_CONTEXT_TAKEOVER));
      if (clientNoContextTakeover) params.push(param(CLIENT_NO_CONTEXT_TAKEOVER));
      if (serverMaxWindowBits !== null) params.push(param(SERVER_MAX_WINDOW_BITS, serverMaxWindowBits));
      params.push(param(CLIENT_MAX_WINDOW_BITS, clientMaxWindowBits));
      return [params];
    },

    accept(params: ExtensionParam[]): Extension | string {
      const response = parseParams(params, true);
      if (typeof response === 'string') return `${NAME} response: ${response}`;
      // §7.1.1.1, §7.1.2.1: a server accepting our offer echoes what we asked of it.
      if (serverNoContextTakeover && !response.serverNoContextTakeover) {
        return `${NAME} response: ${SERVER_NO_CONTEXT_TAKEOVER} was requested but not accepted`;
      }
      if (
        serverMaxWindowBits !== null &&
        (response.serverMaxWindowBits === null || response.serverMaxWindowBits > serverMaxWindowBits)
      ) {
        return `${NAME} response: ${SERVER_MAX_WINDOW_BITS} must be at most the ${serverMaxWindowBits} requested`;
      }
      // §7.1.2.2: at most what we offered (we always offer the parameter, bare or with a value).
      const clientBits = response.clientMaxWindowBits as number | null;
      if (clientBits !== null && clientMaxWindowBits !== null && clientBits > clientMaxWindowBits) {
        return `${NAME} response: ${CLIENT_MAX_WINDOW_BITS} must be at most the ${clientMaxWindowBits} offered`;
      }
      return new PerMessageDeflate(params, settings, {
        sendWindowBits: Math.min(clientBits ?? MAX_WINDOW_BITS, clientMaxWindowBits ?? MAX_WINDOW_BITS),
        sendNoContextTakeover: response.clientNoContextTakeover || clientNoContextTakeover,
        receiveWindowBits: response.serverMaxWindowBits ?? MAX_WINDOW_BITS,
        receiveNoContextTakeover: response.serverNoContextTakeover,
      });
    },

    negotiate(offers: ExtensionParam[][]): { params: ExtensionParam[]; extension: Extension } | null {
      for (const params of offers) {
        const offer = parseParams(params, false);
        if (typeof offer === 'string') continue; // §5: decline an offer we cannot honour
        // We can only limit the client's window if it said it supports the parameter.
        if (clientMaxWindowBits !== null && offer.clientMaxWindowBits === null) continue;
        const serverBits = Math.min(
          serverMaxWindowBits ?? MAX_WINDOW_BITS,
          offer.serverMaxWindowBits ?? MAX_WINDOW_BITS,
        );
        let clientBits: number | null = null;
        if (offer.clientMaxWindowBits !== null) {
          const offered = offer.clientMaxWindowBits === 'bare' ? MAX_WINDOW_BITS : offer.clientMaxWindowBits;
          if (clientMaxWindowBits !== null) clientBits = Math.min(clientMaxWindowBits, offered);
          else if (offer.clientMaxWindowBits !== 'bare') clientBits = offered; // echo the client's own limit
        }
        const serverNoTakeover = offer.serverNoContextTakeover || serverNoContextTakeover;
        const clientNoTakeover = offer.clientNoContextTakeover || clientNoContextTakeover;
        const answer: ExtensionParam[] = [];
        if (serverNoTakeover) answer.push(param(SERVER_NO_CONTEXT_TAKEOVER));
        if (clientNoTakeover) answer.push(param(CLIENT_NO_CONTEXT_TAKEOVER));
        if (offer.serverMaxWindowBits !== null || serverBits < MAX_WINDOW_BITS)
          answer.push(param(SERVER_MAX_WINDOW_BITS, serverBits));
        if (clientBits !== null) answer.push(param(CLIENT_MAX_WINDOW_BITS, clientBits));
        const extension = new PerMessageDeflate(answer, settings, {
          sendWindowBits: serverBits,
          sendNoContextTakeover: serverNoTakeover,
          receiveWindowBits: clientBits ?? MAX_WINDOW_BITS,
          receiveNoContextTakeover: clientNoTakeover,
        });
        return { params: answer, extension };
      }
      return null;
    },
  });
}

// ───────────────────────────── pools ─────────────────────────────
// A direction without context takeover needs its compressor only while a message is being
// encoded or decoded. Between messages it waits here, reset, shared by all connections with
// the same backend and settings, so an idle connection holds no window at all.

const POOL_SIZE = 2;
const deflaterPools = new WeakMap<DeflateBackend, Map<string, RawDeflater[]>>();
const inflaterPools = new WeakMap<DeflateBackend, Map<number, RawInflater[]>>();

function poolOf<K, T>(pools: WeakMap<DeflateBackend, Map<K, T[]>>, backend: DeflateBackend, key: K): T[] {
  let byKey = pools.get(backend);
  if (byKey === undefined) pools.set(backend, (byKey = new Map()));
  let pool = byKey.get(key);
  if (pool === undefined) byKey.set(key, (pool = []));
  return pool;
}

function deflaterKey(options: DeflaterOptions): string {
  return `${options.windowBits}/${options.memLevel}/${options.level}`;
}

// ───────────────────────────── the extension ─────────────────────────────

let decodeScratch: Uint8Array = EMPTY;

/** Where decompressed pieces are written before being copied out at their exact size. */
function scratchOf(size: number): Uint8Array {
  if (decodeScratch.length < size) decodeScratch = new Uint8Array(size);
  return decodeScratch.length === size ? decodeScratch : decodeScratch.subarray(0, size);
}

/** The result of inflating one input: done, stopped by the sink, or corrupt (a description). */
const STOPPED = 1;

class PerMessageDeflate implements Extension {
  readonly name = NAME;
  readonly rsvBits = RSV1;
  readonly params: ExtensionParam[];
  readonly #settings: Settings;
  readonly #agreement: Agreement;
  readonly #deflaterOptions: DeflaterOptions;
  #deflater: RawDeflater | null = null;
  #inflater: RawInflater | null = null;
  /** The outgoing message in progress is compressed. */
  #compressing = false;
  /** Compressed bytes received so far in the incoming message. */
  #received = 0;
  #disposed = false;

  constructor(params: ExtensionParam[], settings: Settings, agreement: Agreement) {
    this.params = params;
    this.#settings = settings;
    this.#agreement = agreement;
    this.#deflaterOptions = {
      windowBits: agreement.sendWindowBits,
      memLevel: settings.memLevel,
      level: settings.level,
    };
  }

  encode(
    payload: Uint8Array,
    first: boolean,
    fin: boolean,
    compress: boolean | undefined,
  ): { payload: Uint8Array; rsv: number } {
    if (first) this.#compressing = compress ?? payload.length >= this.#settings.threshold;
    if (!this.#compressing) return { payload, rsv: 0 };
    const rsv = first ? RSV1 : 0;
    // An empty middle frame has nothing to flush; an empty last frame still needs the block header.
    if (!fin && payload.length === 0) return { payload: EMPTY, rsv };
    const deflater = this.#takeDeflater();
    const out = deflater.compress(payload);
    const n = out.length;
    if (n < 5 || out[n - 4] !== 0x00 || out[n - 3] !== 0x00 || out[n - 2] !== 0xff || out[n - 1] !== 0xff) {
      throw new Error(`${this.#settings.backend.name} deflater output does not end with a sync flush (00 00 ff ff)`);
    }
    if (!fin) return { payload: out, rsv };
    // §7.2.1: the message's data ends with the empty stored block's tail, which is not sent.
    if (this.#agreement.sendNoContextTakeover) this.#giveDeflater();
    return { payload: out.subarray(0, n - 4), rsv };
  }

  sharedKey(length: number, compress: boolean | undefined): string | null {
    if (!(compress ?? length >= this.#settings.threshold)) return '';
    // With context takeover the bytes depend on every message this connection sent before.
    if (!this.#agreement.sendNoContextTakeover) return null;
    return `deflate/${this.#settings.backend.name}/${deflaterKey(this.#deflaterOptions)}`;
  }

  encodeShared(payload: Uint8Array, compress: boolean | undefined): { payload: Uint8Array; rsv: number } {
    if (!(compress ?? payload.length >= this.#settings.threshold)) return { payload, rsv: 0 };
    if (!this.#agreement.sendNoContextTakeover)
      throw new WebSocketUsageError('INVALID_STATE', 'encodeShared() with context takeover: check sharedKey() first');
    this.#checkLive();
    // A deflater from the pool for this one message, given back reset: this connection's own
    // (a fragmented message in progress) is not touched.
    const { backend } = this.#settings;
    const pool = poolOf(deflaterPools, backend, deflaterKey(this.#deflaterOptions));
    const deflater = pool.pop() ?? backend.createDeflater(this.#deflaterOptions);
    try {
      const out = deflater.compress(payload);
      const n = out.length;
      if (n < 5 || out[n - 4] !== 0x00 || out[n - 3] !== 0x00 || out[n - 2] !== 0xff || out[n - 1] !== 0xff) {
        throw new Error(`${backend.name} deflater output does not end with a sync flush (00 00 ff ff)`);
      }
      return { payload: out.subarray(0, n - 4), rsv: RSV1 };
    } finally {
      if (pool.length < POOL_SIZE) {
        deflater.reset();
        pool.push(deflater);
      } else {
        deflater.dispose();
      }
    }
  }

  decodeStart(rsv: number): boolean {
    this.#received = 0;
    return (rsv & RSV1) !== 0;
  }

  decode(chunk: Uint8Array, fin: boolean, sink: ExtensionSink): string | null {
    this.#received += chunk.length;
    // A compressed message without a single byte is not what §7.2.1 produces (`00` is the empty
    // message), but it can only mean an empty message: accept it and leave the stream alone.
    if (fin && this.#received === 0) return null;
    const inflater = this.#takeInflater();
    if (chunk.length > 0) {
      const result = this.#inflate(inflater, chunk, sink);
      if (result !== null) return result === STOPPED ? null : result;
    }
    if (!fin) return null;
    // §7.2.2: append the tail the sender removed, then finish the message.
    const result = this.#inflate(inflater, TAIL, sink);
    if (result !== null) return result === STOPPED ? null : result;
    const keepWindow = !this.#agreement.receiveNoContextTakeover;
    const problem = inflater.endMessage(keepWindow);
    if (problem !== null) {
      this.#dropInflater();
      return problem;
    }
    if (!keepWindow) this.#giveInflater();
    return null;
  }

  dispose(): void {
    this.#disposed = true;
    this.#deflater?.dispose();
    this.#deflater = null;
    this.#dropInflater();
  }

  /** Inflate `input` in pieces to the sink: null when all of it went through. */
  #inflate(inflater: RawInflater, input: Uint8Array, sink: ExtensionSink): string | typeof STOPPED | null {
    inflater.push(input);
    const size = this.#settings.maxDecodeChunk;
    for (;;) {
      const out = scratchOf(size);
      const n = inflater.pull(out);
      if (typeof n === 'string') {
        this.#dropInflater();
        return `invalid compressed data: ${n}`;
      }
      if (n > 0 && !sink(out.slice(0, n))) {
        // The connection failed (a limit): the stream is left mid-message, so it is useless.
        this.#dropInflater();
        return STOPPED;
      }
      if (n < size) return null;
    }
  }

  #takeDeflater(): RawDeflater {
    if (this.#deflater !== null) return this.#deflater;
    this.#checkLive();
    const { backend } = this.#settings;
    const options = this.#deflaterOptions;
    const pooled = this.#agreement.sendNoContextTakeover
      ? poolOf(deflaterPools, backend, deflaterKey(options)).pop()
      : undefined;
    return (this.#deflater = pooled ?? backend.createDeflater(options));
  }

  #giveDeflater(): void {
    const deflater = this.#deflater;
    if (deflater === null) return;
    this.#deflater = null;
    const pool = poolOf(deflaterPools, this.#settings.backend, deflaterKey(this.#deflaterOptions));
    if (pool.length < POOL_SIZE) {
      deflater.reset();
      pool.push(deflater);
    } else {
      deflater.dispose();
    }
  }

  #takeInflater(): RawInflater {
    if (this.#inflater !== null) return this.#inflater;
    this.#checkLive();
    const { backend } = this.#settings;
    const bits = this.#agreement.receiveWindowBits;
    const pooled = this.#agreement.receiveNoContextTakeover ? poolOf(inflaterPools, backend, bits).pop() : undefined;
    return (this.#inflater = pooled ?? backend.createInflater(bits));
  }

  /** Between messages, already reset by `endMessage(false)`. */
  #giveInflater(): void {
    const inflater = this.#inflater;
    if (inflater === null) return;
    this.#inflater = null;
    const pool = poolOf(inflaterPools, this.#settings.backend, this.#agreement.receiveWindowBits);
    if (pool.length < POOL_SIZE) pool.push(inflater);
    else inflater.dispose();
  }

  #dropInflater(): void {
    this.#inflater?.dispose();
    this.#inflater = null;
  }

  #checkLive(): void {
    if (this.#disposed) throw new WebSocketUsageError('INVALID_STATE', `${NAME}: used after dispose()`);
  }
}
