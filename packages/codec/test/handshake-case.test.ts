// Case-insensitive tokens in the handshake, compared one way (http/ascii-case.ts) everywhere.
// An outside review found `Sec-WebSocket-Extensions: PerMessage-Deflate` negotiated by one part
// of the server handshake and refused as "not offered" by another: a throw from
// send({type:'accept'}) and a 500 from @ws/node. These tests feed heads in every case, order,
// whitespace and field layout the parser accepts, to both roles, and check the answer.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Event } from '../src/index.ts';
import { clientConnection } from '../src/client.ts';
import { serverConnection } from '../src/server.ts';
import { permessageDeflate } from '../src/pako.ts';
import { buildAcceptResponse, validateRequest } from '../src/handshake/server.ts';
import { verifyResponse } from '../src/handshake/client.ts';
import { computeAcceptKey } from '../src/handshake/accept-key.ts';
import { equalsLowerAt, foldAscii, sameAsciiCase } from '../src/http/ascii-case.ts';
import { HttpHeaders } from '../src/http/headers.ts';
import { ascii, clientFrame } from './helpers/frames.ts';
import { latin1, parseHead } from './helpers/heads.ts';
import { splits } from './helpers/split.ts';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
type Generated<A> = A extends fc.Arbitrary<infer T> ? T : never;
const text = (bytes: Uint8Array) => String.fromCharCode(...bytes);

describe('ascii-case', () => {
  it('folds A-Z only: not the Unicode letters toLowerCase maps onto ASCII', () => {
    expect(foldAscii('PerMessage-Deflate')).toBe('permessage-deflate');
    const already = 'websocket';
    expect(foldAscii(already)).toBe(already);
    expect(foldAscii('ÀÉ-X')).toBe('ÀÉ-x');
    // U+212A KELVIN SIGN and U+0130 lower-case to ASCII under toLowerCase: a token check that
    // used it would take `\u212Aey` for `key`.
    expect('\u212A'.toLowerCase()).toBe('k');
    expect(foldAscii('\u212Aey')).not.toBe('key');
    expect(sameAsciiCase('\u212Aey', 'key')).toBe(false);
    expect(sameAsciiCase('\u0130d', 'id')).toBe(false);
    expect(sameAsciiCase('WebSocket', 'websocket')).toBe(true);
    expect(sameAsciiCase('websocket', 'WEBSOCKET')).toBe(true);
    expect(sameAsciiCase('websocket', 'websockets')).toBe(false);
    expect(sameAsciiCase('@', '`')).toBe(false); // 0x40 and 0x60: only A-Z fold
    expect(sameAsciiCase('[', '{')).toBe(false);
    expect(equalsLowerAt('x-Upgrade-y', 2, 'upgrade')).toBe(true);
    expect(equalsLowerAt('x-Upgrade-y', 1, 'upgrade')).toBe(false);
  });

  it('agrees with a reference fold on any string', () => {
    const reference = (s: string) => s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
    // ASCII around the letters, and the non-ASCII letters whose Unicode case maps touch ASCII.
    const char = fc.oneof(
      fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      fc.constantFrom('\u212A', '\u0130', '\u0131', '\u017F', 'À', 'à', 'ß'),
    );
    const word = fc.array(char, { maxLength: 12 }).map((cs) => cs.join(''));
    const property = fc.property(word, word, fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }), (a, b, bits) => {
      const other = recase(a, bits); // `a` in another case: ASCII letters flipped, the rest maybe mapped by Unicode
      return (
        foldAscii(a) === reference(a) &&
        sameAsciiCase(a, b) === (reference(a) === reference(b)) &&
        sameAsciiCase(a, other) === (reference(a) === reference(other)) &&
        sameAsciiCase(a, reference(a))
      );
    });
    expect(() => fc.assert(property, { numRuns: 2000 })).not.toThrow();
  });

  it('is the only case folding in the handshake, HTTP and extension code', () => {
    // The class of bug is two comparisons folding differently; so there is one fold. Other
    // uses of toLowerCase/toUpperCase there (formatting hex) are listed here by line.
    const root = join(import.meta.dirname, '../src');
    const files = [
      'connection.ts',
      'session/whatwg.ts',
      ...['http', 'handshake', 'extensions'].flatMap((dir) => readdirSync(join(root, dir)).map((f) => `${dir}/${f}`)),
    ];
    const allowed = [/toString\(16\)\.toUpperCase\(\)/];
    const found: string[] = [];
    for (const file of files) {
      if (file === 'http/ascii-case.ts') continue;
      readFileSync(join(root, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (
            /\.to(?:Lower|Upper|LocaleLower|LocaleUpper)Case\(|localeCompare\(/.test(line) &&
            !line.trimStart().startsWith('*') &&
            !allowed.some((a) => a.test(line))
          )
            found.push(`${file}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(found).toEqual([]);
  });
});

/** `name` with each letter's case from `bits` (cycled). */
function recase(name: string, bits: readonly boolean[]): string {
  if (bits.length === 0) return name;
  let out = '';
  for (let i = 0; i < name.length; i++) out += bits[i % bits.length] ? name[i]!.toUpperCase() : name[i]!.toLowerCase();
  return out;
}

const caseBits = fc.array(fc.boolean(), { minLength: 1, maxLength: 7 });
const ows = fc.constantFrom('', ' ', '\t', '  ', ' \t ');
/** Elements joined as one list with OWS around commas and empty elements, or as separate fields. */
const listLayout = fc.record({
  split: fc.boolean(),
  pads: fc.array(ows, { minLength: 8, maxLength: 8 }),
  empties: fc.boolean(),
});
type Layout = { split: boolean; pads: string[]; empties: boolean };

function lay(name: string, elements: string[], layout: Layout): Array<[string, string]> {
  if (layout.split) return elements.map((e, i) => [name, `${layout.pads[i % 8]}${e}${layout.pads[(i + 3) % 8]}`]);
  const sep = (i: number) =>
    `${layout.pads[i % 8]},${layout.empties && i === 0 ? ' ,' : ''}${layout.pads[(i + 5) % 8]}`;
  return [[name, elements.map((e, i) => (i === 0 ? e : sep(i) + e)).join('') + (layout.empties ? ',' : '')]];
}

/** A permessage-deflate offer with its parameters in random case, order and spacing. */
const deflateOffer = fc
  .record({
    bits: caseBits,
    server: fc.boolean(),
    client: fc.boolean(),
    serverBits: fc.option(fc.integer({ min: 8, max: 15 })),
    clientBits: fc.oneof(fc.constant(null), fc.constant('bare' as const), fc.integer({ min: 8, max: 15 })),
    quoted: fc.boolean(),
    pad: ows,
    order: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
  })
  .map((o) => {
    const params: string[] = [];
    const value = (n: number) => (o.quoted ? `"${n}"` : String(n));
    if (o.server) params.push(recase('server_no_context_takeover', o.bits));
    if (o.client) params.push(recase('client_no_context_takeover', [...o.bits].reverse()));
    if (o.serverBits !== null)
      params.push(`${recase('server_max_window_bits', o.bits)}${o.pad}=${o.pad}${value(o.serverBits)}`);
    if (o.clientBits === 'bare') params.push(recase('client_max_window_bits', o.bits));
    else if (o.clientBits !== null) params.push(`${recase('client_max_window_bits', o.bits)}=${value(o.clientBits)}`);
    const sorted = params
      .map((p, i) => [o.order[i]!, p] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([, p]) => p);
    return [recase('permessage-deflate', o.bits), ...sorted].join(`${o.pad};${o.pad}`);
  });

type RequestFault =
  | 'none'
  | 'no-upgrade'
  | 'upgrade-h2c'
  | 'no-connection'
  | 'connection-keep-alive'
  | 'version-8'
  | 'no-key'
  | 'no-host'
  | 'post'
  | 'authority-mismatch';
const REQUEST_FAULTS: Record<RequestFault, { status: number; code: string } | null> = {
  none: null,
  'no-upgrade': { status: 426, code: 'BAD_UPGRADE' },
  'upgrade-h2c': { status: 426, code: 'BAD_UPGRADE' },
  'no-connection': { status: 400, code: 'BAD_CONNECTION' },
  'connection-keep-alive': { status: 400, code: 'BAD_CONNECTION' },
  'version-8': { status: 426, code: 'UNSUPPORTED_VERSION' },
  'no-key': { status: 400, code: 'BAD_KEY' },
  'no-host': { status: 400, code: 'MISSING_HOST' },
  post: { status: 405, code: 'BAD_METHOD' },
  'authority-mismatch': { status: 400, code: 'MALFORMED_HEAD' },
};

const upgradeRequest = fc.record({
  bits: fc.array(caseBits, { minLength: 8, maxLength: 8 }),
  order: fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
  pads: fc.array(ows, { minLength: 12, maxLength: 12 }),
  upgradeLayout: listLayout,
  connectionLayout: listLayout,
  extensionLayout: listLayout,
  protocolLayout: listLayout,
  extraUpgrade: fc.boolean(),
  extraConnection: fc.boolean(),
  deflate: fc.option(fc.array(deflateOffer, { minLength: 1, maxLength: 3 })),
  foreign: fc.boolean(),
  protocols: fc.subarray(['chat', 'superchat', 'Chat']),
  absolute: fc.option(caseBits),
  fault: fc.constantFrom(...(Object.keys(REQUEST_FAULTS) as RequestFault[])),
});

function buildRequest(r: Generated<typeof upgradeRequest>): { text: string; deflate: boolean } {
  const name = (n: string, i: number) => recase(n, r.bits[i % 8]!);
  // Each header's fields stay together and in order (a split list keeps its order); headers shuffle.
  const fields: Array<[number, [string, string]]> = [];
  const add = (pairs: Array<[string, string]>, i: number) => {
    for (const [n, v] of pairs) fields.push([r.order[i]! * 64 + fields.length, [name(n, i), v]]);
  };
  if (r.fault !== 'no-host') add([['Host', 'server.example.com']], 0);
  if (r.fault !== 'no-upgrade') {
    const tokens = [r.fault === 'upgrade-h2c' ? 'h2c' : recase('websocket', r.bits[1]!)];
    if (r.extraUpgrade) tokens.unshift('foo/2');
    add(lay('Upgrade', tokens, r.upgradeLayout), 1);
  }
  if (r.fault !== 'no-connection') {
    const tokens = [r.fault === 'connection-keep-alive' ? 'keep-alive' : recase('upgrade', r.bits[2]!)];
    if (r.extraConnection) tokens.push('Keep-Alive');
    add(lay('Connection', tokens, r.connectionLayout), 2);
  }
  if (r.fault !== 'no-key') add([['Sec-WebSocket-Key', KEY]], 3);
  add([['Sec-WebSocket-Version', r.fault === 'version-8' ? '8' : '13']], 4);
  const offers = [...(r.foreign ? ['x-Foo; A=1'] : []), ...(r.deflate ?? [])];
  if (offers.length > 0) add(lay('Sec-WebSocket-Extensions', offers, r.extensionLayout), 5);
  if (r.protocols.length > 0) add(lay('Sec-WebSocket-Protocol', r.protocols, r.protocolLayout), 6);
  add([['Origin', 'http://example.com']], 7);
  const ordered = fields.sort((a, b) => a[0] - b[0]);
  const lines = ordered.map(([, [n, v]], i) => `${n}:${r.pads[i % 12]}${v}${r.pads[(i + 1) % 12]}\r\n`);
  const host =
    r.fault === 'authority-mismatch' ? 'other.example.com' : recase('server.example.com', r.absolute ?? [false]);
  const target =
    r.absolute !== null || r.fault === 'authority-mismatch'
      ? `${recase('ws', r.absolute ?? [true])}://${host}/chat`
      : '/chat';
  const method = r.fault === 'post' ? 'POST' : 'GET';
  return { text: `${method} ${target} HTTP/1.1\r\n${lines.join('')}\r\n`, deflate: r.deflate !== null };
}

/** Feeds `bytes` to a fresh server in `chunks`, accepts if asked, returns its events and output. */
function serve(chunks: Uint8Array[]): { events: Event[]; written: string } {
  const server = serverConnection({ extensions: [permessageDeflate()] });
  const events: Event[] = [];
  for (const chunk of chunks) {
    server.receiveData(chunk.slice());
    events.push(...server.takeEvents());
  }
  if (events.some((e) => e.type === 'request')) {
    server.send({ type: 'accept' });
    events.push(...server.takeEvents());
  }
  let written = '';
  for (const out of server.takeOutput()) if (out.type === 'write') written += text(out.data);
  return { events, written };
}

describe('server: any request head the parser accepts, in any case and layout', () => {
  it('a PerMessage-Deflate offer is negotiated, at every split, never throwing (the review finding)', () => {
    const request =
      'GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: PerMessage-Deflate; Client_Max_Window_Bits\r\n\r\n`;
    for (const chunks of splits(ascii(request))) {
      const { events, written } = serve(chunks);
      expect(events.map((e) => e.type)).toEqual(['request', 'open']);
      expect(events[1]).toMatchObject({ type: 'open', extensions: ['permessage-deflate'] });
      expect(written).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
      // Named as we name it; a bare client_max_window_bits asks for nothing we must answer.
      expect(written).toContain('\r\nSec-WebSocket-Extensions: permessage-deflate\r\n');
    }
    // And the bare functions, as an adapter written like the README's loop calls them.
    const verdict = validateRequest(parseHead('request', ascii(request)));
    if (!verdict.ok) throw new Error(verdict.message);
    expect(() =>
      buildAcceptResponse(verdict.request, { protocol: null, extensions: 'permessage-deflate' }),
    ).not.toThrow();
    expect(() =>
      buildAcceptResponse(verdict.request, { protocol: null, extensions: 'PERMESSAGE-DEFLATE' }),
    ).not.toThrow();
    expect(() => buildAcceptResponse(verdict.request, { protocol: null, extensions: 'x-other' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('a compressed message flows after a mixed-case offer was accepted', () => {
    const server = serverConnection({ extensions: [permessageDeflate()] });
    server.receiveData(
      ascii(
        `GET / HTTP/1.1\r\nhOST: h\r\nupgrade: WEBSOCKET\r\nCONNECTION: UPGRADE\r\nsec-websocket-key: ${KEY}\r\nSEC-WEBSOCKET-VERSION: 13\r\nsec-WEBSOCKET-extensions: PERMESSAGE-DEFLATE\r\n\r\n`,
      ),
    );
    server.send({ type: 'accept' });
    server.takeEvents();
    // "Hello" compressed (RFC 7692 §7.2.3.1), RSV1 set.
    server.receiveData(clientFrame(0xc1, Uint8Array.of(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00)));
    expect(server.takeEvents()).toEqual([{ type: 'text', data: 'Hello' }]);
  });

  it('accepts or declines with the right status, and the 101 verifies on our client', () => {
    fc.assert(
      fc.property(upgradeRequest, fc.nat(), (r, cut) => {
        const { text: request, deflate } = buildRequest(r);
        const bytes = latin1(request);
        const at = cut % (bytes.length + 1);
        const { events, written } = serve([bytes.subarray(0, at), bytes.subarray(at)]);
        const fault = REQUEST_FAULTS[r.fault];
        if (fault !== null) {
          expect(events.map((e) => e.type)).toEqual(['protocol-error', 'closed']);
          expect(events[0]).toMatchObject({ code: fault.code });
          expect(written.startsWith(`HTTP/1.1 ${fault.status} `)).toBe(true);
          return;
        }
        expect(events.map((e) => e.type)).toEqual(['request', 'open']);
        const open = events[1] as Extract<Event, { type: 'open' }>;
        expect(open.extensions).toEqual(deflate ? ['permessage-deflate'] : []);
        expect(open.request!.protocols).toEqual(r.protocols);
        expect(open.request!.host).toBe('server.example.com');
        const response = parseHead('response', latin1(written));
        expect(response.status).toBe(101);
        const verdict = verifyResponse(response, {
          key: KEY,
          protocols: [],
          offeredExtensions: ['permessage-deflate', 'x-foo'],
        });
        expect(verdict).toMatchObject({ ok: true, protocol: null });
        if (verdict.ok) expect(verdict.extensions.map((e) => e.name)).toEqual(deflate ? ['permessage-deflate'] : []);
      }),
      { numRuns: 400 },
    );
  });
});

// ───────────────────────────── client ─────────────────────────────

// The key a client with an all-zero random source sends, and its accept value.
const ZERO_KEY = 'AAAAAAAAAAAAAAAAAAAAAA==';
const ZERO_ACCEPT = computeAcceptKey(ZERO_KEY);

type ResponseFault =
  | 'none'
  | 'upgrade-list'
  | 'upgrade-h2c'
  | 'upgrade-twice'
  | 'empty-protocol'
  | 'unoffered-protocol'
  | 'two-protocols'
  | 'no-connection-upgrade'
  | 'bad-accept'
  | 'unoffered-extension'
  | 'http-1.0';
const RESPONSE_FAULTS: Record<ResponseFault, string | null> = {
  none: null,
  'upgrade-list': 'BAD_UPGRADE',
  'upgrade-h2c': 'BAD_UPGRADE',
  'upgrade-twice': 'BAD_UPGRADE',
  'empty-protocol': 'UNEXPECTED_PROTOCOL',
  'unoffered-protocol': 'UNEXPECTED_PROTOCOL',
  'two-protocols': 'UNEXPECTED_PROTOCOL',
  'no-connection-upgrade': 'BAD_CONNECTION',
  'bad-accept': 'BAD_ACCEPT',
  'unoffered-extension': 'UNEXPECTED_EXTENSION',
  'http-1.0': 'BAD_HTTP_VERSION',
};

const upgradeResponse = fc.record({
  bits: fc.array(caseBits, { minLength: 6, maxLength: 6 }),
  order: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
  pads: fc.array(ows, { minLength: 8, maxLength: 8 }),
  connectionLayout: listLayout,
  extraConnection: fc.boolean(),
  protocol: fc.constantFrom(null, 'chat', 'superchat'),
  deflate: fc.option(
    fc.record({
      bits: caseBits,
      server: fc.boolean(),
      client: fc.boolean(),
      clientBits: fc.option(fc.integer({ min: 8, max: 15 })),
      pad: ows,
    }),
  ),
  fault: fc.constantFrom(...(Object.keys(RESPONSE_FAULTS) as ResponseFault[])),
});

function buildResponse(r: Generated<typeof upgradeResponse>): string {
  const fields: Array<[number, [string, string]]> = [];
  const add = (pairs: Array<[string, string]>, i: number) => {
    for (const [n, v] of pairs) fields.push([r.order[i]! * 64 + fields.length, [recase(n, r.bits[i]!), v]]);
  };
  const upgrade = recase('websocket', r.bits[1]!);
  if (r.fault === 'upgrade-list') add([['Upgrade', `h2c, ${upgrade}`]], 0);
  else if (r.fault === 'upgrade-h2c') add([['Upgrade', 'h2c']], 0);
  else if (r.fault === 'upgrade-twice')
    add(
      [
        ['Upgrade', upgrade],
        ['Upgrade', upgrade],
      ],
      0,
    );
  else add([['Upgrade', upgrade]], 0);
  const connection = [r.fault === 'no-connection-upgrade' ? 'keep-alive' : recase('upgrade', r.bits[2]!)];
  if (r.extraConnection) connection.unshift('keep-alive');
  add(lay('Connection', connection, r.connectionLayout), 1);
  add([['Sec-WebSocket-Accept', r.fault === 'bad-accept' ? computeAcceptKey(KEY) : ZERO_ACCEPT]], 2);
  if (r.fault === 'empty-protocol') add([['Sec-WebSocket-Protocol', '']], 3);
  else if (r.fault === 'unoffered-protocol') add([['Sec-WebSocket-Protocol', 'Chat']], 3);
  else if (r.fault === 'two-protocols') add([['Sec-WebSocket-Protocol', 'chat, superchat']], 3);
  else if (r.protocol !== null) add([['Sec-WebSocket-Protocol', r.protocol]], 3);
  if (r.fault === 'unoffered-extension') add([['Sec-WebSocket-Extensions', 'x-foo']], 4);
  else if (r.deflate !== null) {
    const d = r.deflate;
    const params = [recase('permessage-deflate', d.bits)];
    if (d.server) params.push(recase('server_no_context_takeover', d.bits));
    if (d.client) params.push(recase('client_no_context_takeover', d.bits));
    if (d.clientBits !== null) params.push(`${recase('client_max_window_bits', d.bits)}=${d.clientBits}`);
    add([['Sec-WebSocket-Extensions', params.join(`${d.pad};${d.pad}`)]], 4);
  }
  const ordered = fields.sort((a, b) => a[0] - b[0]);
  const version = r.fault === 'http-1.0' ? '1.0' : '1.1';
  return `HTTP/${version} 101 Switching Protocols\r\n${ordered.map(([, [n, v]], i) => `${n}:${r.pads[i % 8]}${v}${r.pads[(i + 2) % 8]}\r\n`).join('')}\r\n`;
}

describe('client: any 101 the parser accepts, in any case and layout', () => {
  it('opens on a valid answer and fails with the right code on a bad one, never throwing', () => {
    fc.assert(
      fc.property(upgradeResponse, fc.nat(), (r, cut) => {
        const client = clientConnection('ws://server.example.com/chat', {
          random: () => undefined,
          protocols: ['chat', 'superchat'],
          extensions: [permessageDeflate()],
        });
        const request = client.takeOutput();
        expect(text((request[0] as { data: Uint8Array }).data)).toContain(`Sec-WebSocket-Key: ${ZERO_KEY}\r\n`);
        const bytes = latin1(buildResponse(r));
        const at = cut % (bytes.length + 1);
        const events: Event[] = [];
        for (const chunk of [bytes.subarray(0, at), bytes.subarray(at)]) {
          client.receiveData(chunk.slice());
          events.push(...client.takeEvents());
        }
        const code = RESPONSE_FAULTS[r.fault];
        if (code !== null) {
          expect(events.map((e) => e.type)).toEqual(['protocol-error', 'closed']);
          expect(events[0]).toMatchObject({ code });
          return;
        }
        expect(events).toEqual([
          expect.objectContaining({
            type: 'open',
            protocol: r.protocol,
            extensions: r.deflate === null ? [] : ['permessage-deflate'],
          }),
        ]);
      }),
      { numRuns: 400 },
    );
  });

  it('the review finding: `Upgrade: h2c, websocket` and an empty Sec-WebSocket-Protocol fail the handshake at every split', () => {
    const base = `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ZERO_ACCEPT}\r\n`;
    const cases: Array<[string, string[], string]> = [
      [`${base}Upgrade: h2c, websocket\r\n\r\n`, [], 'BAD_UPGRADE'],
      [`${base}Upgrade: websocket\r\nSec-WebSocket-Protocol:\r\n\r\n`, ['chat'], 'UNEXPECTED_PROTOCOL'],
      [`${base}Upgrade: websocket\r\nSec-WebSocket-Protocol: chat\r\n\r\n`, [], 'UNEXPECTED_PROTOCOL'],
    ];
    for (const [response, protocols, code] of cases) {
      for (const chunks of splits(ascii(response))) {
        const client = clientConnection('ws://h/', { random: () => undefined, protocols });
        client.takeOutput();
        const events: Event[] = [];
        for (const chunk of chunks) {
          client.receiveData(chunk.slice());
          events.push(...client.takeEvents());
        }
        expect(events.map((e) => e.type)).toEqual(['protocol-error', 'closed']);
        expect(events[0]).toMatchObject({ code });
        // §4.1: fail the connection, no Close frame; TCP is dropped.
        expect(client.takeOutput().map((o) => o.type)).toEqual(['destroy']);
      }
    }
  });
});

describe('HttpHeaders names', () => {
  it('match ignoring ASCII case only, for get, has, delete and toObject', () => {
    const headers = new HttpHeaders([
      ['Sec-WebSocket-Extensions', 'a'],
      ['SEC-WEBSOCKET-EXTENSIONS', 'b'],
    ]);
    expect(headers.get('sec-websocket-extensions')).toBe('a, b');
    expect(headers.toObject()).toEqual({ 'sec-websocket-extensions': 'a, b' });
    // A name with U+212A is not a field name (not a token), so never the same as one.
    expect(headers.has('\u212Aey')).toBe(false);
    headers.delete('Sec-Websocket-Extensions');
    expect(headers.size).toBe(0);
  });
});
