// docs/recipes.md and docs/migrating-from-ws.md: every code block is copied from a file in
// docs/snippets/ (checked here), and every one of those files is run here against real sockets
// (its `@ws/node` import pointed at this package's source).
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  connect,
  createConnection,
  createServer,
  HandshakeError,
  permessageDeflate,
  type WebSocketConnection,
  type WebSocketServer,
} from '../src/index.ts';
import { hasOpenssl, selfSigned, until, within } from './helpers.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const docs = path.join(here, '../../../docs');
const snippets = path.join(docs, 'snippets');
const tmp = mkdtempSync(path.join(tmpdir(), 'docs-snippets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Import docs/snippets/<name>.ts as written, its `@ws/node` import pointed at this package's source. */
async function load<T>(name: string): Promise<T> {
  const source = readFileSync(path.join(snippets, `${name}.ts`), 'utf8').replaceAll(
    "from '@ws/node'",
    `from ${JSON.stringify(path.join(here, '../src/index.ts'))}`,
  );
  const file = path.join(tmp, `${name}.ts`);
  writeFileSync(file, source);
  return (await import(file)) as T;
}

const portOf = (server: WebSocketServer): number => server.address()!.port;

/** A client, once open, and its first message (listening from the start: these servers greet at once). */
async function greeted(
  url: string,
  options: Parameters<typeof connect>[1] = {},
): Promise<{ ws: WebSocketConnection; first: Promise<string | Uint8Array> }> {
  const ws = createConnection(url, options);
  const first = new Promise<string | Uint8Array>((resolve) => ws.once('message', resolve));
  await ws.opened;
  return { ws, first };
}

describe('the docs quote docs/snippets/ exactly', () => {
  const files = readdirSync(snippets).map((f) => readFileSync(path.join(snippets, f), 'utf8'));
  for (const doc of ['recipes.md', 'migrating-from-ws.md']) {
    const text = readFileSync(path.join(docs, doc), 'utf8');
    const blocks = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    it(`${doc}: ${blocks.length} code blocks, each from a snippet file`, () => {
      expect(blocks.length).toBeGreaterThan(0);
      for (const block of blocks)
        expect(
          files.some((f) => f.includes(block)),
          block.slice(0, 80),
        ).toBe(true);
    });
  }
});

describe('recipes', () => {
  it('auth: a known token (header or query) is welcomed by name, an unknown one gets 401', async () => {
    const { startAuthServer } = await load<typeof import('../../../docs/snippets/auth.ts')>('auth');
    const server = await startAuthServer(new Map([['s3cr3t', 'alice']]), 0);
    try {
      const url = `ws://127.0.0.1:${portOf(server)}`;
      for (const { ws, first } of [
        await greeted(url, { headers: { authorization: 'Bearer s3cr3t' } }),
        await greeted(`${url}/?token=s3cr3t`),
      ]) {
        expect(await first).toBe('hello alice');
        ws.close();
      }
      const error = await connect(url, { headers: { authorization: 'Bearer wrong' } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HandshakeError);
      expect([(error as HandshakeError).status, (error as HandshakeError).headers?.get('www-authenticate')]).toEqual([
        401,
        'Bearer',
      ]);
    } finally {
      await within(server.close(), 10_000, 'close');
    }
  });

  it('heartbeat: a peer that answers pings stays, one that does not is dropped with 1011', async () => {
    const { startHeartbeatServer } = await load<typeof import('../../../docs/snippets/heartbeat.ts')>('heartbeat');
    const server = await startHeartbeatServer(100, 200, 0);
    try {
      const url = `ws://127.0.0.1:${portOf(server)}`;
      const alive = await connect(url);
      const silent = await connect(url, { autoPong: false });
      const info = await within(silent.closed, 10_000, 'the silent peer dropped');
      expect(info.code).toBe(1011);
      expect(alive.readyState).toBe('open');
      alive.close();
    } finally {
      await within(server.close(), 10_000, 'close');
    }
  });

  it('broadcast: every open connection gets it, a backed-up one is skipped; topics publish to subscribers', async () => {
    const { broadcast, joinAndAnnounce } =
      await load<typeof import('../../../docs/snippets/broadcast.ts')>('broadcast');
    const server = createServer();
    joinAndAnnounce(server);
    await server.listen(0, '127.0.0.1');
    try {
      const url = `ws://127.0.0.1:${portOf(server)}`;
      const got: string[][] = [[], []];
      const clients: WebSocketConnection[] = [];
      for (let i = 0; i < 2; i++) {
        const ws = createConnection(url);
        ws.on('message', (data) => got[i]!.push(String(data)));
        await ws.opened;
        clients.push(ws);
      }
      await until(() => server.connections.size === 2, 'both open');
      expect(broadcast(server, 'to all')).toBe(2);
      expect(broadcast(server, 'nobody', -1)).toBe(0); // everyone counts as behind
      await until(() => got[0]!.includes('to all') && got[1]!.includes('to all'), 'delivered');
      await until(() => got[0]!.includes('someone joined'), 'the first saw the second join');
      for (const ws of clients) ws.close();
    } finally {
      await within(server.close(), 10_000, 'close');
    }
  });

  it('backpressure: sendAll waits in drain(), saveAll reads at its own pace; everything arrives in order', async () => {
    const { sendAll, saveAll } = await load<typeof import('../../../docs/snippets/backpressure.ts')>('backpressure');
    const N = 48;
    const saved: number[] = [];
    let counted: Promise<number> | undefined;
    const server = createServer({}, (ws) => {
      counted = saveAll(ws, async (message) => {
        saved.push((message as Uint8Array)[0]!);
        await new Promise((resolve) => setTimeout(resolve, 2)); // a slow disk
      });
    });
    await server.listen(0, '127.0.0.1');
    try {
      const client = await connect(`ws://127.0.0.1:${portOf(server)}`, { highWaterMark: 256 * 1024 });
      let drains = 0;
      const original = client.drain.bind(client);
      client.drain = () => (drains++, original());
      await within(
        sendAll(
          client,
          Array.from({ length: N }, (_, i) => new Uint8Array(128 * 1024).fill(i)),
        ),
        30_000,
        'sendAll',
      );
      expect(drains).toBeGreaterThan(0);
      client.close();
      expect(await within(counted!, 30_000, 'saveAll')).toBe(N);
      expect(saved).toEqual(Array.from({ length: N }, (_, i) => i));
    } finally {
      await within(server.close(), 10_000, 'close');
    }
  });

  it.skipIf(!hasOpenssl())(
    'tls: wss with a self-signed certificate the client trusts (skipped only without openssl)',
    async () => {
      const { startTlsServer, connectTls } = await load<typeof import('../../../docs/snippets/tls.ts')>('tls');
      const { key, cert } = selfSigned();
      const server = await startTlsServer(key, cert, 0);
      try {
        const ws = await connectTls(portOf(server), cert);
        const echo = new Promise((resolve) => ws.once('message', resolve));
        ws.send('over tls');
        expect(await echo).toBe('over tls');
        expect(ws.url).toMatch(/^wss:/);
        ws.close();
      } finally {
        await within(server.close(), 10_000, 'close');
      }
    },
  );

  it('graceful shutdown: every client is closed with 1001 and the server stops listening', async () => {
    const { shutdownOnSignal } = await load<typeof import('../../../docs/snippets/shutdown.ts')>('shutdown');
    const server = createServer();
    await server.listen(0, '127.0.0.1');
    const stop = shutdownOnSignal(server, 1000);
    try {
      const url = `ws://127.0.0.1:${portOf(server)}`;
      const clients = [await connect(url), await connect(url)];
      await stop();
      expect((await Promise.all(clients.map((ws) => ws.closed))).map((info) => info.code)).toEqual([1001, 1001]);
      expect(server.server.listening).toBe(false);
    } finally {
      process.removeListener('SIGTERM', stop);
    }
  });
});

describe('migrating from ws', () => {
  it('server: deflate, a message limit, a subprotocol and an origin list as options; message events as ws', async () => {
    const { startMigratedServer } =
      await load<typeof import('../../../docs/snippets/migrate-server.ts')>('migrate-server');
    const server = await startMigratedServer(0);
    try {
      const url = `ws://127.0.0.1:${portOf(server)}/room`;
      const ws = await connect(url, {
        protocols: ['chat.v2'],
        origin: 'https://app.example',
        extensions: [permessageDeflate()],
      });
      expect(ws.protocol).toBe('chat.v2');
      expect(ws.extensions).toMatch(/permessage-deflate/);
      const reply = new Promise((resolve) => ws.once('message', resolve));
      ws.send('hi');
      expect(await reply).toBe('/room: hi');
      ws.close();
      const refused = await connect(url, { origin: 'https://evil.example' }).catch((e: unknown) => e);
      expect((refused as HandshakeError).status).toBe(403);
    } finally {
      await within(server.close(), 10_000, 'close');
    }
  });

  it('handleUpgrade: an upgrade handler on node:http tracks its connections', async () => {
    const { attach } = await load<typeof import('../../../docs/snippets/migrate-upgrade.ts')>('migrate-upgrade');
    const httpServer = http.createServer((_req, res) => res.end('plain'));
    const wss = attach(httpServer);
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    const { port } = httpServer.address() as net.AddressInfo;
    try {
      const { ws: client, first } = await greeted(`ws://127.0.0.1:${port}/ws`);
      expect(await first).toBe('welcome');
      expect(wss.connections.size).toBe(1);
      await within(wss.shutdown({ timeout: 1000 }), 10_000, 'shutdown');
      expect((await client.closed).code).toBe(1001);
    } finally {
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    }
  });

  it('client: connect with protocols and headers; createWebSocketStream', async () => {
    const { talk, asDuplex } = await load<typeof import('../../../docs/snippets/migrate-client.ts')>('migrate-client');
    const seen: string[] = [];
    const server = createServer({ protocols: ['chat'] }, (ws: WebSocketConnection, request) => {
      seen.push(request.headers.get('authorization') ?? '');
      ws.on('message', (data) => ws.send(`echo ${typeof data === 'string' ? data : new TextDecoder().decode(data)}`));
    });
    await server.listen(0, '127.0.0.1');
    try {
      const url = `ws://127.0.0.1:${portOf(server)}`;
      expect(await talk(url)).toBe('echo hi');
      expect(seen).toEqual(['Bearer t']);
      const duplex = asDuplex(await connect(url));
      const chunks: string[] = [];
      duplex.write('abc');
      const done = pipeline(
        duplex,
        new Writable({ write: (chunk, _e, cb) => (chunks.push(String(chunk)), duplex.end(), cb()) }),
      );
      await within(done, 10_000, 'duplex');
      expect(chunks).toEqual(['echo abc']);
    } finally {
      await within(server.close(), 10_000, 'close');
    }
  });
});
