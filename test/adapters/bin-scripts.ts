// The root scripts' contracts, for the vitest suites that run a runtime's bin scripts as child
// processes (packages/node/test/bin.test.ts, packages/deno/test-node/bin.test.ts):
// `echo:<runtime> --port 0 --host H` and `autobahn-client:<runtime> --url … --agent …`, both
// driven by the `ws` npm package.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { expect } from 'vitest';
import { WebSocket as WsClient, WebSocketServer as WsServer } from 'ws';
import { AGENT, caseOf, checkAutobahnRun, echoedAll, CASES } from '../shared/autobahn-stand-in.ts';
import { bytes } from '../shared/bytes.ts';
import { HOST, within } from './raw-client.ts';

/** How a runtime's bin scripts are started. */
export interface Bins {
  /** The arguments to `node` that run `script` (e.g. `[BIN/echo.mjs]`, or `[run.mjs, 'echo.ts']`). */
  argv(script: string): string[];
  /** A cold start may build (Node: tsup) or compile (Deno) first. */
  startTime: number;
}

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(bins: Bins, script: string, args: string[]): Started {
  const child = spawn(process.execPath, [...bins.argv(script), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, output: () => out, exited };
}

/** Stop a script: SIGTERM (a launcher passes it on), then SIGKILL if it lingers. */
async function stop({ child, exited }: Started): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** The next `n` messages of a `ws` client, as [data, isBinary]. */
function messages(ws: WsClient, n: number): Promise<Array<[Buffer, boolean]>> {
  return new Promise((resolve) => {
    const got: Array<[Buffer, boolean]> = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      got.push([data, isBinary]);
      if (got.length === n) resolve(got);
    });
  });
}

/**
 * The echo script prints `listening on`, echoes with types (accepting `ws`'s deflate offer), exits 0
 * on SIGTERM closing with 1001. Resolves with what it printed (stdout and stderr).
 */
export async function echoContract(bins: Bins, script: string): Promise<string> {
  const started = start(bins, script, ['--port', '0', '--host', HOST]);
  const { child, output, exited } = started;
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
      bins.startTime,
      'echo server start',
    );
    const client = new WsClient(`ws://${HOST}:${port}`); // ws offers permessage-deflate by default
    await within(once(client, 'open'));
    expect(client.extensions).toMatch(/^permessage-deflate/);
    const got = messages(client, 4);
    client.send('hello');
    client.send(bytes(100_000));
    client.send('');
    client.send('x'.repeat(200_000)); // compresses well
    const [[a, ab], [b, bb], [c, cb], [d, db]] = (await within(got)) as [
      [Buffer, boolean],
      [Buffer, boolean],
      [Buffer, boolean],
      [Buffer, boolean],
    ];
    expect([a.toString(), ab]).toEqual(['hello', false]);
    expect([Buffer.compare(b, bytes(100_000)), bb]).toEqual([0, true]);
    expect([c.length, cb]).toEqual([0, false]);
    expect([d.toString() === 'x'.repeat(200_000), db]).toEqual([true, false]);
    const closed = once(client, 'close');
    child.kill('SIGTERM');
    expect(await within(exited, 10_000, 'echo exit')).toBe(0);
    const [code] = await within(closed);
    expect(code).toBe(1001);
    return output();
  } finally {
    await stop(started);
  }
}

/** The autobahn-client script runs the getCaseCount / runCase / updateReports loop against a stand-in. */
/**
 * The Autobahn client loop against a stand-in server; with `proxy`, run through that HTTP CONNECT
 * proxy (`--proxy`), and every connection must have gone through it.
 */
export async function autobahnClientContract(
  bins: Bins,
  script: string,
  proxy?: { url: string; connects(): string[] },
): Promise<void> {
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
      const expected = caseOf(u.search);
      const echoed: Array<string | Uint8Array> = [];
      ws.on('message', (data: Buffer, isBinary) => {
        echoed.push(isBinary ? data : data.toString());
        if (echoed.length === expected.length) {
          results.push(echoedAll(expected, echoed));
          ws.close(1000);
        }
      });
      for (const m of expected) ws.send(m);
    } else {
      ws.close(1000);
    }
  });
  const before = proxy?.connects().length ?? 0;
  const started = start(bins, script, ['--url', url, '--agent', AGENT, ...(proxy ? ['--proxy', proxy.url] : [])]);
  try {
    const code = await within(started.exited, bins.startTime, 'autobahn client');
    checkAutobahnRun({ code, results, visits, output: started.output() });
    if (proxy) {
      const target = url.slice('ws://'.length);
      const through = proxy
        .connects()
        .slice(before)
        .filter((t) => t === target).length;
      if (through !== visits.length)
        throw new Error(`${visits.length} connections, ${through} of them through the proxy`);
    }
  } finally {
    await stop(started);
    for (const client of server.clients) client.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
