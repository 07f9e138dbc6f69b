// Hex in, events out: a server connection fed raw client frames, every vector also fed split.
import { describe, it, expect } from 'vitest';
import { concat } from 'uint8arrays/concat';
import type { Event } from '../src/index.ts';
import { clientFrame, openServer, openClient, serverFrame, written, outputKinds } from './helpers/frames.ts';
import { splits } from './helpers/split.ts';
import { hex, toHex } from '../src/testing/index.ts';
import { encodeUtf8 } from '../src/utf8.ts';

const text = (s: string) => encodeUtf8(s);

/** Feed `bytes` to a fresh open server in the given chunks; return its events and output kinds. */
function run(chunks: Uint8Array[], options = {}) {
  const server = openServer(options);
  for (const chunk of chunks) server.receiveData(chunk.slice());
  return { events: server.takeEvents(), server };
}

/** Same events whatever the split. */
function expectSameEverySplit(bytes: Uint8Array, options = {}): Event[] {
  const reference = run([bytes], options).events;
  for (const chunks of splits(bytes)) {
    expect(run(chunks, options).events).toEqual(reference);
  }
  return reference;
}

function errorOf(events: Event[]) {
  const e = events.find((x) => x.type === 'protocol-error');
  return e && e.type === 'protocol-error' ? { code: e.code, closeCode: e.closeCode } : null;
}

describe('data frames (RFC 6455 §5.6, §5.7)', () => {
  it('a masked "Hello" from the RFC becomes a text message', () => {
    const events = expectSameEverySplit(hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'));
    expect(events).toEqual([{ type: 'text', data: 'Hello' }]);
  });

  it('a fragmented text message "Hel" + "lo" is assembled (§5.7)', () => {
    const events = expectSameEverySplit(concat([clientFrame(0x01, 'Hel'), clientFrame(0x80, 'lo')]));
    expect(events).toEqual([{ type: 'text', data: 'Hello' }]);
  });

  it('binary messages with 16-bit and 64-bit lengths', () => {
    const small = new Uint8Array(256).map((_, i) => i);
    const big = new Uint8Array(65536).map((_, i) => i * 7);
    const server = openServer();
    server.receiveData(clientFrame(0x82, small));
    server.receiveData(clientFrame(0x82, big));
    const events = server.takeEvents();
    expect(events.map((e) => e.type)).toEqual(['binary', 'binary']);
    expect((events[0] as { data: Uint8Array }).data).toEqual(small);
    expect((events[1] as { data: Uint8Array }).data).toEqual(big);
  });

  it('empty text and binary messages', () => {
    const events = expectSameEverySplit(concat([clientFrame(0x81), clientFrame(0x82)]));
    expect(events).toEqual([
      { type: 'text', data: '' },
      { type: 'binary', data: new Uint8Array(0) },
    ]);
  });

  it('control frames interleave with fragments (§5.4)', () => {
    const bytes = concat([
      clientFrame(0x01, 'frag1 '),
      clientFrame(0x89, 'ping!'),
      clientFrame(0x00, 'frag2 '),
      clientFrame(0x8a, 'pong'),
      clientFrame(0x80, 'end'),
    ]);
    const events = expectSameEverySplit(bytes);
    expect(events).toEqual([
      { type: 'ping', data: text('ping!') },
      { type: 'pong', data: text('pong') },
      { type: 'text', data: 'frag1 frag2 end' },
    ]);
  });

  it('a client reads unmasked server frames', () => {
    const client = openClient();
    for (const byte of hex('81 05 48 65 6c 6c 6f 89 05 48 65 6c 6c 6f')) client.receiveData(Uint8Array.of(byte));
    expect(client.takeEvents()).toEqual([
      { type: 'text', data: 'Hello' },
      { type: 'ping', data: text('Hello') },
    ]);
    // The pong is masked by the client (§5.3) and carries the same data.
    const pong = written(client);
    expect(pong[0]).toBe(0x8a);
    expect(pong[1]).toBe(0x85);
    const key = pong.subarray(2, 6);
    expect(pong.subarray(6).map((b, i) => b ^ key[i % 4]!)).toEqual(text('Hello'));
  });
});

describe('ping and pong (§5.5.2, §5.5.3)', () => {
  it('answers a ping with a pong carrying the same data', () => {
    const { events, server } = run([clientFrame(0x89, 'abc')]);
    expect(events).toEqual([{ type: 'ping', data: text('abc') }]);
    expect(toHex(written(server))).toBe('8a 03 61 62 63');
  });

  it('does not answer when autoPong is off', () => {
    const { server } = run([clientFrame(0x89, 'abc')], { autoPong: false });
    expect(server.takeOutput()).toEqual([]);
  });

  it('accepts unsolicited pongs', () => {
    const { events, server } = run([clientFrame(0x8a, 'x')]);
    expect(events).toEqual([{ type: 'pong', data: text('x') }]);
    expect(server.takeOutput()).toEqual([]);
  });

  it('a 125-byte ping is fine, a 126-byte one fails with 1002', () => {
    expect(run([clientFrame(0x89, new Uint8Array(125))]).events[0]!.type).toBe('ping');
    const bad = hex('89 fe 00 7e 00 00 00 00');
    expect(errorOf(expectSameEverySplit(concat([bad, new Uint8Array(126)])))).toEqual({
      code: 'CONTROL_FRAME_TOO_LONG',
      closeCode: 1002,
    });
  });

  it('refuses to send a ping over 125 bytes', () => {
    const server = openServer();
    expect(() => server.send({ type: 'ping', data: new Uint8Array(126) })).toThrow(
      expect.objectContaining({ code: 'CONTROL_PAYLOAD_TOO_LONG' }),
    );
  });
});

describe('framing violations fail with 1002', () => {
  const cases: Array<[string, Uint8Array, string]> = [
    ['unmasked frame from a client (§5.1)', serverFrame(0x81, 'hi'), 'UNMASKED_FRAME_FROM_CLIENT'],
    ['RSV1 without an extension (§5.2)', clientFrame(0xc1, 'hi'), 'RESERVED_BITS'],
    ['RSV2', clientFrame(0xa1, 'hi'), 'RESERVED_BITS'],
    ['RSV3', clientFrame(0x91, 'hi'), 'RESERVED_BITS'],
    ['reserved data opcode 3', clientFrame(0x83), 'RESERVED_OPCODE'],
    ['reserved control opcode 0xB', clientFrame(0x8b), 'RESERVED_OPCODE'],
    ['fragmented ping (§5.5)', clientFrame(0x09, 'x'), 'FRAGMENTED_CONTROL_FRAME'],
    ['continuation without a message (§5.4)', clientFrame(0x80, 'x'), 'UNEXPECTED_CONTINUATION'],
    [
      'new message inside a fragmented one (§5.4)',
      concat([clientFrame(0x01, 'a'), clientFrame(0x81, 'b')]),
      'EXPECTED_CONTINUATION',
    ],
    ['64-bit length with the top bit set (§5.2)', hex('82 ff 80 00 00 00 00 00 00 01 00 00 00 00'), 'BAD_LENGTH'],
  ];
  for (const [name, bytes, code] of cases) {
    it(name, () => {
      const events = expectSameEverySplit(bytes);
      expect(errorOf(events)).toEqual({ code, closeCode: 1002 });
      expect(events.at(-1)).toMatchObject({
        type: 'closed',
        info: { code: 1006, wasClean: false, sentCode: 1002, error: code },
      });
    });
  }

  it('a 64-bit length past 2^53 with the top bit clear is legal framing, too big for any limit: 1009 (§7.4.1)', () => {
    for (const length of ['00 20 00 00 00 00 00 00', '7f ff ff ff ff ff ff ff']) {
      const events = expectSameEverySplit(hex(`82 ff ${length} 01 02 03 04`));
      expect(errorOf(events)).toEqual({ code: 'FRAME_TOO_LARGE', closeCode: 1009 });
    }
    // 2^53 − 1 is still counted, and refused by the frame limit as any large frame is.
    expect(errorOf(expectSameEverySplit(hex('82 ff 00 1f ff ff ff ff ff ff 01 02 03 04')))).toEqual({
      code: 'FRAME_TOO_LARGE',
      closeCode: 1009,
    });
  });

  it('a client fails on a masked server frame', () => {
    const client = openClient();
    client.receiveData(clientFrame(0x81, 'hi'));
    expect(errorOf(client.takeEvents())).toEqual({ code: 'MASKED_FRAME_FROM_SERVER', closeCode: 1002 });
  });

  it('sends the Close, then half-closes TCP, then ignores everything', () => {
    const { server } = run([clientFrame(0x83)]);
    const out = server.takeOutput();
    expect(out.map((o) => o.type)).toEqual(['write', 'shutdown']);
    expect(toHex((out[0] as { data: Uint8Array }).data)).toBe('88 02 03 ea');
    server.receiveData(clientFrame(0x81, 'late'));
    expect(server.takeEvents()).toEqual([]);
    expect(server.takeOutput()).toEqual([]);
  });

  it('takeWrites() hands over the writes alone; the shutdown after them stays for takeOutput()', () => {
    const server = openServer();
    server.sendBinary(Uint8Array.of(1));
    server.sendText('a');
    expect(server.pendingOutputBytes).toBe(6);
    const into = [Uint8Array.of(9)];
    server.takeWrites(into);
    expect(into.map(toHex)).toEqual(['09', '82 01 01', '81 01 61']);
    expect([server.hasOutput, server.pendingOutputBytes]).toEqual([false, 0]);
    server.takeWrites(into);
    expect(into.length).toBe(3);
    server.receiveData(clientFrame(0x83)); // a violation: Close 1002, then shutdown
    server.takeEvents();
    const writes: Uint8Array[] = [];
    server.takeWrites(writes);
    expect(writes.map(toHex)).toEqual(['88 02 03 ea']);
    expect(server.hasOutput).toBe(true);
    expect(server.takeOutput()).toEqual([{ type: 'shutdown' }]);
    expect(server.hasOutput).toBe(false);
  });

  it('keeps everything received before the violation', () => {
    const events = expectSameEverySplit(
      concat([clientFrame(0x81, 'one'), clientFrame(0x82, 'two'), clientFrame(0x84)]),
    );
    expect(events.slice(0, 2)).toEqual([
      { type: 'text', data: 'one' },
      { type: 'binary', data: text('two') },
    ]);
    expect(errorOf(events)?.code).toBe('RESERVED_OPCODE');
  });
});

describe('UTF-8 (§8.1) fails fast with 1007', () => {
  it('fails on the first invalid byte even mid-fragment, before the message ends', () => {
    const server = openServer();
    server.receiveData(clientFrame(0x01, hex('ce ba e1 bd b9 cf 83 ce bc ce b5')));
    expect(server.takeEvents()).toEqual([]);
    server.receiveData(clientFrame(0x00, hex('f4 90 80 80'))); // beyond U+10FFFF
    expect(errorOf(server.takeEvents())).toEqual({ code: 'INVALID_UTF8', closeCode: 1007 });
  });

  it('fails inside a single frame as the bytes arrive', () => {
    const frame = clientFrame(0x81, concat([text('valid'), hex('c0 af'), new Uint8Array(1000)]));
    const server = openServer();
    server.receiveData(frame.subarray(0, 2 + 2 + 4 + 7)); // header + "valid" + the bad pair
    expect(errorOf(server.takeEvents())?.code).toBe('INVALID_UTF8');
  });

  it('a code point cut at the end of a message is invalid', () => {
    expect(errorOf(expectSameEverySplit(clientFrame(0x81, hex('e2 82'))))).toEqual({
      code: 'INVALID_UTF8',
      closeCode: 1007,
    });
  });

  it('a code point may span fragments', () => {
    expect(expectSameEverySplit(concat([clientFrame(0x01, hex('e2 82')), clientFrame(0x80, hex('ac'))]))).toEqual([
      { type: 'text', data: '€' },
    ]);
  });

  it('binary messages are not checked', () => {
    expect(run([clientFrame(0x82, hex('ff fe'))]).events).toEqual([{ type: 'binary', data: hex('ff fe') }]);
  });
});

describe('limits fail with 1009', () => {
  it('frame size', () => {
    const events = expectSameEverySplit(clientFrame(0x82, new Uint8Array(11)), { limits: { maxFrameSize: 10 } });
    expect(errorOf(events)).toEqual({ code: 'FRAME_TOO_LARGE', closeCode: 1009 });
  });

  it('message size across fragments, before the payload arrives', () => {
    const server = openServer({ limits: { maxMessageSize: 10 } });
    server.receiveData(clientFrame(0x02, new Uint8Array(6)));
    expect(server.takeEvents()).toEqual([]);
    server.receiveData(clientFrame(0x80, new Uint8Array(5)).subarray(0, 6)); // just the header
    expect(errorOf(server.takeEvents())).toEqual({ code: 'MESSAGE_TOO_LARGE', closeCode: 1009 });
  });

  it('exactly the limit passes', () => {
    expect(
      run([clientFrame(0x82, new Uint8Array(10))], { limits: { maxMessageSize: 10, maxFrameSize: 10 } }).events[0]!
        .type,
    ).toBe('binary');
  });

  it('fragments per message, including empty ones', () => {
    const frames = [clientFrame(0x02), clientFrame(0x00), clientFrame(0x00), clientFrame(0x80)];
    expect(run(frames, { limits: { maxFragments: 4 } }).events[0]!.type).toBe('binary');
    expect(errorOf(run([...frames.slice(0, 3), clientFrame(0x00)], { limits: { maxFragments: 3 } }).events)).toEqual({
      code: 'TOO_MANY_FRAGMENTS',
      closeCode: 1009,
    });
  });
});

describe('streaming mode', () => {
  it('delivers chunks as they arrive and marks the first and last', () => {
    const server = openServer({ assembleMessages: false });
    const frame = clientFrame(0x01, 'hello ');
    server.receiveData(frame.subarray(0, 7)); // 6 header bytes + 'h'
    server.receiveData(frame.subarray(7));
    server.receiveData(clientFrame(0x80, 'world'));
    expect(server.takeEvents()).toEqual([
      { type: 'fragment', kind: 'text', data: text('h'), first: true, fin: false },
      { type: 'fragment', kind: 'text', data: text('ello '), first: false, fin: false },
      { type: 'fragment', kind: 'text', data: text('world'), first: false, fin: true },
    ]);
  });

  it('sends an empty final fragment when the last chunk was already taken', () => {
    const server = openServer({ assembleMessages: false });
    server.receiveData(clientFrame(0x02, 'ab'));
    expect(server.nextEvent()).toEqual({ type: 'fragment', kind: 'binary', data: text('ab'), first: true, fin: false });
    server.receiveData(clientFrame(0x80));
    expect(server.takeEvents()).toEqual([
      { type: 'fragment', kind: 'binary', data: new Uint8Array(0), first: false, fin: true },
    ]);
  });

  it('still validates UTF-8 incrementally', () => {
    const server = openServer({ assembleMessages: false });
    server.receiveData(clientFrame(0x01, 'ok'));
    server.receiveData(clientFrame(0x80, hex('ff')));
    const events = server.takeEvents();
    expect(events[0]).toMatchObject({ type: 'fragment', first: true });
    expect(errorOf(events)?.code).toBe('INVALID_UTF8');
  });
});

describe('sending', () => {
  it('server frames are unmasked, with 7/16/64-bit lengths (§5.2)', () => {
    const server = openServer();
    server.send({ type: 'text', data: 'Hello' });
    expect(toHex(written(server))).toBe('81 05 48 65 6c 6c 6f');
    server.send({ type: 'binary', data: new Uint8Array(256) });
    expect(toHex(written(server).subarray(0, 4))).toBe('82 7e 01 00');
    server.send({ type: 'binary', data: new Uint8Array(65536) });
    expect(toHex(written(server).subarray(0, 10))).toBe('82 7f 00 00 00 00 00 01 00 00');
  });

  it('fragments a message on request and refuses to interleave another', () => {
    const server = openServer();
    server.send({ type: 'fragment', kind: 'text', data: text('Hel'), fin: false });
    server.send({ type: 'ping', data: text('p') });
    expect(() => server.send({ type: 'binary', data: text('x') })).toThrow(
      expect.objectContaining({ code: 'INVALID_STATE' }),
    );
    server.send({ type: 'fragment', kind: 'text', data: text('lo'), fin: true });
    expect(toHex(written(server))).toBe('01 03 48 65 6c 89 01 70 80 02 6c 6f');
  });

  it('rejects wrong argument types with typed errors', () => {
    const server = openServer();
    expect(() => server.send({ type: 'text', data: 5 as unknown as string })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => server.send({ type: 'binary', data: 'x' as unknown as Uint8Array })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => server.send({ type: 'nope' } as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => server.send(null as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => server.receiveData('x' as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => server.sendText(5 as unknown as string)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => server.sendBinary('x' as unknown as Uint8Array)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(server.hasOutput).toBe(false);
  });

  it('sendText and sendBinary frame as the commands do; hasOutput tells whether takeOutput has any', () => {
    const server = openServer();
    expect(server.hasOutput).toBe(false);
    server.sendText('hi');
    server.sendBinary(Uint8Array.of(1, 2));
    expect(server.hasOutput).toBe(true);
    expect(toHex(written(server))).toBe('81 02 68 69 82 02 01 02');
    expect(server.hasOutput).toBe(false);
    expect(server.takeOutput()).toEqual([]);
  });
});

describe('close (§5.5.1, §7)', () => {
  it('echoes the peer close with its code, then the server closes TCP first', () => {
    const { events, server } = run([clientFrame(0x88, concat([hex('03 e8'), text('bye')]))]);
    expect(events[0]).toEqual({ type: 'close', code: 1000, reason: 'bye' });
    expect(events[1]).toEqual({
      type: 'closed',
      info: { code: 1000, reason: 'bye', wasClean: true, initiator: 'remote', sentCode: 1000, error: null },
    });
    const out = server.takeOutput();
    expect(out.map((o) => o.type)).toEqual(['write', 'shutdown']);
    expect(toHex((out[0] as { data: Uint8Array }).data)).toBe('88 02 03 e8');
    expect(server.state).toBe('closed');
  });

  it('an empty close is answered with an empty close, and reported as 1005', () => {
    const { events, server } = run([clientFrame(0x88)]);
    expect(events[0]).toEqual({ type: 'close', code: 1005, reason: '' });
    expect(toHex(written(server))).toBe('88 00');
  });

  it('a client waits for the server to close TCP, then closes its side', () => {
    const client = openClient();
    client.send({ type: 'close', code: 1000, reason: 'done' });
    expect(client.state).toBe('closing');
    client.takeOutput();
    client.receiveData(serverFrame(0x88, hex('03 e8')));
    expect(client.takeEvents().map((e) => e.type)).toEqual(['close', 'closed']);
    expect(client.takeOutput()).toEqual([]); // no shutdown yet: §7.1.1
    expect(client.finished).toBe(false);
    client.receiveEof();
    expect(outputKinds(client)).toEqual(['shutdown']);
    expect(client.finished).toBe(true);
    expect(client.closeInfo).toEqual({
      code: 1000,
      reason: '',
      wasClean: true,
      initiator: 'local',
      sentCode: 1000,
      error: null,
    });
  });

  const bad: Array<[string, Uint8Array, string, number]> = [
    ['one-byte payload', hex('03'), 'BAD_CLOSE_PAYLOAD', 1002],
    ['code 1005 on the wire', hex('03 ed'), 'BAD_CLOSE_CODE', 1002],
    ['code 999', hex('03 e7'), 'BAD_CLOSE_CODE', 1002],
    ['code 1016', hex('03 f8'), 'BAD_CLOSE_CODE', 1002],
    ['code 5000', hex('13 88'), 'BAD_CLOSE_CODE', 1002],
    ['invalid UTF-8 reason', hex('03 e8 ff'), 'INVALID_UTF8', 1007],
  ];
  for (const [name, payload, code, closeCode] of bad) {
    it(`fails on a peer close with ${name}`, () => {
      expect(errorOf(expectSameEverySplit(clientFrame(0x88, payload)))).toEqual({ code, closeCode });
    });
  }

  it('accepts 3000–4999 and registered codes from the peer', () => {
    for (const code of [1000, 1001, 1002, 1003, 1007, 1011, 1012, 1013, 1014, 3000, 4999]) {
      expect(run([clientFrame(0x88, Uint8Array.of(code >> 8, code & 0xff))]).events[0]).toEqual({
        type: 'close',
        code,
        reason: '',
      });
    }
  });

  it('checks the caller close code and reason', () => {
    for (const code of [999, 1004, 1005, 1006, 1015, 2000, 5000, 1000.5]) {
      expect(() => openServer().send({ type: 'close', code })).toThrow(
        expect.objectContaining({ code: 'INVALID_CLOSE_CODE' }),
      );
    }
    expect(() => openServer().send({ type: 'close', code: 1000, reason: 'x'.repeat(124) })).toThrow(
      expect.objectContaining({ code: 'REASON_TOO_LONG' }),
    );
    const server = openServer();
    server.send({ type: 'close', code: 4000, reason: 'é'.repeat(61) }); // 122 bytes
    expect(server.state).toBe('closing');
  });

  it('sends nothing after a close, and a second close is a no-op', () => {
    const server = openServer();
    server.send({ type: 'close' });
    expect(toHex(written(server))).toBe('88 00');
    server.send({ type: 'close', code: 1000 });
    expect(server.takeOutput()).toEqual([]);
    expect(() => server.send({ type: 'text', data: 'x' })).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    expect(() => server.send({ type: 'ping' })).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    // Data the peer sent before it saw our close still arrives; its ping gets no pong.
    server.receiveData(concat([clientFrame(0x81, 'late'), clientFrame(0x89)]));
    expect(server.takeEvents()).toEqual([
      { type: 'text', data: 'late' },
      { type: 'ping', data: new Uint8Array(0) },
    ]);
    expect(server.takeOutput()).toEqual([]);
    server.receiveData(clientFrame(0x88, hex('03 e8')));
    expect(server.takeEvents().at(-1)).toEqual({
      type: 'closed',
      info: { code: 1000, reason: '', wasClean: true, initiator: 'local', sentCode: null, error: null },
    });
    expect(outputKinds(server)).toEqual(['shutdown']);
  });

  it('EOF without a close is 1006, not clean', () => {
    const server = openServer();
    server.receiveData(clientFrame(0x01, 'partial'));
    server.receiveEof();
    expect(server.takeEvents()).toEqual([
      {
        type: 'closed',
        info: { code: 1006, reason: '', wasClean: false, initiator: null, sentCode: null, error: null },
      },
    ]);
    expect(outputKinds(server)).toEqual(['shutdown']);
    expect(() => server.receiveData(text('x'))).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
  });

  it('frames after the peer close are ignored', () => {
    const { events } = run([concat([clientFrame(0x88), clientFrame(0x81, 'after')])]);
    expect(events.map((e) => e.type)).toEqual(['close', 'closed']);
  });
});
