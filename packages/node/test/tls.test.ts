// wss: our TLS server with ws's client and ours; our client with ws over an https server.
// The self-signed certificate is made at test time with the openssl CLI.
import { once } from 'node:events';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket as WsClient, WebSocketServer as WsServer } from 'ws';
import { HandshakeError, connect, createServer, type SessionRequest, type WebSocketServer } from '../src/index.ts';
import { HOST, bytes, hasOpenssl, selfSigned, within } from './helpers.ts';

const OPENSSL = hasOpenssl();

describe.skipIf(!OPENSSL)('TLS (wss:)', () => {
  let key: Buffer;
  let cert: Buffer;
  let server: WebSocketServer;
  let port: number;
  const requests: SessionRequest[] = [];
  const servernames: Array<string | false> = [];

  beforeAll(async () => {
    ({ key, cert } = selfSigned());
    server = createServer({ tls: { key, cert } }, (ws, request) => {
      requests.push(request);
      ws.on('message', (data) => ws.send(data));
    });
    server.server.on('secureConnection', (socket) => servernames.push(socket.servername));
    ({ port } = await server.listen(0, HOST));
  });
  afterAll(() => within(server.close(), 15_000, 'server.close'));

  it('serves ws clients over TLS', async () => {
    const client = new WsClient(`wss://${HOST}:${port}/secure`, { ca: cert });
    await within(once(client, 'open'));
    expect(requests.at(-1)).toMatchObject({ path: '/secure', secure: true, remoteAddress: HOST });
    const echoed = once(client, 'message');
    const big = bytes(300_000);
    client.send(big);
    const [data] = (await within(echoed)) as [Buffer];
    expect(Buffer.compare(data, Buffer.from(big))).toBe(0);
    client.close(1000, 'tls-bye');
    const [code] = await within(once(client, 'close'));
    expect(code).toBe(1000);
  });

  it('connects our client with a CA, SNI and hostname check, and closes cleanly', async () => {
    const client = await within(connect(`wss://localhost:${port}/`, { ca: cert }));
    expect(servernames.at(-1)).toBe('localhost');
    const reply = new Promise((resolve) => client.once('message', resolve));
    client.send('over tls');
    expect(await within(reply)).toBe('over tls');
    client.close(4000, 'done');
    expect(await within(client.closed)).toMatchObject({ code: 4000, wasClean: true, error: null });

    const byIp = await within(connect(`wss://${HOST}:${port}/`, { ca: cert, servername: 'localhost' }));
    expect(servernames.at(-1)).toBe('localhost');
    byIp.close();
    await within(byIp.closed);
  });

  it('refuses an untrusted certificate unless told not to check', async () => {
    const error = await within(connect(`wss://localhost:${port}/`)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error).toMatchObject({ code: 'TRANSPORT_ERROR' });
    const unchecked = await within(connect(`wss://localhost:${port}/`, { rejectUnauthorized: false }));
    unchecked.close();
    await within(unchecked.closed);
  });

  it('talks to ws over an https server', async () => {
    const httpsServer = https.createServer({ key, cert });
    const wss = new WsServer({ server: httpsServer });
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    await new Promise<void>((resolve) => httpsServer.listen(0, HOST, resolve));
    const { port: httpsPort } = httpsServer.address() as { port: number };
    const client = await within(connect(`wss://localhost:${httpsPort}/x`, { ca: cert }));
    const reply = new Promise<string | Uint8Array>((resolve) => client.once('message', resolve));
    client.send(bytes(70_000));
    expect(((await within(reply)) as Uint8Array).length).toBe(70_000);
    client.close(1000);
    expect(await within(client.closed)).toMatchObject({ code: 1000, wasClean: true });
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => httpsServer.close(() => resolve()));
  });
});
