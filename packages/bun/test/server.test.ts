// Our server (Bun.listen) with Bun's built-in WebSocket client.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { connect, HandshakeError, type CloseInfo, type WebSocketConnection } from '../src/index.ts';
import {
  HOST,
  MIB16,
  SIZES,
  bunClient,
  bunClosed,
  bunMessages,
  bytes,
  equalBytes,
  ourServer,
  text,
  until,
  within,
} from './helpers.ts';
import { routedServer } from '../../../test/shared/routed-server.ts';

describe("our server ← Bun's WebSocket client", () => {
  const routed = routedServer(ourServer);
  const { requests, connections, pings, pongs } = routed.seen;
  let url: string;
  beforeAll(async () => void (url = await routed.start()));
  afterAll(routed.close);

  it('echoes text and binary of every size class, including 16 MiB', async () => {
    const client = await bunClient(`${url}/echo`);
    const sent: Array<string | Uint8Array> = [];
    for (const n of SIZES) sent.push(text(n), bytes(n, n + 1));
    sent.push(bytes(MIB16, 7), text(MIB16));
    const got = bunMessages(client, sent.length);
    for (const message of sent) client.send(message);
    const received = await within(got, 30_000, 'echo');
    received.forEach((data, i) => {
      const expected = sent[i]!;
      expect(typeof data).toBe(typeof expected);
      if (typeof expected === 'string') expect(data === expected).toBe(true);
      else expect(equalBytes(data as Uint8Array, expected)).toBe(true);
    });
    client.close(1000);
    await within(bunClosed(client));
  }, 60_000);

  it('sends fragmented messages that the client assembles', async () => {
    const client = new WebSocket(`${url}/fragments`);
    client.binaryType = 'arraybuffer';
    const got = await within(bunMessages(client, 2));
    expect(got[0]).toBe('fragmented ✓');
    expect([...(got[1] as Uint8Array)]).toEqual([1, 2, 3]);
    client.close();
    await within(bunClosed(client));
  });

  it('answers pings, and its pings are answered', async () => {
    const client = await bunClient(`${url}/echo`);
    (client as unknown as { ping(data: string): void }).ping('hello');
    await until(() => pings.includes('hello'), 'ping received');
    const pinged = await bunClient(`${url}/ping`);
    await until(() => pongs.includes('srv-ping'), 'pong from the Bun client');
    client.close();
    pinged.close();
    await within(Promise.all([bunClosed(client), bunClosed(pinged)]));
  });

  it('reports close codes and reasons both ways', async () => {
    const client = await bunClient(`${url}/echo`);
    const serverSide = connections.at(-1)!.closed;
    client.close(4000, 'client-bye');
    expect((await within(bunClosed(client))).code).toBe(4000);
    const info: CloseInfo = await within(serverSide);
    expect(info).toMatchObject({ code: 4000, reason: 'client-bye', wasClean: true, initiator: 'remote', error: null });

    const closing = new WebSocket(`${url}/close?code=4001&reason=server-bye`);
    const closed = await within(bunClosed(closing));
    expect(closed).toMatchObject({ code: 4001, reason: 'server-bye', wasClean: true });
    expect(await within(connections.at(-1)!.closed)).toMatchObject({
      code: 4001,
      wasClean: true,
      initiator: 'local',
      sentCode: 4001,
      error: null,
    });
  });

  it('negotiates subprotocols by server preference', async () => {
    const both = await bunClient(`${url}/echo`, ['a', 'b']);
    expect(both.protocol).toBe('b');
    const one = await bunClient(`${url}/echo`, ['a']);
    expect(one.protocol).toBe('a');
    const none = await bunClient(`${url}/echo`);
    expect(none.protocol).toBe('');
    for (const c of [both, one, none]) c.close();
    await within(Promise.all([both, one, none].map(bunClosed)));
  });

  it('passes the request (url, headers, remote address) to the handler', async () => {
    const client = await bunClient(`${url}/echo?x=1&y=2`);
    const request = requests.at(-1)!;
    expect(request).toMatchObject({
      method: 'GET',
      path: '/echo',
      query: 'x=1&y=2',
      url: '/echo?x=1&y=2',
      remoteAddress: HOST,
      secure: false,
    });
    expect(request.remotePort).toBeGreaterThan(0);
    client.close();
    await within(bunClosed(client));
  });

  it('refuses a handshake with the status verifyClient chose', async () => {
    const refused = new WebSocket(`${url}/refuse`);
    const failed = new Promise<boolean>((resolve) =>
      refused.addEventListener('error', () => resolve(true), { once: true }),
    );
    expect(await within(failed)).toBe(true);
    expect((await within(bunClosed(refused))).code).toBe(1006);
    // Our client sees the status, headers and body.
    const error = await within(connect(`${url}/refuse`)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error).toMatchObject({ status: 403 });
    expect((error as HandshakeError).headers?.get('x-why')).toBe('nope');
    expect(new TextDecoder().decode((error as HandshakeError).body!)).toBe('go away');
    const denied = await within(connect(`${url}/deny`)).catch((e: unknown) => e);
    expect(denied).toMatchObject({ status: 401 });
    // A plain HTTP request (no upgrade) gets a 4xx, not a hang.
    const response = await within(fetch(`http://${HOST}:${new URL(url).port}/`));
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    await response.text();
  });

  it('forgets every socket once it is gone: closed cleanly, dropped when open, dropped in its handshake', async () => {
    const { server: own, url: ownUrl } = await ourServer({}, () => {});
    const port = Number(new URL(ownUrl).port);
    const opened: WebSocketConnection[] = [];
    own.on('connection', (ws) => opened.push(ws));
    const raw = (request: string) =>
      Bun.connect({ hostname: HOST, port, socket: { data() {}, error() {} } }).then((socket) => {
        socket.write(request);
        return socket;
      });
    const upgrade =
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
    try {
      const clean = await bunClient(ownUrl);
      const dropped = await raw(upgrade);
      const half = await raw('GET / HTTP/1.1\r\nHost: x\r\n');
      await until(() => own.connections.size === 2, 'two open');
      const ends = opened.map((ws) => ws.closed);
      clean.close(1000);
      dropped.end(); // TCP goes without a Close frame: the connection ends with 1006
      half.end(); // never opened
      const infos = await within(Promise.all(ends));
      expect(infos.map((i) => i.code).sort()).toEqual([1000, 1006]);
      await until(() => own.connections.size === 0, 'none open');
      // Nothing is left to wait for: close() resolves at once though no connection is open.
      await within(own.close(), 2_000, 'close with every socket gone');
    } finally {
      if (own.listener !== null) await own.close();
    }
  });

  it('connections and close(): the server closes open connections with 1001', async () => {
    const { server: own, url: ownUrl } = await ourServer({}, () => {});
    const a = await bunClient(ownUrl);
    const b = await bunClient(ownUrl);
    await until(() => own.connections.size === 2, 'two connections');
    const closes = [bunClosed(a), bunClosed(b)];
    await within(own.close(), 15_000, 'close');
    for (const c of await Promise.all(closes)) expect(c.code).toBe(1001);
    expect(own.connections.size).toBe(0);
    // Not listening any more.
    const error = await within(connect(ownUrl)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TRANSPORT_ERROR' });
  });
});
