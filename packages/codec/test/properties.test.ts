// Properties over random input: the codec never throws on peer bytes, messages survive any
// chunking, and serialize → parse is the identity.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { concat } from 'uint8arrays/concat';
import { Connection, type Event } from '../src/index.ts';
import { clientConnection } from '../src/client.ts';
import { serverConnection } from '../src/server.ts';
import { ConnectionPair, seededRandom } from '../src/testing/index.ts';
import { FrameParser, HEADER, PAYLOAD, NEED_MORE } from '../src/frame-parser.ts';
import { serializeFrame } from '../src/frame-serializer.ts';
import { REQUEST, ascii, clientFrame, openClient, openServer } from './helpers/frames.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

/** Cut `bytes` at the given fractions. */
function cut(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const at = [...new Set(points.map((p) => Math.floor(p * bytes.length)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of at) {
    out.push(bytes.slice(prev, p));
    prev = p;
  }
  out.push(bytes.slice(prev));
  return out;
}

function feedAll(conn: Connection, chunks: Uint8Array[]): Event[] {
  for (const chunk of chunks) conn.receiveData(chunk);
  conn.receiveEof();
  conn.takeOutput();
  return conn.takeEvents();
}

/** The last event is always `closed`, and at most one `protocol-error` precedes it. */
function expectWellFormedEnd(events: Event[]): void {
  expect(events.at(-1)?.type).toBe('closed');
  expect(events.filter((e) => e.type === 'protocol-error').length).toBeLessThanOrEqual(1);
  expect(events.filter((e) => e.type === 'closed')).toHaveLength(1);
}

// Frames that are plausible enough to get deep into the parser, then mutated.
const frameArb = fc.record({
  b0: fc.integer({ min: 0, max: 255 }),
  payload: fc.uint8Array({ maxLength: 300 }),
  masked: fc.boolean(),
});

describe('random bytes never throw', () => {
  it('into a server awaiting its request', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 5 }),
        (bytes, points) => {
          expectWellFormedEnd(feedAll(serverConnection(), cut(bytes, points)));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('into a server after a valid request with a mutated tail', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (tail, at, value) => {
        const bytes = concat([ascii(REQUEST), tail]);
        bytes[at % bytes.length] = value;
        const server = serverConnection();
        server.receiveData(bytes);
        if (server.state === 'awaiting-accept') server.send({ type: 'accept' });
        feedAll(server, []);
        expect(server.state).toBe('closed');
      }),
      { numRuns: RUNS },
    );
  });

  it('into an open server, as plausible frames with random bytes', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 8 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
        (frames, points) => {
          const bytes = concat(
            frames.map((f) =>
              f.masked ? clientFrame(f.b0, f.payload) : Uint8Array.of(f.b0, f.payload.length & 0x7f, ...f.payload),
            ),
          );
          expectWellFormedEnd(
            feedAll(openServer({ limits: { maxMessageSize: 1000, maxFragments: 4 } }), cut(bytes, points)),
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('into an open client', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        expectWellFormedEnd(feedAll(openClient(), [bytes]));
      }),
      { numRuns: RUNS },
    );
  });

  it('into a client awaiting its response', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        const client = clientConnection('ws://h/', { random: seededRandom() });
        expectWellFormedEnd(feedAll(client, [bytes]));
      }),
      { numRuns: RUNS },
    );
  });
});

type Message = { kind: 'text'; data: string } | { kind: 'binary'; data: Uint8Array };
const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ kind: fc.constant('text' as const), data: fc.string({ unit: 'binary', maxLength: 200 }) }),
  fc.record({ kind: fc.constant('binary' as const), data: fc.uint8Array({ maxLength: 70_000 }) }),
);

// Both ways of making small arrays (views, as for V8; fresh arrays, as for JavaScriptCore).
for (const fresh of [false, true]) {
  describe(`round trips${fresh ? ' (fresh arrays)' : ''}`, () => {
    // Each connection and parser is told, as an adapter tells them (`engine.freshArrays`).
    const engine = { freshArrays: fresh };

    it('random messages both ways, under random chunking', () => {
      fc.assert(
        fc.property(
          fc.array(messageArb, { maxLength: 6 }),
          fc.array(messageArb, { maxLength: 6 }),
          fc.integer({ min: 1, max: 5000 }),
          (up, down, size) => {
            // Lone surrogates do not survive UTF-8 (they become U+FFFD), as in every WebSocket.
            const wellFormed = (m: Message): Message =>
              m.kind === 'text' ? { kind: 'text', data: m.data.toWellFormed() } : m;
            const pair = new ConnectionPair({
              client: { engine },
              server: { engine },
              chunker: (b) =>
                cut(
                  b,
                  Array.from({ length: Math.ceil(b.length / size) }, (_, i) => (i * size) / b.length),
                ),
            });
            pair.pump();
            for (const m of up) pair.client.send({ type: m.kind, data: m.data } as never);
            for (const m of down) pair.server.send({ type: m.kind, data: m.data } as never);
            const { client, server } = pair.pump();
            const asMessages = (events: Event[]) =>
              events.map((e) => (e.type === 'text' || e.type === 'binary' ? { kind: e.type, data: e.data } : e));
            expect(asMessages(server)).toEqual(up.map(wellFormed));
            expect(asMessages(client)).toEqual(down.map(wellFormed));
          },
        ),
        { numRuns: Math.max(20, RUNS / 5) },
      );
    });

    it('serialize → parse is the identity, masked or not, whatever the chunking', () => {
      fc.assert(
        fc.property(
          fc.boolean(),
          fc.integer({ min: 0, max: 7 }),
          fc.constantFrom(0, 1, 2, 8, 9, 10),
          fc.uint8Array({ maxLength: 70_000 }),
          fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
          (fin, rsv, opcode, payload, points) => {
            if (opcode >= 8) {
              fin = true;
              rsv = 0;
              payload = payload.subarray(0, 125);
            }
            const masked = opcode % 2 === 0;
            const out: Uint8Array[] = [];
            serializeFrame(out, fin, rsv, opcode, payload, masked ? Uint8Array.of(1, 2, 3, 4) : null, fresh);
            const parser = new FrameParser({ expectMasked: masked, maxFrameSize: 1 << 20, freshArrays: fresh });
            parser.allowedRsv = 7;
            const got: Uint8Array[] = [];
            let header: [boolean, number, number, number] | null = null;
            for (const chunk of cut(concat(out), points)) {
              parser.push(chunk);
              for (let step = parser.next(); step !== NEED_MORE; step = parser.next()) {
                if (step === HEADER) header = [parser.fin, parser.rsv, parser.opcode, parser.length];
                else if (step === PAYLOAD) got.push(parser.payload.slice());
                else throw new Error(parser.errorCode!);
              }
            }
            expect(header).toEqual([fin, rsv, opcode, payload.length]);
            expect(concat(got)).toEqual(payload);
          },
        ),
        { numRuns: RUNS },
      );
    });
    it('unmasks short payloads (byte loop, word loop, applyMask) with any key, split at any phase', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 4, maxLength: 4 }),
          // Fresh arrays: past FRESH_MAX (1000) too, where payloads become views again.
          fc.uint8Array({ maxLength: fresh ? 1100 : 200 }),
          fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 5 }),
          (key, payload, points) => {
            const out: Uint8Array[] = [];
            serializeFrame(out, true, 0, 2, payload, key, fresh);
            const parser = new FrameParser({ expectMasked: true, maxFrameSize: 1 << 20, freshArrays: fresh });
            const got: Uint8Array[] = [];
            for (const chunk of cut(concat(out), points)) {
              parser.push(chunk);
              for (let step = parser.next(); step !== NEED_MORE; step = parser.next()) {
                if (step === PAYLOAD) got.push(parser.payload.slice());
                else if (step !== HEADER) throw new Error(parser.errorCode!);
              }
            }
            expect(concat(got)).toEqual(payload);
          },
        ),
        { numRuns: RUNS * 3 },
      );
    });
  });
}
