// The receive shortcuts a driver takes for the common case (a whole message per read), checked
// against the general path they stand in for.
import { describe, it, expect } from 'vitest';
import { concat } from 'uint8arrays/concat';
import type { Event, Extension, ExtensionFactory } from '../src/index.ts';
import { serverConnection } from '../src/server.ts';
import { FrameParser, HEADER, NEED_MORE, PAYLOAD } from '../src/frame-parser.ts';
import { REQUEST, ascii, clientFrame, openClient, openServer, serverFrame, written } from './helpers/frames.ts';
import { encodeUtf8 } from '../src/utf8.ts';

const bytes = (n: number, seed = 1): Uint8Array => new Uint8Array(n).map((_, i) => (i * 31 + seed * 7) & 0xff);
const serverParser = (): FrameParser => new FrameParser({ expectMasked: true, maxFrameSize: 1 << 20 });

describe('FrameParser lets go of what it yielded', () => {
  it('a payload yielded by a PAYLOAD step is dropped at the next header step, so an idle parser holds no message', () => {
    const payload = bytes(100_000);
    const parser = serverParser();
    parser.push(clientFrame(0x82, payload));
    expect(parser.next()).toBe(HEADER);
    expect(parser.next()).toBe(PAYLOAD);
    expect(parser.payload).toEqual(payload);
    expect(parser.frameEnd).toBe(true);
    expect(parser.next()).toBe(NEED_MORE); // nothing more came: the connection waits
    expect(parser.payload.length).toBe(0);
  });
});

describe('FrameParser.wholePayload', () => {
  it('yields a short masked payload unmasked, as a view of the fed chunk, and ends the frame', () => {
    const payload = bytes(32);
    const chunk = clientFrame(0x82, payload);
    const parser = serverParser();
    parser.push(chunk);
    expect(parser.next()).toBe(HEADER);
    expect(parser.payloadInOneChunk).toBe(true);
    const data = parser.wholePayload();
    expect(data).toEqual(payload);
    expect(data.buffer).toBe(chunk.buffer); // no copy
    expect(parser.frameEnd).toBe(true);
    expect(parser.payloadRemaining).toBe(0);
    expect(parser.bufferedAmount).toBe(0);
    expect(parser.next()).toBe(NEED_MORE);
  });

  it('takes frame after frame from one chunk, and the general steps still work in between', () => {
    const payloads = [bytes(5, 1), bytes(64, 2), bytes(0), bytes(200, 3), bytes(17, 4)];
    const chunk = concat(payloads.map((p, i) => clientFrame(0x82, p, Uint8Array.of(i + 1, 0x55, 0xaa, 0xf0))));
    const parser = serverParser();
    parser.push(chunk);
    for (const [i, payload] of payloads.entries()) {
      expect(parser.next()).toBe(HEADER);
      if (i === 1) {
        // The PAYLOAD step instead, on the chunk wholePayload has cached.
        expect(parser.next()).toBe(PAYLOAD);
        expect(parser.payload).toEqual(payload);
        continue;
      }
      expect(parser.wholePayload()).toEqual(payload); // 200 bytes: longer than the shortcut, through the PAYLOAD step
    }
    expect(parser.next()).toBe(NEED_MORE);
  });

  it('an empty payload, with nothing buffered after it', () => {
    const parser = serverParser();
    parser.push(clientFrame(0x82));
    expect(parser.next()).toBe(HEADER);
    expect(parser.wholePayload().length).toBe(0);
    expect(parser.next()).toBe(NEED_MORE);
  });

  it('an unmasked payload (a client parser) is viewed as it is', () => {
    const payload = bytes(40);
    const parser = new FrameParser({ expectMasked: false, maxFrameSize: 1 << 20 });
    parser.push(serverFrame(0x82, payload));
    expect(parser.next()).toBe(HEADER);
    expect(parser.wholePayload()).toEqual(payload);
  });

  it('refuses when there is no whole data frame payload at hand', () => {
    const parser = serverParser();
    expect(() => parser.wholePayload()).toThrow(expect.objectContaining({ code: 'INVALID_STATE' })); // no header yet
    const frame = clientFrame(0x82, bytes(20));
    parser.push(frame.slice(0, 10));
    expect(parser.next()).toBe(HEADER);
    expect(parser.payloadInOneChunk).toBe(false);
    expect(() => parser.wholePayload()).toThrow(expect.objectContaining({ code: 'INVALID_STATE' })); // split
    parser.push(frame.slice(10));
    expect(parser.next()).toBe(PAYLOAD); // nothing was consumed by the refusal
    expect(parser.next()).toBe(PAYLOAD);
    expect(parser.frameEnd).toBe(true);
    const ping = serverParser();
    ping.push(clientFrame(0x89, 'hi'));
    expect(ping.next()).toBe(HEADER);
    expect(ping.wholePayload()).toEqual(encodeUtf8('hi')); // a control frame: through the PAYLOAD step, whole
    const long = serverParser();
    long.push(clientFrame(0x82, bytes(100)).slice(0, 60));
    expect(long.next()).toBe(HEADER);
    expect(() => long.wholePayload()).toThrow(expect.objectContaining({ code: 'INVALID_STATE' })); // long and split
    expect(long.payloadRemaining).toBe(100);
    const headerOnly = serverParser();
    headerOnly.push(clientFrame(0x82, bytes(10)).slice(0, 6));
    expect(headerOnly.next()).toBe(HEADER);
    expect(() => headerOnly.wholePayload()).toThrow(expect.objectContaining({ code: 'INVALID_STATE' })); // nothing of it yet
  });

  describe('with freshArrays', () => {
    it('a short payload comes unmasked in an array of its own; the fed bytes stay masked', () => {
      const payload = bytes(33);
      const chunk = clientFrame(0x82, payload);
      const copy = chunk.slice();
      const parser = new FrameParser({ expectMasked: true, maxFrameSize: 1 << 20, freshArrays: true });
      parser.push(chunk);
      expect(parser.next()).toBe(HEADER);
      const data = parser.wholePayload();
      expect(data).toEqual(payload);
      expect(data.buffer).not.toBe(chunk.buffer);
      expect(chunk).toEqual(copy);
    });
  });
});

describe('Connection.nextEventOrMessage', () => {
  function drain(server: ReturnType<typeof openServer>): Array<Event | string | Uint8Array> {
    const out: Array<Event | string | Uint8Array> = [];
    for (let next = server.nextEventOrMessage(); next !== null; next = server.nextEventOrMessage()) out.push(next);
    return out;
  }

  it('gives whole messages as their data, other events as events, in order', () => {
    const server = openServer();
    server.receiveData(
      concat([
        clientFrame(0x81, 'héllo'),
        clientFrame(0x82, bytes(3)),
        clientFrame(0x89, 'p'),
        clientFrame(0x01, 'frag'),
        clientFrame(0x80, 'ment'),
        clientFrame(0x82, bytes(70)),
      ]),
    );
    expect(drain(server)).toEqual([
      'héllo',
      bytes(3),
      { type: 'ping', data: encodeUtf8('p') },
      { type: 'text', data: 'fragment' },
      bytes(70),
    ]);
  });

  it('a message parsed after a queued event waits its turn, as an event', () => {
    const server = openServer();
    // The Close and the message after it: the Close queues events first; nothing after it is read.
    server.receiveData(concat([clientFrame(0x89, 'a'), clientFrame(0x82, bytes(2))]));
    expect(server.nextEvent()).toEqual({ type: 'ping', data: encodeUtf8('a') });
    expect(server.nextEventOrMessage()).toEqual(bytes(2));
    server.receiveData(clientFrame(0x88, Uint8Array.of(0x03, 0xe8)));
    const rest = drain(server);
    expect(rest.map((e) => (e as Event).type)).toEqual(['close', 'closed']);
  });

  it('invalid UTF-8 in a whole text message fails the connection: events, no data', () => {
    const server = openServer();
    server.receiveData(clientFrame(0x81, Uint8Array.of(0xc3, 0x28)));
    const out = drain(server);
    expect(out.map((e) => (e as Event).type)).toEqual(['protocol-error', 'closed']);
    expect(out[0]).toMatchObject({ code: 'INVALID_UTF8', closeCode: 1007 });
  });

  it('takeEvents and nextEvent still give message events', () => {
    const a = openServer();
    a.receiveData(concat([clientFrame(0x81, 'x'), clientFrame(0x82, bytes(1))]));
    expect(a.nextEvent()).toEqual({ type: 'text', data: 'x' });
    expect(a.takeEvents()).toEqual([{ type: 'binary', data: bytes(1) }]);
  });
});

describe('text sends encode through a shared scratch buffer', () => {
  const texts = ['a'.repeat(1000), 'b'.repeat(1000), 'é€😀'.repeat(300)];
  const frameOf = (text: string): Uint8Array => {
    const payload = encodeUtf8(text);
    return concat(
      [
        payload.length < 126 ? [0x81, payload.length] : [0x81, 126, payload.length >> 8, payload.length & 0xff],
        payload,
      ].map((p) => Uint8Array.from(p)),
    );
  };

  it('a server keeps each frame intact when several are sent before the output is taken', () => {
    const server = openServer();
    server.sendText(texts[0]!);
    server.send({ type: 'text', data: texts[1]! });
    server.sendText(texts[2]!);
    expect(written(server)).toEqual(concat(texts.map(frameOf)));
  });

  it('a client (masked frames) too: each frame unmasks to its own text', () => {
    const client = openClient({ random: (b: Uint8Array) => b.fill(0) }); // zero mask keys: payloads go as they are
    for (const t of texts) client.sendText(t);
    const out = written(client);
    const payloads: string[] = [];
    for (let at = 0; at < out.length; ) {
      const n = out[at + 1]! & 0x7f;
      const length = n === 126 ? (out[at + 2]! << 8) | out[at + 3]! : n;
      const start = at + (n === 126 ? 4 : 2) + 4;
      payloads.push(new TextDecoder().decode(out.subarray(start, start + length)));
      at = start + length;
    }
    expect(payloads).toEqual(texts);
  });

  it('an extension that keeps its input gets bytes of its own', () => {
    const kept: Uint8Array[] = [];
    const keeper: Extension = {
      name: 'x-keep',
      rsvBits: 0,
      params: [],
      encode: (payload) => (kept.push(payload), { payload, rsv: 0 }),
      decodeStart: () => false,
      decode: () => null,
      dispose: () => undefined,
    };
    const factory: ExtensionFactory = {
      name: 'x-keep',
      offer: () => [[]],
      accept: () => keeper,
      negotiate: () => ({ params: [], extension: keeper }),
    };
    const server = serverConnection({ extensions: [factory] });
    server.receiveData(ascii(REQUEST.replace('\r\n\r\n', '\r\nSec-WebSocket-Extensions: x-keep\r\n\r\n')));
    server.takeEvents();
    server.send({ type: 'accept' });
    server.takeEvents();
    server.takeOutput();
    for (const t of texts) server.sendText(t);
    expect(kept.map((b) => new TextDecoder().decode(b))).toEqual(texts);
  });
});
