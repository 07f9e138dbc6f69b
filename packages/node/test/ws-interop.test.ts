// Interoperability with the `ws` package (8.23): our server with ws's client, our client with ws's server.
import { once } from 'node:events';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket as WsClient, WebSocketServer as WsServer } from 'ws';
import { HandshakeError, connect, type WebSocketConnection } from '../src/index.ts';
import { HOST, bytes, closeWsServer, ourServer, within, wsClient, wsMessages, wsServer } from './helpers.ts';
import { routedServer } from '../../../test/shared/routed-server.ts';

const SIZES = [0, 1, 125, 126, 65535, 65536];
const MIB16 = 16 * 1024 * 1024;

function text(n: number): string {
  let s = '';
  const unit = 'abcdefghijklmnopqrstuvwxyz0123456789';
  while (s.length < n) s += unit;
  return s.slice(0, n);
}

describe('our server ← ws client', () => {
  const routed = routedServer(ourServer);
  const { requests, connections, pings, pongs } = routed.seen;
  let url: string;
  beforeAll(async () => void (url = await routed.start()));
  afterAll(routed.close);

  it('echoes text and binary of every size class, including 16 MiB', async () => {
    const client = await wsClient(`${url}/echo`);
    const sent: Array<string | Uint8Array> = [];
    for (const n of SIZES) sent.push(text(n), bytes(n, n + 1));
    sent.push(bytes(MIB16, 7), text(MIB16));
    const got = wsMessages(client, sent.length);
    for (const message of sent) client.send(message);
    const received = await within(got, 20_000, 'echo');
    received.forEach(([data, isBinary], i) => {
      const expected = sent[i]!;
      expect(isBinary).toBe(typeof expected !== 'string');
      if (typeof expected === 'string') expect(data.toString('utf8')).toBe(expected);
      else expect(Buffer.compare(data, Buffer.from(expected))).toBe(0);
    });
    client.close(1000);
    await once(client, 'close');
  });

  it('assembles fragmented messages (text and binary)', async () => {
    const client = await wsClient(`${url}/echo`);
    const got = wsMessages(client, 2);
    client.send('frag', { fin: false });
    client.send('men', { fin: false });
    client.send('ted ✓', { fin: true });
    client.send(Buffer.from([1, 2]), { fin: false, binary: true });
    client.send(Buffer.from([3]), { fin: true, binary: true });
    const [[t, tb], [b, bb]] = (await within(got)) as [[Buffer, boolean], [Buffer, boolean]];
    expect([t.toString(), tb]).toEqual(['fragmented ✓', false]);
    expect([[...b], bb]).toEqual([[1, 2, 3], true]);
    client.close();
    await once(client, 'close');
  });

  it('answers pings, and its pings are answered', async () => {
    const client = await wsClient(`${url}/echo`);
    client.ping('hello');
    const [data] = (await within(once(client, 'pong'))) as [Buffer];
    expect(data.toString()).toBe('hello');
    expect(pings.at(-1)).toBe('hello');

    const pinged = await wsClient(`${url}/ping`);
    await within(
      new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (pongs.includes('srv-ping')) {
            clearInterval(check);
            resolve();
          }
        }, 5);
      }),
    );
    client.close();
    pinged.close();
    await Promise.all([once(client, 'close'), once(pinged, 'close')]);
  });

  it('reports close codes and reasons both ways', async () => {
    const client = await wsClient(`${url}/echo`);
    const serverSide = connections.at(-1)!.closed;
    client.close(4000, 'client-bye');
    const [code] = await within(once(client, 'close'));
    expect(code).toBe(4000);
    const info = await within(serverSide);
    expect(info).toMatchObject({ code: 4000, reason: 'client-bye', wasClean: true, initiator: 'remote', error: null });

    const closing = await wsClient(`${url}/close?code=4001&reason=server-bye`);
    const [code2, reason2] = (await within(once(closing, 'close'))) as [number, Buffer];
    expect([code2, reason2.toString()]).toEqual([4001, 'server-bye']);
    const info2 = await within(connections.at(-1)!.closed);
    expect(info2).toMatchObject({ code: 4001, wasClean: true, initiator: 'local', sentCode: 4001, error: null });
  });

  it('negotiates subprotocols by server preference', async () => {
    const both = await wsClient(`${url}/echo`, ['a', 'b']);
    expect(both.protocol).toBe('b');
    const one = await wsClient(`${url}/echo`, ['a']);
    expect(one.protocol).toBe('a');
    const none = await wsClient(`${url}/echo`);
    expect(none.protocol).toBe('');
    for (const c of [both, one, none]) c.close();
  });

  it('passes the request (url, headers, remote address) to the handler', async () => {
    const client = await wsClient(`${url}/echo?x=1&y=2`, undefined, { headers: { 'X-Custom': 'yes' } });
    const request = requests.at(-1)!;
    expect(request).toMatchObject({
      method: 'GET',
      path: '/echo',
      query: 'x=1&y=2',
      url: '/echo?x=1&y=2',
      remoteAddress: HOST,
      secure: false,
    });
    expect(request.headers.get('x-custom')).toBe('yes');
    expect(request.remotePort).toBeGreaterThan(0);
    client.close();
  });

  it('refuses handshakes with the right HTTP status', async () => {
    const status = async (path: string): Promise<[number, http.IncomingMessage]> => {
      const { WebSocket } = await import('ws');
      const client = new WebSocket(`${url}${path}`);
      const [, res] = (await within(once(client, 'unexpected-response'))) as [unknown, http.IncomingMessage];
      client.on('error', () => {});
      res.resume();
      res.destroy();
      return [res.statusCode!, res];
    };
    const [s403, res403] = await status('/refuse');
    expect(s403).toBe(403);
    expect(res403.headers['x-why']).toBe('nope');
    expect((await status('/deny'))[0]).toBe(401);
    expect((await status('/async-refuse'))[0]).toBe(429);
    const asyncOk = await wsClient(`${url}/async`);
    asyncOk.close();

    // A plain HTTP request is told to upgrade.
    const res = await within(
      new Promise<http.IncomingMessage>((resolve, reject) =>
        http.get(`${url.replace('ws:', 'http:')}/`, resolve).on('error', reject),
      ),
    );
    expect(res.statusCode).toBe(426);
    expect(res.headers.upgrade).toBe('websocket');
    res.resume();
  });

  it('refuses origins not in the allow-list with 403', async () => {
    const { server: strict, url: strictUrl } = await ourServer({ origins: ['https://good.example'] }, (ws) =>
      ws.close(),
    );
    const { WebSocket } = await import('ws');
    const bad = new WebSocket(strictUrl, { origin: 'https://evil.example' });
    bad.on('error', () => {});
    const [, res] = (await within(once(bad, 'unexpected-response'))) as [unknown, http.IncomingMessage];
    expect(res.statusCode).toBe(403);
    res.destroy();
    const good = new WebSocket(strictUrl, { origin: 'https://good.example' });
    await within(once(good, 'open'));
    await within(once(good, 'close'));
    await within(strict.close());
  });
});

describe('our client → ws server', () => {
  let server: WsServer;
  let url: string;
  const serverSide: WsClient[] = [];
  const headersSeen: http.IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    ({ server, url } = await wsServer({
      maxPayload: 64 * 1024 * 1024,
      handleProtocols: (protocols) => (protocols.has('y') ? 'y' : false),
      verifyClient: (info: { req: http.IncomingMessage }) => !info.req.url!.startsWith('/deny'),
    }));
    server.on('connection', (ws, req) => {
      serverSide.push(ws);
      headersSeen.push(req.headers);
      const path = req.url ?? '/';
      if (path.startsWith('/close')) {
        ws.close(4002, 'ws-bye');
        return;
      }
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  });
  afterAll(() => closeWsServer(server));

  async function echo(client: WebSocketConnection, data: string | Uint8Array): Promise<string | Uint8Array> {
    const reply = new Promise<string | Uint8Array>((resolve) => client.once('message', (d) => resolve(d)));
    client.send(data);
    return within(reply, 20_000, 'echo');
  }

  it('echoes text and binary of every size class, including 16 MiB', async () => {
    const client = await within(connect(`${url}/echo`));
    for (const n of [...SIZES, MIB16]) {
      expect(await echo(client, text(n))).toBe(text(n));
      const b = bytes(n, n);
      const back = (await echo(client, b)) as Uint8Array;
      expect(back).toBeInstanceOf(Uint8Array);
      expect(Buffer.compare(Buffer.from(back), Buffer.from(b))).toBe(0);
    }
    client.close(1000);
    expect(await within(client.closed)).toMatchObject({ code: 1000, wasClean: true, initiator: 'local' });
  });

  it('sends fragmented messages', async () => {
    const client = await within(connect(`${url}/echo`));
    const reply = new Promise<string | Uint8Array>((resolve) => client.once('message', (d) => resolve(d)));
    client.sendFragment('hel', false);
    client.sendFragment('lo', true);
    expect(await within(reply)).toBe('hello');
    const reply2 = new Promise<string | Uint8Array>((resolve) => client.once('message', (d) => resolve(d)));
    client.sendFragment(new Uint8Array([1]), false);
    client.sendFragment(new Uint8Array([2, 3]), true);
    expect([...((await within(reply2)) as Uint8Array)]).toEqual([1, 2, 3]);
    client.close();
    await within(client.closed);
  });

  it('pings and is pinged', async () => {
    const client = await within(connect(`${url}/echo`));
    const pong = new Promise<Uint8Array>((resolve) => client.once('pong', resolve));
    client.ping('are you there');
    expect(Buffer.from(await within(pong)).toString()).toBe('are you there');
    const remote = serverSide.at(-1)!;
    const wsPong = once(remote, 'pong');
    const ping = new Promise<Uint8Array>((resolve) => client.once('ping', resolve));
    remote.ping('from ws');
    expect(Buffer.from(await within(ping)).toString()).toBe('from ws');
    expect(((await within(wsPong)) as [Buffer])[0].toString()).toBe('from ws');
    client.close();
    await within(client.closed);
  });

  it('reports close codes and reasons both ways', async () => {
    const client = await within(connect(`${url}/echo`));
    const remote = serverSide.at(-1)!;
    const remoteClosed = once(remote, 'close');
    client.close(4003, 'ours-bye');
    const [code, reason] = (await within(remoteClosed)) as [number, Buffer];
    expect([code, reason.toString()]).toEqual([4003, 'ours-bye']);
    expect(await within(client.closed)).toMatchObject({ code: 4003, wasClean: true, initiator: 'local' });

    const closing = await within(connect(`${url}/close`));
    expect(await within(closing.closed)).toMatchObject({
      code: 4002,
      reason: 'ws-bye',
      wasClean: true,
      initiator: 'remote',
      error: null,
    });
  });

  it('offers subprotocols and sends headers', async () => {
    const client = await within(
      connect(`${url}/echo`, { protocols: ['x', 'y'], headers: { authorization: 'Bearer t' } }),
    );
    expect(client.protocol).toBe('y');
    expect(headersSeen.at(-1)!.authorization).toBe('Bearer t');
    expect(headersSeen.at(-1)!['sec-websocket-protocol']).toBe('x, y');
    client.close();
    await within(client.closed);
  });

  it('rejects with a HandshakeError carrying the status', async () => {
    const error = await within(connect(`${url}/deny`)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error).toMatchObject({ code: 'BAD_STATUS', status: 401 });
    expect((error as HandshakeError).headers).not.toBeNull();
  });

  it('fails with TRANSPORT_ERROR when nothing listens', async () => {
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, HOST, resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const error = await within(connect(`ws://${HOST}:${port}/`)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error).toMatchObject({ code: 'TRANSPORT_ERROR' });
    expect(((error as HandshakeError).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });
});
