// wss: our TLS server with Bun's client and ours; our client with Bun.serve over TLS. The
// self-signed certificate is made at test time with the openssl CLI, or taken from fixtures/.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { hasOpenssl, selfSignedCert } from '../../../scripts/lib/self-signed-cert.mjs';
import { HandshakeError, connect, createServer, type SessionRequest, type WebSocketServer } from '../src/index.ts';
import { HOST, MIB16, bytes, equalBytes, within } from './helpers.ts';

function certificate(): { key: string; cert: string; source: string } {
  if (hasOpenssl()) return { ...selfSignedCert(), source: 'openssl' };
  // no openssl: use the committed pair
  const fixtures = path.join(import.meta.dir, 'fixtures');
  return {
    key: readFileSync(path.join(fixtures, 'test-only-key.pem'), 'utf8'),
    cert: readFileSync(path.join(fixtures, 'test-only-cert.pem'), 'utf8'),
    source: 'fixtures',
  };
}

describe('TLS (wss:)', () => {
  const { key, cert } = certificate();
  let server: WebSocketServer;
  let port: number;
  const requests: SessionRequest[] = [];

  beforeAll(async () => {
    server = createServer({ tls: { key, cert } }, (ws, request) => {
      requests.push(request);
      ws.on('message', (data) => ws.send(data));
    });
    ({ port } = await server.listen(0, HOST));
  });
  afterAll(() => within(server.close(), 15_000, 'server.close'));

  it("serves Bun's client over TLS", async () => {
    const client = new WebSocket(`wss://localhost:${port}/secure`, { tls: { ca: cert } } as unknown as string[]);
    client.binaryType = 'arraybuffer';
    await within(new Promise((resolve, reject) => ((client.onopen = resolve), (client.onerror = reject))));
    expect(requests.at(-1)).toMatchObject({ path: '/secure', secure: true, remoteAddress: HOST });
    const echoed = new Promise<ArrayBuffer>((resolve) => (client.onmessage = (e) => resolve(e.data as ArrayBuffer)));
    const big = bytes(300_000);
    client.send(big);
    expect(equalBytes(new Uint8Array(await within(echoed)), big)).toBe(true);
    const closed = new Promise<number>((resolve) => (client.onclose = (e) => resolve(e.code)));
    client.close(1000, 'tls-bye');
    expect(await within(closed)).toBe(1000);
  });

  it('connects our client with a CA and hostname check; 16 MiB both ways', async () => {
    const client = await within(connect(`wss://localhost:${port}/`, { ca: cert }));
    const reply = new Promise((resolve) => client.once('message', resolve));
    const big = bytes(MIB16, 5);
    client.send(big);
    expect(equalBytes((await within(reply, 20_000)) as Uint8Array, big)).toBe(true);
    client.close(4000, 'done');
    expect(await within(client.closed)).toMatchObject({ code: 4000, wasClean: true, error: null });

    const byIp = await within(connect(`wss://${HOST}:${port}/`, { ca: cert, servername: 'localhost' }));
    byIp.close();
    await within(byIp.closed);
  }, 30_000);

  it('refuses an untrusted certificate or a wrong name unless told not to check', async () => {
    const error = await within(connect(`wss://localhost:${port}/`)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error).toMatchObject({ code: 'TRANSPORT_ERROR' });
    const wrongName = await within(connect(`wss://${HOST}:${port}/`, { ca: cert, servername: 'example.com' })).catch(
      (e: unknown) => e,
    );
    expect(wrongName).toMatchObject({ code: 'TRANSPORT_ERROR' });
    const unchecked = await within(connect(`wss://localhost:${port}/`, { rejectUnauthorized: false }));
    unchecked.close();
    await within(unchecked.closed);
  });

  it('talks to Bun.serve over TLS', async () => {
    const tlsServer = Bun.serve({
      hostname: HOST,
      port: 0,
      tls: { key, cert },
      fetch: (request, srv) => (srv.upgrade(request) ? undefined : new Response('no', { status: 400 })),
      websocket: { message: (ws, message) => void ws.send(message) },
    });
    try {
      const client = await within(connect(`wss://localhost:${tlsServer.port}/x`, { ca: cert }));
      const reply = new Promise<string | Uint8Array>((resolve) => client.once('message', resolve));
      client.send(bytes(70_000));
      expect(((await within(reply)) as Uint8Array).length).toBe(70_000);
      client.close(1000);
      expect(await within(client.closed)).toMatchObject({ code: 1000, wasClean: true });
    } finally {
      tlsServer.stop(true);
    }
  });
});
