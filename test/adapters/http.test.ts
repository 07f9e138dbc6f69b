// Plain HTTP beside WebSockets on one port, on every runtime's echo server (`createServer({ fetch })`
// on @ws/node, @ws/deno and @ws/bun), spawned as child processes with the test routes on
// (`--fetch test`, see testFetch in packages/codec/src/session/tooling) and a 1 KiB body limit. Driven by curl
// (Debian's), Node's own fetch, and a raw socket for what well-behaved clients never send.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPT, HOST, KEY, within } from './raw-client.ts';
import { HttpConnection, rawRequest } from './http-client.ts';
import { RUNTIMES, startEcho, type EchoServer } from './runtimes.ts';

const run = promisify(execFile);
const CURL = '/usr/bin/curl';

/** curl's verbose transcript and body for `args` (never a proxy; 10 s at most). */
async function curl(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(CURL, ['--silent', '--show-error', '--noproxy', '*', '--max-time', '10', ...args], {
    encoding: 'latin1',
    maxBuffer: 1 << 24,
  });
}

const UPGRADE = (path: string): string =>
  `GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`;

describe('curl is installed (the plain-HTTP suite needs it)', () => {
  it('runs', async () => {
    expect((await run(CURL, ['--version'])).stdout).toMatch(/^curl /);
  });
});

for (const rt of RUNTIMES) {
  const title =
    rt.missing === null
      ? `${rt.name}: plain HTTP beside WebSockets`
      : `${rt.name}: plain HTTP (skipped: ${rt.missing})`;
  describe.skipIf(rt.missing !== null)(title, () => {
    let server: EchoServer;
    let base: string;

    beforeAll(async () => {
      server = await startEcho(rt, ['--fetch', 'test', '--max-body-bytes', '1024']);
      base = `http://${HOST}:${server.port}`;
    }, rt.startTimeout + 10_000);

    afterAll(async () => {
      await server?.stop();
    }, 15_000);

    describe('curl', () => {
      it('GET /health: 200 ok with its length', async () => {
        const { stdout } = await curl(['--include', `${base}/health`]);
        expect(stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
        expect(stdout).toMatch(/\r\ncontent-length: 2\r\n/i);
        expect(stdout.endsWith('\r\n\r\nok')).toBe(true);
      });

      it('HEAD: the head and its length, no body', async () => {
        const { stdout } = await curl(['--head', `${base}/health`]);
        expect(stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
        expect(stdout).toMatch(/\r\ncontent-length: 2\r\n/i);
        expect(stdout.endsWith('\r\n\r\n')).toBe(true);
      });

      it('POST with a chunked body, echoed', async () => {
        const { stdout } = await curl([
          '-H',
          'Transfer-Encoding: chunked',
          '--data-binary',
          'chunked body from curl',
          `${base}/echo`,
        ]);
        expect(stdout).toBe('chunked body from curl');
      });

      it('keep-alive: two requests on one connection', async () => {
        const { stdout, stderr } = await curl(['--verbose', `${base}/health`, `${base}/nope`]);
        expect(stdout).toBe('oknot found\n');
        expect(stderr).toMatch(/Re-using existing connection/);
      });

      it('a 404 for any other path', async () => {
        const { stdout } = await curl(['--include', `${base}/no/such/page`]);
        expect(stdout).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
      });

      it('Expect: 100-continue, then the body', async () => {
        const { stdout, stderr } = await curl([
          '--verbose',
          '-H',
          'Expect: 100-continue',
          '--data-binary',
          'after continue',
          `${base}/echo`,
        ]);
        expect(stderr).toMatch(/HTTP\/1\.1 100 Continue/);
        expect(stdout).toBe('after continue');
      });
    });

    describe("Node's fetch", () => {
      it('GET /: a small HTML page', async () => {
        const response = await fetch(`${base}/`);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/^text\/html/);
        expect(await response.text()).toMatch(/new WebSocket\(/);
      });

      it('POST with a Content-Length body, echoed', async () => {
        const response = await fetch(`${base}/echo`, { method: 'POST', body: 'x'.repeat(1000) });
        expect(response.status).toBe(200);
        expect(response.headers.get('content-length')).toBe('1000');
        expect(await response.text()).toBe('x'.repeat(1000));
      });

      it('POST with a streamed (chunked) body, echoed', async () => {
        const parts = ['stream', 'ed ', 'body'];
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            const next = parts.shift();
            if (next === undefined) controller.close();
            else controller.enqueue(new TextEncoder().encode(next));
          },
        });
        const response = await fetch(`${base}/echo`, { method: 'POST', body, duplex: 'half' } as RequestInit);
        expect(await response.text()).toBe('streamed body');
      });

      it('a streamed response arrives chunked, in full', async () => {
        const response = await fetch(`${base}/stream`);
        expect(response.headers.get('transfer-encoding')).toBe('chunked');
        expect(await response.text()).toBe('one,two,three');
      });

      it('413 for a body over maxBodyBytes', async () => {
        const response = await fetch(`${base}/echo`, { method: 'POST', body: 'x'.repeat(2000) });
        expect(response.status).toBe(413);
      });

      it('500 from a handler that throws or rejects; the error is logged and the server goes on', async () => {
        expect((await fetch(`${base}/throw`)).status).toBe(500);
        expect((await fetch(`${base}/reject`)).status).toBe(500);
        expect(await (await fetch(`${base}/health`)).text()).toBe('ok');
        await within(
          (async () => {
            while (!/a handler that throws/.test(server.output()) || !/a handler that rejects/.test(server.output()))
              await new Promise((r) => setTimeout(r, 20));
          })(),
          5000,
          'the logged handler errors',
        );
      });
    });

    describe('raw socket', () => {
      it('keep-alive: several requests in turn on one socket, then Connection: close', async () => {
        const connection = await HttpConnection.open(server.port);
        try {
          for (const path of ['/health', '/nope', '/health']) {
            connection.write(`GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
            const response = await connection.read();
            expect(response.status).toBe(path === '/health' ? 200 : 404);
          }
          connection.write(`POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 5\r\n\r\nhello`);
          expect((await connection.read()).body.toString()).toBe('hello');
          connection.write(`GET /health HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
          const last = await connection.read();
          expect(last.headers.get('connection')).toBe('close');
          await connection.waitEnd();
        } finally {
          connection.destroy();
        }
      });

      it('pipelined requests are answered in order', async () => {
        const connection = await HttpConnection.open(server.port);
        try {
          connection.write(
            `GET /stream HTTP/1.1\r\nHost: ${HOST}\r\n\r\nPOST /echo HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 2\r\n\r\nhiGET /health HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`,
          );
          expect((await connection.read()).body.toString()).toBe('one,two,three');
          expect((await connection.read()).body.toString()).toBe('hi');
          expect((await connection.read()).body.toString()).toBe('ok');
        } finally {
          connection.destroy();
        }
      });

      it("a head split across writes keeps its own fields while other heads arrive whole in between (the request's headers as sent)", async () => {
        // The parser reads a whole head in place and copies its fields out once; one split across
        // reads keeps what it has read so far: another connection's head must not mix into it.
        const split = await HttpConnection.open(server.port);
        const whole = await HttpConnection.open(server.port);
        try {
          split.write(`GET /headers HTTP/1.1\r\nHost: ${HOST}\r\nX-First: one\r\nX-Sec`);
          await new Promise((resolve) => setTimeout(resolve, 50)); // let the server read that part first
          whole.write(`GET /headers HTTP/1.1\r\nHost: ${HOST}\r\nX-Other: other\r\nX-Second: not this one\r\n\r\n`);
          const other = await whole.read();
          split.write('ond: two\r\nX-Third: three\r\n\r\n');
          const mine = await split.read();
          const fields = (response: { body: Buffer }) =>
            (JSON.parse(response.body.toString()) as Array<[string, string]>).filter(([name]) => name.startsWith('x-'));
          expect(fields(mine)).toEqual([
            ['x-first', 'one'],
            ['x-second', 'two'],
            ['x-third', 'three'],
          ]);
          expect(fields(other)).toEqual([
            ['x-other', 'other'],
            ['x-second', 'not this one'],
          ]);
        } finally {
          split.destroy();
          whole.destroy();
        }
      });

      it('HTTP/1.0: answered, then closed', async () => {
        const response = await rawRequest(server.port, 'GET /health HTTP/1.0\r\n\r\n');
        expect(response.status).toBe(200);
        expect(response.body.toString()).toBe('ok');
        expect(response.headers.get('connection')).toBe('close');
      });

      it('the host rules of an upgrade: an absolute-form authority malformed or not the Host → 400; 1.1 without Host → 400', async () => {
        for (const request of [
          `GET http://e<v>"il{}|\\^\`/health HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`,
          `GET http://other.example/health HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`,
          'GET /health HTTP/1.1\r\n\r\n',
          'GET /health HTTP/1.1\r\nHost: a"b\r\n\r\n',
        ]) {
          expect((await rawRequest(server.port, request)).status, request).toBe(400);
        }
        const agreeing = await rawRequest(
          server.port,
          `GET http://${HOST}:${server.port}/health HTTP/1.1\r\nHost: ${HOST}:${server.port}\r\nConnection: close\r\n\r\n`,
        );
        expect([agreeing.status, agreeing.body.toString()]).toEqual([200, 'ok']);
      });

      it('an upgrade after plain requests on the same socket gets its 101', async () => {
        const connection = await HttpConnection.open(server.port);
        try {
          connection.write(`GET /health HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
          expect((await connection.read()).status).toBe(200);
          connection.write(UPGRADE('/chat'));
          const upgrade = await connection.read('GET');
          expect(upgrade.status).toBe(101);
          expect(upgrade.headers.get('sec-websocket-accept')).toBe(ACCEPT);
        } finally {
          connection.destroy();
        }
      });

      // Each is a way to make a proxy and this server disagree on where a body ends.
      it.each([
        [
          'Content-Length with Transfer-Encoding',
          `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
        ],
        ['Transfer-Encoding: gzip', `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: gzip\r\n\r\nxxxx`],
        [
          'two Content-Lengths',
          `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc`,
        ],
        ['an invalid Content-Length', `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: -1\r\n\r\n`],
        [
          'a bad chunk size',
          `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`,
        ],
        [
          'a chunk without its CRLF',
          `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n`,
        ],
      ])('refuses %s with 400 and closes the connection', async (_name, request) => {
        const connection = await HttpConnection.open(server.port);
        try {
          connection.write(request);
          const response = await connection.read();
          expect(response.status).toBe(400);
          expect(response.headers.get('connection')).toBe('close');
          await connection.waitEnd();
        } finally {
          connection.destroy();
        }
      });

      it('a head over maxHeadBytes is refused with 431, as an upgrade would be', async () => {
        const response = await rawRequest(
          server.port,
          `GET / HTTP/1.1\r\nHost: ${HOST}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        );
        expect(response.status).toBe(431);
      });
    });

    // Its own server: short timeouts, so that waiting for them stays short.
    describe('timeouts (handshake timeout 500 ms, keep-alive timeout 500 ms)', () => {
      const TIMEOUT = 500;
      let timed: EchoServer;
      beforeAll(async () => {
        timed = await startEcho(rt, [
          '--fetch',
          'test',
          '--handshake-timeout',
          String(TIMEOUT),
          '--http-keep-alive-timeout',
          String(TIMEOUT),
        ]);
      }, rt.startTimeout + 10_000);
      afterAll(async () => {
        await timed?.stop();
      }, 15_000);

      // Bounds derived from the configured timeout: generous (a loaded machine), never tight.
      const bound = TIMEOUT * 20;

      it('a head that never completes is dropped (slow loris)', async () => {
        const connection = await HttpConnection.open(timed.port);
        try {
          connection.write(`GET /health HTTP/1.1\r\nHost: ${HOST}\r\nX-Slow: `);
          await connection.waitEnd(bound);
          expect(connection.ended).toBe(true);
        } finally {
          connection.destroy();
        }
      });

      it('a body that stops arriving gets 408 and the connection closes', async () => {
        const connection = await HttpConnection.open(timed.port);
        try {
          connection.write(`POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 10\r\n\r\nabc`);
          const response = await connection.read('POST', bound);
          expect(response.status).toBe(408);
          await connection.waitEnd(bound);
        } finally {
          connection.destroy();
        }
      });

      it('a kept-alive connection without a new request is closed, after serving one', async () => {
        const connection = await HttpConnection.open(timed.port);
        try {
          connection.write(`GET /health HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
          expect((await connection.read()).body.toString()).toBe('ok');
          await connection.waitEnd(bound);
        } finally {
          connection.destroy();
        }
      });
    });
  });
}
