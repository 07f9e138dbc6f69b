// Our client over HTTP/2 (RFC 8441): `connect(url, { http2: true })` against our server, many
// WebSockets on one session (one TCP connection), and the fall back to HTTP/1.1.
import { execFile } from 'node:child_process';
import http2 from 'node:http2';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createUpgradeHandler, permessageDeflate, type WebSocketConnection } from '../src/index.ts';
import { HOST, ourServer, selfSigned, within } from './helpers.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let pair: { key: Buffer; cert: Buffer } | null = null;
const tlsPair = () => (pair ??= selfSigned());

/** An HTTP/2 server (h2c, or TLS with allowHTTP1) with our echo handler attached; counts TCP connections and extended CONNECTs. */
async function h2Server(opts: { secure?: boolean; connectProtocol?: boolean } = {}) {
  const seen = { sockets: 0, extendedConnects: 0, upgrades: 0 };
  const wss = createUpgradeHandler({ extensions: [permessageDeflate()] }, (ws) => {
    ws.on('message', (data) => ws.send(data));
  });
  const settings = { enableConnectProtocol: opts.connectProtocol ?? true };
  const server = opts.secure
    ? http2.createSecureServer({ ...tlsPair(), settings, allowHTTP1: true })
    : http2.createServer({ settings });
  server.on('connection', () => seen.sockets++);
  server.on('secureConnection', () => {});
  server.on('stream', (_stream, headers) => {
    if (headers[':protocol'] !== undefined) seen.extendedConnects++;
  });
  server.on('upgrade', () => seen.upgrades++);
  wss.attach(server);
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const port = (server.address() as { port: number }).port;
  cleanups.push(async () => {
    await within(wss.close(), 5000, 'wss.close');
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port, seen, wss };
}

describe('connect(url, { http2: true })', () => {
  it('opens 100 WebSockets on one HTTP/2 session (one TCP connection) and echoes on each', async () => {
    const { port, seen, wss } = await h2Server();
    const sockets: WebSocketConnection[] = await within(
      Promise.all(Array.from({ length: 100 }, (_, i) => connect(`ws://${HOST}:${port}/n${i}`, { http2: true }))),
      10_000,
      '100 connects',
    );
    expect(sockets.every((ws) => ws.httpVersion === '2')).toBe(true);
    expect(sockets[0]!.response).toMatchObject({ status: 200, httpVersion: '2' });
    const echoes = await within(
      Promise.all(
        sockets.map(async (ws, i) => {
          const next = new Promise<unknown>((resolve) => ws.once('message', resolve));
          ws.send(i % 2 === 0 ? `text ${i}` : new Uint8Array([i, 1, 2]));
          return next;
        }),
      ),
      10_000,
      '100 echoes',
    );
    expect(echoes[0]).toBe('text 0');
    expect(new Uint8Array(echoes[1] as Uint8Array)).toEqual(new Uint8Array([1, 1, 2]));
    expect(seen.sockets).toBe(1);
    expect(seen.extendedConnects).toBe(100);
    expect(wss.connections.size).toBe(100);
    // Close code and reason travel as over TCP.
    const first = sockets[0]!;
    first.close(4002, 'done');
    expect(await within(first.closed)).toMatchObject({ code: 4002, wasClean: true });
    await within(Promise.all(sockets.slice(1).map((ws) => (ws.close(), ws.closed))), 10_000, 'closes');
  });

  it('negotiates permessage-deflate over HTTP/2 (TLS)', async () => {
    const { port } = await h2Server({ secure: true });
    const ws = await within(
      connect(`wss://${HOST}:${port}/`, { http2: true, ca: tlsPair().cert, extensions: [permessageDeflate()] }),
    );
    expect(ws.httpVersion).toBe('2');
    expect(ws.extensions).toMatch(/^permessage-deflate/);
    const text = 'deflate me '.repeat(500);
    const echoed = new Promise<unknown>((resolve) => ws.once('message', resolve));
    ws.send(text);
    expect(await within(echoed)).toBe(text);
    ws.close();
    await within(ws.closed);
  });

  it('falls back to HTTP/1.1 when the server does not allow extended CONNECT (same port, allowHTTP1)', async () => {
    const { port, seen } = await h2Server({ secure: true, connectProtocol: false });
    const ws = await within(connect(`wss://${HOST}:${port}/`, { http2: true, ca: tlsPair().cert }));
    expect(ws.httpVersion).toBe('1.1');
    expect(seen.upgrades).toBe(1);
    expect(seen.extendedConnects).toBe(0);
    const echoed = new Promise<unknown>((resolve) => ws.once('message', resolve));
    ws.send('over 1.1');
    expect(await within(echoed)).toBe('over 1.1');
    ws.close();
    await within(ws.closed);
  });

  it('falls back to HTTP/1.1 against a server that speaks no HTTP/2', async () => {
    const { server, url } = await ourServer({}, (ws) => ws.on('message', (data) => ws.send(data)));
    cleanups.push(() => within(server.close(), 5000, 'server.close'));
    const ws = await within(connect(url, { http2: true }));
    expect(ws.httpVersion).toBe('1.1');
    ws.close();
    await within(ws.closed);
  });

  it('a refusal over HTTP/2 rejects with its status', async () => {
    const wss = createUpgradeHandler({ verifyClient: () => ({ status: 403, body: 'nope' }) }, () => {});
    const server = http2.createServer({ settings: { enableConnectProtocol: true } });
    wss.attach(server);
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    cleanups.push(async () => {
      await wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const port = (server.address() as { port: number }).port;
    const error = await within(connect(`ws://${HOST}:${port}/`, { http2: true }).catch((e: unknown) => e));
    expect(error).toMatchObject({ status: 403 });
  });

  it('`await connect(…)` keeps a script alive while the session waits for its SETTINGS (nothing else running)', async () => {
    const { port } = await h2Server();
    // A script of its own: in this process, vitest's handles would keep Node alive anyway. Before
    // the fix the pooled session was unreferenced from the start and Node exited with code 13
    // (a top-level await never settled) before the first WebSocket opened.
    const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
    const script = `
      const { ensureBuilt } = await import(${JSON.stringify(path.join(pkg, 'bin/ensure-built.mjs'))});
      await ensureBuilt();
      const { connect } = await import('@ws/node');
      for (let i = 0; i < 2; i++) {
        const ws = await connect('ws://${HOST}:${port}/script', { http2: true });
        const echoed = new Promise((resolve) => ws.once('message', resolve));
        ws.send('hi ' + i);
        console.log('echo', String(await echoed), ws.httpVersion);
        ws.close(1000);
        console.log('closed', (await ws.closed).code);
      }`;
    const out = await within(
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--input-type=module', '-e', script],
          { cwd: pkg, timeout: 60_000 },
          (error, stdout, stderr) =>
            resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? null), stdout, stderr }),
        );
      }),
      70_000,
      'the script',
    );
    expect(out, out.stderr).toMatchObject({ code: 0, stdout: 'echo hi 0 2\nclosed 1000\necho hi 1 2\nclosed 1000\n' });
  });

  it('createConnection refuses the option with a TypeError saying to use connect()', async () => {
    const { createConnection } = await import('../src/index.ts');
    expect(() => createConnection('ws://127.0.0.1:1/', { http2: true })).toThrow(/connect\(url, \{ http2: true \}\)/);
  });
});
