import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  permessageDeflate as corePermessageDeflate,
  type PerMessageDeflateOptions,
} from '../src/extensions/permessage-deflate.ts';
// The pako-by-default factory of `@ws/codec/pako`: what these tests exercise unless they say otherwise.
import { pakoBackend, permessageDeflate } from '../src/pako.ts';
import type { DeflateBackend } from '../src/extensions/deflate-backend.ts';
import type { Extension, ExtensionParam } from '../src/extensions/extension.ts';
import { Connection } from '../src/connection.ts';
import { clientConnection } from '../src/client.ts';
import { serverConnection } from '../src/server.ts';
import type { Event } from '../src/events.ts';
import { WebSocketUsageError } from '../src/errors.ts';
import { ConnectionPair, hex, seededRandom, toHex } from '../src/testing/index.ts';
import { encodeUtf8 } from '../src/utf8.ts';
import { ascii, clientFrame, serverFrame } from './helpers/frames.ts';
import { auditDeflate, deflateBomb, fixedBlockWithDistance } from './helpers/deflate.ts';
import { concat as concatBytes } from '../../../test/shared/bytes.ts';

// ───────────────────────────── helpers ─────────────────────────────

const TAIL = hex('00 00 ff ff');
const RSV1 = 0x4;

/** `"a; b=1"` → params. */
function params(text: string): ExtensionParam[] {
  if (text.trim() === '') return [];
  return text.split(';').map((part) => {
    const s = part.trim();
    const i = s.indexOf('=');
    return i < 0 ? { name: s, value: null } : { name: s.slice(0, i), value: s.slice(i + 1) };
  });
}

/** pako behind a backend that counts the deflaters and inflaters it makes. */
function countingBackend(): {
  backend: DeflateBackend;
  made: { deflaters: number; inflaters: number; disposed: number };
} {
  const made = { deflaters: 0, inflaters: 0, disposed: 0 };
  const counted = <T extends { dispose(): void }>(codec: T): T => {
    const dispose = codec.dispose.bind(codec);
    codec.dispose = () => {
      made.disposed++;
      dispose();
    };
    return codec;
  };
  const backend: DeflateBackend = {
    name: 'counting',
    createDeflater: (options) => (made.deflaters++, counted(pakoBackend.createDeflater(options))),
    createInflater: (bits) => (made.inflaters++, counted(pakoBackend.createInflater(bits))),
  };
  return { backend, made };
}

/** params → `"a; b=1"`. */
function show(list: readonly ExtensionParam[]): string {
  return list.map((p) => (p.value === null ? p.name : `${p.name}=${p.value}`)).join('; ');
}

/** Byte equality without vitest's slow deep-equal walk over large arrays. */
function expectBytes(actual: Uint8Array | null | undefined, expected: Uint8Array): void {
  expect(actual).toBeInstanceOf(Uint8Array);
  expect(actual!.length).toBe(expected.length);
  let i = 0;
  while (i < expected.length && actual![i] === expected[i]) i++;
  expect(i, 'first differing byte').toBe(expected.length);
}

/** The data of events that must be exactly one message of the given kind. */
function messageData(events: readonly Event[], type: 'binary'): Uint8Array {
  expect(events.map((e) => e.type)).toEqual([type]);
  return (events[0] as Extract<Event, { type: 'binary' }>).data;
}

interface Negotiated {
  client: Extension;
  server: Extension;
  response: string;
}

/** Client offers, server negotiates, client accepts: both ends of one connection. */
function negotiate(
  clientOptions: PerMessageDeflateOptions = {},
  serverOptions: PerMessageDeflateOptions = {},
): Negotiated | null {
  const offers = permessageDeflate(clientOptions).offer();
  const chosen = permessageDeflate(serverOptions).negotiate(offers);
  if (chosen === null) return null;
  const client = permessageDeflate(clientOptions).accept(chosen.params);
  if (typeof client === 'string') throw new Error(client);
  return { client, server: chosen.extension, response: show(chosen.params) };
}

function pair(clientOptions: PerMessageDeflateOptions = {}, serverOptions: PerMessageDeflateOptions = {}): Negotiated {
  const n = negotiate(clientOptions, serverOptions);
  if (n === null) throw new Error('declined');
  return n;
}

interface Frame {
  payload: Uint8Array;
  rsv: number;
}

/** Encode one message cut into frames at `cuts` (sorted offsets inside the data). */
function encodeMessage(ext: Extension, data: Uint8Array, cuts: readonly number[] = [], compress?: boolean): Frame[] {
  const bounds = [0, ...cuts, data.length];
  const frames: Frame[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    frames.push(ext.encode(data.slice(bounds[i], bounds[i + 1]), i === 0, i + 2 === bounds.length, compress));
  }
  return frames;
}

type Decoded =
  | { data: Uint8Array; error: null; pieces: Uint8Array[] }
  | { data: null; error: string; pieces: Uint8Array[] };

/** Decode one message as the connection does: frame payloads in chunks of `chunk` bytes. */
function decodeMessage(
  ext: Extension,
  frames: readonly Frame[],
  chunk = Infinity,
  sink?: (piece: Uint8Array) => boolean,
): Decoded {
  const pieces: Uint8Array[] = [];
  const take = sink ?? ((piece: Uint8Array) => (pieces.push(piece), true));
  if (!ext.decodeStart(frames[0]!.rsv)) return { data: concatBytes(frames.map((f) => f.payload)), error: null, pieces };
  for (let f = 0; f < frames.length; f++) {
    const payload = frames[f]!.payload;
    const lastFrame = f === frames.length - 1;
    if (payload.length === 0) {
      if (lastFrame) {
        const error = ext.decode(payload, true, take);
        if (error !== null) return { data: null, error, pieces };
      }
      continue;
    }
    for (let at = 0; at < payload.length; at += chunk) {
      const end = Math.min(payload.length, at + chunk);
      const error = ext.decode(payload.subarray(at, end), lastFrame && end === payload.length, take);
      if (error !== null) return { data: null, error, pieces };
    }
  }
  return { data: concatBytes(pieces), error: null, pieces };
}

function roundTrip(
  from: Extension,
  to: Extension,
  data: Uint8Array,
  cuts: readonly number[] = [],
  compress?: boolean,
): Frame[] {
  const frames = encodeMessage(from, data, cuts, compress);
  const decoded = decodeMessage(to, frames);
  expect(decoded.error).toBeNull();
  expectBytes(decoded.data, data);
  return frames;
}

/** JSON-like text: compressible, with repeats near and far. */
function jsonLike(size: number, seed = 1): Uint8Array {
  let s = seed;
  const rnd = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const words = ['alpha', 'beta', 'gamma', 'delta', 'user', 'price', 'status', 'ok', 'error', 'value'];
  let text = '';
  while (text.length < size) {
    text += `{"id":${Math.floor(rnd() * 1e6)},"type":"${words[Math.floor(rnd() * words.length)]}","n":${(rnd() * 100).toFixed(2)}},`;
  }
  return ascii(text.slice(0, size));
}

function randomBytes(size: number, seed = 7): Uint8Array {
  const out = new Uint8Array(size);
  seededRandom(seed)(out);
  return out;
}

const HELLO = ascii('Hello');

// ───────────────────────────── factory options ─────────────────────────────

describe('permessageDeflate options', () => {
  it('rejects options out of range with a usage error', () => {
    const bad: unknown[] = [
      null,
      'x',
      { serverMaxWindowBits: 7 },
      { serverMaxWindowBits: 16 },
      { clientMaxWindowBits: 9.5 },
      { clientMaxWindowBits: false },
      { serverNoContextTakeover: 1 },
      { clientNoContextTakeover: 'yes' },
      { level: 10 },
      { level: -1 },
      { memLevel: 0 },
      { memLevel: 10 },
      { threshold: -1 },
      { maxDecodeChunk: 10 },
      { backend: {} },
      { backend: null },
      { backend: 'pako' },
    ];
    for (const options of bad) {
      expect(() => permessageDeflate(options as PerMessageDeflateOptions), JSON.stringify(options)).toThrow(
        WebSocketUsageError,
      );
    }
  });

  it('accepts every option in range', () => {
    const factory = permessageDeflate({
      serverNoContextTakeover: true,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 8,
      clientMaxWindowBits: true,
      level: 0,
      memLevel: 1,
      threshold: 0,
      maxDecodeChunk: 1024,
      backend: pakoBackend,
    });
    expect(factory.name).toBe('permessage-deflate');
  });

  it("the core's factory needs a backend, and its error names the entry points that give one", () => {
    const error = (() => {
      try {
        corePermessageDeflate({ level: 1 });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(WebSocketUsageError);
    expect((error as WebSocketUsageError).code).toBe('INVALID_ARGUMENT');
    expect((error as Error).message).toContain("'@ws/codec/pako'");
    expect((error as Error).message).toContain("'@ws/zlib'");
    // With a backend it is the same factory as @ws/codec/pako's default.
    expect(corePermessageDeflate({ backend: pakoBackend }).offer()).toEqual(permessageDeflate().offer());
  });

  it('the backend refuses options out of range', () => {
    expect(() => pakoBackend.createDeflater({ windowBits: 16, memLevel: 8, level: 1 })).toThrow(RangeError);
    expect(() => pakoBackend.createDeflater({ windowBits: 15, memLevel: 0, level: 1 })).toThrow(RangeError);
    expect(() => pakoBackend.createDeflater({ windowBits: 15, memLevel: 8, level: 1.5 })).toThrow(RangeError);
    expect(() => pakoBackend.createInflater(7)).toThrow(RangeError);
  });
});

// ───────────────────────────── negotiation ─────────────────────────────

describe('client offer', () => {
  it('advertises client_max_window_bits bare by default', () => {
    expect(permessageDeflate().offer().map(show)).toEqual(['client_max_window_bits']);
  });

  it('puts every option in the offer', () => {
    const offer = permessageDeflate({
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: 11,
    }).offer();
    expect(offer.map(show)).toEqual([
      'server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11',
    ]);
  });
});

const BITS = [8, 9, 10, 11, 12, 13, 14, 15];

describe('negotiation matrix (client options × server options)', () => {
  /** What RFC 7692 §7.1 and our documented policy say the server answers. */
  function expectedResponse(c: PerMessageDeflateOptions, s: PerMessageDeflateOptions): string {
    const out: string[] = [];
    if (c.serverNoContextTakeover || s.serverNoContextTakeover) out.push('server_no_context_takeover');
    if (c.clientNoContextTakeover || s.clientNoContextTakeover) out.push('client_no_context_takeover');
    const cs = typeof c.serverMaxWindowBits === 'number' ? c.serverMaxWindowBits : null;
    const ss = typeof s.serverMaxWindowBits === 'number' ? s.serverMaxWindowBits : null;
    const serverBits = Math.min(cs ?? 15, ss ?? 15);
    if (cs !== null || serverBits < 15) out.push(`server_max_window_bits=${serverBits}`);
    const cc = typeof c.clientMaxWindowBits === 'number' ? c.clientMaxWindowBits : null;
    const sc = typeof s.clientMaxWindowBits === 'number' ? s.clientMaxWindowBits : null;
    if (sc !== null) out.push(`client_max_window_bits=${Math.min(sc, cc ?? 15)}`);
    else if (cc !== null) out.push(`client_max_window_bits=${cc}`);
    return out.join('; ');
  }

  const flags = [false, true];
  const windows: Array<number | true> = [true, 8, 12, 15];
  const cases: Array<[PerMessageDeflateOptions, PerMessageDeflateOptions]> = [];
  for (const csnct of flags)
    for (const ccnct of flags)
      for (const ssnct of flags)
        for (const scnct of flags)
          for (const csmwb of windows)
            for (const ccmwb of windows)
              for (const ssmwb of windows)
                for (const scmwb of windows)
                  cases.push([
                    {
                      serverNoContextTakeover: csnct,
                      clientNoContextTakeover: ccnct,
                      serverMaxWindowBits: csmwb,
                      clientMaxWindowBits: ccmwb,
                    },
                    {
                      serverNoContextTakeover: ssnct,
                      clientNoContextTakeover: scnct,
                      serverMaxWindowBits: ssmwb,
                      clientMaxWindowBits: scmwb,
                    },
                  ]);

  it(`agrees on the expected parameters in all ${cases.length} combinations, and the client accepts`, () => {
    const wrong: string[] = [];
    for (const [c, s] of cases) {
      const n = negotiate(c, s);
      const want = expectedResponse(c, s);
      if (n === null || n.response !== want || show(n.client.params) !== want || show(n.server.params) !== want) {
        wrong.push(`${JSON.stringify([c, s])}: ${n?.response ?? 'declined'}, expected ${want}`);
      }
      n?.client.dispose();
      n?.server.dispose();
    }
    expect(wrong).toEqual([]);
  });

  it('every window size 8–15 each way, requested by either side, round-trips within its window', () => {
    const data = jsonLike(8_000, 3); // repeats well beyond 256 bytes back
    for (const bits of BITS) {
      for (const [c, s, serverBits, clientBits] of [
        [{ serverMaxWindowBits: bits }, {}, bits, 15],
        [{}, { serverMaxWindowBits: bits }, bits, 15],
        [{ clientMaxWindowBits: bits }, {}, 15, bits],
        [{}, { clientMaxWindowBits: bits }, 15, bits],
        [{ clientMaxWindowBits: bits, serverMaxWindowBits: bits }, { clientNoContextTakeover: true }, bits, bits],
      ] as Array<[PerMessageDeflateOptions, PerMessageDeflateOptions, number, number]>) {
        const n = pair(c, s);
        for (const [from, to, limit] of [
          [n.server, n.client, serverBits],
          [n.client, n.server, clientBits],
        ] as const) {
          const frames = [...roundTrip(from, to, data), ...roundTrip(from, to, data)];
          const stream = concatBytes(frames.flatMap((f, i) => (i === 0 || i === 1 ? [f.payload, TAIL] : [])));
          const audit = auditDeflate(stream);
          expect(audit.maxDistance, `window ${limit}`).toBeLessThanOrEqual(2 ** limit);
          expect(audit.maxDistance).toBeGreaterThan(0);
        }
      }
    }
  });
});

describe('server negotiation', () => {
  const server = (options: PerMessageDeflateOptions, ...offers: string[]) => {
    const chosen = permessageDeflate(options).negotiate(offers.map(params));
    return chosen === null ? null : show(chosen.params);
  };

  it('answers a bare offer with no parameters', () => {
    expect(server({}, '')).toBe('');
  });

  it('honours each parameter of an offer', () => {
    expect(server({}, 'server_no_context_takeover')).toBe('server_no_context_takeover');
    expect(server({}, 'client_no_context_takeover')).toBe('client_no_context_takeover');
    expect(server({}, 'server_max_window_bits=10')).toBe('server_max_window_bits=10');
    expect(server({}, 'client_max_window_bits')).toBe('');
    expect(server({}, 'client_max_window_bits=9')).toBe('client_max_window_bits=9');
    expect(server({ serverMaxWindowBits: 9 }, 'server_max_window_bits=12')).toBe('server_max_window_bits=9');
    expect(server({ serverMaxWindowBits: 12 }, 'server_max_window_bits=9')).toBe('server_max_window_bits=9');
    expect(server({ serverMaxWindowBits: 11 }, '')).toBe('server_max_window_bits=11');
    expect(server({ serverMaxWindowBits: 15 }, '')).toBe('');
    expect(server({ clientMaxWindowBits: 10 }, 'client_max_window_bits')).toBe('client_max_window_bits=10');
    expect(server({ clientMaxWindowBits: 10 }, 'client_max_window_bits=12')).toBe('client_max_window_bits=10');
    expect(server({ clientMaxWindowBits: 12 }, 'client_max_window_bits=10')).toBe('client_max_window_bits=10');
  });

  it('matches parameter names case-insensitively and accepts quoted values (already unquoted by the header parser)', () => {
    expect(server({}, 'Server_Max_Window_Bits=10; CLIENT_NO_CONTEXT_TAKEOVER')).toBe(
      'client_no_context_takeover; server_max_window_bits=10',
    );
  });

  it('declines offers it cannot honour (RFC 7692 §5, §7.1)', () => {
    const bad = [
      'foo',
      'foo=1',
      'server_no_context_takeover; server_no_context_takeover',
      'client_max_window_bits; client_max_window_bits=10',
      'server_max_window_bits=10; Server_Max_Window_Bits=10',
      'server_no_context_takeover=1',
      'client_no_context_takeover=',
      'server_max_window_bits',
      'server_max_window_bits=7',
      'server_max_window_bits=16',
      'server_max_window_bits=08',
      'server_max_window_bits=010',
      'server_max_window_bits=1e1',
      'server_max_window_bits= 10',
      'client_max_window_bits=0',
      'client_max_window_bits=abc',
      'client_max_window_bits=',
    ];
    for (const offer of bad) expect(server({}, offer), offer).toBeNull();
  });

  it('declines an offer without client_max_window_bits when it must limit the client window', () => {
    expect(server({ clientMaxWindowBits: 10 }, '')).toBeNull();
    expect(server({ clientMaxWindowBits: 10 }, 'server_no_context_takeover')).toBeNull();
  });

  it('takes the first acceptable of several offers', () => {
    expect(
      server({}, 'foo', 'server_max_window_bits=20', 'server_max_window_bits=10', 'client_no_context_takeover'),
    ).toBe('server_max_window_bits=10');
    expect(server({ clientMaxWindowBits: 9 }, 'server_max_window_bits=10', 'client_max_window_bits', '')).toBe(
      'client_max_window_bits=9',
    );
    expect(server({}, 'x', 'y=1', 'server_max_window_bits=99')).toBeNull();
    expect(server({})).toBeNull();
  });

  it('negotiates through a real header with several offers', () => {
    // A hand-written request: the first offer is bad, the second is taken.
    const server = serverConnection({ extensions: [permessageDeflate()] });
    server.receiveData(
      ascii(
        'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
          'Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=7, permessage-deflate; server_max_window_bits="10"; client_max_window_bits, x-other\r\n\r\n',
      ),
    );
    expect(server.takeEvents().map((e) => e.type)).toEqual(['request']);
    server.send({ type: 'accept' });
    const response = new TextDecoder().decode(
      concatBytes(server.takeOutput().flatMap((o) => (o.type === 'write' ? [o.data] : []))),
    );
    expect(response).toMatch(/\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n/i);
  });
});

describe('client validation of the response', () => {
  const accept = (options: PerMessageDeflateOptions, response: string): string | Extension =>
    permessageDeflate(options).accept(params(response));

  it('accepts what a server may say', () => {
    for (const response of [
      '',
      'server_no_context_takeover',
      'client_no_context_takeover',
      'server_max_window_bits=8',
      'server_max_window_bits=15',
      'client_max_window_bits=8',
      'client_max_window_bits=15',
      'server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9',
    ]) {
      const result = accept({}, response);
      expect(typeof result, response).toBe('object');
      (result as Extension).dispose();
    }
    expect(typeof accept({ serverMaxWindowBits: 10 }, 'server_max_window_bits=9')).toBe('object');
    expect(typeof accept({ clientMaxWindowBits: 10 }, 'client_max_window_bits=10')).toBe('object');
    expect(typeof accept({ serverNoContextTakeover: true }, 'server_no_context_takeover')).toBe('object');
  });

  it('rejects a response with parameters we did not allow', () => {
    const bad: Array<[PerMessageDeflateOptions, string]> = [
      [{}, 'foo'],
      [{}, 'server_no_context_takeover; server_no_context_takeover'],
      [{}, 'server_no_context_takeover=1'],
      [{}, 'client_no_context_takeover=true'],
      [{}, 'client_max_window_bits'], // a response must give a value (§7.1.2.2)
      [{}, 'client_max_window_bits=16'],
      [{}, 'server_max_window_bits'],
      [{}, 'server_max_window_bits=7'],
      [{}, 'server_max_window_bits=16'],
      [{}, 'server_max_window_bits=09'],
      [{ clientMaxWindowBits: 10 }, 'client_max_window_bits=11'],
      [{ serverMaxWindowBits: 10 }, 'server_max_window_bits=11'],
      [{ serverMaxWindowBits: 10 }, ''], // §7.1.2.1: accepting the offer means echoing it
      [{ serverNoContextTakeover: true }, ''], // §7.1.1.1
    ];
    for (const [options, response] of bad)
      expect(typeof accept(options, response), `${JSON.stringify(options)} ${response}`).toBe('string');
  });

  it('decodes with the smaller window the server announced', () => {
    const server = permessageDeflate({ serverMaxWindowBits: 9 }).negotiate([[]])!;
    expect(show(server.params)).toBe('server_max_window_bits=9');
    const client = accept({}, 'server_max_window_bits=9') as Extension;
    roundTrip(server.extension, client, jsonLike(20_000));
  });

  it('fails the real handshake on a bad response', () => {
    const client = clientConnection('ws://example.test/', {
      random: () => undefined,
      extensions: [permessageDeflate()],
    });
    client.takeOutput();
    client.receiveData(
      ascii(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ICX+Yqv66kxgM0FcWaLWlFLwTAI=\r\n' +
          'Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=16\r\n\r\n',
      ),
    );
    const events = client.takeEvents();
    expect(events[0]).toMatchObject({ type: 'protocol-error', code: 'UNEXPECTED_EXTENSION' });
    expect(client.state).toBe('closed');
  });
});

// ───────────────────────────── RFC 7692 §7.2.3 examples ─────────────────────────────

describe('RFC 7692 §7.2.3 examples', () => {
  it('§7.2.3.1 "Hello" compresses to f2 48 cd c9 c9 07 00, RSV1 set', () => {
    for (const level of [1, 6, 9]) {
      const n = pair({ level }, { level });
      const [frame] = encodeMessage(n.client, HELLO, [], true);
      expect(toHex(frame!.payload)).toBe('f2 48 cd c9 c9 07 00');
      expect(frame!.rsv).toBe(RSV1);
      const decoded = decodeMessage(n.server, [frame!]);
      expect(toHex(decoded.data!)).toBe(toHex(HELLO));
    }
  });

  it('§7.2.3.1 the same message split in two frames decodes', () => {
    const n = pair();
    const decoded = decodeMessage(n.server, [
      { payload: hex('f2 48 cd'), rsv: RSV1 },
      { payload: hex('c9 c9 07 00'), rsv: 0 },
    ]);
    expect(toHex(decoded.data!)).toBe(toHex(HELLO));
  });

  it('§7.2.3.2 with a shared window the second "Hello" is f2 00 11 00 00', () => {
    const n = pair();
    expect(toHex(encodeMessage(n.server, HELLO, [], true)[0]!.payload)).toBe('f2 48 cd c9 c9 07 00');
    expect(toHex(encodeMessage(n.server, HELLO, [], true)[0]!.payload)).toBe('f2 00 11 00 00');
    for (const payload of ['f2 48 cd c9 c9 07 00', 'f2 00 11 00 00']) {
      expect(toHex(decodeMessage(n.client, [{ payload: hex(payload), rsv: RSV1 }]).data!)).toBe(toHex(HELLO));
    }
  });

  it('§7.2.3.2 without context takeover the second "Hello" is compressed afresh', () => {
    const n = pair({ serverNoContextTakeover: true });
    expect(n.response).toBe('server_no_context_takeover');
    for (let i = 0; i < 3; i++)
      expect(toHex(encodeMessage(n.server, HELLO, [], true)[0]!.payload)).toBe('f2 48 cd c9 c9 07 00');
    // ... and the client, told so, forgets its window: a back-reference into the last message fails.
    expect(decodeMessage(n.client, [{ payload: hex('f2 48 cd c9 c9 07 00'), rsv: RSV1 }]).error).toBeNull();
    expect(decodeMessage(n.client, [{ payload: hex('f2 00 11 00 00'), rsv: RSV1 }]).error).toMatch(/distance/);
  });

  it('§7.2.3.3 DEFLATE block with no compression', () => {
    const n = pair({ level: 0 }, { level: 0 });
    expect(toHex(encodeMessage(n.client, HELLO, [], true)[0]!.payload)).toBe('00 05 00 fa ff 48 65 6c 6c 6f 00');
    expect(
      toHex(decodeMessage(n.server, [{ payload: hex('00 05 00 fa ff 48 65 6c 6c 6f 00'), rsv: RSV1 }]).data!),
    ).toBe(toHex(HELLO));
  });

  it('§7.2.3.4 a block with BFINAL set decodes, and the stream goes on after it', () => {
    const n = pair();
    for (let i = 0; i < 2; i++) {
      expect(toHex(decodeMessage(n.client, [{ payload: hex('f3 48 cd c9 c9 07 00'), rsv: RSV1 }]).data!)).toBe(
        toHex(HELLO),
      );
    }
    // Bytes after the final block are ignored.
    expect(toHex(decodeMessage(n.client, [{ payload: hex('f3 48 cd c9 c9 07 00 00 ff'), rsv: RSV1 }]).data!)).toBe(
      toHex(HELLO),
    );
    // With context takeover the history survives the end of a stream: a new one may refer to it.
    expect(toHex(decodeMessage(n.client, [{ payload: hex('f2 00 11 00 00'), rsv: RSV1 }]).data!)).toBe(toHex(HELLO));
    // Without it, BFINAL streams still work message after message.
    const m = pair({ serverNoContextTakeover: true });
    for (let i = 0; i < 2; i++) {
      expect(toHex(decodeMessage(m.client, [{ payload: hex('f3 48 cd c9 c9 07 00'), rsv: RSV1 }]).data!)).toBe(
        toHex(HELLO),
      );
    }
  });

  it('§7.2.3.5 two DEFLATE blocks in one message', () => {
    const n = pair();
    expect(
      toHex(decodeMessage(n.server, [{ payload: hex('f2 48 05 00 00 00 ff ff ca c9 c9 07 00'), rsv: RSV1 }]).data!),
    ).toBe(toHex(HELLO));
  });

  it('§7.2.3.6 an empty message compresses to 00 and decodes to nothing', () => {
    for (const options of [{}, { clientNoContextTakeover: true }]) {
      const n = pair(options);
      for (let i = 0; i < 3; i++) {
        const frames = encodeMessage(n.client, new Uint8Array(0), [], true);
        expect(frames.map((f) => toHex(f.payload))).toEqual(['00']);
        expect(frames[0]!.rsv).toBe(RSV1);
        const decoded = decodeMessage(n.server, frames);
        expect(decoded.data!.length).toBe(0);
        expect(decoded.pieces).toEqual([]);
        roundTrip(n.client, n.server, HELLO, [], true);
      }
    }
  });

  it('an empty compressed payload is taken as an empty message', () => {
    const n = pair();
    expect(decodeMessage(n.server, [{ payload: new Uint8Array(0), rsv: RSV1 }]).data!.length).toBe(0);
    roundTrip(n.client, n.server, HELLO, [], true);
  });
});

// ───────────────────────────── per-message behaviour ─────────────────────────────

describe('per-message compression', () => {
  it('the threshold decides when compress is undefined; true/false force', () => {
    const n = pair({ threshold: 100 }, { threshold: 100 });
    const small = jsonLike(99);
    const large = jsonLike(100);
    expect(encodeMessage(n.client, small)[0]!.rsv).toBe(0);
    expect(encodeMessage(n.client, small)[0]!.payload).toEqual(small);
    expect(encodeMessage(n.client, large)[0]!.rsv).toBe(RSV1);
    expect(encodeMessage(n.client, small, [], true)[0]!.rsv).toBe(RSV1);
    expect(encodeMessage(n.client, large, [], false)[0]!.rsv).toBe(0);
  });

  it('the default threshold is 1024 bytes', () => {
    const n = pair();
    expect(encodeMessage(n.client, jsonLike(1023))[0]!.rsv).toBe(0);
    expect(encodeMessage(n.client, jsonLike(1024))[0]!.rsv).toBe(RSV1);
  });

  it('a fragmented message is decided on its first frame; RSV1 only on the first frame', () => {
    const n = pair({ threshold: 100 });
    const data = jsonLike(5000);
    const compressed = roundTrip(n.client, n.server, data, [200, 200, 1000, 4999]);
    expect(compressed.map((f) => f.rsv)).toEqual([RSV1, 0, 0, 0, 0]);
    expect(compressed[1]!.payload.length).toBe(0); // an empty middle frame stays empty
    // A small first frame keeps the whole message uncompressed.
    const plain = encodeMessage(n.client, data, [50, 3000]);
    expect(plain.map((f) => f.rsv)).toEqual([0, 0, 0]);
    expectBytes(concatBytes(plain.map((f) => f.payload)), data);
    // Interleaving plain and compressed messages keeps the stream intact.
    roundTrip(n.client, n.server, data, [3000]);
    roundTrip(n.client, n.server, jsonLike(10), [5]);
    roundTrip(n.client, n.server, data, [1, 2, 3], true);
  });

  it('every non-final frame ends at a sync flush, so a fragment decodes as soon as it arrives', () => {
    const n = pair();
    const data = jsonLike(30_000);
    const frames = encodeMessage(n.server, data, [10_000, 20_000], true);
    expect(toHex(frames[0]!.payload.subarray(-4))).toBe('00 00 ff ff');
    expect(toHex(frames[1]!.payload.subarray(-4))).toBe('00 00 ff ff');
    const pieces: Uint8Array[] = [];
    expect(n.client.decodeStart(RSV1)).toBe(true);
    expect(n.client.decode(frames[0]!.payload, false, (p) => (pieces.push(p), true))).toBeNull();
    expectBytes(concatBytes(pieces), data.subarray(0, 10_000));
  });

  it('large incompressible messages (output beyond the 64 KiB scratch) round-trip', () => {
    const n = pair();
    const data = randomBytes(300_000);
    const [frame] = roundTrip(n.server, n.client, data, [], true);
    expect(frame!.payload.length).toBeGreaterThan(data.length);
    roundTrip(n.client, n.server, data, [100_000], true);
  });

  it('an empty final frame of a compressed message still works', () => {
    const n = pair();
    const data = jsonLike(3000);
    const frames = roundTrip(n.client, n.server, data, [3000], true);
    expect(toHex(frames[1]!.payload)).toBe('00');
    roundTrip(n.client, n.server, data, [], true);
  });

  it('pieces given to the sink are fresh arrays of at most maxDecodeChunk bytes', () => {
    const n = pair({}, { maxDecodeChunk: 1024 });
    const data = jsonLike(50_000);
    const decoded = decodeMessage(n.server, encodeMessage(n.client, data, [], true));
    expect(decoded.pieces.length).toBeGreaterThan(40);
    for (const piece of decoded.pieces) {
      expect(piece.length).toBeLessThanOrEqual(1024);
      expect(piece.byteOffset).toBe(0);
      expect(piece.buffer.byteLength).toBe(piece.length);
    }
    expectBytes(decoded.data, data);
  });

  it('decodeStart claims only messages with RSV1', () => {
    const n = pair();
    expect(n.server.decodeStart(0)).toBe(false);
    expect(n.server.decodeStart(RSV1)).toBe(true);
    expect(n.server.rsvBits).toBe(RSV1);
    expect(n.server.name).toBe('permessage-deflate');
  });

  it('dispose frees the state; using it afterwards is a usage error', () => {
    const n = pair();
    roundTrip(n.client, n.server, jsonLike(2000));
    n.client.dispose();
    n.server.dispose();
    n.server.dispose(); // idempotent
    expect(() => encodeMessage(n.client, jsonLike(2000), [], true)).toThrow(WebSocketUsageError);
    expect(() => decodeMessage(n.server, [{ payload: hex('f2 48 cd c9 c9 07 00'), rsv: RSV1 }])).toThrow(
      WebSocketUsageError,
    );
    // Uncompressed messages need no state.
    expect(encodeMessage(n.client, HELLO, [], false)[0]!.payload).toEqual(HELLO);
  });

  it('dispose in the middle of messages frees both directions', () => {
    const { backend: counting, made } = countingBackend();
    const n = pair({ backend: counting }, { backend: counting });
    n.client.encode(jsonLike(2000), true, false, true); // a message left open
    n.server.decodeStart(RSV1);
    n.server.decode(hex('f2 48'), false, () => true);
    expect(made.deflaters).toBe(1);
    expect(made.inflaters).toBe(1);
    n.client.dispose();
    n.server.dispose();
    expect(made.disposed).toBe(2); // the client's deflater and the server's inflater, each once
  });

  it('a backend that breaks the sync-flush contract is caught', () => {
    const broken: DeflateBackend = {
      name: 'broken',
      createDeflater: () => ({ compress: () => hex('f3 48 cd c9 c9 07 00'), reset: () => {}, dispose: () => {} }),
      createInflater: (bits) => pakoBackend.createInflater(bits),
    };
    const n = pair({ backend: broken });
    expect(() => encodeMessage(n.client, HELLO, [], true)).toThrow(/sync flush/);
  });

  it('works with a custom backend (the interface is enough)', () => {
    const { backend: counting, made } = countingBackend();
    const n = pair({ backend: counting }, { backend: counting });
    expect(made.deflaters + made.inflaters).toBe(0); // lazy
    for (let i = 0; i < 5; i++) roundTrip(n.client, n.server, jsonLike(3000, i));
    expect([made.deflaters, made.inflaters]).toEqual([1, 1]);
  });

  it('without context takeover, compressors are pooled between messages, not kept per connection', () => {
    const { backend: counting, made } = countingBackend();
    const options = { backend: counting, clientNoContextTakeover: true, serverNoContextTakeover: true };
    const connections = Array.from({ length: 10 }, () => pair(options, options));
    for (let round = 0; round < 3; round++) {
      for (const n of connections) {
        roundTrip(n.client, n.server, jsonLike(3000, round));
        roundTrip(n.server, n.client, jsonLike(3000, round + 1), [1000]);
      }
    }
    // Ten connections, sixty messages: one deflater and one inflater serve them all.
    expect([made.deflaters, made.inflaters]).toEqual([1, 1]);
    // Fragmented messages in flight at once need their own; the pool keeps at most two.
    const [a, b, c] = connections;
    a!.client.encode(jsonLike(2000), true, false, true);
    b!.client.encode(jsonLike(2000), true, false, true);
    c!.client.encode(jsonLike(2000), true, false, true);
    expect(made.deflaters).toBe(3);
    for (const n of [a, b, c]) n!.client.encode(jsonLike(10), false, true, true);
    // Same for inflaters: three messages being received at once, then all finished.
    const open = [a, b, c].map((n) => {
      const frames = encodeMessage(n!.server, jsonLike(3000), [1500], true);
      n!.client.decodeStart(RSV1);
      expect(n!.client.decode(frames[0]!.payload, false, () => true)).toBeNull();
      return frames[1]!;
    });
    expect(made.inflaters).toBe(3);
    [a, b, c].forEach((n, i) => expect(n!.client.decode(open[i]!.payload, true, () => true)).toBeNull());
    roundTrip(a!.server, a!.client, jsonLike(3000));
    expect(made.inflaters).toBe(3);
    for (const n of connections) {
      n.client.dispose();
      n.server.dispose();
    }
  });
});

// ───────────────────────────── round trips ─────────────────────────────

describe('round trips (property)', () => {
  const message = fc.oneof(
    fc.uint8Array({ maxLength: 3000 }),
    fc
      .array(fc.constantFrom('{"id":', '1', '23', '"name":"', 'alpha', 'beta', '"},', ' ', '\n', 'zzzzzzzz'), {
        maxLength: 600,
      })
      .map((words) => ascii(words.join(''))),
    fc.integer({ min: 0, max: 40_000 }).map((n) => jsonLike(n, n)),
  );
  const messageWithCuts = message.chain((data) =>
    fc.record({
      data: fc.constant(data),
      cuts: fc
        .uniqueArray(fc.integer({ min: 0, max: data.length }), { maxLength: 4 })
        .map((c) => c.sort((x, y) => x - y)),
      compress: fc.constantFrom(true, false, undefined),
      chunk: fc.constantFrom(7, 100, 4096, Infinity),
    }),
  );
  const windowBits = fc.constantFrom<number | true>(true, 8, 9, 10, 12, 15);

  it('any messages, fragmentation, chunking, windows and takeover settings round-trip both ways', () => {
    fc.assert(
      fc.property(
        fc.record({
          client: fc.record({
            serverNoContextTakeover: fc.boolean(),
            clientNoContextTakeover: fc.boolean(),
            serverMaxWindowBits: windowBits,
            clientMaxWindowBits: windowBits,
            level: fc.constantFrom(0, 1, 6, 9),
            memLevel: fc.constantFrom(1, 8, 9),
            threshold: fc.constantFrom(0, 100, 1024),
          }),
          server: fc.record({
            serverNoContextTakeover: fc.boolean(),
            clientNoContextTakeover: fc.boolean(),
            serverMaxWindowBits: windowBits,
            level: fc.constantFrom(1, 6),
            maxDecodeChunk: fc.constantFrom(1024, 65536),
          }),
          messages: fc.array(fc.tuple(fc.boolean(), messageWithCuts), { minLength: 1, maxLength: 6 }),
        }),
        ({ client, server, messages }) => {
          const n = pair(client, server);
          const response = params(n.response);
          const serverLimit = Number(response.find((p) => p.name === 'server_max_window_bits')?.value ?? 15);
          const clientLimit = Math.min(
            Number(response.find((p) => p.name === 'client_max_window_bits')?.value ?? 15),
            client.clientMaxWindowBits === true ? 15 : client.clientMaxWindowBits,
          );
          const streams = { toServer: [] as Uint8Array[][], toClient: [] as Uint8Array[][] };
          for (const [toServer, { data, cuts, compress, chunk }] of messages) {
            const [from, to] = toServer ? [n.client, n.server] : [n.server, n.client];
            const frames = encodeMessage(from, data, cuts, compress);
            const decoded = decodeMessage(to, frames, chunk);
            expect(decoded.error).toBeNull();
            expectBytes(decoded.data, data);
            expect(frames.slice(1).every((f) => f.rsv === 0)).toBe(true);
            if (frames[0]!.rsv === RSV1)
              (toServer ? streams.toServer : streams.toClient).push([...frames.map((f) => f.payload), TAIL]);
          }
          // An independent decoder agrees, and no back-reference reaches past the negotiated window.
          for (const [list, limit, noTakeover] of [
            [
              streams.toServer,
              clientLimit,
              response.some((p) => p.name === 'client_no_context_takeover') || client.clientNoContextTakeover,
            ],
            [streams.toClient, serverLimit, response.some((p) => p.name === 'server_no_context_takeover')],
          ] as const) {
            const units = noTakeover
              ? list.map((parts) => concatBytes(parts))
              : list.length > 0
                ? [concatBytes(list.flat())]
                : [];
            for (const unit of units) expect(auditDeflate(unit).maxDistance).toBeLessThanOrEqual(2 ** limit);
          }
          n.client.dispose();
          n.server.dispose();
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);

  it('random bytes as a compressed payload never throw: data or an error string', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (payloads, takeover) => {
          const n = pair({ serverNoContextTakeover: !takeover });
          for (const payload of payloads) {
            const result = decodeMessage(n.client, [{ payload, rsv: RSV1 }], 3);
            expect(result.error === null || typeof result.error === 'string').toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ───────────────────────────── bombs and corrupt data ─────────────────────────────

describe('decompression bombs', () => {
  it('the hand-made bomb is what it claims (small check)', () => {
    const n = pair();
    const decoded = decodeMessage(n.server, [{ payload: deflateBomb(1000), rsv: RSV1 }]);
    expect(decoded.data!.length).toBe(1 + 258 * 1000);
    expect(decoded.data!.every((b) => b === 0)).toBe(true);
  });

  it('a ≈ 250 KB frame that inflates to ≈ 258 MB stops at the limit plus one piece', () => {
    const bomb = deflateBomb(1_000_000);
    expect(bomb.length).toBeLessThan(260_000);
    const limit = 1024 * 1024;
    for (const maxDecodeChunk of [1024, 64 * 1024]) {
      const n = pair({}, { maxDecodeChunk });
      let seen = 0;
      let calls = 0;
      const result = decodeMessage(n.server, [{ payload: bomb, rsv: RSV1 }], Infinity, (piece) => {
        calls++;
        seen += piece.length;
        return seen <= limit;
      });
      expect(result.error).toBeNull(); // the sink's refusal is the connection's business
      expect(seen).toBeGreaterThan(limit);
      expect(seen).toBeLessThanOrEqual(limit + maxDecodeChunk);
      expect(calls).toBe(Math.ceil((limit + 1) / maxDecodeChunk));
    }
  });

  it('a 4 KB frame (≈ 4 MB inflated) fed in small chunks stops at the limit', () => {
    const bomb = deflateBomb(16_000);
    expect(bomb.length).toBeLessThan(4200);
    const n = pair();
    let seen = 0;
    decodeMessage(n.server, [{ payload: bomb, rsv: RSV1 }], 100, (piece) => (seen += piece.length) <= 100_000);
    expect(seen).toBeGreaterThan(100_000);
    expect(seen).toBeLessThanOrEqual(100_000 + 64 * 1024);
  });
});

describe('corrupt compressed data', () => {
  const cases: Array<[string, Uint8Array]> = [
    ['invalid block type', hex('ff ff ff')],
    ['bad stored length', hex('00 05 00 00 00 48 65')],
    ['distance before the start', fixedBlockWithDistance(ascii('ab'), 3)],
    ['cut inside a block', encodeMessage(pair().client, jsonLike(10_000), [], true)[0]!.payload.subarray(0, 500)],
  ];
  for (const [what, payload] of cases) {
    it(`${what} → an error string`, () => {
      const n = pair();
      const result = decodeMessage(n.server, [{ payload, rsv: RSV1 }]);
      expect(result.error).toEqual(expect.any(String));
    });
  }

  it('a distance inside the window is fine (the crafting helper is sound)', () => {
    const n = pair();
    expect(
      toHex(decodeMessage(n.server, [{ payload: fixedBlockWithDistance(ascii('abc'), 3), rsv: RSV1 }]).data!),
    ).toBe(toHex(ascii('abcabc')));
  });

  it('after a corrupt message the extension starts afresh (the connection fails anyway)', () => {
    const n = pair({ clientNoContextTakeover: true });
    expect(decodeMessage(n.server, [{ payload: hex('ff ff ff'), rsv: RSV1 }]).error).toEqual(expect.any(String));
    roundTrip(n.client, n.server, jsonLike(3000), [], true);
  });
});

// ───────────────────────────── through real connections ─────────────────────────────

function openPair(
  clientOptions: PerMessageDeflateOptions = {},
  serverOptions: PerMessageDeflateOptions = {},
  limits = {},
): ConnectionPair {
  const p = new ConnectionPair({
    client: { extensions: [permessageDeflate(clientOptions)] },
    server: { extensions: [permessageDeflate(serverOptions)], limits },
  });
  p.pump();
  return p;
}

function frameBytes(p: ConnectionPair, from: 'client' | 'server'): Uint8Array[] {
  return (from === 'client' ? p.clientOutputs : p.serverOutputs).flatMap((o) => (o.type === 'write' ? [o.data] : []));
}

describe('permessage-deflate on real connections', () => {
  it('is negotiated through the handshake', () => {
    const p = openPair({ serverMaxWindowBits: 10 }, { clientNoContextTakeover: true });
    const request = new TextDecoder().decode(frameBytes(p, 'client')[0]);
    expect(request).toMatch(
      /\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10; client_max_window_bits\r\n/i,
    );
    const response = new TextDecoder().decode(frameBytes(p, 'server')[0]);
    expect(response).toMatch(
      /\r\nSec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_max_window_bits=10\r\n/i,
    );
    expect(p.clientEvents.find((e) => e.type === 'open')).toMatchObject({ extensions: ['permessage-deflate'] });
    expect(p.serverEvents.find((e) => e.type === 'open')).toMatchObject({ extensions: ['permessage-deflate'] });
    expect(p.client.extensions.map((e) => show(e.params))).toEqual([
      'client_no_context_takeover; server_max_window_bits=10',
    ]);
  });

  it('messages round-trip compressed, RSV1 on the wire', () => {
    const p = openPair();
    const text = new TextDecoder().decode(jsonLike(20_000));
    const binary = randomBytes(5000);
    p.clientOutputs.length = 0;
    p.serverOutputs.length = 0;
    p.client.send({ type: 'text', data: text });
    p.client.send({ type: 'binary', data: binary, compress: true });
    p.client.send({ type: 'text', data: 'small' });
    p.server.send({ type: 'text', data: text });
    const events = p.pump();
    expect(events.server.map((e) => e.type)).toEqual(['text', 'binary', 'text']);
    expect(events.server[0]).toEqual({ type: 'text', data: text });
    expectBytes(messageData(events.server.slice(1, 2), 'binary'), binary);
    expect(events.server[2]).toEqual({ type: 'text', data: 'small' });
    expect(events.client).toEqual([{ type: 'text', data: text }]);
    const [big, bin, small] = frameBytes(p, 'client');
    expect(big![0]).toBe(0xc1); // FIN + RSV1 + text
    expect(big!.length).toBeLessThan(text.length / 2);
    expect(bin![0]).toBe(0xc2);
    expect(small![0]).toBe(0x81);
    expect(frameBytes(p, 'server')[0]![0]).toBe(0xc1);
  });

  it('fragment commands stream a compressed message', () => {
    const p = openPair();
    const parts = [jsonLike(3000, 1), jsonLike(10, 2), new Uint8Array(0), jsonLike(4000, 3)];
    p.serverOutputs.length = 0;
    parts.forEach((data, i) => p.server.send({ type: 'fragment', kind: 'binary', data, fin: i === parts.length - 1 }));
    const events = p.pump();
    expectBytes(messageData(events.client, 'binary'), concatBytes(parts));
    expect(frameBytes(p, 'server').map((f) => f[0])).toEqual([0x42, 0x00, 0x00, 0x80]);
  });

  it('in streaming mode, decompressed fragments arrive as frames do', () => {
    const p = new ConnectionPair({
      client: { extensions: [permessageDeflate()], assembleMessages: false },
      server: { extensions: [permessageDeflate()] },
    });
    p.pump();
    const data = jsonLike(100_000);
    p.server.send({ type: 'fragment', kind: 'binary', data: data.subarray(0, 50_000), fin: false });
    const first = p.pump().client as Extract<Event, { type: 'fragment' }>[];
    expectBytes(concatBytes(first.map((e) => e.data)), data.subarray(0, 50_000));
    p.server.send({ type: 'fragment', kind: 'binary', data: data.subarray(50_000), fin: true });
    const rest = p.pump().client as Extract<Event, { type: 'fragment' }>[];
    expectBytes(concatBytes([...first, ...rest].map((e) => e.data)), data);
    expect(rest.at(-1)!.fin).toBe(true);
  });

  it('context takeover and no context takeover both work over many messages', () => {
    for (const [c, s] of [
      [{}, {}],
      [{ serverNoContextTakeover: true, clientNoContextTakeover: true }, {}],
      [{ clientMaxWindowBits: 8 }, { serverMaxWindowBits: 8 }],
    ] as Array<[PerMessageDeflateOptions, PerMessageDeflateOptions]>) {
      const p = openPair(c, s);
      for (let i = 0; i < 20; i++) {
        const data = jsonLike(500 + i * 300, i);
        p.client.send({ type: 'binary', data, compress: true });
        p.server.send({ type: 'binary', data, compress: true });
        const events = p.pump();
        expectBytes(messageData(events.client, 'binary'), data);
        expectBytes(messageData(events.server, 'binary'), data);
      }
    }
  });

  it('the extension is disposed when the connection closes', () => {
    const p = openPair();
    p.client.send({ type: 'text', data: 'x'.repeat(5000) });
    p.pump();
    p.client.send({ type: 'close', code: 1000 });
    p.pump();
    expect(p.client.state).toBe('closed');
    expect(() => p.client.extensions[0]!.encode(jsonLike(10), true, true, true)).toThrow(WebSocketUsageError);
  });
});

// A server that negotiated permessage-deflate, fed hand-made client frames.
const DEFLATE_REQUEST =
  'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
  'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n';

function deflateServer(options: { extensions?: boolean; maxMessageSize?: number } = {}): Connection {
  const server = serverConnection({
    extensions: options.extensions === false ? [] : [permessageDeflate()],
    limits: options.maxMessageSize === undefined ? {} : { maxMessageSize: options.maxMessageSize },
  });
  server.receiveData(ascii(DEFLATE_REQUEST));
  server.takeEvents();
  server.send({ type: 'accept' });
  server.takeEvents();
  server.takeOutput();
  return server;
}

function failure(events: Event[]): { code: string; closeCode: number | null } | null {
  const e = events.find((x) => x.type === 'protocol-error');
  return e && e.type === 'protocol-error' ? { code: e.code, closeCode: e.closeCode } : null;
}

describe('violations on real connections', () => {
  it('a compressed client frame decodes, split at any byte', () => {
    const frame = clientFrame(0xc1, hex('f2 48 cd c9 c9 07 00'));
    for (let cut = 0; cut <= frame.length; cut++) {
      const server = deflateServer();
      const bytes = frame.slice(); // receiveData unmasks in place
      server.receiveData(bytes.subarray(0, cut));
      server.receiveData(bytes.subarray(cut));
      expect(server.takeEvents()).toEqual([{ type: 'text', data: 'Hello' }]);
    }
  });

  it('RSV1 on a continuation frame → 1002', () => {
    const server = deflateServer();
    server.receiveData(clientFrame(0x41, hex('f2 48 cd')));
    server.receiveData(clientFrame(0xc0, hex('c9 c9 07 00')));
    expect(failure(server.takeEvents())).toEqual({ code: 'RESERVED_BITS', closeCode: 1002 });
  });

  it('RSV1 without the extension → 1002', () => {
    const server = deflateServer({ extensions: false });
    server.receiveData(clientFrame(0xc1, hex('f2 48 cd c9 c9 07 00')));
    expect(failure(server.takeEvents())).toEqual({ code: 'RESERVED_BITS', closeCode: 1002 });
    const client = new ConnectionPair({ client: { extensions: [] }, server: { extensions: [permessageDeflate()] } });
    client.pump();
    client.client.receiveData(serverFrame(0xc1, hex('f2 48 cd c9 c9 07 00')));
    expect(failure(client.client.takeEvents())).toEqual({ code: 'RESERVED_BITS', closeCode: 1002 });
  });

  it('RSV2 or RSV3 with permessage-deflate → 1002', () => {
    for (const b0 of [0xa1, 0x91, 0xe1]) {
      const server = deflateServer();
      server.receiveData(clientFrame(b0, hex('f2 48 cd c9 c9 07 00')));
      expect(failure(server.takeEvents())).toEqual({ code: 'RESERVED_BITS', closeCode: 1002 });
    }
  });

  it('a bomb → 1009 at the message-size limit', () => {
    const server = deflateServer({ maxMessageSize: 1024 * 1024 });
    server.receiveData(clientFrame(0xc2, deflateBomb(1_000_000)));
    const events = server.takeEvents();
    expect(failure(events)).toEqual({ code: 'MESSAGE_TOO_LARGE', closeCode: 1009 });
    expect(events.some((e) => e.type === 'binary')).toBe(false);
  });

  it('a bomb spread over many frames → 1009', () => {
    const server = deflateServer({ maxMessageSize: 1024 * 1024 });
    const bomb = deflateBomb(100_000);
    const frames: Uint8Array[] = [];
    for (let at = 0; at < bomb.length; at += 1000)
      frames.push(
        clientFrame((at === 0 ? 0x42 : 0x00) | (at + 1000 >= bomb.length ? 0x80 : 0), bomb.subarray(at, at + 1000)),
      );
    for (const frame of frames) server.receiveData(frame);
    expect(failure(server.takeEvents())).toEqual({ code: 'MESSAGE_TOO_LARGE', closeCode: 1009 });
  });

  it('corrupt compressed data → 1007', () => {
    const server = deflateServer();
    server.receiveData(clientFrame(0xc1, hex('ff ff ff')));
    expect(failure(server.takeEvents())).toEqual({ code: 'EXTENSION_ERROR', closeCode: 1007 });
  });

  it('compressed text that inflates to invalid UTF-8 → 1007', () => {
    const server = deflateServer();
    server.receiveData(clientFrame(0xc1, hex('00 02 00 fd ff c3 28 00')));
    expect(failure(server.takeEvents())).toEqual({ code: 'INVALID_UTF8', closeCode: 1007 });
  });

  it('a compressed message within the limit passes', () => {
    const server = deflateServer({ maxMessageSize: 258_001 });
    server.receiveData(clientFrame(0xc2, deflateBomb(1000)));
    const events = server.takeEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'binary' });
  });

  it('encodeUtf8 round-trips through compression (sanity)', () => {
    const p = openPair();
    const text = 'héllo wörld ✓ '.repeat(500);
    p.client.send({ type: 'text', data: text, compress: true });
    expect(p.pump().server).toEqual([{ type: 'text', data: text }]);
    expect(encodeUtf8(text).length).toBeGreaterThan(1024);
  });
});
