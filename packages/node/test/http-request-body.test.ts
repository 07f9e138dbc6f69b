// Plain HTTP's request bodies on our Node server, in this process (the cross-runtime suite,
// test/adapters/http.test.ts, runs every runtime's echo server as a child process): a handler
// that answers without reading the body, one that reads a large body at its own pace, one that
// cancels it. A raw socket sends exactly the bytes each case needs.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type WebSocketServer } from '../src/index.ts';
import { HOST, sleep, until, within } from './helpers.ts';

let server: WebSocketServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function serve(fetch: (request: Request) => Response | Promise<Response>): Promise<number> {
  server = createServer({ fetch, limits: { maxBodyBytes: 4 * 1024 * 1024 } }, () => {});
  return (await server.listen(0, HOST)).port;
}

/** A raw connection: what it received, and whether the server ended it. */
async function rawSocket(port: number) {
  const socket = net.connect(port, HOST);
  await within(
    new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject)),
    10_000,
    'connect',
  );
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received: () => received, closed };
}

describe('plain HTTP request bodies on Node (in process)', () => {
  it('an answer before the body ended goes out with Connection: close, and the rest of the body is not waited for', async () => {
    let seenBody: unknown = 'not looked at';
    const port = await serve((request) => {
      seenBody = request.body === null ? null : 'a stream';
      return new Response('early\n');
    });
    const { socket, received, closed } = await rawSocket(port);
    // 1 MB announced, 64 KiB sent, then nothing: the server must not wait for the rest.
    socket.write(`POST /upload HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 1000000\r\n\r\n`);
    socket.write(Buffer.alloc(64 * 1024, 0x61));
    await within(closed, 10_000, 'the server closing the connection');
    const answer = received();
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer.toLowerCase()).toContain('\r\nconnection: close\r\n');
    expect(answer.endsWith('\r\n\r\nearly\n')).toBe(true);
    expect(seenBody).toBe('a stream');
  });

  it('a handler that reads a large chunked body at its own pace gets all of it (reading pauses meanwhile)', async () => {
    const port = await serve(async (request) => {
      await sleep(50); // the body arrives meanwhile: more than the stream's queue holds
      const body = new Uint8Array(await request.arrayBuffer());
      let sum = 0;
      for (const byte of body) sum = (sum + byte) % 65_521;
      return new Response(`${body.length} ${sum}\n`);
    });
    const { socket, received } = await rawSocket(port);
    socket.write(`POST /sum HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunk = Buffer.alloc(16 * 1024);
    let sum = 0;
    for (let i = 0; i < chunk.length; i++) chunk[i] = i & 0xff;
    for (const byte of chunk) sum = (sum + byte) % 65_521;
    const chunks = 64; // 1 MiB in 64 chunks
    for (let i = 0; i < chunks; i++)
      socket.write(`${chunk.length.toString(16)}\r\n`), socket.write(chunk), socket.write('\r\n');
    socket.write('0\r\n\r\n');
    const expected = `${chunks * chunk.length} ${(sum * chunks) % 65_521}\n`;
    await until(() => received().endsWith(expected), 'the answer');
    expect(received()).toMatch(/^HTTP\/1\.1 200 /);
    socket.destroy();
  });

  it('a body the handler cancels is dropped; the answer still goes out', async () => {
    const port = await serve(async (request) => {
      await request.body?.cancel();
      return new Response('cancelled\n', { status: 202 });
    });
    const { socket, received, closed } = await rawSocket(port);
    socket.write(`POST /drop HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 300000\r\n\r\n`);
    socket.write(Buffer.alloc(100_000, 0x62));
    await until(() => received().endsWith('cancelled\n'), 'the answer');
    expect(received()).toMatch(/^HTTP\/1\.1 202 /);
    // Answered before the body ended: the connection closes after the answer, the rest never read.
    await within(closed, 10_000, 'the connection closing');
    expect(received().toLowerCase()).toContain('\r\nconnection: close\r\n');
  });
});
