// Limits and pathological inputs at the codec level, with the answer each must get, and the
// cost of hostile header values measured as operation counts (not wall time): parsing n and 4n
// elements must cost about 4× as much, whatever the shape of the value.
import { describe, expect, it } from 'vitest';
import { Connection, type Event } from '../src/index.ts';
import { clientConnection } from '../src/client.ts';
import { serverConnection } from '../src/server.ts';
import { computeAcceptKey } from '../src/handshake/accept-key.ts';
import { seededRandom } from '../src/testing/index.ts';
import { ascii, clientFrame, openServer } from './helpers/frames.ts';

function request(extra: string): string {
  return `GET /chat HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
}

function errorOf(events: Event[]): Extract<Event, { type: 'protocol-error' }> | undefined {
  return events.find((e): e is Extract<Event, { type: 'protocol-error' }> => e.type === 'protocol-error');
}

/**
 * Run `fn` while counting calls of the string primitives header parsing is made of. A parser
 * that rescans (indexOf from the start, slice per character, split then join…) shows up as a
 * count that grows faster than its input.
 */
function countOps(fn: () => void): number {
  const proto = String.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const names = [
    'charCodeAt',
    'slice',
    'indexOf',
    'toLowerCase',
    'split',
    'trim',
    'substring',
    'includes',
    'startsWith',
  ];
  const saved = names.map((n) => proto[n]!);
  let count = 0;
  names.forEach((name, i) => {
    const original = saved[i]!;
    proto[name] = function (this: string, ...args: unknown[]) {
      count++;
      return original.apply(this, args);
    };
  });
  try {
    fn();
  } finally {
    names.forEach((name, i) => (proto[name] = saved[i]!));
  }
  return count;
}

/** A server connection given one request, with the limits raised so size alone does not refuse it. */
function serve(text: string): { events: Event[]; conn: Connection } {
  const conn = serverConnection({ limits: { maxHeadBytes: 8 * 1024 * 1024, maxHeaders: 1000 } });
  conn.receiveData(ascii(text));
  return { events: conn.takeEvents(), conn };
}

describe('pathological header values cost linear work (operation counts)', { timeout: 30_000 }, () => {
  const cases: Array<[string, (n: number) => string, (events: Event[], n: number) => void]> = [
    [
      'Sec-WebSocket-Protocol with n tokens',
      (n) => `Sec-WebSocket-Protocol: ${Array.from({ length: n }, (_, i) => `p${i}`).join(', ')}\r\n`,
      (events, n) => {
        const req = events.find((e) => e.type === 'request');
        expect(req?.type === 'request' && req.request.protocols.length).toBe(n);
      },
    ],
    [
      'Connection with n commas before Upgrade',
      (n) => `Connection: ${','.repeat(n)} keep-alive, ${'  ,'.repeat(n)} Upgrade\r\n`,
      (events) => expect(events.some((e) => e.type === 'request')).toBe(true),
    ],
    [
      'Sec-WebSocket-Extensions with n parameters on one extension',
      (n) => `Sec-WebSocket-Extensions: x-ext${'; p=1'.repeat(n)}\r\n`,
      (events, n) => {
        const req = events.find((e) => e.type === 'request');
        expect(req?.type === 'request' && req.request.extensions[0]?.params.length).toBe(n);
      },
    ],
    [
      'Sec-WebSocket-Extensions with n quoted, escaped values',
      (n) => `Sec-WebSocket-Extensions: x-ext; a="${'\\a'.repeat(n)}"\r\n`,
      (events, n) => {
        const req = events.find((e) => e.type === 'request');
        expect(req?.type === 'request' && req.request.extensions[0]?.params[0]?.value?.length).toBe(n);
      },
    ],
    [
      'Sec-WebSocket-Extensions with n extensions',
      (n) =>
        `Sec-WebSocket-Extensions: ${Array.from({ length: n }, () => 'permessage-deflate; client_max_window_bits').join(', ')}\r\n`,
      (events, n) => {
        const req = events.find((e) => e.type === 'request');
        expect(req?.type === 'request' && req.request.extensions.length).toBe(n);
      },
    ],
    [
      'an unterminated quoted string n bytes long (refused with 400)',
      (n) => `Sec-WebSocket-Extensions: x; a="${'b'.repeat(n)}\r\n`,
      (events) => expect(errorOf(events)?.status).toBe(400),
    ],
    [
      'a token list that turns bad only at its end (refused with 400)',
      (n) => `Sec-WebSocket-Protocol: ${'a, '.repeat(n)}b c\r\n`,
      (events) => expect(errorOf(events)?.status).toBe(400),
    ],
  ];

  it.each(cases)('%s', (_, header, verify) => {
    const n = 5000;
    let small: Event[] = [];
    let large: Event[] = [];
    const a = countOps(() => (small = serve(request(header(n))).events));
    const b = countOps(() => (large = serve(request(header(4 * n))).events));
    verify(small, n);
    verify(large, 4 * n);
    // Linear: 4× the input costs about 4× the operations (a quadratic parser would show 16×).
    expect(b / a).toBeLessThan(4.6);
    // And a handful of operations per byte of the value, not per pair of bytes.
    expect(b / header(4 * n).length).toBeLessThan(8);
  });

  it('a client verifies a response with a long extension parameter list in linear work', () => {
    const run = (n: number): { ops: number; events: Event[] } => {
      const client = clientConnection('ws://example.test/', {
        random: seededRandom(),
        limits: { maxHeadBytes: 8 * 1024 * 1024 },
      });
      const key = /Sec-WebSocket-Key: (\S+)/.exec(
        new TextDecoder().decode((client.takeOutput()[0] as { data: Uint8Array }).data),
      )![1]!;
      const response = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: ${'x, '.repeat(n)}Upgrade\r\nSec-WebSocket-Accept: ${computeAcceptKey(key)}\r\nSec-WebSocket-Extensions: x-never-offered${'; a=b'.repeat(n)}\r\n\r\n`;
      let events: Event[] = [];
      const ops = countOps(() => {
        client.receiveData(ascii(response));
        events = client.takeEvents();
      });
      return { ops, events };
    };
    const a = run(5000);
    const b = run(20000);
    expect(errorOf(a.events)?.code).toBe('UNEXPECTED_EXTENSION');
    expect(errorOf(b.events)?.code).toBe('UNEXPECTED_EXTENSION');
    expect(b.ops / a.ops).toBeLessThan(4.6);
  });
});

describe('regressions found while hardening', { timeout: 30_000 }, () => {
  it('a head with 200,000 fields under raised limits is parsed, not a RangeError (stack overflow)', () => {
    const conn = serverConnection({ limits: { maxHeadBytes: 4 * 1024 * 1024, maxHeaders: 1_000_000 } });
    const text = 'GET / HTTP/1.1\r\n' + 'a:\r\n'.repeat(200_000) + '\r\n';
    expect(() => conn.receiveData(ascii(text))).not.toThrow();
    // Parsed, then refused by the handshake rules (no Host), as any such head would be.
    expect(errorOf(conn.takeEvents())?.code).toBe('MISSING_HOST');
  });

  it('bytes pipelined before the 101 are kept up to maxHeadBytes, then refused with 400', () => {
    // Within the bound: kept, and parsed once accepted.
    const ok = serverConnection({ limits: { maxHeadBytes: 4096 } });
    const req = ascii(request(''));
    const small = clientFrame(0x82, new Uint8Array(4096 - 8)); // 8 header bytes: exactly 4096 early bytes
    expect(small.length).toBe(4096);
    ok.receiveData(req);
    ok.receiveData(small);
    expect(ok.state).toBe('awaiting-accept');
    ok.send({ type: 'accept' });
    expect(ok.takeEvents().filter((e) => e.type === 'binary')).toHaveLength(1);

    // One byte more than maxHeadBytes, while the application has not answered yet: refused.
    const over = serverConnection({ limits: { maxHeadBytes: 4096 } });
    over.receiveData(req);
    over.receiveData(clientFrame(0x82, new Uint8Array(4096 - 8 + 1)));
    const events = over.takeEvents();
    expect(errorOf(events)).toMatchObject({ code: 'MESSAGE_TOO_LARGE', status: 400 });
    expect(events.at(-1)?.type).toBe('closed');
    // With the default 16 KiB: 64 KiB pipelined is refused (it used to be kept up to 64 MiB).
    const def = serverConnection();
    def.receiveData(req);
    def.receiveData(clientFrame(0x82, new Uint8Array(64 * 1024)));
    expect(errorOf(def.takeEvents())?.code).toBe('MESSAGE_TOO_LARGE');
  });
});

describe('floods', { timeout: 30_000 }, () => {
  it('zero-length continuation frames: refused at maxFragments + 1 with 1009, buffering nothing', () => {
    const server = openServer();
    const empty = clientFrame(0x00);
    server.receiveData(clientFrame(0x02, 'x'));
    const batch = new Uint8Array(empty.length * 1024);
    for (let i = 0; i < 1024; i++) batch.set(empty, i * empty.length);
    let batches = 0;
    const events = [];
    while (server.state === 'open' && batches < 200) {
      server.receiveData(batch.slice());
      events.push(...server.takeEvents()); // frames are parsed as events are read
      batches++;
    }
    // 131,072 frames per message in all: the first frame and 131,071 continuations pass.
    expect(batches).toBe(128);
    expect(errorOf(events)).toMatchObject({ code: 'TOO_MANY_FRAGMENTS', closeCode: 1009 });
    expect(events.some((e) => e.type === 'binary')).toBe(false);
  });

  it('tiny fragments: a 64 KiB message in 1-byte frames is assembled; in 0-byte padding it is refused', () => {
    const server = openServer({ limits: { maxFragments: 70_000 } });
    const parts: Uint8Array[] = [clientFrame(0x02, 'a')];
    for (let i = 1; i < 65_536; i++) parts.push(clientFrame(i === 65_535 ? 0x80 : 0x00, 'a'));
    const total = parts.reduce((n, p) => n + p.length, 0);
    const all = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    server.receiveData(all);
    const message = server.takeEvents().find((e) => e.type === 'binary');
    expect(message?.type === 'binary' && message.data.length).toBe(65_536);
  });

  it('a ping flood is answered pong for pong, and each answer is bounded by the ping', () => {
    const server = openServer();
    server.receiveData(new Uint8Array(Array.from({ length: 10_000 }, () => [...clientFrame(0x89, 'p')]).flat()));
    expect(server.takeEvents().filter((e) => e.type === 'ping')).toHaveLength(10_000);
    expect(server.pendingOutputBytes).toBe(10_000 * 3);
  });

  it('while pongs are held (a backed-up transport), a ping flood leaves one pong waiting, for the latest ping (§5.5.3)', () => {
    const server = openServer();
    server.holdPongs(true); // the driver's transport never takes output
    const pings = Array.from({ length: 10_000 }, (_, i) => [...clientFrame(0x89, `p${i}`.padEnd(125, '.'))]).flat();
    server.receiveData(new Uint8Array(pings));
    expect(server.takeEvents().filter((e) => e.type === 'ping')).toHaveLength(10_000);
    // One 127-byte pong, not 10,000 of them (1.27 MB); it is not output while held.
    expect([server.pendingOutputBytes, server.hasPendingPong, server.hasOutput]).toEqual([127, true, false]);
    expect(server.takeOutput()).toEqual([]);
    server.holdPongs(false);
    const writes = server.takeOutput();
    expect(writes).toHaveLength(1);
    const pong = writes[0]!.type === 'write' ? writes[0]!.data : new Uint8Array(0);
    expect([pong[0], new TextDecoder().decode(pong.subarray(2, 8))]).toEqual([0x8a, 'p9999.']);
    expect(server.pendingOutputBytes).toBe(0);
  });

  it('a held pong goes out first, before our Close', () => {
    const server = openServer();
    server.holdPongs(true);
    server.receiveData(clientFrame(0x89, 'a'));
    server.send({ type: 'text', data: 'x' });
    server.receiveData(clientFrame(0x89, 'b'));
    server.takeEvents();
    expect(server.pendingOutputBytes).toBe(3 + 3);
    server.send({ type: 'close', code: 1000 });
    const out = server
      .takeOutput()
      .map((o) =>
        o.type === 'write' ? `${o.data[0]!.toString(16)}:${new TextDecoder().decode(o.data.subarray(2, 3))}` : o.type,
      );
    expect(out.slice(0, 2)).toEqual(['8a:b', '81:x']);
    expect(out[2]!.startsWith('88:')).toBe(true);
  });
});
