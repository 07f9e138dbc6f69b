// 12 WebSocket Compression (different payloads) and 13 (different parameters): permessage-deflate
// (RFC 7692). Each case negotiates the extension, sends `count` messages one at a time (compressed
// with node:zlib, the compressed bytes fragmented as the case says) and expects each echoed
// unchanged; then a clean close. A peer that does not negotiate the extension is UNIMPLEMENTED; a
// server whose accepted parameters do not fit the offer fails the opening handshake (FAILED). As
// the fuzzing server we accept the client's offer, asking for 13's parameters of the client.
// Autobahn sends 1000 messages per case; we send 50 (3 with `quick`), with the same sizes.
import { equalBytes } from '../bytes.ts';
import type { CaseDef, CaseRun } from '../case.ts';
import { Close } from '../frame.ts';
import type { DeflateCaseSpec, DeflateOffer } from '../deflate.ts';
import { KiB, NORMAL_CLOSE } from './helpers.ts';

export interface DeflateSectionOptions {
  quick?: boolean;
}

/** Autobahn's (message size, fragment size) series; 0: one frame. */
const SERIES: readonly [number, number][] = [
  [16, 0],
  [64, 0],
  [256, 0],
  [KiB, 0],
  [4 * KiB, 0],
  [8 * KiB, 0],
  [16 * KiB, 0],
  [32 * KiB, 0],
  [64 * KiB, 0],
  [128 * KiB, 0],
  [8 * KiB, 256],
  [16 * KiB, 256],
  [32 * KiB, 256],
  [64 * KiB, 256],
  [128 * KiB, 256],
  [128 * KiB, KiB],
  [128 * KiB, 4 * KiB],
  [128 * KiB, 32 * KiB],
];

const CORPUS_SIZE = 256 * KiB;

/** Deterministic pseudo-random numbers (a corpus must be the same in every run). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0);
}

function asciiCorpus(make: (rand: () => number) => string, seed: number): Uint8Array {
  const rand = lcg(seed);
  let s = '';
  while (s.length < CORPUS_SIZE) s += make(rand);
  return new TextEncoder().encode(s.slice(0, CORPUS_SIZE));
}

const WORDS =
  'the of and to a in that it was he for on are as with his they at be this from have or by one had not but what all were when we there can an your which their said if do will each about how up out them then she many some so these would other into has more her two like him see time could no make than first been its who now people my made over did down only way find use may water long little very after words called just where most know'.split(
    ' ',
  );

/** Payload kinds, in the spirit of Autobahn's files (JSON, a bitmap, prose, HTML, random binary). */
const KINDS: { title: string; binary: boolean; corpus: () => Uint8Array }[] = [
  {
    title: 'Large JSON data (text)',
    binary: false,
    corpus: () =>
      asciiCorpus(
        (r) =>
          `{"id":${r() % 100000},"name":"${WORDS[r() % WORDS.length]}","tags":["${WORDS[r() % WORDS.length]}","${WORDS[r() % WORDS.length]}"],"score":${(r() % 10000) / 100},"active":${r() % 2 === 0}},\n`,
        1,
      ),
  },
  {
    title: 'Bitmap-like image data (binary)',
    binary: true,
    corpus: () => {
      const rand = lcg(2);
      const out = new Uint8Array(CORPUS_SIZE);
      for (let at = 0; at < out.length; ) {
        const run = 1 + (rand() % 40);
        out.fill(rand() % 2 === 0 ? 0xff : rand() & 0xff, at, at + run);
        at += run;
      }
      return out;
    },
  },
  {
    title: 'Human readable text',
    binary: false,
    corpus: () =>
      asciiCorpus((r) => {
        const n = 5 + (r() % 15);
        const w = Array.from({ length: n }, () => WORDS[r() % WORDS.length]!);
        return `${w[0]!.charAt(0).toUpperCase()}${w.join(' ').slice(1)}. `;
      }, 3),
  },
  {
    title: 'Large HTML (text)',
    binary: false,
    corpus: () =>
      asciiCorpus(
        (r) =>
          `<div class="item-${r() % 50}"><a href="/page/${r() % 1000}">${WORDS[r() % WORDS.length]} ${WORDS[r() % WORDS.length]}</a><span>${r() % 9999}</span></div>\n`,
        4,
      ),
  },
  {
    title: 'Random binary (incompressible)',
    binary: true,
    corpus: () => {
      const rand = lcg(5);
      const out = new Uint8Array(CORPUS_SIZE);
      for (let i = 0; i < out.length; i++) out[i] = rand() >>> 24;
      return out;
    },
  },
];

/** Autobahn's 13.x parameter sets: (no context takeover, max window bits) requested of the peer. */
const PARAMS: readonly (readonly [boolean, number])[][] = [
  [[false, 0]],
  [[true, 0]],
  [[false, 9]],
  [[false, 15]],
  [[true, 9]],
  [[true, 15]],
  [
    [true, 9],
    [true, 0],
    [false, 0],
  ],
];

/** As a client: ask the server for these; we accept any client_max_window_bits and promise our own no-context when asking for the server's. */
const offerFor = ([noContext, bitsWanted]: readonly [boolean, number]): DeflateOffer => ({
  clientMaxWindowBits: true,
  ...(noContext ? { serverNoContextTakeover: true, clientNoContextTakeover: true } : {}),
  ...(bitsWanted ? { serverMaxWindowBits: bitsWanted } : {}),
});

const describeParams = (list: readonly (readonly [boolean, number])[]): string =>
  `[${list.map(([n, b]) => `(${n ? 'True' : 'False'}, ${b})`).join(', ')}]`;

export const DEFLATE_SUBSECTION_TITLES: Readonly<Record<string, string>> = Object.fromEntries([
  ...KINDS.map((k, i) => [`12.${i + 1}`, k.title]),
  ...PARAMS.map((p, i) => [
    `13.${i + 1}`,
    `Compression with parameters (no context takeover, max window bits) ${describeParams(p)}`,
  ]),
]);

function deflateCase(
  id: string,
  kind: (typeof KINDS)[number],
  corpus: () => Uint8Array,
  size: number,
  fragment: number,
  count: number,
  spec: DeflateCaseSpec,
  using: string,
): CaseDef {
  const wait = 60;
  const what = kind.binary ? 'binary' : 'text';
  const message = (i: number): Uint8Array => {
    const c = corpus();
    const at = (i * 7919 + size * 3) % (c.length - size + 1);
    return c.subarray(at, at + size);
  };
  const sendNext = (run: CaseRun): void => {
    const i = ((run.state['sent'] as number | undefined) ?? 0) + 1;
    run.state['sent'] = i;
    run.sendMessage(kind.binary, message(i), fragment);
  };
  return {
    id,
    description: `Send ${count} compressed ${what} messages each of payload size ${size}, auto-fragment to ${fragment} octets. ${using}`,
    expectation: `Receive echo'ed messages (with payload as sent). Timeout case after ${wait} secs.`,
    close: NORMAL_CLOSE,
    deflate: spec,
    limit: wait + 30,
    start(run) {
      if (!run.conn.deflate) {
        run.behavior = 'UNIMPLEMENTED';
        run.result = 'permessage-deflate was not negotiated.';
        run.sendClose(Close.normal);
        return;
      }
      run.result = `Case did not finish within ${wait} seconds.`;
      run.closeAfter(wait);
      sendNext(run);
    },
    finish(run, verdict) {
      // We failed the connection (e.g. data that does not inflate): say so, not "did not finish".
      if (verdict.behavior === 'FAILED' && run.conn.violations.length > 0)
        verdict.result = `I failed the connection: ${run.conn.violations[0]}.`;
    },
    onEvent(run, event) {
      if (event.type !== 'message' || run.behavior !== 'FAILED' || !run.isOpen || !run.conn.deflate) return;
      const sent = run.state['sent'] as number;
      if (event.binary !== kind.binary || !equalBytes(event.payload, message(sent))) {
        run.result = `Echo'ed message ${sent} differs from what I sent (got ${event.binary ? 'binary' : 'text'}, ${event.payload.length} bytes; sent ${what}, ${size} bytes).`;
        run.sendClose(Close.normal);
      } else if (sent < count) {
        sendNext(run);
      } else {
        run.behavior = 'OK';
        run.result = `Ok, received all ${count} echo'ed messages.`;
        run.sendClose(Close.normal);
      }
    },
  };
}

const lazy = <T>(make: () => T): (() => T) => {
  let value: T | undefined;
  return () => (value ??= make());
};

export function sectionDeflate(options: DeflateSectionOptions = {}): CaseDef[] {
  const count = options.quick ? 3 : 50;
  const defs: CaseDef[] = [];
  const defaultSpec: DeflateCaseSpec = {
    offers: [{ clientMaxWindowBits: true }],
    accept: { clientNoContextTakeover: false, clientMaxWindowBits: 0 },
  };
  KINDS.forEach((kind, k) => {
    const corpus = lazy(kind.corpus);
    SERIES.forEach(([size, fragment], i) => {
      defs.push(
        deflateCase(
          `12.${k + 1}.${i + 1}`,
          kind,
          corpus,
          size,
          fragment,
          count,
          defaultSpec,
          'Use default permessage-deflate offer.',
        ),
      );
    });
  });
  const text = KINDS[0]!;
  const textCorpus = lazy(text.corpus);
  PARAMS.forEach((params, p) => {
    const spec: DeflateCaseSpec = {
      offers: params.map(offerFor),
      accept: { clientNoContextTakeover: params[0]![0], clientMaxWindowBits: params[0]![1] },
    };
    const using = `Use permessage-deflate client offers (requestNoContextTakeover, requestMaxWindowBits): ${describeParams(params)} / server accept (requestNoContextTakeover, requestMaxWindowBits): ${describeParams(params.slice(0, 1))}`;
    SERIES.forEach(([size, fragment], i) => {
      defs.push(deflateCase(`13.${p + 1}.${i + 1}`, text, textCorpus, size, fragment, count, spec, using));
    });
  });
  return defs;
}
