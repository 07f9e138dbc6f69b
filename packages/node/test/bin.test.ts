// The root scripts' contracts: `echo:node --port P` and `autobahn-client:node --url … --agent …`,
// run as child processes (they build the packages first when dist is missing or stale).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WebSocketServer as WsServer } from 'ws';
import { HOST, bytes, closeWsServer, within, wsClient, wsMessages, wsServer } from './helpers.ts';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin');
const BUILD_TIME = 120_000; // a cold build of both packages (declarations included) takes a while

function start(script: string, args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [path.join(BIN, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, output: () => out, exited };
}

async function stop(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await exited;
}

describe('bin scripts', () => {
  it('echo.mjs prints listening, echoes text and binary with their types, exits on SIGTERM', { timeout: BUILD_TIME + 30_000 }, async () => {
    const { child, output, exited } = start('echo.mjs', ['--port', '0', '--host', HOST]);
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
        BUILD_TIME,
        'echo server start',
      );
      const client = await wsClient(`ws://${HOST}:${port}`);
      const got = wsMessages(client, 3);
      client.send('hello');
      client.send(bytes(100_000));
      client.send('');
      const [[a, ab], [b, bb], [c, cb]] = (await within(got)) as [[Buffer, boolean], [Buffer, boolean], [Buffer, boolean]];
      expect([a.toString(), ab]).toEqual(['hello', false]);
      expect([Buffer.compare(b, Buffer.from(bytes(100_000))), bb]).toEqual([0, true]);
      expect([c.length, cb]).toEqual([0, false]);
      const closed = once(client, 'close');
      child.kill('SIGTERM');
      expect(await within(exited, 10_000, 'echo exit')).toBe(0);
      const [code] = await within(closed);
      expect(code).toBe(1001);
    } finally {
      await stop(child, exited);
    }
  });

  it('autobahn-client.mjs runs the getCaseCount / runCase / updateReports loop', { timeout: BUILD_TIME + 30_000 }, async () => {
    // A stand-in for Autobahn's fuzzingserver: three cases that each expect their messages echoed.
    const CASES: Array<Array<string | Uint8Array>> = [['case one'], [bytes(70_000), 'ü'], [new Uint8Array(0)]];
    const results: boolean[] = [];
    const visits: string[] = [];
    const { server, url } = await wsServer();
    server.on('connection', (ws, req) => {
      const u = new URL(req.url!, 'http://x');
      visits.push(`${u.pathname}${u.search}`);
      if (u.pathname === '/getCaseCount') {
        ws.send(String(CASES.length));
        ws.close(1000);
      } else if (u.pathname === '/runCase') {
        const messages = CASES[Number(u.searchParams.get('case')) - 1]!;
        const echoed: Array<[Buffer, boolean]> = [];
        ws.on('message', (data: Buffer, isBinary) => {
          echoed.push([data, isBinary]);
          if (echoed.length === messages.length) {
            results.push(messages.every((m, i) => echoed[i]![1] === (typeof m !== 'string') && Buffer.compare(echoed[i]![0], Buffer.from(m)) === 0));
            ws.close(1000);
          }
        });
        for (const m of messages) ws.send(m);
      } else {
        ws.close(1000);
      }
    });
    const { child, output, exited } = start('autobahn-client.mjs', ['--url', url, '--agent', 'test agent']);
    try {
      expect(await within(exited, BUILD_TIME, 'autobahn client')).toBe(0);
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
      await closeWsServer(server as WsServer);
    }
  });
});
