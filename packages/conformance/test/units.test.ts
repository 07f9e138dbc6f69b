// The suite's own parts, without sockets: case registry, UTF-8 validator, frames, judging rules,
// expected-file comparison.
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import {
  UTF8_GROUPS,
  Utf8Validator,
  allCases,
  combine,
  compareIds,
  isValidUtf8,
  matchesPattern,
  selectCases,
  sectionOf,
} from '../src/index.ts';
import { encodeFrame, encodeHeader, closePayload } from '../src/frame.ts';
import { FrameReader } from '../src/frame-reader.ts';
import { repeatTo } from '../src/bytes.ts';
import { compareWithExpected, formatExpected, toExpected, type RunReport } from '../src/report.ts';
import { missingResult, type CaseResult } from '../src/case.ts';
import { parseArgs } from '../src/cli.ts';
import { fillTemplate } from '../src/peer-process.ts';
import { DeflateCodec, acceptDeflateOffer, checkDeflateResponse, formatOffer } from '../src/deflate.ts';

describe('case registry', () => {
  it('has Autobahn’s case counts per section (517 cases in 1–7, 9, 10, 12, 13) plus our 3 masking cases', () => {
    const counts: Record<string, number> = {};
    for (const d of allCases()) counts[sectionOf(d.id)] = (counts[sectionOf(d.id)] ?? 0) + 1;
    expect(counts).toEqual({
      '1': 16,
      '2': 11,
      '3': 7,
      '4': 10,
      '5': 20,
      '6': 145,
      '7': 37,
      '9': 54,
      '10': 1,
      '12': 90,
      '13': 126,
      '14': 3,
    });
    expect(allCases({ autobahnOnly: true })).toHaveLength(517);
  });

  it('has unique ids in ascending order', () => {
    const ids = allCases().map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort(compareIds)).toEqual(ids);
  });

  it('keeps ids and count in quick mode, with smaller 9.x sizes', () => {
    const full = allCases();
    const quick = allCases({ quick: true });
    expect(quick.map((d) => d.id)).toEqual(full.map((d) => d.id));
    expect(full.find((d) => d.id === '9.1.6')!.description).toContain('16M');
    expect(quick.find((d) => d.id === '9.1.6')!.description).toContain('1M');
    expect(quick.find((d) => d.id === '9.7.1')!.description).toContain('Send 100 ');
  });

  it('selects cases by pattern', () => {
    const defs = allCases();
    expect(matchesPattern('6.4.1', '6.4.*')).toBe(true);
    expect(matchesPattern('6.4.1', '6.4')).toBe(true);
    expect(matchesPattern('6.40.1', '6.4')).toBe(false);
    expect(matchesPattern('1.1.1', '1.1.1')).toBe(true);
    expect(matchesPattern('7.13.2', '7.*.2')).toBe(true);
    expect(selectCases(defs, ['2'], ['2.1*']).map((d) => d.id)).toEqual([
      '2.2',
      '2.3',
      '2.4',
      '2.5',
      '2.6',
      '2.7',
      '2.8',
      '2.9',
    ]);
    expect(selectCases(defs, ['9.*'])).toHaveLength(54);
  });
});

describe('permessage-deflate negotiation and codec', () => {
  const offer = { clientMaxWindowBits: true as const, serverNoContextTakeover: true, serverMaxWindowBits: 10 };
  it('formats offers', () => {
    expect(formatOffer(offer)).toBe(
      'permessage-deflate; client_max_window_bits; server_no_context_takeover; server_max_window_bits=10',
    );
  });
  it('accepts a valid response and rejects invalid ones', () => {
    expect(checkDeflateResponse(undefined, [offer])).toBeNull();
    expect(
      checkDeflateResponse(
        'permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_max_window_bits=12',
        [offer],
      ),
    ).toMatchObject({ serverMaxWindowBits: 9, clientMaxWindowBits: 12, serverNoContextTakeover: true });
    expect(checkDeflateResponse('permessage-deflate; server_max_window_bits=10', [offer])).toMatch(
      /server_no_context_takeover/,
    );
    expect(
      checkDeflateResponse('permessage-deflate; server_no_context_takeover; server_max_window_bits=11', [offer]),
    ).toMatch(/server_max_window_bits/);
    expect(
      checkDeflateResponse(
        'permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits',
        [offer],
      ),
    ).toMatch(/8\.\.15/);
    expect(checkDeflateResponse('permessage-deflate; client_max_window_bits=10', [{}])).toMatch(/not in the offer/);
    expect(checkDeflateResponse('permessage-deflate; foo', [{}])).toMatch(/unknown/);
    expect(checkDeflateResponse('permessage-deflate', [])).toMatch(/did not offer/);
  });
  it('answers offers as the fuzzing server', () => {
    expect(
      acceptDeflateOffer('permessage-deflate; client_max_window_bits', {
        clientNoContextTakeover: true,
        clientMaxWindowBits: 9,
      })?.header,
    ).toBe('permessage-deflate; client_no_context_takeover; client_max_window_bits=9');
    expect(
      acceptDeflateOffer('x-foo, permessage-deflate; server_max_window_bits=8, permessage-deflate', {
        clientNoContextTakeover: false,
        clientMaxWindowBits: 0,
      })?.header,
    ).toBe('permessage-deflate');
    expect(acceptDeflateOffer(undefined, { clientNoContextTakeover: false, clientMaxWindowBits: 0 })).toBeNull();
  });
  it('round-trips messages with and without context takeover', () => {
    for (const nct of [false, true]) {
      const agreed = {
        serverNoContextTakeover: nct,
        clientNoContextTakeover: nct,
        serverMaxWindowBits: 9,
        clientMaxWindowBits: 9,
        header: '',
      };
      const client = new DeflateCodec(agreed, 'client');
      const server = new DeflateCodec(agreed, 'server');
      for (let i = 0; i < 5; i++) {
        const msg = Buffer.from(repeatTo(`message ${i} `, 3000));
        expect(Buffer.from(server.decompress(client.compress(msg)))).toEqual(msg);
      }
    }
  });
});

describe('UTF-8 validator', () => {
  it('agrees with the published validity of every 6.5–6.23 vector', () => {
    for (const group of UTF8_GROUPS)
      for (const v of group.vectors)
        expect(isValidUtf8(v.bytes), `${group.title}: ${Buffer.from(v.bytes).toString('hex')}`).toBe(v.valid);
    const vectorCount = UTF8_GROUPS.reduce((n, g) => n + g.vectors.length, 0);
    expect(vectorCount).toBe(132);
  });

  it('agrees with a fatal TextDecoder on every code point and on all surrogates', () => {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const valid = (b: Uint8Array): boolean => {
      try {
        decoder.decode(b);
        return true;
      } catch {
        return false;
      }
    };
    const wrong: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp += cp < 0x10000 ? 1 : 97) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const bytes = Buffer.from(String.fromCodePoint(cp), 'utf8');
      if (!isValidUtf8(bytes)) wrong.push(cp.toString(16));
    }
    for (let s = 0xd800; s <= 0xdfff; s++) {
      const bytes = Uint8Array.of(0xe0 | (s >> 12), 0x80 | ((s >> 6) & 0x3f), 0x80 | (s & 0x3f));
      if (isValidUtf8(bytes) || valid(bytes)) wrong.push(`surrogate ${s.toString(16)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('fails fast: at the first byte that rules a sequence out, whatever the split', () => {
    const v = new Utf8Validator();
    expect(v.push(Buffer.from('cebae1bdb9cf83cebcceb5', 'hex'))).toBe(true);
    expect(v.push(Uint8Array.of(0xf4))).toBe(true); // could still be valid
    expect(v.complete).toBe(false);
    expect(v.push(Uint8Array.of(0x90))).toBe(false); // 0x110000: out of range at byte 2
    expect(v.push(Uint8Array.of(0x41))).toBe(false); // sticky
    v.reset();
    expect(v.push(Uint8Array.of(0xed))).toBe(true);
    expect(v.push(Uint8Array.of(0xa0))).toBe(false); // surrogate at byte 2
  });
});

describe('frames', () => {
  it('encodes each payload length form, with and without mask', () => {
    expect(Buffer.from(encodeHeader(0x1, true, 0, 125, null)).toString('hex')).toBe('817d');
    expect(Buffer.from(encodeHeader(0x2, false, 5, 126, null)).toString('hex')).toBe('52' + '7e007e');
    expect(Buffer.from(encodeHeader(0x9, true, 0, 65536, null)).toString('hex')).toBe('897f' + '0000000000010000');
    const frame = encodeFrame({ opcode: 0x1, payload: 'Hi' }, Uint8Array.of(1, 2, 3, 4));
    expect(Buffer.from(frame).toString('hex')).toBe(
      '8182' + '01020304' + (0x48 ^ 1).toString(16) + (0x69 ^ 2).toString(16).padStart(2, '0'),
    );
    expect(Buffer.from(closePayload(1000, 'ok')).toString('hex')).toBe('03e86f6b');
    expect(Buffer.from(closePayload(undefined, 'a')).toString('hex')).toBe('61');
  });

  it('reads frames from any split of the stream, unmasking', () => {
    const key = Uint8Array.of(9, 8, 7, 6);
    const stream = Buffer.concat([
      encodeFrame({ opcode: 0x1, payload: repeatTo('*', 300) }, key),
      encodeFrame({ opcode: 0xa, fin: true, rsv: 2, payload: 'x' }, null),
    ]);
    for (let step = 1; step <= 7; step++) {
      const reader = new FrameReader(1 << 20);
      const frames = [];
      for (let at = 0; at < stream.length; at += step) {
        reader.push(stream.subarray(at, at + step));
        for (let r = reader.next(); r; r = reader.next()) if (r.type === 'frame') frames.push(r.frame);
      }
      expect(frames.map((f) => [f.opcode, f.rsv, f.masked, Buffer.from(f.payload).toString()])).toEqual([
        [1, 0, true, '*'.repeat(300)],
        [10, 2, false, 'x'],
      ]);
    }
  });

  it('refuses a frame longer than its limit before buffering it', () => {
    const reader = new FrameReader(1000);
    reader.push(encodeHeader(0x2, true, 0, 2 ** 40, null));
    expect(reader.next()).toEqual({ type: 'too-large', length: 2 ** 40 });
  });
});

describe('judging (Autobahn’s two verdicts folded into one outcome)', () => {
  const v = (
    behavior: 'OK' | 'NON-STRICT' | 'FAILED' | 'INFORMATIONAL',
    behaviorClose: 'OK' | 'FAILED' | 'UNCLEAN' | 'WRONG CODE' | 'FAILED BY CLIENT' | 'INFORMATIONAL',
  ) => combine({ behavior, behaviorClose, result: 'r', resultClose: 'c' }).outcome;
  it('fails a case closed by the wrong side or uncleanly where clean is required', () => {
    expect(v('OK', 'FAILED')).toBe('FAILED');
    expect(v('OK', 'UNCLEAN')).toBe('FAILED');
    expect(v('NON-STRICT', 'UNCLEAN')).toBe('FAILED');
  });
  it('makes a wrong close code or a client-side TCP close NON-STRICT', () => {
    expect(v('OK', 'WRONG CODE')).toBe('NON-STRICT');
    expect(v('OK', 'FAILED BY CLIENT')).toBe('NON-STRICT');
  });
  it('keeps INFORMATIONAL and the plain outcomes', () => {
    expect(v('INFORMATIONAL', 'INFORMATIONAL')).toBe('INFORMATIONAL');
    expect(v('OK', 'OK')).toBe('OK');
    expect(v('NON-STRICT', 'OK')).toBe('NON-STRICT');
    expect(v('FAILED', 'OK')).toBe('FAILED');
  });
});

describe('expected results', () => {
  const defs = allCases().slice(0, 3);
  const result = (i: number, outcome: CaseResult['outcome']): CaseResult => ({
    ...missingResult(defs[i]!, 'x'),
    outcome,
    reason: `why ${outcome}`,
  });
  const report = (results: CaseResult[]): RunReport => ({
    tool: '@ws/conformance',
    formatVersion: 1,
    role: 'server',
    agent: 'a',
    target: 't',
    quick: true,
    startedAt: '2026-11-25T00:00:00.000Z',
    durationMs: 1,
    counts: { OK: 0, 'NON-STRICT': 0, INFORMATIONAL: 0, UNIMPLEMENTED: 0, FAILED: 0 },
    cases: results,
  });

  it('flags a case that got worse, notes one that improved, expects unlisted cases OK', () => {
    const expected = toExpected(report([result(0, 'OK'), result(1, 'NON-STRICT')]), 'node');
    expect(expected.cases['1.1.2']).toEqual({
      outcome: 'NON-STRICT',
      closeCode: null,
      clean: false,
      reason: 'why NON-STRICT',
    });
    const c = compareWithExpected([result(0, 'NON-STRICT'), result(1, 'OK'), result(2, 'FAILED')], expected);
    expect(c.worse.map((w) => `${w.id} ${w.expected}→${w.actual}`)).toEqual(['1.1.1 OK→NON-STRICT', '1.1.3 OK→FAILED']);
    expect(c.better.map((w) => w.id)).toEqual(['1.1.2']);
    expect(c.unlisted).toEqual(['1.1.3']);
  });

  it('is strict by default; tolerates NON-STRICT on a timing-dependent case only when asked; FAILED is always worse', () => {
    const racy = (outcome: CaseResult['outcome']): CaseResult => ({
      ...missingResult(allCases().find((d) => d.id === '3.2')!, 'x'),
      outcome,
      timingDependent: true,
    });
    const expected = toExpected(report([racy('OK')]), 'node');
    expect(compareWithExpected([racy('NON-STRICT')], expected).worse.map((w) => w.id)).toEqual(['3.2']);
    expect(compareWithExpected([racy('NON-STRICT')], expected, true).worse).toEqual([]);
    expect(compareWithExpected([racy('FAILED')], expected, true).worse.map((w) => w.id)).toEqual(['3.2']);
    expect(compareWithExpected([racy('FAILED')], expected).worse.map((w) => w.id)).toEqual(['3.2']);
    expect(
      allCases()
        .filter((d) => d.timingDependent)
        .map((d) => d.id),
    ).toEqual(['3.2', '3.3', '3.4', '4.1.3', '4.1.4', '4.1.5', '4.2.3', '4.2.4', '4.2.5', '5.15', '14.1.2']);
  });

  it('writes one line per case, and reads back the same', () => {
    const expected = toExpected(report([result(0, 'OK'), result(1, 'FAILED')]), 'node');
    const text = formatExpected(expected);
    expect(JSON.parse(text)).toEqual(expected);
    expect(text).toContain('\n    "1.1.1": {"outcome":"OK","closeCode":null,"clean":false},\n');
  });

  it('treats INFORMATIONAL as no worse than OK', () => {
    const expected = toExpected(report([result(0, 'INFORMATIONAL')]), 'node');
    expect(compareWithExpected([result(0, 'OK')], expected).worse).toEqual([]);
    expect(
      compareWithExpected([result(0, 'INFORMATIONAL')], toExpected(report([result(0, 'OK')]), 'node')).worse,
    ).toEqual([]);
  });
});

describe('command line', () => {
  it('parses targets and options, ignoring a stray `--` from `pnpm run x -- …`', () => {
    const a = parseArgs([
      '--',
      '--server-cmd',
      'pnpm run echo:node --port {port}',
      '--quick',
      '--cases=1.*,2',
      '--runtime',
      'node',
    ]);
    expect(a.serverCmd).toBe('pnpm run echo:node --port {port}');
    expect(a.quick).toBe(true);
    expect(a.cases).toEqual(['1.*', '2']);
    expect(a.runtime).toBe('node');
    expect(fillTemplate('x --url {url} --agent {agent} {other}', { url: 'ws://h:1', agent: 'n' })).toBe(
      'x --url ws://h:1 --agent n {other}',
    );
    expect(fillTemplate('x --agent {agent}', { agent: "it's a b" })).toBe(`x --agent 'it'\\''s a b'`);
  });

  it('rejects no target, two targets and unknown options', () => {
    expect(() => parseArgs([])).toThrow(/exactly one/);
    expect(() => parseArgs(['--url', 'ws://x', '--serve'])).toThrow(/exactly one/);
    expect(() => parseArgs(['--url', 'ws://x', '--bogus', '1'])).toThrow(/unknown option/);
    expect(() => parseArgs(['--url', 'ws://x', '--update-expected'])).toThrow(/--runtime or --expected/);
    expect(parseArgs(['list']).command).toBe('list');
  });
});
