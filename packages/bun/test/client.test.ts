// Our client (Bun.connect) against Bun's built-in WebSocket server (Bun.serve), and the WHATWG class.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import type { Server, ServerWebSocket } from 'bun';
import { HandshakeError, WebSocket as OurWebSocket, connect } from '../src/index.ts';
import { HOST, MIB16, SIZES, bytes, equalBytes, text, until, within } from './helpers.ts';
import { nextMessages } from '../../../test/shared/messages.ts';
import { readyStates } from '../../../test/shared/ready-states.ts';

type Data = { path: string; query: URLSearchParams };

describe("our client → Bun.serve's WebSocket server", () => {
  let server: Server<Data>;
  let url: string;
  const pings: string[] = [];
  const pongs: string[] = [];
  const serverCloses: Array<{ code: number; reason: string }> = [];
  const received: Array<string | Uint8Array> = [];

  beforeAll(() => {
    server = Bun.serve<Data>({
      hostname: HOST,
      port: 0,
      fetch(request, srv) {
        const u = new URL(request.url);
        if (u.pathname === '/refuse') return new Response('go away', { status: 403, headers: { 'x-why': 'nope' } });
        const protocols = (request.headers.get('sec-websocket-protocol') ?? '')
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean);
        const headers = protocols.includes('chat') ? { 'Sec-WebSocket-Protocol': 'chat' } : undefined;
        if (srv.upgrade(request, { data: { path: u.pathname, query: u.searchParams }, headers })) return undefined;
        return new Response('upgrade required', { status: 426 });
      },
      websocket: {
        maxPayloadLength: 64 * 1024 * 1024,
        backpressureLimit: 64 * 1024 * 1024,
        idleTimeout: 0,
        open(ws: ServerWebSocket<Data>) {
          const { path, query } = ws.data;
          if (path === '/close') ws.close(Number(query.get('code')), query.get('reason') ?? '');
          if (path === '/ping') ws.ping('srv-ping');
          if (path === '/big') ws.send(bytes(MIB16, 3));
        },
        message(ws: ServerWebSocket<Data>, message: string | Buffer) {
          received.push(typeof message === 'string' ? message : new Uint8Array(message));
          if (ws.data.path === '/echo') ws.send(message);
        },
        ping(_ws: ServerWebSocket<Data>, data: Buffer) {
          pings.push(data.toString());
        },
        pong(_ws: ServerWebSocket<Data>, data: Buffer) {
          pongs.push(data.toString());
        },
        close(_ws: ServerWebSocket<Data>, code: number, reason: string) {
          serverCloses.push({ code, reason });
        },
      },
    });
    url = `ws://${HOST}:${server.port}`;
  });
  afterAll(() => server.stop(true));

  it('echoes text and binary of every size class, including 16 MiB', async () => {
    const ws = await within(connect(`${url}/echo`));
    const sent: Array<string | Uint8Array> = [];
    for (const n of SIZES) sent.push(text(n), bytes(n, n + 1));
    sent.push(bytes(MIB16, 9), text(MIB16));
    const got = nextMessages(ws, sent.length);
    for (const message of sent) ws.send(message);
    const echoed = await within(got, 30_000, 'echo');
    echoed.forEach((data, i) => {
      const expected = sent[i]!;
      expect(typeof data).toBe(typeof expected);
      if (typeof expected === 'string') expect(data === expected).toBe(true);
      else expect(equalBytes(data as Uint8Array, expected)).toBe(true);
    });
    ws.close(1000);
    expect(await within(ws.closed)).toMatchObject({ code: 1000, wasClean: true, error: null });
  }, 60_000);

  it('receives a 16 MiB message from the server', async () => {
    const ws = await within(connect(`${url}/big`));
    const [data] = await within(nextMessages(ws, 1), 20_000);
    expect(equalBytes(data as Uint8Array, bytes(MIB16, 3))).toBe(true);
    ws.close();
    await within(ws.closed);
  }, 30_000);

  it('sends fragmented messages that the server assembles', async () => {
    const ws = await within(connect(`${url}/echo`));
    const got = nextMessages(ws, 2);
    ws.sendFragment('frag', false);
    ws.sendFragment('men', false);
    ws.sendFragment('ted ✓', true);
    ws.sendFragment(new Uint8Array([1, 2]), false);
    ws.sendFragment(new Uint8Array([3]), true);
    const [t, b] = await within(got);
    expect(t).toBe('fragmented ✓');
    expect([...(b as Uint8Array)]).toEqual([1, 2, 3]);
    ws.close();
    await within(ws.closed);
  });

  it('answers pings, and its pings are answered', async () => {
    const ws = await within(connect(`${url}/echo`));
    const pong = new Promise<Uint8Array>((resolve) => ws.once('pong', resolve));
    ws.ping('hello');
    expect(Buffer.from(await within(pong)).toString()).toBe('hello');
    expect(pings).toContain('hello');
    const pinged = await within(connect(`${url}/ping`));
    await until(() => pongs.includes('srv-ping'), 'our pong');
    ws.close();
    pinged.close();
    await within(Promise.all([ws.closed, pinged.closed]));
  });

  it('reports close codes and reasons both ways', async () => {
    const ws = await within(connect(`${url}/echo`));
    ws.close(4000, 'client-bye');
    expect(await within(ws.closed)).toMatchObject({ wasClean: true, initiator: 'local', sentCode: 4000, error: null });
    await until(() => serverCloses.some((c) => c.code === 4000 && c.reason === 'client-bye'), 'server saw 4000');

    const closing = await within(connect(`${url}/close?code=4001&reason=server-bye`));
    expect(await within(closing.closed)).toMatchObject({
      code: 4001,
      reason: 'server-bye',
      wasClean: true,
      initiator: 'remote',
      error: null,
    });
  });

  it('offers subprotocols and reads the chosen one', async () => {
    const ws = await within(connect(`${url}/echo`, { protocols: ['x', 'chat'] }));
    expect(ws.protocol).toBe('chat');
    ws.close();
    await within(ws.closed);
  });

  it('reports a refused handshake with status, headers and body', async () => {
    const error = await within(connect(`${url}/refuse`)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error).toMatchObject({ status: 403, code: 'BAD_STATUS' });
    expect((error as HandshakeError).headers?.get('x-why')).toBe('nope');
    expect(new TextDecoder().decode((error as HandshakeError).body!)).toBe('go away');
  });

  it('fails with TRANSPORT_ERROR when nothing listens', async () => {
    const probe = Bun.listen({ hostname: HOST, port: 0, socket: { data() {} } });
    const port = probe.port;
    probe.stop(true);
    const error = await within(connect(`ws://${HOST}:${port}/`)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error).toMatchObject({ code: 'TRANSPORT_ERROR' });
  });

  it('the WHATWG class: a refused handshake is CONNECTING until error and close (never CLOSING)', async () => {
    const ws = new OurWebSocket(`${url}/refuse`);
    const log: string[] = [];
    ws.onerror = () => log.push(`error ${ws.readyState}`);
    ws.onclose = (event: CloseEvent) => log.push(`close ${event.code} ${event.wasClean} ${ws.readyState}`);
    // The standard: a failed handshake has no closing handshake, so CONNECTING turns into CLOSED.
    expect(await within(readyStates(ws))).toEqual([OurWebSocket.CONNECTING, OurWebSocket.CLOSED]);
    expect(log).toEqual(['error 3', 'close 1006 false 3']);
  });

  it('the WHATWG WebSocket class talks to Bun.serve', async () => {
    const ws = new OurWebSocket(`${url}/echo`, ['chat']);
    ws.binaryType = 'arraybuffer';
    await within(new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject))));
    expect(ws.protocol).toBe('chat');
    const got: unknown[] = [];
    ws.onmessage = (event: MessageEvent) => got.push(event.data);
    ws.send('hi');
    ws.send(new Uint8Array([9, 8, 7]));
    await until(() => got.length === 2, 'two messages');
    expect(got[0]).toBe('hi');
    expect([...new Uint8Array(got[1] as ArrayBuffer)]).toEqual([9, 8, 7]);
    const closed = new Promise<CloseEvent>((resolve) => (ws.onclose = (e: CloseEvent) => resolve(e)));
    ws.close(4002, 'whatwg-bye');
    const event = await within(closed);
    expect([event.code, event.wasClean]).toEqual([4002, true]);
  });
});
