// 6 UTF-8 handling: valid text in any fragmentation is echoed; invalid text fails the connection
// with 1007, as soon as the invalid byte arrives (6.4, "fail fast": a peer that only notices at the
// end of the message is NON-STRICT); then the UTF-8 decoder vectors (Markus Kuhn's
// UTF-8-test.txt, as the Autobahn|Testsuite groups them) as 6.5–6.23, one case per vector.
import { Buffer } from 'node:buffer';
import { concat, hex, toBytes } from '../bytes.ts';
import type { CaseDef } from '../case.ts';
import { Close, Op } from '../frame.ts';
import { Utf8Validator } from '../utf8.ts';
import { NORMAL_CLOSE, peerFailsFatal, text, timeout } from './helpers.ts';

const KOSME = hex('cebae1bdb9cf83cebcceb5'); // κόσμε
const GREETING = 'Hello-µ@ßöäüàá-UTF-8!!';
/** κόσμε, then U+D800 encoded (a surrogate, invalid at its 2nd byte, the message's 13th), then "edited". */
const INVALID = concat([KOSME, hex('eda080'), toBytes('edited')]);

const echoed = (
  id: string,
  description: string,
  payload: Uint8Array | string,
  send: (run: Parameters<CaseDef['start']>[0]) => void,
): CaseDef => ({
  id,
  description,
  expectation: "The message is echo'ed back to us.",
  expected: { OK: [text(payload)] },
  close: NORMAL_CLOSE,
  start(run) {
    send(run);
    run.closeAfter(1);
  },
});

// ---- 6.1–6.3 ------------------------------------------------------------------------------------
const basics: CaseDef[] = [
  echoed('6.1.1', 'Send text message of length 0.', '', (run) => run.sendFrame({ opcode: Op.text })),
  echoed('6.1.2', 'Send fragmented text message, 3 fragments each of length 0.', '', (run) => {
    run.sendFrame({ opcode: Op.text, fin: false });
    run.sendFrame({ opcode: Op.continuation, fin: false });
    run.sendFrame({ opcode: Op.continuation });
  }),
  echoed(
    '6.1.3',
    'Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.',
    'middle frame payload',
    (run) => {
      run.sendFrame({ opcode: Op.text, fin: false });
      run.sendFrame({ opcode: Op.continuation, fin: false, payload: 'middle frame payload' });
      run.sendFrame({ opcode: Op.continuation });
    },
  ),
  echoed('6.2.1', `Send a valid UTF-8 text message in one fragment. MESSAGE: ${GREETING}`, GREETING, (run) =>
    run.sendMessage(false, toBytes(GREETING)),
  ),
  echoed(
    '6.2.2',
    `Send a valid UTF-8 text message in two fragments, fragmented on UTF-8 code point boundary. MESSAGE: ${GREETING}`,
    GREETING,
    (run) => {
      run.sendFrame({ opcode: Op.text, fin: false, payload: 'Hello-µ@ßöä' });
      run.sendFrame({ opcode: Op.continuation, payload: 'üàá-UTF-8!!' });
    },
  ),
  echoed(
    '6.2.3',
    `Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends. MESSAGE: ${GREETING}`,
    GREETING,
    (run) => run.sendMessage(false, toBytes(GREETING), 1),
  ),
  echoed(
    '6.2.4',
    `Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends. MESSAGE: ${Buffer.from(KOSME).toString('hex')}`,
    KOSME,
    (run) => run.sendMessage(false, KOSME, 1),
  ),
  ...[0, 1].map(
    (fragmented): CaseDef => ({
      id: `6.3.${fragmented + 1}`,
      description: fragmented
        ? `Send invalid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends. MESSAGE: ${Buffer.from(INVALID).toString('hex')}`
        : `Send invalid UTF-8 text message unfragmented. MESSAGE: ${Buffer.from(INVALID).toString('hex')}`,
      expectation: 'The connection is failed immediately, since the payload is not valid UTF-8.',
      expected: { OK: [] },
      close: peerFailsFatal(Close.invalidPayload),
      start(run) {
        run.sendMessage(false, INVALID, fragmented ? 1 : 0);
        run.killAfter(1);
      },
    }),
  ),
];

// ---- 6.4 fail fast ----------------------------------------------------------------------------
/** κόσμε, then F4 90 80 80 (0x110000: beyond U+10FFFF, invalid at its 2nd byte, the 13th), then "edited". */
const FAST = { p1: KOSME, p2: hex('f4908080'), p3: toBytes('edited') };
const FAST_ALL = concat([FAST.p1, FAST.p2, FAST.p3]);
const FAIL_FAST_EXPECTATION =
  'The first part is accepted, we expect to timeout on the first wait. The 2nd part should be rejected immediately (fail fast on UTF-8). If we timeout, we expect the connection is failed at least then, since the complete message payload is not valid UTF-8.';

function failFast(
  id: string,
  description: string,
  parts: [Uint8Array, Uint8Array, Uint8Array],
  oneFrame: boolean,
): CaseDef {
  return {
    id,
    description,
    expectation: FAIL_FAST_EXPECTATION,
    expected: { OK: [timeout('A')], 'NON-STRICT': [timeout('A'), timeout('B')] },
    nonStrictWhy:
      'the invalid UTF-8 was detected only once the frame or message was complete, not at the first invalid byte (fail fast).',
    close: peerFailsFatal(Close.invalidPayload),
    start(run) {
      // As three frames, or as three pieces of one frame (the peer must validate inside a frame).
      let pieces: Uint8Array[];
      if (oneFrame) {
        const frame = run.conn.encode({ opcode: Op.text, payload: FAST_ALL });
        const header = frame.length - FAST_ALL.length;
        const a = header + parts[0].length;
        const b = a + parts[1].length;
        pieces = [frame.subarray(0, a), frame.subarray(a, b), frame.subarray(b)];
      } else {
        pieces = parts.map((payload, i) =>
          run.conn.encode({ opcode: i === 0 ? Op.text : Op.continuation, fin: i === 2, payload }),
        );
      }
      run.sendRaw(pieces[0]!);
      run.continueLater(1, () => {
        if (!run.isOpen) return;
        run.note(timeout('A'));
        run.sendRaw(pieces[1]!);
        run.continueLater(1, () => {
          if (!run.isOpen) return;
          run.note(timeout('B'));
          run.sendRaw(pieces[2]!);
          run.killAfter(1);
        });
      });
    },
  };
}

const upToInvalid: [Uint8Array, Uint8Array, Uint8Array] = [
  FAST_ALL.subarray(0, 12),
  FAST_ALL.subarray(12, 13),
  FAST_ALL.subarray(13),
];
const failFastCases: CaseDef[] = [
  failFast(
    '6.4.1',
    'Send invalid UTF-8 text message in 3 fragments (frames). First frame payload is valid, then wait, then 2nd frame which contains the payload making the sequence invalid, then wait, then 3rd frame with rest. PART2 is 0x110000 in the UTF-8 scheme: an out-of-range code point.',
    [FAST.p1, FAST.p2, FAST.p3],
    false,
  ),
  failFast(
    '6.4.2',
    'Same as Case 6.4.1, but in 2nd frame, we send only up to and including the octet making the complete payload invalid.',
    upToInvalid,
    false,
  ),
  failFast(
    '6.4.3',
    'Same as Case 6.4.1, but we send message not in 3 frames, but in 3 chops of the same message frame.',
    [FAST.p1, FAST.p2, FAST.p3],
    true,
  ),
  failFast(
    '6.4.4',
    'Same as Case 6.4.2, but we send message not in 3 frames, but in 3 chops of the same message frame.',
    upToInvalid,
    true,
  ),
];

// ---- 6.5–6.23 decoder vectors -------------------------------------------------------------------
export interface Utf8Group {
  title: string;
  vectors: { valid: boolean; bytes: Uint8Array }[];
}

const all = (valid: boolean, ...hexes: string[]) => hexes.map((h) => ({ valid, bytes: hex(h) }));
const bytesOf = (...codes: number[]): Uint8Array => Uint8Array.from(codes);

function prefixes(): Utf8Group['vectors'] {
  const v = new Utf8Validator();
  return Array.from({ length: KOSME.length }, (_, i) => {
    v.reset();
    const bytes = KOSME.subarray(0, i + 1);
    return { valid: v.push(bytes) && v.complete, bytes };
  });
}

function lonelyStarts(): Utf8Group['vectors'] {
  const ranges: [number, number][] = [
    [0xc0, 0xdf],
    [0xe0, 0xef],
    [0xf0, 0xf7],
    [0xf8, 0xfb],
    [0xfc, 0xfd],
  ];
  return ranges.map(([from, to]) => {
    const codes: number[] = [];
    for (let c = from; c < to; c++) codes.push(c, 0x20);
    return { valid: false, bytes: bytesOf(...codes) };
  });
}

function nonCharacters(): Utf8Group['vectors'] {
  const out = all(true, 'efbfbe', 'efbfbf');
  for (const z1 of [0xf0, 0xf1, 0xf2, 0xf3, 0xf4]) {
    for (const z2 of [0x8f, 0x9f, 0xaf, 0xbf]) {
      if (z1 === 0xf4 && z2 !== 0x8f) continue; // beyond U+10FFFF
      for (const z3 of [0xbe, 0xbf]) {
        if (z1 === 0xf0 && z2 === 0x8f) continue; // overlong
        out.push({ valid: true, bytes: bytesOf(z1, z2, 0xbf, z3) });
      }
    }
  }
  return out;
}

const MISSING_LAST = [
  'c0',
  'e080',
  'f08080',
  'f8808080',
  'fc80808080',
  'df',
  'efbf',
  'f7bfbf',
  'fbbfbfbf',
  'fdbfbfbfbf',
];

/** The vector groups, numbered 6.5 onwards in this order. */
export const UTF8_GROUPS: readonly Utf8Group[] = [
  {
    title: 'Some valid UTF-8 sequences',
    vectors: [
      ...all(
        true,
        '68656c6c6f24776f726c64',
        '68656c6c6fc2a2776f726c64',
        '68656c6c6fe282ac776f726c64',
        '68656c6c6ff0a4ada2776f726c64',
      ),
      { valid: true, bytes: KOSME },
    ],
  },
  { title: 'All prefixes of a valid UTF-8 string that contains multi-byte code points', vectors: prefixes() },
  { title: 'First possible sequence of a certain length', vectors: all(true, '00', 'c280', 'e0a080', 'f0908080') },
  {
    title: 'First possible sequence length 5/6 (invalid codepoints)',
    vectors: all(false, 'f888808080', 'fc8480808080'),
  },
  { title: 'Last possible sequence of a certain length', vectors: all(true, '7f', 'dfbf', 'efbfbf', 'f48fbfbf') },
  {
    title: 'Last possible sequence length 4/5/6 (invalid codepoints)',
    vectors: all(false, 'f7bfbfbf', 'fbbfbfbfbf', 'fdbfbfbfbfbf'),
  },
  {
    title: 'Other boundary conditions',
    vectors: [...all(true, 'ed9fbf', 'ee8080', 'efbfbd', 'f48fbfbf'), ...all(false, 'f4908080')],
  },
  {
    title: 'Unexpected continuation bytes',
    vectors: [
      ...all(false, '80', 'bf', '80bf', '80bf80', '80bf80bf', '80bf80bf80', '80bf80bf80bf'),
      { valid: false, bytes: bytesOf(...Array.from({ length: 0xbf - 0x80 }, (_, i) => 0x80 + i)) },
    ],
  },
  { title: 'Lonely start characters', vectors: lonelyStarts() },
  { title: 'Sequences with last continuation byte missing', vectors: all(false, ...MISSING_LAST) },
  { title: 'Concatenation of incomplete sequences', vectors: all(false, MISSING_LAST.join('')) },
  { title: 'Impossible bytes', vectors: all(false, 'fe', 'ff', 'fefeffff') },
  {
    title: 'Examples of an overlong ASCII character',
    vectors: all(false, 'c0af', 'e080af', 'f08080af', 'f8808080af', 'fc80808080af'),
  },
  {
    title: 'Maximum overlong sequences',
    vectors: all(false, 'c1bf', 'e09fbf', 'f08fbfbf', 'f887bfbfbf', 'fc83bfbfbfbf'),
  },
  {
    title: 'Overlong representation of the NUL character',
    vectors: all(false, 'c080', 'e08080', 'f0808080', 'f880808080', 'fc8080808080'),
  },
  {
    title: 'Single UTF-16 surrogates',
    vectors: all(false, 'eda080', 'edadbf', 'edae80', 'edafbf', 'edb080', 'edbe80', 'edbfbf'),
  },
  {
    title: 'Paired UTF-16 surrogates',
    vectors: all(
      false,
      'eda080edb080',
      'eda080edbfbf',
      'edadbfedb080',
      'edadbfedbfbf',
      'edae80edb080',
      'edae80edbfbf',
      'edafbfedb080',
      'edafbfedbfbf',
    ),
  },
  { title: 'Non-character code points (valid UTF-8)', vectors: nonCharacters() },
  {
    title: 'Unicode specials (i.e. replacement char)',
    vectors: all(true, 'efbfb9', 'efbfba', 'efbfbb', 'efbfbc', 'efbfbd', 'efbfbe', 'efbfbf'),
  },
];

/** Subsection titles for 6.x (for reports). */
export const SECTION6_TITLES: Readonly<Record<string, string>> = {
  '6.1': 'Valid UTF-8 with zero payload fragments',
  '6.2': 'Valid UTF-8 unfragmented, fragmented on code-points and within code-points',
  '6.3': 'Invalid UTF-8 differently fragmented',
  '6.4': 'Fail-fast on invalid UTF-8',
  ...Object.fromEntries(UTF8_GROUPS.map((g, i) => [`6.${5 + i}`, g.title])),
};

const vectorCases: CaseDef[] = UTF8_GROUPS.flatMap((group, g) =>
  group.vectors.map(({ valid, bytes }, v): CaseDef => {
    const payloadHex = Buffer.from(bytes).toString('hex');
    return {
      id: `6.${5 + g}.${v + 1}`,
      description: `Send a text message with payload which is ${valid ? '' : 'not '}valid UTF-8 in one fragment. Payload: 0x${payloadHex}`,
      expectation: valid
        ? "The message is echo'ed back to us."
        : 'The connection is failed immediately, since the payload is not valid UTF-8.',
      expected: { OK: valid ? [text(bytes)] : [] },
      close: valid ? NORMAL_CLOSE : peerFailsFatal(Close.invalidPayload),
      start(run) {
        run.sendMessage(false, bytes);
        run.killAfter(0.5);
      },
    };
  }),
);

export const section6: CaseDef[] = [...basics, ...failFastCases, ...vectorCases];
