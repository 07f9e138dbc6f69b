// permessage-deflate (RFC 7692) for the fuzzer's own side: negotiation (offers, responses and
// their validation) and compression with node:zlib — never the codec under test. Sections 12 and
// 13 use it; every other case negotiates no extension.
import zlib from 'node:zlib';
import { Buffer } from 'node:buffer';

/** One permessage-deflate offer (what a client asks for). */
export interface DeflateOffer {
  serverNoContextTakeover?: boolean;
  serverMaxWindowBits?: number;
  clientNoContextTakeover?: boolean;
  /** `true`: the parameter without a value (the client supports any window size). */
  clientMaxWindowBits?: number | true;
}

/** What the fuzzing server asks of the client when accepting (Autobahn's offer-accept). */
export interface DeflateAcceptRequest {
  clientNoContextTakeover: boolean;
  /** 0: no request; else client_max_window_bits, when the client offered that parameter. */
  clientMaxWindowBits: number;
}

/** A case that negotiates permessage-deflate: the client role's offers, the server role's accept. */
export interface DeflateCaseSpec {
  offers: readonly DeflateOffer[];
  accept: DeflateAcceptRequest;
}

/** The agreed parameters. */
export interface DeflateAgreed {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
  /** The response as sent (for reports). */
  header: string;
}

type Params = Map<string, string | true>;

export function formatOffer(o: DeflateOffer): string {
  const p = ['permessage-deflate'];
  if (o.clientNoContextTakeover) p.push('client_no_context_takeover');
  if (o.clientMaxWindowBits !== undefined)
    p.push(
      o.clientMaxWindowBits === true ? 'client_max_window_bits' : `client_max_window_bits=${o.clientMaxWindowBits}`,
    );
  if (o.serverNoContextTakeover) p.push('server_no_context_takeover');
  if (o.serverMaxWindowBits !== undefined) p.push(`server_max_window_bits=${o.serverMaxWindowBits}`);
  return p.join('; ');
}

/** A Sec-WebSocket-Extensions value as [name, params] (params repeated → error). */
export function parseExtensions(value: string): { name: string; params: Params }[] | string {
  const out: { name: string; params: Params }[] = [];
  for (const ext of value.split(',')) {
    if (!ext.trim()) continue;
    const [name = '', ...rest] = ext.split(';').map((s) => s.trim());
    const params: Params = new Map();
    for (const p of rest) {
      if (!p) continue;
      const eq = p.indexOf('=');
      const key = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
      const val =
        eq < 0
          ? true
          : p
              .slice(eq + 1)
              .trim()
              .replace(/^"(.*)"$/, '$1');
      if (params.has(key)) return `parameter ${key} repeated`;
      params.set(key, val);
    }
    out.push({ name: name.toLowerCase(), params });
  }
  return out;
}

const KNOWN = new Set([
  'server_no_context_takeover',
  'client_no_context_takeover',
  'server_max_window_bits',
  'client_max_window_bits',
]);
const bits = (v: string | true | undefined): number | null =>
  typeof v === 'string' && /^\d+$/.test(v) && Number(v) >= 8 && Number(v) <= 15 ? Number(v) : null;

/**
 * Check a server's Sec-WebSocket-Extensions response against our offers (RFC 7692 §7): null for
 * no extension, the agreed parameters, or why the response is invalid.
 */
export function checkDeflateResponse(
  value: string | undefined,
  offers: readonly DeflateOffer[],
): DeflateAgreed | null | string {
  if (value === undefined) return null;
  if (offers.length === 0) return 'server accepted an extension we did not offer';
  const exts = parseExtensions(value);
  if (typeof exts === 'string') return `invalid Sec-WebSocket-Extensions: ${exts}`;
  if (exts.length !== 1 || exts[0]!.name !== 'permessage-deflate')
    return `server accepted extensions we did not offer: ${value}`;
  const params = exts[0]!.params;
  for (const [k, v] of params) {
    if (!KNOWN.has(k)) return `unknown permessage-deflate parameter ${k}`;
    if (k.endsWith('no_context_takeover') && v !== true) return `${k} must have no value`;
    if (k.endsWith('max_window_bits') && bits(v) === null)
      return `${k} must be 8..15 in a response, was ${v === true ? 'empty' : v}`;
  }
  const snct = params.has('server_no_context_takeover');
  const smwb = bits(params.get('server_max_window_bits'));
  const cmwb = bits(params.get('client_max_window_bits'));
  const why: string[] = [];
  for (const o of offers) {
    if (o.serverNoContextTakeover && !snct) why.push('server_no_context_takeover was offered but not accepted');
    else if (o.serverMaxWindowBits !== undefined && (smwb === null || smwb > o.serverMaxWindowBits))
      why.push(`server_max_window_bits=${o.serverMaxWindowBits} was offered, response has ${smwb ?? 'none'}`);
    else if (cmwb !== null && o.clientMaxWindowBits === undefined)
      why.push('client_max_window_bits in the response but not in the offer');
    else if (cmwb !== null && typeof o.clientMaxWindowBits === 'number' && cmwb > o.clientMaxWindowBits)
      why.push(`client_max_window_bits=${cmwb} exceeds the offered ${o.clientMaxWindowBits}`);
    else {
      return {
        serverNoContextTakeover: snct,
        clientNoContextTakeover: params.has('client_no_context_takeover'),
        serverMaxWindowBits: smwb ?? 15,
        clientMaxWindowBits: cmwb ?? 15,
        header: value,
      };
    }
  }
  return `the accepted parameters match no offer (${why.join('; ')})`;
}

/**
 * The fuzzing server's answer to a client's offers: the first offer it can honour, with `request`
 * added; null when the client offered nothing usable (the response then has no extension).
 */
export function acceptDeflateOffer(value: string | undefined, request: DeflateAcceptRequest): DeflateAgreed | null {
  if (value === undefined) return null;
  const exts = parseExtensions(value);
  if (typeof exts === 'string') return null;
  for (const { name, params } of exts) {
    if (name !== 'permessage-deflate') continue;
    let ok = true;
    for (const [k, v] of params) {
      if (!KNOWN.has(k)) ok = false;
      else if (k.endsWith('no_context_takeover') && v !== true) ok = false;
      else if (k === 'server_max_window_bits' && (bits(v) === null || bits(v)! < 9))
        ok = false; // zlib cannot deflate with 8
      else if (k === 'client_max_window_bits' && v !== true && bits(v) === null) ok = false;
    }
    if (!ok) continue;
    const snct = params.has('server_no_context_takeover');
    const smwb = bits(params.get('server_max_window_bits'));
    const offeredCmwb = params.get('client_max_window_bits');
    let cmwb: number | null = null;
    if (request.clientMaxWindowBits && offeredCmwb !== undefined)
      cmwb =
        offeredCmwb === true ? request.clientMaxWindowBits : Math.min(request.clientMaxWindowBits, bits(offeredCmwb)!);
    else if (typeof offeredCmwb === 'string') cmwb = bits(offeredCmwb);
    const cnct = request.clientNoContextTakeover || params.has('client_no_context_takeover');
    const p = ['permessage-deflate'];
    if (snct) p.push('server_no_context_takeover');
    if (cnct) p.push('client_no_context_takeover');
    if (smwb !== null) p.push(`server_max_window_bits=${smwb}`);
    if (cmwb !== null) p.push(`client_max_window_bits=${cmwb}`);
    return {
      serverNoContextTakeover: snct,
      clientNoContextTakeover: cnct,
      serverMaxWindowBits: smwb ?? 15,
      clientMaxWindowBits: cmwb ?? 15,
      header: p.join('; '),
    };
  }
  return null;
}

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * One direction's compressor or decompressor. Everything is synchronous (zlib's *Sync functions),
 * so a message is handled in order with the frames around it. Context takeover is kept by hand:
 * the last 2^windowBits bytes of earlier messages are exactly the peer's sliding window, so they
 * are given to zlib as a preset dictionary (raw deflate: the window's initial contents).
 */
class Side {
  #history: Buffer = Buffer.alloc(0);
  readonly deflate: boolean;
  readonly windowBits: number;
  readonly noContext: boolean;
  constructor(deflate: boolean, windowBits: number, noContext: boolean) {
    this.deflate = deflate;
    this.windowBits = windowBits;
    this.noContext = noContext;
  }
  run(data: Buffer): Buffer {
    const options: zlib.ZlibOptions = { windowBits: this.windowBits, finishFlush: zlib.constants.Z_SYNC_FLUSH };
    if (this.#history.length > 0) options.dictionary = this.#history;
    const out = this.deflate ? zlib.deflateRawSync(data, options) : zlib.inflateRawSync(data, options);
    if (!this.noContext) {
      const plain = this.deflate ? data : out;
      const keep = 1 << this.windowBits;
      this.#history = Buffer.concat([this.#history, plain]);
      if (this.#history.length > keep) this.#history = Buffer.from(this.#history.subarray(-keep));
    }
    return out;
  }
  reset(): void {
    this.#history = Buffer.alloc(0);
  }
}

/** The fuzzer's compression for one connection. */
export class DeflateCodec {
  readonly agreed: DeflateAgreed;
  readonly #out: Side;
  readonly #in: Side;

  constructor(agreed: DeflateAgreed, role: 'client' | 'server') {
    this.agreed = agreed;
    const mine =
      role === 'client'
        ? { bits: agreed.clientMaxWindowBits, nct: agreed.clientNoContextTakeover }
        : { bits: agreed.serverMaxWindowBits, nct: agreed.serverNoContextTakeover };
    const theirs =
      role === 'client'
        ? { bits: agreed.serverMaxWindowBits, nct: agreed.serverNoContextTakeover }
        : { bits: agreed.clientMaxWindowBits, nct: agreed.clientNoContextTakeover };
    this.#out = new Side(true, Math.max(9, mine.bits), mine.nct);
    // Inflating with the agreed window catches a peer that uses a larger one ("too far back"), and
    // without history one that keeps context it agreed not to keep.
    this.#in = new Side(false, Math.max(9, theirs.bits), theirs.nct);
  }

  /** A message's payload compressed, without the 00 00 ff ff tail. */
  compress(payload: Uint8Array): Buffer {
    const out = this.#out.run(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
    return out.length >= 4 && out.subarray(-4).equals(TAIL) ? out.subarray(0, -4) : out;
  }

  /** A compressed message's payload inflated (throws on invalid data). */
  decompress(data: Uint8Array): Buffer {
    return this.#in.run(Buffer.concat([data, TAIL]));
  }

  close(): void {
    this.#out.reset();
    this.#in.reset();
  }
}
