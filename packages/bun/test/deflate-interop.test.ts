// permessage-deflate (RFC 7692) interop with Bun's built-in WebSocket client and server:
// - Bun's `new WebSocket(url)` client → @ws/bun's server, and → @ws/node's echo server (a Node
//   child process, zlib backend);
// - @ws/bun's client with permessageDeflate() → `Bun.serve` with `perMessageDeflate: true`.
// Every connection goes through a byte-recording TCP proxy, so the test sees what the client
// offered, what the server answered, and the RSV1 bit and size of every frame on the wire.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import net from 'node:net';
import path from 'node:path';
import type { Subprocess } from 'bun';
import { connect, createServer, permessageDeflate, type WebSocketServer } from '../src/index.ts';
import { HOST, bunClient, bytes, equalBytes, until, within } from './helpers.ts';

const MIB = 1024 * 1024;

/** Compressible text (JSON-like records) of exactly `n` characters. */
function jsonText(n: number, seed = 1): string {
  let s = seed;
  const rnd = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  let out = '';
  while (out.length < n)
    out += `{"id":${Math.floor(rnd() * 1e6)},"user":"u${Math.floor(rnd() * 100)}","price":${(rnd() * 100).toFixed(2)}},`;
  return out.slice(0, n);
}

/** What each side sends: text (compressible) and binary (incompressible) of several sizes, empty included. */
const MESSAGES: Array<string | Uint8Array> = [
  '',
  new Uint8Array(0),
  jsonText(125),
  bytes(125, 2),
  jsonText(4096, 3),
  bytes(4096, 4),
  jsonText(65536, 5),
  bytes(65536, 6),
  jsonText(MIB, 7),
  bytes(MIB, 8),
];
const BIG_TEXT = MESSAGES[8] as string;

interface Frame {
  opcode: number;
  rsv1: boolean;
  length: number;
}

/** A TCP proxy in front of `port` that keeps every byte each way. */
async function recordingProxy(
  port: number,
): Promise<{ port: number; up: () => Buffer; down: () => Buffer; close: () => Promise<void> }> {
  const up: Buffer[] = [];
  const down: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, HOST);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.on('data', (d: Buffer) => up.push(Buffer.from(d)));
    upstream.on('data', (d: Buffer) => down.push(Buffer.from(d)));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    up: () => Buffer.concat(up),
    down: () => Buffer.concat(down),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The HTTP head at the start of `bytes`, and the frames after it. */
function parse(bytes: Buffer): { head: string; frames: Frame[] } {
  const end = bytes.indexOf('\r\n\r\n');
  expect(end).toBeGreaterThan(0);
  const head = bytes.subarray(0, end).toString('latin1');
  const frames: Frame[] = [];
  let at = end + 4;
  while (at + 2 <= bytes.length) {
    const b0 = bytes[at]!;
    const b1 = bytes[at + 1]!;
    let length = b1 & 0x7f;
    let p = at + 2;
    if (length === 126) {
      length = bytes.readUInt16BE(p);
      p += 2;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(p));
      p += 8;
    }
    if (b1 & 0x80) p += 4;
    if (p + length > bytes.length) break;
    frames.push({ opcode: b0 & 0x0f, rsv1: (b0 & 0x40) !== 0, length });
    at = p + length;
  }
  return { head, frames };
}

function header(head: string, name: string): string | null {
  const match = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(head);
  return match ? match[1]!.trim() : null;
}

/** Data messages (first frame of each) on the wire: whether RSV1 was set and the wire size of the whole message. */
function messagesOnWire(frames: Frame[]): Array<{ compressed: boolean; wireBytes: number }> {
  const out: Array<{ compressed: boolean; wireBytes: number }> = [];
  for (const f of frames) {
    if (f.opcode === 1 || f.opcode === 2) out.push({ compressed: f.rsv1, wireBytes: f.length });
    else if (f.opcode === 0 && out.length > 0) out[out.length - 1]!.wireBytes += f.length;
  }
  return out;
}

function same(a: string | Uint8Array, b: string | Uint8Array): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return equalBytes(a, b);
}

/**
 * Check one direction: every message arrived, in order and of its type; the big text went
 * compressed (RSV1, a fraction of its size). Returns what the wire showed, for the log.
 */
function checkDirection(
  sent: Array<string | Uint8Array>,
  got: Array<string | Uint8Array>,
  wire: Buffer,
  what: string,
): string {
  expect(got.length).toBe(sent.length);
  for (let i = 0; i < sent.length; i++) {
    expect(typeof got[i]).toBe(typeof sent[i]);
    expect(same(got[i]!, sent[i]!), `${what}: message ${i} (${typeof sent[i]}, ${sent[i]!.length})`).toBe(true);
  }
  const onWire = messagesOnWire(parse(wire).frames);
  expect(onWire.length).toBe(sent.length);
  const big = onWire[sent.indexOf(BIG_TEXT)]!;
  expect(big.compressed, `${what}: the 1 MiB text went with RSV1`).toBe(true);
  expect(big.wireBytes).toBeLessThan(BIG_TEXT.length / 3);
  return `${what}: ${onWire.filter((m) => m.compressed).length}/${onWire.length} messages compressed`;
}

/** Bun's built-in client through the proxy: send MESSAGES, collect the echoes. */
async function bunClientRoundTrip(serverPort: number, what: string): Promise<string[]> {
  const proxy = await recordingProxy(serverPort);
  try {
    const client = await bunClient(`ws://${HOST}:${proxy.port}`);
    const got: Array<string | Uint8Array> = [];
    client.addEventListener('message', (e: MessageEvent) =>
      got.push(typeof e.data === 'string' ? e.data : new Uint8Array(e.data as ArrayBuffer)),
    );
    const offer = header(parse(proxy.up()).head, 'sec-websocket-extensions');
    const answer = header(parse(proxy.down()).head, 'sec-websocket-extensions');
    expect(offer).toContain('permessage-deflate');
    expect(answer).toMatch(/^permessage-deflate/);
    expect(client.extensions).toMatch(/^permessage-deflate/);
    for (const m of MESSAGES) client.send(m);
    await until(() => got.length === MESSAGES.length, `${what}: ${MESSAGES.length} echoes`, 30_000);
    const log = [`${what}: Bun client offered "${offer}", server answered "${answer}"`];
    log.push(checkDirection(MESSAGES, got, proxy.up(), `${what}, client → server`));
    log.push(checkDirection(MESSAGES, got, proxy.down(), `${what}, server → client`));
    client.close(1000);
    return log;
  } finally {
    await proxy.close();
  }
}

describe('permessage-deflate with Bun built-ins', () => {
  let ours: WebSocketServer;
  let oursPort = 0;
  let nodeEcho: Subprocess<'ignore', 'pipe', 'pipe'> | null = null;
  let nodePort = 0;
  const log: string[] = [];

  beforeAll(async () => {
    const server = createServer({ extensions: [permessageDeflate()] }, (ws) => {
      ws.on('message', (data) => ws.send(data));
    });
    oursPort = (await server.listen(0, HOST)).port;
    ours = server;
    // @ws/node's echo server (permessage-deflate accepted, node:zlib backend) on Node itself.
    const node = Bun.which('node');
    if (node !== null) {
      const script = path.join(import.meta.dir, '..', '..', 'node', 'bin', 'echo.mjs');
      nodeEcho = Bun.spawn([node, script, '--port', '0', '--host', HOST], {
        stdin: 'ignore',
        stdout: 'pipe',
        stderr: 'pipe',
      });
      let out = '';
      const decoder = new TextDecoder();
      for (const stream of [nodeEcho.stdout, nodeEcho.stderr]) {
        void (async () => {
          for await (const chunk of stream) out += decoder.decode(chunk);
        })();
      }
      await until(
        () => /listening on ws:\/\/[^:]+:\d+/.test(out) || nodeEcho!.exitCode !== null,
        'node echo to start',
        170_000,
      );
      const match = /listening on ws:\/\/[^:]+:(\d+)/.exec(out);
      if (!match) throw new Error(`node echo did not start: ${out}`);
      nodePort = Number(match[1]);
    }
  }, 180_000);

  afterAll(async () => {
    nodeEcho?.kill();
    await within(ours.close());
    if (log.length > 0) console.log(log.join('\n'));
  });

  it("Bun's client → @ws/bun's server: negotiated, every size round-trips, compressed both ways", async () => {
    log.push(...(await bunClientRoundTrip(oursPort, 'Bun client → @ws/bun server')));
  }, 60_000);

  it("Bun's client → @ws/node's server (Node, zlib backend): negotiated, every size round-trips, compressed both ways", async () => {
    expect(nodePort, 'node is on PATH').toBeGreaterThan(0);
    log.push(...(await bunClientRoundTrip(nodePort, 'Bun client → @ws/node server')));
  }, 60_000);

  it("@ws/bun's client → Bun.serve with perMessageDeflate: negotiated, every size round-trips, compressed both ways", async () => {
    const bunServer = Bun.serve({
      hostname: HOST,
      port: 0,
      fetch: (request, srv) => (srv.upgrade(request) ? undefined : new Response('no', { status: 400 })),
      websocket: {
        perMessageDeflate: true,
        maxPayloadLength: 16 * MIB,
        message: (ws, message) => void ws.send(message, true),
      },
    });
    const proxy = await recordingProxy(bunServer.port!);
    try {
      const client = await within(connect(`ws://${HOST}:${proxy.port}`, { extensions: [permessageDeflate()] }));
      const offer = header(parse(proxy.up()).head, 'sec-websocket-extensions');
      const answer = header(parse(proxy.down()).head, 'sec-websocket-extensions');
      expect(client.extensions).toMatch(/^permessage-deflate/);
      expect(answer).toMatch(/^permessage-deflate/);
      const got: Array<string | Uint8Array> = [];
      client.on('message', (data) => got.push(data));
      for (const m of MESSAGES) client.send(m);
      await until(() => got.length === MESSAGES.length, `${MESSAGES.length} echoes`, 30_000);
      log.push(`@ws/bun client → Bun.serve: offered "${offer}", Bun.serve answered "${answer}"`);
      log.push(checkDirection(MESSAGES, got, proxy.up(), '@ws/bun client → Bun.serve'));
      log.push(checkDirection(MESSAGES, got, proxy.down(), 'Bun.serve → @ws/bun client'));
      client.close(1000);
      await within(client.closed);
    } finally {
      await proxy.close();
      bunServer.stop(true);
    }
  }, 60_000);
});
