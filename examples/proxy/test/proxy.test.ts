// End to end: a `ws` client ⇄ the proxy ⇄ an upstream (a `ws` server, or an @ws/node server in
// streaming mode that records every fragment it receives), all on 127.0.0.1.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createTcpServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket as WsClient, WebSocketServer as WsServer, type RawData } from 'ws';
import type { IncomingMessage } from 'node:http';
import { createServer, type FragmentInfo, type WebSocketConnection, type WebSocketServer } from '@ws/node';
import { createProxy, type Proxy } from '../proxy.mjs';

const HOST = '127.0.0.1';
const MiB = 1024 * 1024;
const HERE = path.dirname(fileURLToPath(import.meta.url));

// ───────────────────────────── helpers ─────────────────────────────

function within<T>(promise: Promise<T>, ms = 10_000, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]);
}

/** Poll `condition` every 10 ms, for at most `ms`. */
async function until(condition: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function bytes(n: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

async function open(url: string, protocols?: string[]): Promise<WsClient> {
  const ws = new WsClient(url, protocols);
  await within(once(ws, 'open'), 10_000, `open ${url}`);
  return ws;
}

/** The client's close event as { code, reason }. */
function closeOf(ws: WsClient): Promise<{ code: number; reason: string }> {
  return within(
    once(ws, 'close').then(([code, reason]) => ({ code: code as number, reason: String(reason) })),
    15_000,
    'client close',
  );
}

/** The HTTP status a refused upgrade answered with. */
function refusal(url: string): Promise<number> {
  return within(
    new Promise((resolve, reject) => {
      const ws = new WsClient(url);
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
        ws.terminate();
      });
      ws.on('error', () => {});
      ws.on('open', () => reject(new Error('expected a refusal, got open')));
    }),
  );
}

async function freePort(): Promise<number> {
  const server = createTcpServer().listen(0, HOST);
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** A `ws` echo server that picks `superchat` when offered and records requests and closes. */
async function wsUpstream(onConnection?: (ws: WsClient, req: IncomingMessage) => void) {
  const requests: IncomingMessage[] = [];
  const sockets: WsClient[] = [];
  const closes: Array<{ code: number; reason: string }> = [];
  const server = new WsServer({
    host: HOST,
    port: 0,
    handleProtocols: (offered) => (offered.has('superchat') ? 'superchat' : false),
    verifyClient: (info, done) => (info.req.url?.startsWith('/forbidden') ? done(false, 403, 'Forbidden') : done(true)),
  });
  await once(server, 'listening');
  server.on('connection', (ws, req) => {
    requests.push(req);
    sockets.push(ws);
    ws.on('close', (code, reason) => closes.push({ code, reason: reason.toString() }));
    ws.on('message', (data: RawData, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    onConnection?.(ws, req);
  });
  const { port } = server.address() as { port: number };
  return {
    url: `ws://${HOST}:${port}`,
    requests,
    sockets,
    closes,
    close: () => {
      for (const ws of server.clients) ws.terminate();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

interface Received {
  data: Buffer;
  info: FragmentInfo;
}

/** An @ws/node server in streaming mode: records each fragment, echoes it back as it comes. */
async function streamingUpstream(handler?: (ws: WebSocketConnection) => void) {
  const fragments: Received[] = [];
  const connections: WebSocketConnection[] = [];
  const server: WebSocketServer = createServer({ assembleMessages: false }, (ws) => {
    connections.push(ws);
    if (handler) return handler(ws);
    ws.on('fragment', (data, info) => {
      fragments.push({ data: Buffer.from(data), info });
      ws.sendFragment(data, info.fin, { kind: info.kind });
    });
  });
  const { port } = await server.listen(0, HOST);
  return { url: `ws://${HOST}:${port}`, fragments, connections, close: () => server.close() };
}

async function startProxy(
  upstream: string,
  options: Partial<Parameters<typeof createProxy>[0]> = {},
): Promise<{ proxy: Proxy; url: string }> {
  const proxy = createProxy({ upstream, ...options });
  const { port } = await proxy.listen(0, HOST);
  return { proxy, url: `ws://${HOST}:${port}` };
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await within(Promise.resolve(cleanup()), 15_000, 'cleanup');
});
const later = <T extends { close(): unknown }>(thing: T): T => {
  cleanups.push(() => thing.close());
  return thing;
};
/** A proxy closed after the test. */
const proxyTo = async (upstream: string, options: Partial<Parameters<typeof createProxy>[0]> = {}) => {
  const started = await startProxy(upstream, options);
  later(started.proxy);
  return started;
};
const client = async (url: string, protocols?: string[]): Promise<WsClient> => {
  const ws = await open(url, protocols);
  cleanups.push(() => ws.terminate());
  return ws;
};
const messages = (ws: WsClient, n: number): Promise<Array<[Buffer, boolean]>> =>
  within(
    new Promise((resolve) => {
      const got: Array<[Buffer, boolean]> = [];
      ws.on('message', (data: RawData, isBinary) => {
        got.push([data as Buffer, isBinary]);
        if (got.length === n) resolve(got);
      });
    }),
    20_000,
    `${n} messages`,
  );

// ───────────────────────────── tests ─────────────────────────────

describe('proxy: client (ws) ⇄ proxy ⇄ upstream', () => {
  it('carries text and binary both ways, the path, query, subprotocol and forwarding headers', async () => {
    const upstream = later(await wsUpstream());
    const { url } = await proxyTo(upstream.url);
    const ws = await client(`${url}/room/1?x=y`, ['chat', 'superchat']);
    expect(ws.protocol).toBe('superchat');
    const got = messages(ws, 4);
    ws.send('héllo, wörld ✓');
    ws.send(new Uint8Array([0, 1, 2, 254, 255]));
    ws.send('');
    ws.send(bytes(200_000));
    const [a, b, c, d] = await got;
    expect([a![0].toString(), a![1]]).toEqual(['héllo, wörld ✓', false]);
    expect([[...b![0]], b![1]]).toEqual([[0, 1, 2, 254, 255], true]);
    expect([c![0].length, c![1]]).toEqual([0, false]);
    expect([sha256(d![0]), d![1]]).toEqual([sha256(bytes(200_000)), true]);
    const request = upstream.requests[0]!;
    expect(request.url).toBe('/room/1?x=y');
    expect(request.headers['x-forwarded-for']).toBe(HOST);
    expect(request.headers['x-forwarded-proto']).toBe('ws');
    expect(request.headers['sec-websocket-protocol']).toBe('chat, superchat');
  });

  it('forwards fragments as they come: the upstream has a message’s first part before the client sends the rest', async () => {
    const upstream = later(await streamingUpstream());
    const { url } = await proxyTo(upstream.url);
    const ws = await client(url);
    const echoed = messages(ws, 2);
    // A text message cut inside "é" (0xc3 0xa9): the proxy must pass the raw bytes on as text.
    const text = Buffer.from('héllo wörld');
    ws.send(text.subarray(0, 2), { binary: false, fin: false });
    await until(() => upstream.fragments.length >= 1, 10_000, 'first text fragment upstream');
    expect(upstream.fragments[0]!.info).toEqual({ kind: 'text', first: true, fin: false });
    ws.send(text.subarray(2, 7), { binary: false, fin: false });
    await until(
      () => Buffer.concat(upstream.fragments.map((f) => f.data)).length >= 7,
      10_000,
      'second text fragment upstream',
    );
    ws.send(text.subarray(7), { binary: false, fin: true });
    ws.send(Buffer.from([1, 2, 3]), { binary: true, fin: false });
    await until(
      () => upstream.fragments.some((f) => f.info.kind === 'binary'),
      10_000,
      'first binary fragment upstream',
    );
    expect(upstream.fragments.at(-1)!.info).toMatchObject({ kind: 'binary', first: true, fin: false });
    ws.send(Buffer.from([4, 5]), { binary: true, fin: true });
    const [[t, tb], [bin, bb]] = (await echoed) as [[Buffer, boolean], [Buffer, boolean]];
    expect([t.toString(), tb]).toEqual(['héllo wörld', false]);
    expect([[...bin], bb]).toEqual([[1, 2, 3, 4, 5], true]);
    const textParts = upstream.fragments.filter((f) => f.info.kind === 'text');
    expect(Buffer.concat(textParts.map((f) => f.data)).toString()).toBe('héllo wörld');
    expect(textParts.length).toBeGreaterThanOrEqual(3);
    expect(textParts.filter((f) => f.info.fin)).toHaveLength(1);
  });

  it('streams a 16 MiB message in pieces, never as a whole, both ways', { timeout: 60_000 }, async () => {
    const upstream = later(await streamingUpstream());
    const { url } = await proxyTo(upstream.url, { limits: { maxMessageSize: 32 * MiB } });
    const ws = await client(url);
    const big = bytes(16 * MiB, 7);
    const echoed = messages(ws, 1);
    ws.send(big);
    const [[back, isBinary]] = (await echoed) as [[Buffer, boolean]];
    expect(isBinary).toBe(true);
    expect(back.length).toBe(16 * MiB);
    expect(sha256(back)).toBe(sha256(big));
    const sizes = upstream.fragments.map((f) => f.data.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(16 * MiB);
    // One frame from the client, yet the upstream saw it in socket-sized pieces: the proxy never
    // held the message (nor even one frame) whole.
    expect(sizes.length).toBeGreaterThan(16);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MiB);
    expect(upstream.fragments.filter((f) => f.info.first)).toHaveLength(1);
    expect(upstream.fragments.filter((f) => f.info.fin)).toHaveLength(1);
  });

  it('applies backpressure: pauses the upstream leg while the client does not read, resumes on drain', {
    timeout: 60_000,
  }, async () => {
    const total = 24 * MiB;
    const chunk = 64 * 1024;
    const upstream = later(
      await streamingUpstream((ws) => {
        ws.on('fragment', async (data) => {
          if (Buffer.from(data).toString() !== 'go') return;
          // One 24 MiB binary message, sent as the upstream's own backpressure allows.
          for (let sent = 0; sent < total && ws.readyState === 'open'; sent += chunk) {
            if (ws.sendFragment(bytes(chunk, sent / chunk), sent + chunk >= total) === 'buffered') await ws.drain();
          }
        });
      }),
    );
    const highWaterMark = 256 * 1024;
    const { proxy, url } = await proxyTo(upstream.url, { highWaterMark });
    const ws = await client(url);
    const pair = [...proxy.pairs][0]!;
    let pauses = 0;
    const pause = pair.upstream.pause.bind(pair.upstream);
    pair.upstream.pause = () => {
      pauses++;
      pause();
    };
    let received = 0;
    const hash = createHash('sha256');
    const done = new Promise<void>((resolve) =>
      ws.on('message', (data: Buffer) => {
        received += data.length;
        hash.update(data);
        resolve();
      }),
    );
    ws.pause(); // the client stops reading
    ws.send('go');
    let maxBuffered = 0;
    const sampler = setInterval(() => (maxBuffered = Math.max(maxBuffered, pair.client.bufferedAmount)), 2);
    try {
      await until(() => pauses > 0, 20_000, 'the proxy pausing the upstream leg');
      await new Promise((r) => setTimeout(r, 300)); // stay paused a while
      // The client's leg holds at most the mark plus what one read of the upstream brought.
      expect(maxBuffered).toBeGreaterThan(0);
      expect(maxBuffered).toBeLessThanOrEqual(highWaterMark + 256 * 1024);
      // …and the rest waits upstream, not in the proxy.
      expect(upstream.connections[0]!.bufferedAmount).toBeGreaterThan(0);
      ws.resume();
      await within(done, 30_000, 'the whole message');
    } finally {
      clearInterval(sampler);
    }
    const expected = createHash('sha256');
    for (let sent = 0; sent < total; sent += chunk) expected.update(bytes(chunk, sent / chunk));
    expect(received).toBe(total);
    expect(hash.digest('hex')).toBe(expected.digest('hex'));
    expect(maxBuffered).toBeLessThanOrEqual(highWaterMark + 256 * 1024);
  });

  it('forwards pings and pongs end to end, with their payloads', async () => {
    const upstream = later(await wsUpstream());
    const { url } = await proxyTo(upstream.url);
    const ws = await client(url);
    await until(() => upstream.sockets.length === 1);
    const upstreamPing = once(upstream.sockets[0]!, 'ping');
    const clientPong = once(ws, 'pong');
    ws.ping('from client');
    expect(String((await within(upstreamPing))[0])).toBe('from client');
    expect(String((await within(clientPong))[0])).toBe('from client'); // answered by the upstream
    const clientPing = once(ws, 'ping');
    const upstreamPong = once(upstream.sockets[0]!, 'pong');
    upstream.sockets[0]!.ping('from upstream');
    expect(String((await within(clientPing))[0])).toBe('from upstream');
    expect(String((await within(upstreamPong))[0])).toBe('from upstream'); // answered by the client
  });

  it('passes the client’s close code and reason to the upstream', async () => {
    const upstream = later(await wsUpstream());
    const { proxy, url } = await proxyTo(upstream.url);
    const ws = await client(url);
    const closed = closeOf(ws);
    ws.close(4001, 'bye from client');
    expect((await closed).code).toBe(4001);
    await until(() => upstream.closes.length === 1, 10_000, 'upstream close');
    expect(upstream.closes[0]).toEqual({ code: 4001, reason: 'bye from client' });
    // A Close without a code arrives without one.
    const ws2 = await client(url);
    ws2.close();
    await until(() => upstream.closes.length === 2, 10_000, 'upstream close');
    expect(upstream.closes[1]!.code).toBe(1005);
    await until(() => proxy.pairs.size === 0, 10_000, 'pairs gone');
  });

  it('passes the upstream’s close code and reason to the client', async () => {
    const upstream = later(
      await wsUpstream((ws, req) => req.url === '/bye' && setTimeout(() => ws.close(4002, 'bye from upstream'), 20)),
    );
    const { url } = await proxyTo(upstream.url);
    const ws = await client(`${url}/bye`);
    expect(await closeOf(ws)).toEqual({ code: 4002, reason: 'bye from upstream' });
    await until(() => upstream.closes.length === 1);
    expect(upstream.closes[0]!.code).toBe(4002); // the proxy answered the Close
  });

  it('an upstream that drops (socket destroyed) closes the client with 1011 "upstream connection lost"', async () => {
    const upstream = later(
      await wsUpstream((ws) =>
        ws.on(
          'message',
          (data) => String(data) === 'die' && (ws as unknown as { _socket: { destroy(): void } })._socket.destroy(),
        ),
      ),
    );
    const { proxy, url } = await proxyTo(upstream.url);
    const ws = await client(url);
    const closed = closeOf(ws);
    ws.send('die');
    expect(await closed).toEqual({ code: 1011, reason: 'upstream connection lost' });
    await until(() => proxy.pairs.size === 0, 10_000, 'pairs gone');
  });

  it('a client that drops closes the upstream with 1001 "client went away"', async () => {
    const upstream = later(await wsUpstream());
    const { proxy, url } = await proxyTo(upstream.url);
    const ws = await client(url);
    await until(() => upstream.sockets.length === 1);
    ws.terminate();
    await until(() => upstream.closes.length === 1, 10_000, 'upstream close');
    expect(upstream.closes[0]).toEqual({ code: 1001, reason: 'client went away' });
    await until(() => proxy.pairs.size === 0, 10_000, 'pairs gone');
  });

  it('refuses the client as the upstream refused it (403), or 502 when the upstream is unreachable', async () => {
    const upstream = later(await wsUpstream());
    const { url } = await proxyTo(upstream.url);
    expect(await refusal(`${url}/forbidden`)).toBe(403);
    const { url: nowhere } = await proxyTo(`ws://${HOST}:${await freePort()}`);
    expect(await refusal(nowhere)).toBe(502);
  });

  it('close() closes both legs of every pair with 1001', async () => {
    const upstream = later(await wsUpstream());
    const { proxy, url } = await startProxy(upstream.url);
    const ws = await client(url);
    const closed = closeOf(ws);
    await within(proxy.close(), 15_000, 'proxy close');
    expect(await closed).toEqual({ code: 1001, reason: 'proxy shutting down' });
    await until(() => upstream.closes.length === 1);
    expect(upstream.closes[0]).toEqual({ code: 1001, reason: 'proxy shutting down' });
  });
});

describe('proxy: the command (main.mjs)', () => {
  let upstream: Awaited<ReturnType<typeof wsUpstream>>;
  beforeAll(async () => {
    upstream = await wsUpstream();
  });
  afterAll(() => upstream?.close());

  it('listens, proxies, and exits on SIGTERM after closing its connections with 1001', {
    timeout: 180_000,
  }, async () => {
    const child = spawn(
      process.execPath,
      [path.join(HERE, '..', 'main.mjs'), '--', '--listen', `${HOST}:0`, '--upstream', upstream.url],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const exited = once(child, 'exit').then(([code]) => code as number | null);
    try {
      // The first run in a fresh clone builds @ws/codec and @ws/node.
      await until(
        () => /listening on ws:\/\/[^ ]+:\d+ -> /.test(output) || child.exitCode !== null,
        150_000,
        'proxy start',
      );
      const port = Number(/listening on ws:\/\/[^ ]+:(\d+) -> /.exec(output)?.[1]);
      expect(port, output).toBeGreaterThan(0);
      const ws = await open(`ws://${HOST}:${port}`);
      const got = messages(ws, 1);
      ws.send('through the command');
      expect(String((await got)[0]![0])).toBe('through the command');
      const closed = closeOf(ws);
      child.kill('SIGTERM');
      expect(await within(exited, 10_000, 'exit')).toBe(0);
      expect((await closed).code).toBe(1001);
      expect(output).toMatch(/open .* ⇄ ws:\/\//);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  });
});
