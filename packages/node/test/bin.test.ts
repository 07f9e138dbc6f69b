// The root scripts' contracts: `echo:node --port P` and `autobahn-client:node --url … --agent …`,
// run as child processes (they build the packages first when dist is missing or stale). The
// contracts are shared with @ws/deno's bin test: see test/adapters/bin-scripts.ts.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { autobahnClientContract, echoContract, type Bins } from '../../../test/adapters/bin-scripts.ts';
import { startTinyproxy } from '../../../test/shared/tinyproxy.ts';
import { spawn } from 'node:child_process';
import http2 from 'node:http2';
import { once } from 'node:events';
import { connect } from '../src/index.ts';
import { within } from './helpers.ts';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin');
const BUILD_TIME = 120_000; // a cold build of both packages (declarations included) takes a while
const bins: Bins = { argv: (script) => [path.join(BIN, script)], startTime: BUILD_TIME };

describe('bin scripts', () => {
  it(
    'echo.mjs prints listening, echoes text and binary with their types, exits on SIGTERM',
    { timeout: BUILD_TIME + 30_000 },
    () => echoContract(bins, 'echo.mjs'),
  );

  it('echo.mjs where the self-tests cannot pass (--pending-deprecation; process.binding refused by the permission model) serves on the public paths and prints no warning of ours', {
    timeout: 2 * BUILD_TIME + 60_000,
  }, async () => {
    // The permission model's flag: --permission from Node 22.13 on, --experimental-permission before.
    const permission = process.allowedNodeEnvironmentFlags.has('--permission')
      ? '--permission'
      : '--experimental-permission';
    const grants = ['--allow-fs-read=*', '--allow-fs-write=*', '--allow-child-process'];
    for (const flags of [['--pending-deprecation'], [permission, ...grants]]) {
      const output = await echoContract({ ...bins, argv: (script) => [...flags, path.join(BIN, script)] }, 'echo.mjs');
      // Node's own notices about the permission model aside: no deprecation (DEP0111 is process.binding's).
      const warnings = output.split('\n').filter((line) => /Deprecation|DEP0/.test(line));
      expect(warnings, `${flags.join(' ')}: ${output}`).toEqual([]);
    }
  });

  it('autobahn-client.mjs runs the getCaseCount / runCase / updateReports loop', {
    timeout: BUILD_TIME + 30_000,
  }, async () => {
    // The contract throws on the first check that fails.
    await expect(autobahnClientContract(bins, 'autobahn-client.mjs')).resolves.toBeUndefined();
  });

  it('autobahn-client.mjs --proxy runs every case through an HTTP CONNECT proxy (tinyproxy)', {
    timeout: BUILD_TIME + 30_000,
  }, async () => {
    const proxy = await startTinyproxy();
    try {
      await expect(autobahnClientContract(bins, 'autobahn-client.mjs', proxy)).resolves.toBeUndefined();
    } finally {
      await proxy.stop();
    }
  });

  it('echo.mjs --http2 serves TLS with HTTP/2 (extended CONNECT) and HTTP/1.1 on one port, GET / a page', {
    timeout: BUILD_TIME + 30_000,
  }, async () => {
    const child = spawn(process.execPath, [path.join(BIN, 'echo.mjs'), '--port', '0', '--http2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    const exited = once(child, 'exit');
    try {
      const port = await within(
        (async () => {
          for (;;) {
            const match = /listening on https:\/\/127\.0\.0\.1:(\d+)/.exec(output);
            if (match) return Number(match[1]);
            if (child.exitCode !== null) throw new Error(`echo exited early: ${output}`);
            await new Promise((r) => setTimeout(r, 50));
          }
        })(),
        BUILD_TIME,
        'echo --http2 start',
      );
      // GET / over HTTP/2: a small HTML page.
      const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
      session.on('error', () => {});
      const get = session.request({ ':path': '/' });
      const [headers] = (await within(once(get, 'response'))) as [http2.IncomingHttpHeaders];
      let body = '';
      get.on('data', (d: Buffer) => (body += d));
      await within(once(get, 'end'));
      session.close();
      expect(headers[':status']).toBe(200);
      expect(String(headers['content-type'])).toMatch(/^text\/html/);
      expect(body).toMatch(/<!doctype html>/i);
      // A WebSocket over HTTP/2, and one over HTTP/1.1, on the same port.
      for (const http2Wanted of [true, false]) {
        const ws = await within(connect(`wss://127.0.0.1:${port}/`, { http2: http2Wanted, rejectUnauthorized: false }));
        expect(ws.httpVersion).toBe(http2Wanted ? '2' : '1.1');
        const echoed = new Promise<unknown>((resolve) => ws.once('message', resolve));
        ws.send('echo me');
        expect(await within(echoed)).toBe('echo me');
        ws.close();
        await within(ws.closed);
      }
    } finally {
      child.kill('SIGTERM');
      await within(exited, 10_000, 'echo exit');
    }
  });
});
