// One behaviour suite for every runtime's echo server (@ws/node, @ws/deno, @ws/bun), spawned as a
// child process. The client is raw TCP (raw-client.ts), so the suite can send what a well-behaved
// client never would; a second part drives the same servers with the `ws` npm client.
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ACCEPT, HOST, OP, RawClient, closePayload, expectClose, parseClose, within } from './raw-client.ts';
import { RUNTIMES, startEcho, type EchoServer } from './runtimes.ts';
import { bytes } from '../shared/bytes.ts';

const SIZES = [0, 125, 126, 65535, 65536, 16 * 1024 * 1024];

function text(n: number): string {
  const unit = 'abcdefghijklmnopqrstuvwxyz0123456789 ✓';
  let s = unit.repeat(Math.ceil(n / unit.length));
  while (Buffer.byteLength(s) > n) s = s.slice(0, Math.max(0, s.length - Math.max(1, Buffer.byteLength(s) - n)));
  return s + 'x'.repeat(n - Buffer.byteLength(s));
}

/** The payload-length header an unmasked server frame must use for `n` bytes (RFC 6455 §5.2). */
const headerLength = (n: number): number => (n < 126 ? 2 : n < 65536 ? 4 : 10);

for (const rt of RUNTIMES) {
  const title = rt.missing === null ? `${rt.name} echo server` : `${rt.name} echo server (skipped: ${rt.missing})`;
  describe.skipIf(rt.missing !== null)(title, () => {
    let server: EchoServer;
    let port: number;
    const clients: RawClient[] = [];
    const raw = async (path = '/'): Promise<RawClient> => {
      const client = await RawClient.open(port, path);
      clients.push(client);
      return client;
    };
    const connectOnly = async (): Promise<RawClient> => {
      const client = await RawClient.connect(port);
      clients.push(client);
      return client;
    };

    beforeAll(async () => {
      server = await startEcho(rt);
      port = server.port;
    }, rt.startTimeout + 10_000);

    afterAll(async () => {
      for (const client of clients) client.destroy();
      await server?.stop();
    }, 15_000);

    describe('handshake', () => {
      it('answers 101 with the accept key and upgrade headers', async () => {
        const client = await connectOnly();
        const head = await within(client.handshake('/any/path?q=1'));
        expect(head.status).toBe(101);
        expect(head.headers.get('sec-websocket-accept')).toBe(ACCEPT);
        expect(head.headers.get('upgrade')?.toLowerCase()).toBe('websocket');
        expect(head.headers.get('connection')?.toLowerCase()).toContain('upgrade');
        expect(head.headers.has('sec-websocket-protocol')).toBe(false);
        client.destroy();
      });

      it('missing Sec-WebSocket-Key → 400, then TCP close', async () => {
        const client = await connectOnly();
        const head = await within(client.handshake('/', { 'Sec-WebSocket-Key': null }));
        expect(head.status).toBe(400);
        await within(client.waitEnd());
      });

      it('Sec-WebSocket-Version 8 → 426 with Sec-WebSocket-Version: 13', async () => {
        const client = await connectOnly();
        const head = await within(client.handshake('/', { 'Sec-WebSocket-Version': '8' }));
        expect(head.status).toBe(426);
        expect(head.headers.get('sec-websocket-version')).toBe('13');
        await within(client.waitEnd());
      });

      it('an oversized request head → 431', async () => {
        const client = await connectOnly();
        const head = await within(client.handshake('/', { 'X-Big': 'a'.repeat(64 * 1024) }));
        expect(head.status).toBe(431);
        await within(client.waitEnd());
      });
    });

    describe('messages', () => {
      for (const size of SIZES) {
        it(`echoes ${size} B as text and as binary, with the right length encoding`, { timeout: 60_000 }, async () => {
          const client = await raw();
          const binary = bytes(size, size + 1);
          const string = Buffer.from(text(size));
          expect(string.length).toBe(size);
          client.send({ opcode: OP.text, payload: string });
          client.send({ opcode: OP.binary, payload: binary });
          for (const [opcode, expected] of [
            [OP.text, string],
            [OP.binary, binary],
          ] as const) {
            const frame = await within(client.readFrame(), 30_000, `echo of ${size} B`);
            expect([frame.opcode, frame.fin, frame.rsv, frame.masked]).toEqual([opcode, true, 0, false]);
            expect(frame.headerLength).toBe(headerLength(size));
            expect(frame.payload.length).toBe(size);
            expect(Buffer.compare(frame.payload, expected)).toBe(0);
          }
          client.destroy();
        });
      }

      it('assembles fragmented messages, with a ping between fragments', async () => {
        const client = await raw();
        client.send({ opcode: OP.text, fin: false, payload: 'frag' });
        client.send({ opcode: OP.ping, payload: 'mid' });
        client.send({ opcode: OP.continuation, fin: false, payload: Buffer.from('men') });
        // A multi-byte character split across frames.
        const check = Buffer.from('ted ✓');
        client.send({ opcode: OP.continuation, fin: false, payload: check.subarray(0, check.length - 1) });
        client.send({ opcode: OP.continuation, fin: true, payload: check.subarray(check.length - 1) });
        client.send({ opcode: OP.binary, fin: false, payload: Buffer.from([1, 2]) });
        client.send({ opcode: OP.continuation, fin: true, payload: Buffer.from([3]) });
        const pong = await within(client.readFrame());
        expect([pong.opcode, pong.payload.toString()]).toEqual([OP.pong, 'mid']);
        const t = await within(client.readMessage());
        expect([t.opcode, t.payload.toString()]).toEqual([OP.text, 'fragmented ✓']);
        const b = await within(client.readMessage());
        expect([b.opcode, [...b.payload]]).toEqual([OP.binary, [1, 2, 3]]);
        client.destroy();
      });

      it('answers a ping with a pong carrying the same payload; ignores an unsolicited pong', async () => {
        const client = await raw();
        client.send({ opcode: OP.pong, payload: 'unsolicited' });
        client.send({ opcode: OP.ping, payload: 'hello' });
        client.send({ opcode: OP.ping });
        const first = await within(client.readFrame());
        expect([first.opcode, first.payload.toString()]).toEqual([OP.pong, 'hello']);
        const second = await within(client.readFrame());
        expect([second.opcode, second.payload.length]).toEqual([OP.pong, 0]);
        client.send({ opcode: OP.text, payload: 'still here' });
        expect((await within(client.readMessage())).payload.toString()).toBe('still here');
        client.destroy();
      });
    });

    describe('closing', () => {
      it('echoes a client Close with its code, then closes TCP first', async () => {
        const client = await raw();
        client.send({ opcode: OP.close, payload: closePayload(4000, 'client-bye') });
        const frame = await within(client.readFrame());
        expect(frame.opcode).toBe(OP.close);
        expect(parseClose(frame.payload).code).toBe(4000);
        await within(client.waitEnd(), 10_000, 'server closes TCP');
        client.end();
      });

      it('echoes an empty Close with an empty Close', async () => {
        const client = await raw();
        client.send({ opcode: OP.close });
        const frame = await within(client.readFrame());
        expect([frame.opcode, frame.payload.length]).toEqual([OP.close, 0]);
        await within(client.waitEnd());
        client.end();
      });

      it('a Close with an invalid code (1005 on the wire) → 1002', async () => {
        const client = await raw();
        client.send({ opcode: OP.close, payload: closePayload(1005) });
        await expectClose(client, 1002);
      });
    });

    describe('protocol violations: Close frame, then TCP close', () => {
      it('an unmasked client frame → 1002', async () => {
        const client = await raw();
        client.send({ opcode: OP.text, payload: 'no mask', mask: false });
        await expectClose(client, 1002);
      });

      it('a reserved opcode (0x3) → 1002', async () => {
        const client = await raw();
        client.send({ opcode: 0x3, payload: 'reserved' });
        await expectClose(client, 1002);
      });

      it('a reserved control opcode (0xB) → 1002', async () => {
        const client = await raw();
        client.send({ opcode: 0xb });
        await expectClose(client, 1002);
      });

      it('RSV1 without a negotiated extension → 1002', async () => {
        const client = await raw();
        client.send({ opcode: OP.text, rsv: 4, payload: 'compressed?' });
        await expectClose(client, 1002);
      });

      it('a fragmented control frame → 1002', async () => {
        const client = await raw();
        client.send({ opcode: OP.ping, fin: false, payload: 'x' });
        await expectClose(client, 1002);
      });

      it('a continuation without a message → 1002', async () => {
        const client = await raw();
        client.send({ opcode: OP.continuation, payload: 'orphan' });
        await expectClose(client, 1002);
      });

      it('invalid UTF-8 in a text message → 1007', async () => {
        const client = await raw();
        client.send({ opcode: OP.text, payload: Buffer.from([0x68, 0x69, 0xff, 0xfe]) });
        await expectClose(client, 1007);
      });

      it('invalid UTF-8 split across fragments → 1007', async () => {
        const client = await raw();
        client.send({ opcode: OP.text, fin: false, payload: Buffer.from([0xce]) });
        client.send({ opcode: OP.continuation, fin: true, payload: Buffer.from([0x28]) }); // not a continuation byte
        await expectClose(client, 1007);
      });

      it('invalid UTF-8 in a Close reason → 1007', async () => {
        const client = await raw();
        client.send({ opcode: OP.close, payload: closePayload(1000, Buffer.from([0xc3, 0x28])) });
        await expectClose(client, 1007);
      });

      it('keeps serving other connections while and after one fails', async () => {
        const before = await raw();
        const bad = await raw();
        bad.send({ opcode: OP.binary, payload: 'unmasked', mask: false });
        before.send({ opcode: OP.text, payload: 'unaffected' });
        expect((await within(before.readMessage())).payload.toString()).toBe('unaffected');
        await expectClose(bad, 1002);
        const after = await raw();
        after.send({ opcode: OP.binary, payload: Buffer.from([7, 7, 7]) });
        expect([...(await within(after.readMessage())).payload]).toEqual([7, 7, 7]);
        before.send({ opcode: OP.text, payload: 'still' });
        expect((await within(before.readMessage())).payload.toString()).toBe('still');
        before.destroy();
        after.destroy();
      });
    });

    describe('with the ws npm client', () => {
      async function open(options?: WebSocket.ClientOptions): Promise<WebSocket> {
        const ws = new WebSocket(`ws://${HOST}:${port}/`, options);
        await within(once(ws, 'open'));
        return ws;
      }
      function next(ws: WebSocket): Promise<[Buffer, boolean]> {
        return within(once(ws, 'message') as Promise<[Buffer, boolean]>, 30_000, 'ws message');
      }

      it('echoes text and binary of every size class', { timeout: 60_000 }, async () => {
        const ws = await open();
        for (const size of SIZES) {
          const t = text(size);
          ws.send(t);
          const [data, isBinary] = await next(ws);
          expect([isBinary, data.length, data.toString() === t]).toEqual([false, size, true]);
          const b = bytes(size, 3);
          ws.send(b);
          const [bin, isBin] = await next(ws);
          expect([isBin, Buffer.compare(bin, b)]).toEqual([true, 0]);
        }
        ws.close();
        await within(once(ws, 'close'));
      });

      it('sends fragments, pings, and reads close codes', async () => {
        const ws = await open();
        ws.send('a', { fin: false });
        ws.send('b', { fin: true });
        expect((await next(ws))[0].toString()).toBe('ab');
        ws.ping('p');
        const [pong] = (await within(once(ws, 'pong'))) as [Buffer];
        expect(pong.toString()).toBe('p');
        ws.close(4001, 'ws-bye');
        const [code] = (await within(once(ws, 'close'))) as [number, Buffer];
        expect(code).toBe(4001);
      });

      it('round-trips with permessage-deflate offered (whether or not the server accepts it)', async () => {
        const ws = await open({ perMessageDeflate: true });
        const message = text(100_000);
        ws.send(message);
        expect((await next(ws))[0].toString() === message).toBe(true);
        ws.close();
        await within(once(ws, 'close'));
      });

      it('fails a connection on a server-side violation report: ws sees 1002 for an unmasked frame', async () => {
        // ws never sends an unmasked frame itself; a raw client does it, ws keeps working meanwhile.
        const ws = await open();
        const bad = await raw();
        bad.send({ opcode: OP.text, payload: 'x', mask: false });
        await expectClose(bad, 1002);
        ws.send('alive');
        expect((await next(ws))[0].toString()).toBe('alive');
        ws.close();
        await within(once(ws, 'close'));
      });
    });

    it('on SIGTERM closes open connections with 1001, then exits 0', async () => {
      const client = await raw();
      const ws = new WebSocket(`ws://${HOST}:${port}/`);
      await within(once(ws, 'open'));
      const wsClosed = once(ws, 'close') as Promise<[number, Buffer]>;
      server.child.kill('SIGTERM'); // the process itself, as `kill PID` would (run.mjs passes it on to Deno)
      const frame = await within(client.readFrame(), 10_000, 'Close frame on the raw connection');
      expect([frame.opcode, parseClose(frame.payload).code]).toEqual([OP.close, 1001]);
      client.send({ opcode: OP.close, payload: frame.payload }); // complete the closing handshake
      client.end();
      const [wsCode] = await within(wsClosed, 10_000, "ws client's close event");
      expect(wsCode).toBe(1001);
      expect(await within(server.exited, 10_000, 'the echo server exiting')).toBe(0);
    }, 30_000);
  });
}
