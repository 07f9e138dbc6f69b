// WebSockets over HTTP/2 (RFC 8441) across runtimes: @ws/deno's and @ws/bun's upgrade handler on
// their own `node:http2` (test/adapters/fixtures/http2-echo.ts, a child process), with Node as the
// peer: Node's `http2` client doing the extended CONNECT by hand (frames built and parsed in
// test/shared/http2.ts, not by our codec), and @ws/node's `connect(url, { http2: true })` with
// many WebSockets on one session. The runtimes' own clients are in each package's http2.test.ts.
import { once } from 'node:events';
import http2 from 'node:http2';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, permessageDeflate } from '../../packages/node/src/index.ts';
import { clientFrame, closePayload, openStream } from '../shared/http2.ts';
import { ROOT, startEcho, type EchoServer, type Runtime } from './runtimes.ts';
import { HOST, within } from './raw-client.ts';

const FIXTURE = path.join(ROOT, 'test/adapters/fixtures/http2-echo.ts');
const bin = (name: string): string => path.join(ROOT, 'node_modules', '.bin', name);

const SERVERS: Runtime[] = [
  {
    name: 'deno',
    command: bin('deno'),
    args: ['run', '-A', '--config', path.join(ROOT, 'packages/deno/deno.json'), FIXTURE],
    missing: null,
    startTimeout: 90_000,
  },
  { name: 'bun', command: bin('bun'), args: ['--conditions', 'source', FIXTURE], missing: null, startTimeout: 60_000 },
];

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

describe.each(SERVERS)('RFC 8441 on $name node:http2, Node as the client', (rt) => {
  let server: EchoServer;
  beforeAll(async () => {
    server = await startEcho(rt);
  }, rt.startTimeout);
  afterAll(() => server?.stop());

  it("Node's http2 client, extended CONNECT by hand: SETTINGS, text, binary, deflate offer, close code and reason", async () => {
    const client = http2.connect(`http://${HOST}:${server.port}`);
    client.on('error', () => {});
    try {
      await within(once(client, 'remoteSettings'), 10_000, 'SETTINGS');
      expect(client.remoteSettings.enableConnectProtocol).toBe(true);
      const { stream, reader, headers, ended } = await openStream(client, {
        'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
      });
      expect(headers[':status']).toBe(200);
      expect(headers['sec-websocket-extensions']).toMatch(/^permessage-deflate/);
      stream.write(clientFrame(1, utf8('hello from node')));
      const text = await reader.next();
      expect(text.opcode).toBe(1);
      expect(new TextDecoder().decode(text.payload)).toBe('hello from node');
      stream.write(clientFrame(2, new Uint8Array([9, 8, 7])));
      const binary = await reader.next();
      expect([binary.opcode, [...binary.payload]]).toEqual([2, [9, 8, 7]]);
      stream.write(clientFrame(8, closePayload(4005, 'node bye')));
      const close = await reader.next();
      expect(close.opcode).toBe(8);
      expect((close.payload[0]! << 8) | close.payload[1]!).toBe(4005);
      stream.end();
      await within(ended, 10_000, 'END_STREAM from the server');
    } finally {
      client.destroy();
    }
  });

  it('@ws/node connect(url, { http2: true }) × 20 on one session: echo, deflate, close code', async () => {
    const sockets = await within(
      Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          connect(`ws://${HOST}:${server.port}/n${i}`, { http2: true, extensions: [permessageDeflate()] }),
        ),
      ),
      20_000,
      '20 connects',
    );
    expect(sockets.map((ws) => ws.httpVersion)).toEqual(Array(20).fill('2'));
    expect(sockets[0]!.extensions).toMatch(/^permessage-deflate/);
    const echoes = await within(
      Promise.all(
        sockets.map((ws, i) => {
          const next = new Promise<unknown>((resolve) => ws.once('message', resolve));
          ws.send(`message ${i} `.repeat(50));
          return next;
        }),
      ),
      20_000,
      'echoes',
    );
    expect(echoes[7]).toBe('message 7 '.repeat(50));
    sockets[0]!.close(4006, 'done');
    expect(await within(sockets[0]!.closed)).toMatchObject({ code: 4006, wasClean: true });
    await within(Promise.all(sockets.slice(1).map((ws) => (ws.close(), ws.closed))), 20_000, 'closes');
  });
});
