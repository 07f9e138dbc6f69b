// handleUpgrade on an existing node:http server: plain requests still served, upgrades handled,
// request details reach the handler, refusals answered, and bytes that arrived with the head
// (`head`) are not lost.
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket as WsClient } from 'ws';
import { connect, handleUpgrade, type SessionRequest, type WebSocketConnection } from '../src/index.ts';
import { HOST, within, wsClient } from './helpers.ts';

describe('handleUpgrade on node:http', () => {
  let server: http.Server;
  let port: number;
  const connections: WebSocketConnection[] = [];
  const requests: SessionRequest[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => res.end(`plain ${req.url}`));
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      if (!req.url!.startsWith('/ws')) {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      handleUpgrade(
        req,
        socket,
        head,
        {
          protocols: ['p1'],
          verifyClient: (r) =>
            r.headers.get('authorization') === 'secret' || { status: 401, headers: { 'www-authenticate': 'Bearer' } },
        },
        (ws, request) => {
          connections.push(ws);
          requests.push(request);
          ws.on('message', (data) => ws.send(data));
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    for (const ws of connections) ws.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('still serves plain HTTP', async () => {
    const body = await within(
      new Promise<string>((resolve, reject) => {
        http
          .get({ host: HOST, port, path: '/hello' }, (res) => {
            let text = '';
            res.on('data', (c) => (text += c));
            res.on('end', () => resolve(text));
          })
          .on('error', reject);
      }),
    );
    expect(body).toBe('plain /hello');
  });

  it('upgrades, with the request details and a subprotocol, for ws and for our client', async () => {
    const client = await wsClient(`ws://${HOST}:${port}/ws/room?id=7`, ['p1'], {
      headers: { authorization: 'secret', 'x-extra': 'e' },
    });
    expect(client.protocol).toBe('p1');
    const request = requests.at(-1)!;
    expect(request).toMatchObject({ path: '/ws/room', query: 'id=7', remoteAddress: HOST });
    expect(request.headers.get('x-extra')).toBe('e');
    const echoed = once(client, 'message');
    client.send('via http.Server');
    expect(String(((await within(echoed)) as [Buffer])[0])).toBe('via http.Server');
    client.close();

    const ours = await within(
      connect(`ws://${HOST}:${port}/ws`, { headers: { authorization: 'secret' }, protocols: ['p1'] }),
    );
    const reply = new Promise((resolve) => ours.once('message', resolve));
    ours.send(new Uint8Array([5, 6]));
    expect([...((await within(reply)) as Uint8Array)]).toEqual([5, 6]);
    ours.close(1000);
    expect(await within(ours.closed)).toMatchObject({ wasClean: true, code: 1000 });
  });

  it('refuses with the status verifyClient chose', async () => {
    const client = new WsClient(`ws://${HOST}:${port}/ws`);
    client.on('error', () => {});
    const [, res] = (await within(once(client, 'unexpected-response'))) as [unknown, http.IncomingMessage];
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    res.destroy();
  });

  it('keeps frames that arrived with the request head', async () => {
    const socket = net.connect(port, HOST);
    await once(socket, 'connect');
    const request =
      'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nAuthorization: secret\r\n' +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
    // A masked text frame "hi" (mask key 1,2,3,4), in the same write as the head.
    const frame = Buffer.from([0x81, 0x82, 1, 2, 3, 4, 'h'.charCodeAt(0) ^ 1, 'i'.charCodeAt(0) ^ 2]);
    socket.write(Buffer.concat([Buffer.from(request), frame]));
    let received = Buffer.alloc(0);
    await within(
      new Promise<void>((resolve) => {
        socket.on('data', (chunk: Buffer) => {
          received = Buffer.concat([received, chunk]);
          const end = received.indexOf('\r\n\r\n');
          if (end >= 0 && received.length >= end + 4 + 4) resolve();
        });
      }),
    );
    const end = received.indexOf('\r\n\r\n') + 4;
    expect(received.subarray(0, 12).toString()).toBe('HTTP/1.1 101');
    expect([...received.subarray(end, end + 4)]).toEqual([0x81, 2, 'h'.charCodeAt(0), 'i'.charCodeAt(0)]);
    socket.destroy();
  });
});
