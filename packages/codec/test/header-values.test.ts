import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  formatExtensionHeader,
  parseExtensionHeader,
  parseTokenList,
  parseUpgradeList,
} from '../src/handshake/header-values.ts';
import type { ExtensionOffer } from '../src/extensions/extension.ts';

const usage = (code: string) => expect.objectContaining({ code });

describe('parseTokenList (RFC 9110 §5.6.1)', () => {
  it('splits on commas, trims OWS and skips empty elements', () => {
    expect(parseTokenList('chat, superchat')).toEqual(['chat', 'superchat']);
    expect(parseTokenList(' keep-alive ,\tUpgrade\t')).toEqual(['keep-alive', 'Upgrade']);
    expect(parseTokenList(',, a ,, ,b,')).toEqual(['a', 'b']);
    expect(parseTokenList('')).toEqual([]);
    expect(parseTokenList(' , ,\t')).toEqual([]);
    expect(parseTokenList("!#$%&'*+-.^_`|~09azAZ")).toEqual(["!#$%&'*+-.^_`|~09azAZ"]);
  });

  it('returns null when an element is not a token', () => {
    for (const bad of ['a b', 'a;b', 'a/b', '"a"', 'a, b c', 'a,(b)', 'é', 'a\u0000', 'a=1', '@', 'a,\nb']) {
      expect(parseTokenList(bad), bad).toBeNull();
    }
    expect(parseTokenList(null as unknown as string)).toBeNull();
  });

  it('takes linear time on pathological input', () => {
    // A quadratic scan would not finish 1 MiB within the test timeout.
    expect(parseTokenList(','.repeat(1024 * 1024))).toEqual([]);
    expect(parseTokenList('a,'.repeat(512 * 1024))?.length).toBe(512 * 1024);
    expect(parseTokenList(' '.repeat(1024 * 1024) + 'x y')).toBeNull();
  });

  it('round-trips token lists', () => {
    const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,10}$/);
    const ows = fc.constantFrom('', ' ', '\t', '  ');
    fc.assert(
      fc.property(fc.array(fc.tuple(ows, token, ows), { maxLength: 8 }), (items) => {
        const text = items.map(([a, t, b]) => a + t + b).join(',');
        expect(parseTokenList(text)).toEqual(items.map(([, t]) => t));
      }),
    );
  });
});

describe('parseUpgradeList (RFC 9110 §7.8)', () => {
  it('accepts protocol-name/protocol-version elements', () => {
    expect(parseUpgradeList('websocket')).toEqual(['websocket']);
    expect(parseUpgradeList('HTTP/2.0, WebSocket , foo/1')).toEqual(['HTTP/2.0', 'WebSocket', 'foo/1']);
  });

  it('refuses bad syntax', () => {
    for (const bad of ['websocket/', '/1', 'a/b/c', 'a b', 'a / b']) expect(parseUpgradeList(bad), bad).toBeNull();
  });
});

describe('parseExtensionHeader (RFC 6455 §9.1)', () => {
  it('parses names, valueless and valued parameters', () => {
    expect(
      parseExtensionHeader('permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits=10'),
    ).toEqual([
      { name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: null }] },
      { name: 'permessage-deflate', params: [{ name: 'server_max_window_bits', value: '10' }] },
    ]);
    expect(parseExtensionHeader('foo')).toEqual([{ name: 'foo', params: [] }]);
    expect(parseExtensionHeader('foo;a;b=1 ; c = 2\t;\td')).toEqual([
      {
        name: 'foo',
        params: [
          { name: 'a', value: null },
          { name: 'b', value: '1' },
          { name: 'c', value: '2' },
          { name: 'd', value: null },
        ],
      },
    ]);
  });

  it('unescapes quoted values, which must then be tokens', () => {
    expect(parseExtensionHeader('x; a="10"')).toEqual([{ name: 'x', params: [{ name: 'a', value: '10' }] }]);
    expect(parseExtensionHeader('x; a="1\\0", y')).toEqual([
      { name: 'x', params: [{ name: 'a', value: '10' }] },
      { name: 'y', params: [] },
    ]);
    expect(parseExtensionHeader('x; a = "\\a\\b"')).toEqual([{ name: 'x', params: [{ name: 'a', value: 'ab' }] }]);
    // Commas, semicolons, spaces and quotes inside quotes are not separators, but are not token chars either.
    for (const bad of ['x; a="1,2"', 'x; a="1;2", y', 'x; a="a b"', 'x; a="\\""', 'x; a=""', 'x; a="\\,"']) {
      expect(parseExtensionHeader(bad), bad).toBeNull();
    }
  });

  it('skips empty list elements; an empty value is an empty list', () => {
    expect(parseExtensionHeader('')).toEqual([]);
    expect(parseExtensionHeader(' , ,')).toEqual([]);
    expect(parseExtensionHeader(', a ,, b;c ,')).toEqual([
      { name: 'a', params: [] },
      { name: 'b', params: [{ name: 'c', value: null }] },
    ]);
  });

  it('returns null on syntax errors', () => {
    for (const bad of [
      ';',
      'a;',
      'a;;b',
      'a; =1',
      'a; b=',
      'a; b= ;c',
      'a b',
      'a; b c',
      'a; b=1 2',
      'a; b="1',
      'a; b="1\\',
      'a; b="1"2',
      'a; b==1',
      '"a"',
      'a; "b"',
      'a=1',
      'a; b=1=2',
      'a; b="\u0001"',
      'a; b="\\\u0001"',
      'a; b="\u0100"',
      'é',
      'a;b=é',
      'a; b=(1)',
      'a/1',
    ]) {
      expect(parseExtensionHeader(bad), bad).toBeNull();
    }
    expect(parseExtensionHeader(undefined as unknown as string)).toBeNull();
  });

  it('takes linear time on pathological input', () => {
    expect(parseExtensionHeader(','.repeat(1024 * 1024))).toEqual([]);
    expect(parseExtensionHeader('a' + ';'.repeat(1024 * 1024))).toBeNull();
    expect(parseExtensionHeader('a' + '; b'.repeat(128 * 1024))?.[0]?.params.length).toBe(128 * 1024);
    expect(parseExtensionHeader('a; b="' + '\\c'.repeat(128 * 1024) + '"')?.[0]?.params[0]?.value?.length).toBe(
      128 * 1024,
    );
    expect(parseExtensionHeader('a; b="' + '\\c'.repeat(128 * 1024))).toBeNull();
    expect(parseExtensionHeader('a, '.repeat(128 * 1024))?.length).toBe(128 * 1024);
  });
});

describe('formatExtensionHeader', () => {
  it('writes names, parameters and values without quotes', () => {
    expect(formatExtensionHeader([])).toBe('');
    expect(
      formatExtensionHeader([
        {
          name: 'permessage-deflate',
          params: [
            { name: 'client_max_window_bits', value: null },
            { name: 'server_max_window_bits', value: '10' },
          ],
        },
        { name: 'x-foo', params: [] },
      ]),
    ).toBe('permessage-deflate; client_max_window_bits; server_max_window_bits=10, x-foo');
  });

  it('throws INVALID_ARGUMENT on what §9.1 cannot carry', () => {
    const bad = (offers: unknown) =>
      expect(() => formatExtensionHeader(offers as ExtensionOffer[])).toThrow(usage('INVALID_ARGUMENT'));
    bad('x');
    bad([null]);
    bad([{ name: 'a b', params: [] }]);
    bad([{ name: 'a', params: null }]);
    bad([{ name: 'a', params: [{ name: '', value: null }] }]);
    bad([{ name: 'a', params: [null] }]);
    bad([{ name: 'a', params: [{ name: 'b', value: 'two words' }] }]);
    bad([{ name: 'a', params: [{ name: 'b', value: '' }] }]);
  });

  it('parse(format(x)) = x', () => {
    const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,10}$/);
    const offer = fc.record({
      name: token,
      params: fc.array(fc.record({ name: token, value: fc.option(token, { nil: null }) }), { maxLength: 4 }),
    });
    fc.assert(
      fc.property(fc.array(offer, { maxLength: 5 }), (offers) => {
        expect(parseExtensionHeader(formatExtensionHeader(offers))).toEqual(offers);
      }),
    );
  });

  it('never throws on random input', () => {
    const unit = fc.constantFrom(...'ab=;, \t"\\\u0001é');
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 30 }), (text) => {
        const offers = parseExtensionHeader(text);
        // Whatever parses formats to something that parses to the same.
        if (offers !== null) expect(parseExtensionHeader(formatExtensionHeader(offers))).toEqual(offers);
        const list = parseTokenList(text);
        if (list !== null) expect(parseTokenList(list.join(','))).toEqual(list);
      }),
    );
  });
});
