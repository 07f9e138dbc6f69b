/**
 * Structure-aware input generators: valid upgrade requests and responses built from their
 * grammar (then bent: long token lists, many commas, long extension parameters, repeated and
 * missing fields, wrong versions), frames from their layout (every opcode, RSV bit, length
 * encoding and masking choice, close payloads of every code class, text that is and is not
 * UTF-8), and byte-level mutations of any of them. Random bytes alone rarely get past the
 * first CRLF or the first frame header; these do.
 */
import { computeAcceptKey, encodeUtf8 } from '@ws/codec';
import type { Rng } from './rng.ts';

const TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const SPECIALS = [
  '\r',
  '\n',
  '\r\n',
  ' ',
  '\t',
  ':',
  ',',
  ';',
  '=',
  '"',
  '\\',
  '\0',
  '\x7f',
  '\xff',
  '/',
  '?',
  '#',
  '%',
];

export function latin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function word(rng: Rng, alphabet = ALNUM, max = 10): string {
  let s = '';
  const n = rng.range(1, max);
  for (let i = 0; i < n; i++) s += alphabet[rng.int(alphabet.length)];
  return s;
}

/** A comma-separated list, sometimes pathological: thousands of elements, empty elements, odd whitespace. */
function list(rng: Rng, items: () => string): string {
  const mode = rng.int(40);
  if (mode === 0) return ','.repeat(rng.range(1, 3000));
  if (mode === 1) {
    // Long enough to reach the head limits, not megabytes: item generators are kept short here.
    const n = rng.range(100, 1500);
    const parts: string[] = [];
    for (let i = 0; i < n; i++) parts.push(items());
    return parts.join(rng.pick([',', ', ', ' ,', ',,']));
  }
  const n = rng.range(0, 4);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(rng.pick(['', ' ', '\t']) + items() + rng.pick(['', ' ', '\t']));
  return parts.join(',');
}

function b64Key(rng: Rng): string {
  const bytes = rng.bytes(16);
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** A `permessage-deflate` offer or answer, valid or bent. */
export function deflateParams(rng: Rng, long = true): string {
  // Names re-cased too: extension and parameter names are case-insensitive tokens (an outside
  // review found PerMessage-Deflate negotiated by one part of the server and refused by another).
  const names = [
    'server_no_context_takeover',
    'client_no_context_takeover',
    'server_max_window_bits',
    'client_max_window_bits',
    'Server_No_Context_Takeover',
    'CLIENT_MAX_WINDOW_BITS',
  ];
  const parts = [
    rng.pick([
      'permessage-deflate',
      'permessage-deflate',
      'permessage-deflate',
      'PerMessage-Deflate',
      'PERMESSAGE-DEFLATE',
    ]),
  ];
  const n = long && rng.int(20) === 0 ? rng.range(5, 400) : rng.range(0, 3);
  for (let i = 0; i < n; i++) {
    const name = rng.chance(0.9) ? rng.pick(names) : word(rng, TCHARS, 30);
    const value = rng.pick([
      null,
      null,
      '8',
      '9',
      '10',
      '15',
      '16',
      '7',
      '08',
      '"10"',
      '"1\\0"',
      '"',
      '""',
      word(rng, TCHARS, long ? 200 : 8),
    ]);
    parts.push(value === null ? name : `${name}=${value}`);
  }
  return parts.join(rng.pick(['; ', ';', ' ; ']));
}

export interface RequestShape {
  key: string;
  protocols: string[];
  text: string;
}

/** An upgrade request (RFC 6455 §4.1), mostly valid, with choices that reach every refusal. */
export function upgradeRequest(rng: Rng): RequestShape {
  const key = rng.chance(0.9) ? b64Key(rng) : rng.pick(['', 'short', b64Key(rng) + 'A', '!!!!!!!!!!!!!!!!!!!!!!==']);
  const method = rng.chance(0.95) ? 'GET' : rng.pick(['POST', 'get', 'HEAD', 'G ET', '']);
  const target = rng.pick([
    '/',
    '/chat?room=1',
    '/a/b/../c',
    'http://example.test/x',
    'ws://h:1/',
    'ws://Example.TEST/x',
    'ws://other.test/',
    'http://e<v>"il{}|\\^`/',
    '*',
    'example.test:80',
    '/%zz',
    rng.chance(0.2) ? '/' + 'p'.repeat(rng.int(2000)) : '/q',
  ]);
  const version = rng.chance(0.93)
    ? 'HTTP/1.1'
    : rng.pick(['HTTP/1.0', 'HTTP/2.0', 'HTTP/1.10', 'http/1.1', 'HTTP/1', '']);
  const protocols = rng.chance(0.5) ? [] : Array.from({ length: rng.range(1, 4) }, () => word(rng, TCHARS, 8));
  const fields: Array<[string, string]> = [];
  const add = (name: string, value: string): void => {
    const cased = rng.chance(0.2) ? (rng.chance(0.5) ? name.toLowerCase() : name.toUpperCase()) : name;
    fields.push([cased, value]);
  };
  if (rng.chance(0.95))
    add(
      'Host',
      rng.pick([
        'example.test',
        'example.test:8080',
        '[::1]:80',
        '127.0.0.1',
        '',
        'a b',
        rng.chance(0.2) ? 'h'.repeat(rng.int(3000)) : 'h',
      ]),
    );
  if (rng.chance(0.95))
    add(
      'Upgrade',
      rng.chance(0.8)
        ? rng.pick(['websocket', 'WebSocket', 'h2c, websocket', 'websocket/13', 'WEBSOCKET, foo'])
        : list(rng, () => word(rng, TCHARS)),
    );
  if (rng.chance(0.95))
    add(
      'Connection',
      rng.chance(0.8)
        ? rng.pick(['Upgrade', 'keep-alive, Upgrade', 'upgrade', 'UPGRADE'])
        : list(rng, () => rng.pick(['Upgrade', 'keep-alive', word(rng)])),
    );
  if (rng.chance(0.95)) add('Sec-WebSocket-Key', key);
  if (rng.chance(0.95))
    add('Sec-WebSocket-Version', rng.chance(0.9) ? '13' : rng.pick(['8', '13, 8', '', '14', '013']));
  if (protocols.length > 0)
    add('Sec-WebSocket-Protocol', rng.chance(0.8) ? protocols.join(', ') : list(rng, () => word(rng, TCHARS)));
  if (rng.chance(0.4))
    add('Sec-WebSocket-Extensions', rng.chance(0.7) ? deflateParams(rng) : list(rng, () => deflateParams(rng, false)));
  if (rng.chance(0.3))
    add('Origin', rng.pick(['http://example.test', 'https://example.test:443', 'null', 'http://evil.test']));
  if (rng.chance(0.05)) add('Content-Length', rng.pick(['0', '5', 'x']));
  if (rng.chance(0.05)) add('Transfer-Encoding', 'chunked');
  const extra = rng.chance(0.02) ? rng.range(90, 130) : rng.int(3);
  for (let i = 0; i < extra; i++) add(`X-${word(rng, TCHARS, 12)}`, word(rng, TCHARS, 40));
  // Shuffle a little, and sometimes repeat a field.
  if (rng.chance(0.2) && fields.length > 1) fields.push(fields[rng.int(fields.length)]!);
  if (rng.chance(0.3) && fields.length > 1) {
    const i = rng.int(fields.length);
    const j = rng.int(fields.length);
    [fields[i], fields[j]] = [fields[j]!, fields[i]!];
  }
  let text = rng.chance(0.05) ? '\r\n' : '';
  text += `${method} ${target} ${version}\r\n`;
  for (const [name, value] of fields)
    text += `${name}:${rng.pick([' ', '', '  ', '\t'])}${value}${rng.chance(0.05) ? ' ' : ''}\r\n`;
  text += '\r\n';
  return { key, protocols, text };
}

/** A server's answer to a request with `key`, offering `protocols` (RFC 6455 §4.2.2), mostly valid. */
export function upgradeResponse(rng: Rng, key: string, protocols: readonly string[], deflateOffered: boolean): string {
  const status = rng.chance(0.85) ? 101 : rng.pick([200, 400, 401, 403, 426, 500, 301, 999, 100]);
  const version = rng.chance(0.93) ? 'HTTP/1.1' : rng.pick(['HTTP/1.0', 'HTTP/2', 'HTTP/1.2', 'HTTP/1.1 ']);
  let text = `${version} ${status}${rng.chance(0.9) ? ' ' + rng.pick(['Switching Protocols', 'OK', '', 'x'.repeat(rng.int(500))]) : ''}\r\n`;
  const add = (name: string, value: string): void => {
    text += `${rng.chance(0.2) ? name.toLowerCase() : name}: ${value}\r\n`;
  };
  // Upgrade must be exactly websocket, any case (an outside review found `h2c, websocket` accepted).
  if (rng.chance(0.95))
    add(
      'Upgrade',
      rng.chance(0.9)
        ? rng.pick(['websocket', 'websocket', 'websocket', 'WebSocket', 'h2c, websocket', 'websocket, websocket'])
        : list(rng, () => word(rng, TCHARS)),
    );
  if (rng.chance(0.95))
    add(
      'Connection',
      rng.chance(0.9)
        ? rng.pick(['Upgrade', 'Upgrade', 'keep-alive, UPGRADE'])
        : list(rng, () => rng.pick(['Upgrade', word(rng)])),
    );
  if (rng.chance(0.95))
    add(
      'Sec-WebSocket-Accept',
      rng.chance(0.9)
        ? computeAcceptKey(key)
        : rng.pick(['', 'x', computeAcceptKey(key) + ' ', computeAcceptKey('AAAAAAAAAAAAAAAAAAAAAA==')]),
    );
  if (rng.chance(0.3))
    add(
      'Sec-WebSocket-Protocol',
      protocols.length > 0 && rng.chance(0.7) ? rng.pick([...protocols, '']) : list(rng, () => word(rng, TCHARS)),
    );
  if (rng.chance(deflateOffered ? 0.6 : 0.1))
    add('Sec-WebSocket-Extensions', rng.chance(0.8) ? deflateParams(rng) : list(rng, () => deflateParams(rng, false)));
  const body = status === 101 ? '' : 'x'.repeat(rng.chance(0.02) ? rng.range(60_000, 70_000) : rng.int(50));
  if (status !== 101 && rng.chance(0.7))
    add('Content-Length', rng.chance(0.9) ? String(body.length) : rng.pick(['0', '99999', '-1', 'abc']));
  const extra = rng.chance(0.01) ? rng.range(90, 130) : rng.int(2);
  for (let i = 0; i < extra; i++) add(`X-${word(rng, TCHARS, 12)}`, word(rng, TCHARS, 40));
  return text + '\r\n' + body;
}

// ───────────────────────────── frames ─────────────────────────────

export interface FrameSpec {
  fin: boolean;
  rsv: number;
  opcode: number;
  payload: Uint8Array;
  masked: boolean;
  /** Use a longer length encoding than needed (the parser must accept it). */
  wideLength?: 0 | 126 | 127;
  /** Declare this length instead of the payload's (truncation, lies, 2^63). */
  lieLength?: number;
}

export function encodeFrame(spec: FrameSpec, rng: Rng): Uint8Array {
  const n = spec.lieLength ?? spec.payload.length;
  let len7: number;
  let ext: Uint8Array;
  const wide = spec.wideLength ?? 0;
  if (wide === 0 && n < 126) {
    len7 = n;
    ext = new Uint8Array(0);
  } else if (n < 65536 && wide !== 127) {
    len7 = 126;
    ext = Uint8Array.of((n >>> 8) & 0xff, n & 0xff);
  } else {
    len7 = 127;
    ext = new Uint8Array(8);
    const high = Math.floor(n / 0x1_0000_0000);
    const low = n >>> 0;
    ext[0] = high >>> 24;
    ext[1] = high >>> 16;
    ext[2] = high >>> 8;
    ext[3] = high;
    ext[4] = low >>> 24;
    ext[5] = low >>> 16;
    ext[6] = low >>> 8;
    ext[7] = low;
  }
  const b0 = (spec.fin ? 0x80 : 0) | ((spec.rsv & 7) << 4) | (spec.opcode & 0xf);
  const b1 = (spec.masked ? 0x80 : 0) | len7;
  const key = spec.masked ? rng.bytes(4) : new Uint8Array(0);
  const payload = spec.payload.slice();
  if (spec.masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i & 3]!;
  return concatBytes([Uint8Array.of(b0, b1), ext, key, payload]);
}

/** Text that is valid UTF-8, or bytes that are almost. */
export function textPayload(rng: Rng, n: number): Uint8Array {
  switch (rng.int(5)) {
    case 0:
      return encodeUtf8('κόσμε 😀 '.repeat(Math.ceil(n / 16)).slice(0, n));
    case 1: {
      // Valid text cut at a random byte: often inside a code point.
      const full = encodeUtf8('€𝄞ü'.repeat(Math.ceil(n / 6) + 1));
      return full.subarray(0, n);
    }
    case 2: {
      const bytes = latin1('a'.repeat(n));
      if (n > 0) bytes[rng.int(n)] = rng.pick([0x80, 0xc0, 0xc1, 0xed, 0xf4, 0xf5, 0xff, 0xe0]);
      return bytes;
    }
    default:
      return latin1(word(rng, ALNUM + ' {}":,', Math.max(1, n)).slice(0, n));
  }
}

/** A close payload: none, a bare byte, or a code (valid, reserved, out of range) and a reason. */
export function closePayload(rng: Rng): Uint8Array {
  if (rng.chance(0.15)) return new Uint8Array(0);
  if (rng.chance(0.05)) return Uint8Array.of(rng.int(256));
  const code = rng.pick([
    1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1014, 1015, 1016, 2999, 3000, 3999,
    4999, 5000, 0, 999, 65535,
  ]);
  const reason = rng.chance(0.5)
    ? new Uint8Array(0)
    : rng.chance(0.8)
      ? textPayload(rng, rng.int(124))
      : rng.bytes(rng.int(124));
  return concatBytes([Uint8Array.of(code >> 8, code & 0xff), reason]);
}

/**
 * One frame, weighted towards what a parser must get right: data, continuation and control
 * opcodes with fitting payloads, sometimes reserved opcodes, RSV bits, wrong masking, long
 * control frames and lying lengths.
 */
export function frameSpec(rng: Rng, masked: boolean): FrameSpec {
  const opcode = rng.chance(0.93)
    ? rng.pick([0x0, 0x1, 0x2, 0x8, 0x9, 0xa, 0x1, 0x2, 0x0])
    : rng.pick([0x3, 0x4, 0x7, 0xb, 0xf]);
  const control = opcode >= 0x8;
  const n = control ? (rng.chance(0.95) ? rng.int(126) : rng.range(126, 200)) : rng.size();
  const payload =
    opcode === 0x8
      ? closePayload(rng)
      : opcode === 0x1 || (opcode === 0 && rng.chance(0.5))
        ? textPayload(rng, n)
        : rng.bytes(n);
  const spec: FrameSpec = {
    fin: control ? rng.chance(0.97) : rng.chance(0.6),
    rsv: rng.chance(0.9) ? 0 : rng.int(8),
    opcode,
    payload,
    masked: rng.chance(0.97) ? masked : !masked,
  };
  if (rng.chance(0.05)) spec.wideLength = rng.pick([126, 127] as const);
  if (rng.chance(0.03))
    spec.lieLength = rng.pick([
      0,
      1,
      payload.length + 1,
      payload.length + 1000,
      0x7fff_ffff,
      2 ** 53 - 1,
      2 ** 53,
      2 ** 63,
      2 ** 64 - 1,
    ]);
  return spec;
}

/**
 * A run of frames meant to stress message assembly: a fragmented message with control frames
 * in between, a flood of empty continuations, or a message spread over tiny fragments.
 */
export function frameRun(rng: Rng, masked: boolean): FrameSpec[] {
  const mode = rng.int(4);
  const out: FrameSpec[] = [];
  const kind = rng.pick([0x1, 0x2]);
  if (mode === 0) {
    // Empty continuation flood.
    out.push({ fin: false, rsv: 0, opcode: kind, payload: new Uint8Array(0), masked });
    const n = rng.range(1, 300);
    for (let i = 0; i < n; i++) out.push({ fin: false, rsv: 0, opcode: 0, payload: new Uint8Array(0), masked });
    if (rng.chance(0.8)) out.push({ fin: true, rsv: 0, opcode: 0, payload: new Uint8Array(0), masked });
    return out;
  }
  if (mode === 1) {
    // Tiny fragments of one message (text split across code points).
    const whole = kind === 1 ? textPayload(rng, rng.range(0, 200)) : rng.bytes(rng.range(0, 200));
    let at = 0;
    let first = true;
    while (at < whole.length || first) {
      const take = Math.min(whole.length - at, rng.range(0, 3));
      const fin = at + take >= whole.length && rng.chance(0.9);
      out.push({ fin, rsv: 0, opcode: first ? kind : 0, payload: whole.subarray(at, at + take), masked });
      if (rng.chance(0.1))
        out.push({ fin: true, rsv: 0, opcode: rng.pick([0x9, 0xa]), payload: rng.bytes(rng.int(10)), masked });
      at += take;
      first = false;
      if (fin) break;
    }
    return out;
  }
  const n = rng.range(1, 6);
  for (let i = 0; i < n; i++) out.push(frameSpec(rng, masked));
  return out;
}

// ───────────────────────────── mutations ─────────────────────────────

const INTERESTING = [
  0x00, 0x01, 0x7e, 0x7f, 0x80, 0x81, 0x88, 0x89, 0x8a, 0xff, 0x0d, 0x0a, 0x20, 0x3a, 0x2c, 0x3b, 0x22, 0x5c,
];

/** Apply 1..k byte-level mutations: flips, interesting bytes, inserts, deletes, duplications, truncation. */
export function mutate(rng: Rng, input: Uint8Array, k = 3): Uint8Array {
  let bytes = input;
  const rounds = rng.range(1, k);
  for (let r = 0; r < rounds; r++) {
    const n = bytes.length;
    switch (rng.int(9)) {
      case 0:
        if (n > 0) {
          bytes = bytes.slice();
          bytes[rng.int(n)]! ^= 1 << rng.int(8);
        }
        break;
      case 1:
        if (n > 0) {
          bytes = bytes.slice();
          bytes[rng.int(n)] = rng.pick(INTERESTING);
        }
        break;
      case 2: {
        const at = rng.int(n + 1);
        const insert = rng.chance(0.5) ? latin1(rng.pick(SPECIALS)) : rng.bytes(rng.range(1, 8));
        bytes = concatBytes([bytes.subarray(0, at), insert, bytes.subarray(at)]);
        break;
      }
      case 3: {
        if (n === 0) break;
        const at = rng.int(n);
        const len = rng.range(1, Math.min(16, n - at));
        bytes = concatBytes([bytes.subarray(0, at), bytes.subarray(at + len)]);
        break;
      }
      case 4: {
        if (n === 0) break;
        const at = rng.int(n);
        const len = rng.range(1, Math.min(64, n - at));
        const times = rng.chance(0.1) ? rng.range(10, 200) : rng.range(1, 3);
        const copies = Array.from({ length: times }, () => bytes.subarray(at, at + len));
        bytes = concatBytes([bytes.subarray(0, at + len), ...copies, bytes.subarray(at + len)]);
        break;
      }
      case 5:
        bytes = bytes.subarray(0, rng.int(n + 1));
        break;
      case 6:
        if (n > 1) {
          bytes = bytes.slice();
          const i = rng.int(n);
          const j = rng.int(n);
          const t = bytes[i]!;
          bytes[i] = bytes[j]!;
          bytes[j] = t;
        }
        break;
      case 7:
        if (n > 0) {
          bytes = bytes.slice();
          const at = rng.int(n);
          const v = rng.pick([0, 0xff, 0x7f, 0x80]);
          for (let i = at; i < Math.min(n, at + rng.range(1, 9)); i++) bytes[i] = v;
        }
        break;
      default:
        bytes = concatBytes([bytes, rng.bytes(rng.range(1, 32))]);
    }
  }
  return bytes;
}

/** Cut `bytes` into chunks: whole, one byte at a time, or at random points. Chunks are copies. */
export function split(rng: Rng, bytes: Uint8Array): Uint8Array[] {
  const mode = rng.int(12);
  if (bytes.length === 0) return [];
  if (mode <= 3) return [bytes.slice()];
  if (mode === 4 && bytes.length <= 2048) {
    const out: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i++) out.push(bytes.slice(i, i + 1));
    return out;
  }
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    const take = rng.chance(0.3) ? rng.range(1, 3) : rng.range(1, Math.max(1, bytes.length >> 1));
    out.push(bytes.slice(at, at + take));
    at += take;
  }
  return out;
}
