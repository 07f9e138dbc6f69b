// The Deno adapter seen from Node (so the vitest run covers it too): the `echo:deno` and
// `autobahn-client:deno` contracts, run as child processes through bin/run.mjs (the root scripts'
// launcher), talking to the `ws` npm package.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WebSocket as WsClient, WebSocketServer as WsServer } from 'ws';

const RUN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/run.mjs');
const HOST = '127.0.0.1';
const START_TIME = 60_000; // Deno compiles the codec on a cold start

/** What `pnpm run echo:deno …` / `autobahn-client:deno …` run: the launcher, then Deno. */
function start(script: string, args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [RUN, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, output: () => out, exited };
}

/** Stop the launcher: SIGTERM (passed on to Deno), then SIGKILL if it lingers. */
async function stop(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function within<T>(promise: Promise<T>, ms = 10_000, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]);
}

function bytes(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function messages(ws: WsClient, n: number): Promise<Array<[Buffer, boolean]>> {
  return new Promise((resolve) => {
    const got: Array<[Buffer, boolean]> = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      got.push([data, isBinary]);
      if (got.length === n) resolve(got);
    });
  });
}

describe('@ws/deno bin scripts, from Node', () => {
  it('echo.ts prints listening, echoes with types (deflate accepted), exits on SIGTERM', { timeout: START_TIME + 30_000 }, async () => {
    const { child, output, exited } = start('echo.ts', ['--port', '0', '--host', HOST]);
    try {
      const port = await within(
        (async () => {
          for (;;) {
            const match = /listening on ws:\/\/[^:]+:(\d+)/.exec(output());
            if (match) return Number(match[1]);
            if (child.exitCode !== null) throw new Error(`echo exited early: ${output()}`);
            await new Promise((r) => setTimeout(r, 50));
          }
        })(),
        START_TIME,
        'echo server start',
      );
      const client = new WsClient(`ws://${HOST}:${port}`); // ws offers permessage-deflate by default
      await within(once(client, 'open'));
      expect(client.extensions).toMatch(/^permessage-deflate/);
      const got = messages(client, 4);
      client.send('hello deno');
      client.send(bytes(100_000));
      client.send('');
      client.send('x'.repeat(200_000)); // compresses well
      const [[a, ab], [b, bb], [c, cb], [d, db]] = (await within(got)) as Array<[Buffer, boolean]> as [[Buffer, boolean], [Buffer, boolean], [Buffer, boolean], [Buffer, boolean]];
      expect([a.toString(), ab]).toEqual(['hello deno', false]);
      expect([Buffer.compare(b, bytes(100_000)), bb]).toEqual([0, true]);
      expect([c.length, cb]).toEqual([0, false]);
      expect([d.toString() === 'x'.repeat(200_000), db]).toEqual([true, false]);
      const closed = once(client, 'close');
      child.kill('SIGTERM');
      expect(await within(exited, 10_000, 'echo exit')).toBe(0);
      const [code] = await within(closed);
      expect(code).toBe(1001);
    } finally {
      await stop(child, exited);
    }
  });

  it('autobahn-client.ts runs the getCaseCount / runCase / updateReports loop', { timeout: START_TIME + 30_000 }, async () => {
    // A stand-in for Autobahn's fuzzingserver: three cases that each expect their messages echoed.
    const CASES: Array<Array<string | Buffer>> = [['case one'], [bytes(70_000), 'ü'], [Buffer.alloc(0)]];
    const results: boolean[] = [];
    const visits: string[] = [];
    const server = new WsServer({ host: HOST, port: 0 });
    await once(server, 'listening');
    const url = `ws://${HOST}:${(server.address() as { port: number }).port}`;
    server.on('connection', (ws, req) => {
      const u = new URL(req.url!, 'http://x');
      visits.push(`${u.pathname}${u.search}`);
      if (u.pathname === '/getCaseCount') {
        ws.send(String(CASES.length));
        ws.close(1000);
      } else if (u.pathname === '/runCase') {
        const expected = CASES[Number(u.searchParams.get('case')) - 1]!;
        const echoed: Array<[Buffer, boolean]> = [];
        ws.on('message', (data: Buffer, isBinary) => {
          echoed.push([data, isBinary]);
          if (echoed.length === expected.length) {
            results.push(expected.every((m, i) => echoed[i]![1] === (typeof m !== 'string') && Buffer.compare(echoed[i]![0], Buffer.from(m)) === 0));
            ws.close(1000);
          }
        });
        for (const m of expected) ws.send(m);
      } else {
        ws.close(1000);
      }
    });
    const { child, output, exited } = start('autobahn-client.ts', ['--url', url, '--agent', 'test agent']);
    try {
      expect(await within(exited, START_TIME, 'autobahn client')).toBe(0);
      expect(results).toEqual([true, true, true]);
      expect(visits).toEqual([
        '/getCaseCount',
        '/runCase?case=1&agent=test%20agent',
        '/runCase?case=2&agent=test%20agent',
        '/runCase?case=3&agent=test%20agent',
        '/updateReports?agent=test%20agent',
      ]);
      expect(output()).toContain('reports updated');
    } finally {
      await stop(child, exited);
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
