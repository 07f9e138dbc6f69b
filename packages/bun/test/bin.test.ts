// The root scripts' contracts: `echo:bun --port P` and `autobahn-client:bun --url … --agent …`,
// run as child processes with the same Bun binary and `--conditions source`.
import { describe, expect, it } from 'bun:test';
import path from 'node:path';
import type { Subprocess } from 'bun';
import { HOST, bunClient, bunClosed, bunMessages, bytes, equalBytes, within } from './helpers.ts';
import { AGENT, CASES, caseOf, checkAutobahnRun, echoedAll } from '../../../test/shared/autobahn-stand-in.ts';
import { startTinyproxy, type Tinyproxy } from '../../../test/shared/tinyproxy.ts';

const BIN = path.join(import.meta.dir, '..', 'bin');

function start(script: string, args: string[]): { child: Subprocess<'ignore', 'pipe', 'pipe'>; output: () => string } {
  const child = Bun.spawn([process.execPath, '--conditions', 'source', path.join(BIN, script), ...args], {
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  let out = '';
  const decoder = new TextDecoder();
  for (const stream of [child.stdout, child.stderr]) {
    void (async () => {
      for await (const chunk of stream) out += decoder.decode(chunk);
    })();
  }
  return { child, output: () => out };
}

/** The Autobahn client loop against Bun.serve as a stand-in fuzzing server; with `proxy`, through it (`--proxy`). */
async function autobahnRun(proxy?: Tinyproxy): Promise<void> {
  // A stand-in for Autobahn's fuzzingserver (test/shared/autobahn-stand-in.ts): three cases that each expect their messages echoed.
  const results: boolean[] = [];
  const visits: string[] = [];
  type Data = { path: string; search: string; echoed: Array<string | Uint8Array> };
  const server = Bun.serve<Data>({
    hostname: HOST,
    port: 0,
    fetch(request, srv) {
      const u = new URL(request.url);
      return srv.upgrade(request, { data: { path: u.pathname, search: u.search, echoed: [] } })
        ? undefined
        : new Response('no', { status: 400 });
    },
    websocket: {
      open(ws) {
        visits.push(`${ws.data.path}${ws.data.search}`);
        if (ws.data.path === '/getCaseCount') {
          ws.send(String(CASES.length));
          ws.close(1000);
        } else if (ws.data.path === '/runCase') {
          for (const m of caseOf(ws.data.search)) ws.send(m);
        } else ws.close(1000);
      },
      message(ws, data) {
        const expected = caseOf(ws.data.search);
        ws.data.echoed.push(typeof data === 'string' ? data : new Uint8Array(data));
        if (ws.data.echoed.length === expected.length) {
          results.push(echoedAll(expected, ws.data.echoed));
          ws.close(1000);
        }
      },
    },
  });
  const before = proxy?.connects().length ?? 0;
  const { child, output } = start('autobahn-client.ts', [
    '--url',
    `ws://${HOST}:${server.port}`,
    '--agent',
    AGENT,
    ...(proxy ? ['--proxy', proxy.url] : []),
  ]);
  try {
    const code = await within(child.exited, 20_000, 'autobahn client');
    checkAutobahnRun({ code, results, visits, output: output() });
    if (proxy)
      expect(
        proxy
          .connects()
          .slice(before)
          .filter((t) => t === `${HOST}:${server.port}`).length,
      ).toBe(visits.length);
  } finally {
    child.kill('SIGKILL');
    await child.exited;
    server.stop(true);
  }
}

describe('bin scripts', () => {
  it('echo.ts prints listening, echoes text and binary with their types, exits on SIGTERM', async () => {
    const { child, output } = start('echo.ts', ['--port', '0', '--host', HOST]);
    try {
      let port = 0;
      const deadline = Date.now() + 15_000;
      while (port === 0) {
        const match = /listening on ws:\/\/[^:]+:(\d+)/.exec(output());
        if (match) port = Number(match[1]);
        else if (child.exitCode !== null || Date.now() > deadline) throw new Error(`echo did not start: ${output()}`);
        else await Bun.sleep(20);
      }
      const client = await bunClient(`ws://${HOST}:${port}`);
      expect(client.extensions).toContain('permessage-deflate'); // Bun's client offers it; the echo accepts
      const got = bunMessages(client, 3);
      client.send('hello');
      client.send(bytes(100_000));
      client.send('');
      const [a, b, c] = await within(got);
      expect(a).toBe('hello');
      expect(equalBytes(b as Uint8Array, bytes(100_000))).toBe(true);
      expect(c).toBe('');
      const closed = bunClosed(client);
      child.kill('SIGTERM');
      expect(await within(child.exited, 10_000, 'echo exit')).toBe(0);
      expect((await within(closed)).code).toBe(1001);
    } finally {
      child.kill('SIGKILL');
      await child.exited;
    }
  }, 30_000);

  it('autobahn-client.ts runs the getCaseCount / runCase / updateReports loop', async () => {
    await expect(autobahnRun()).resolves.toBeUndefined();
  }, 30_000);

  it('autobahn-client.ts --proxy runs every case through an HTTP CONNECT proxy (tinyproxy)', async () => {
    const proxy = await startTinyproxy();
    try {
      await expect(autobahnRun(proxy)).resolves.toBeUndefined();
    } finally {
      await proxy.stop();
    }
  }, 30_000);
});
