// NodeTransport's shortcuts past Node's stream machinery: accepted plain TCP sockets read into a
// shared buffer (no 'data' listener) and written through their handle while nothing is queued,
// writes without callbacks until bytes stay queued. What they must keep: every byte, in order,
// even when messages are held across many reads or a write stays pending; pause/resume of the
// inbound side; bufferedAmount and drain; a failed write's error; the FIN after the last byte;
// TLS and http 'upgrade' sockets on the public path.
import http from 'node:http';
import net from 'node:net';
import { readdirSync, readlinkSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { computeAcceptKey } from '@ws/codec';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, handleUpgrade, type WebSocketConnection } from '../src/index.ts';
import { readShared, sharedReadsSelfTest, sharedReadsVerified } from '../src/shared-reads.ts';
import {
  directHandle,
  directWritesSelfTest,
  directWritesVerified,
  directWritesWork,
  writeDirect,
  writevDirect,
} from '../src/direct-writes.ts';
import { NodeTransport } from '../src/transport.ts';
import type { TransportHandlers } from '@ws/codec/session';
import { HOST, ourServer, until, within, wsClient } from './helpers.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('NodeTransport', () => {
  it('reads accepted TCP sockets without a data listener, and keeps every message intact across reads', async () => {
    const received: Uint8Array[] = [];
    let serverSide!: WebSocketConnection;
    const { server, url } = await ourServer({}, (ws) => {
      serverSide = ws;
      ws.on('message', (data) => received.push(data as Uint8Array));
    });
    const dataListeners: number[] = [];
    server.server.on('connection', (socket: net.Socket) => dataListeners.push(socket.listenerCount('data')));
    try {
      const client = await wsClient(url);
      const N = 2000;
      const expected: Buffer[] = [];
      for (let i = 0; i < N; i++) {
        const message = randomBytes(1 + (i % 700));
        expected.push(message);
        client.send(message);
      }
      await within(
        (async () => {
          while (received.length < N) await sleep(5);
        })(),
        15_000,
        'receiving',
      );
      // Node 20+ stores `onread` as expected and the self-test passed: the shortcut is on.
      expect(sharedReadsVerified()).toBe(true);
      expect(dataListeners).toEqual([0]);
      // Messages kept until the end still hold their own bytes (the read buffer is shared).
      expect(received.every((data, i) => Buffer.compare(Buffer.from(data), expected[i]!) === 0)).toBe(true);
      expect(serverSide.readyState).toBe('open');
      client.close();
    } finally {
      await within(server.close(), 15_000, 'server.close');
    }
  });

  it('sharedReadBuffer: false keeps accepted sockets on the public path, every message intact', async () => {
    const received: Uint8Array[] = [];
    const { server, url } = await ourServer({ sharedReadBuffer: false }, (ws) => {
      ws.on('message', (data) => received.push(data as Uint8Array));
    });
    const dataListeners: number[] = [];
    server.server.on('connection', (socket: net.Socket) => dataListeners.push(socket.listenerCount('data')));
    try {
      const client = await wsClient(url);
      const expected = Array.from({ length: 200 }, (_, i) => randomBytes(1 + ((i * 37) % 900)));
      for (const message of expected) client.send(message);
      await within(
        (async () => {
          while (received.length < expected.length) await sleep(5);
        })(),
        15_000,
        'receiving',
      );
      expect(dataListeners).toEqual([1]);
      expect(received.every((data, i) => Buffer.compare(Buffer.from(data), expected[i]!) === 0)).toBe(true);
      client.close();
    } finally {
      await within(server.close(), 15_000, 'server.close');
    }
    expect(() => createServer({ sharedReadBuffer: 'yes' as never })).toThrow(TypeError);
  });

  it('the shared-read self-test passes with this Node, and fails (so servers keep the public path) when the internals misbehave', async () => {
    expect(await sharedReadsSelfTest()).toBe(true);
    // Internals that deliver wrong bytes: caught by comparing with the known data.
    const corrupting: typeof readShared = (socket, onRead) =>
      readShared(socket, function (length, buffer) {
        buffer[0] = buffer[0]! ^ 1;
        onRead.call(this, length, buffer);
      });
    expect(await sharedReadsSelfTest(corrupting)).toBe(false);
    // Internals that are not there: the switch is refused.
    expect(await sharedReadsSelfTest(() => false)).toBe(false);
    // Internals that accept the switch but never call back: the bytes never arrive (bounded wait).
    expect(await sharedReadsSelfTest(() => true)).toBe(false);
  });

  it('pause() stops reading from the socket and resume() delivers the rest in order', async () => {
    const got: number[] = [];
    let serverSide!: WebSocketConnection;
    const { server, url } = await ourServer({}, (ws) => {
      serverSide = ws;
      ws.pause();
      ws.on('message', (data) =>
        got.push(new DataView((data as Uint8Array).buffer, (data as Uint8Array).byteOffset).getUint32(0)),
      );
    });
    try {
      const client = await wsClient(url);
      const N = 64;
      for (let i = 0; i < N; i++) {
        const message = Buffer.alloc(256 * 1024); // 16 MiB in all: more than the socket buffers hold
        message.writeUInt32BE(i, 0);
        client.send(message);
      }
      await sleep(300);
      expect(got.length).toBe(0);
      expect(client.bufferedAmount).toBeGreaterThan(0); // the kernel's buffers filled up
      serverSide.resume();
      await within(
        (async () => {
          while (got.length < N) await sleep(5);
        })(),
        20_000,
        'receiving after resume',
      );
      expect(got).toEqual(Array.from({ length: N }, (_, i) => i));
      client.close();
    } finally {
      await within(server.close(), 15_000, 'server.close');
    }
  });

  it('leaves http upgrade sockets on the public path', async () => {
    const http1 = http.createServer();
    const echoed = new Promise<string>((resolve) => {
      http1.on('upgrade', (req, socket, head) => {
        handleUpgrade(req, socket, head, (ws) => ws.on('message', (data) => ws.send(data)));
        expect(socket.listenerCount('data')).toBe(1);
        socket.once('close', () => undefined);
      });
      void (async () => {
        await new Promise<void>((r) => http1.listen(0, HOST, () => r()));
        const { port } = http1.address() as net.AddressInfo;
        const client = await wsClient(`ws://${HOST}:${port}`);
        client.send('over http');
        client.once('message', (data: Buffer) => {
          resolve(data.toString());
          client.close();
        });
      })();
    });
    try {
      expect(await within(echoed, 10_000, 'echo')).toBe('over http');
    } finally {
      http1.closeAllConnections();
      await new Promise<void>((r) => http1.close(() => r()));
    }
  });
});

/** Calls of `socket.write` on every socket a server accepts, from the moment it accepts it. */
function countPublicWrites(server: net.Server): { count: number } {
  const counter = { count: 0 };
  server.on('connection', (socket: net.Socket) => countSocketWrites(socket, counter));
  return counter;
}

/** A connected pair on loopback: the accepted socket (not read: `pauseOnConnect`) and the client. */
async function socketPair(): Promise<{ accepted: net.Socket; client: net.Socket; close: () => void }> {
  const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect((server.address() as net.AddressInfo).port, HOST);
  client.on('error', () => undefined);
  const socket = await within(accepted, 5000, 'accept');
  socket.on('error', () => undefined);
  return {
    accepted: socket,
    client,
    close: () => {
      socket.destroy();
      client.destroy();
      server.close();
    },
  };
}

/** Handlers that count drains and record the close. */
function recordingHandlers(): TransportHandlers & { drains: number; closed: unknown[] } {
  const handlers = {
    drains: 0,
    closed: [] as unknown[],
    onData: () => undefined,
    onDrain: () => void handlers.drains++,
    onEnd: () => undefined,
    onClose: (error?: unknown) => void handlers.closed.push(error),
  };
  return handlers;
}

describe('NodeTransport: writes through the socket handle', () => {
  it('the self-test passes with this Node, and fails (so sockets keep socket.write) when the internals misbehave', async () => {
    expect(await directWritesSelfTest()).toBe(true);
    expect(await directWritesWork()).toBe(true);
    expect(directWritesVerified()).toBe(true);
    // Internals that send wrong bytes: caught by comparing with the known data.
    const corrupting: typeof writeDirect = (handle, data, owner) => {
      const copy = Uint8Array.from(data);
      copy[copy.length - 1] = copy[copy.length - 1]! ^ 1;
      return writeDirect(handle, copy, owner);
    };
    expect(await directWritesSelfTest({ directHandle, writeDirect: corrupting, writevDirect })).toBe(false);
    // Vectored writes that drop a piece.
    const dropping: typeof writevDirect = (handle, chunks, owner) => writevDirect(handle, chunks.slice(1), owner);
    expect(await directWritesSelfTest({ directHandle, writeDirect, writevDirect: dropping })).toBe(false);
    // No handle to write to.
    expect(await directWritesSelfTest({ directHandle: () => null, writeDirect, writevDirect })).toBe(false);
    // Writes that claim the kernel took them but send nothing.
    expect(await directWritesSelfTest({ directHandle, writeDirect: () => 0, writevDirect: () => 0 })).toBe(false);
    // A write that claims to stay pending but never completes (and sends nothing).
    expect(await directWritesSelfTest({ directHandle, writeDirect: () => 1, writevDirect: () => 1 })).toBe(false);
  });

  it('the self-test catches a write reported as taken at once whose bytes are read later', async () => {
    // Internals that report the first write as done but take its bytes only with the next write
    // (order and lengths kept): the self-test stamps its one buffer afresh for each block, so the
    // late bytes carry block 1's stamp instead of block 0's.
    let late: Uint8Array | null = null;
    const deferring: typeof writeDirect = (handle, data, owner) => {
      if (data.length < 64 * 1024 && late === null) {
        late = data;
        return 0;
      }
      return writeDirect(handle, data, owner);
    };
    const catchingUp: typeof writevDirect = (handle, chunks, owner) => {
      const held = late;
      late = null;
      return writevDirect(handle, held === null ? chunks : [held, ...chunks], owner);
    };
    expect(await directWritesSelfTest({ directHandle, writeDirect: deferring, writevDirect: catchingUp })).toBe(false);
    // The same fakes without the deferral pass: what failed was only the late read.
    const passing: typeof writeDirect = (handle, data, owner) => writeDirect(handle, data, owner);
    expect(await directWritesSelfTest({ directHandle, writeDirect: passing, writevDirect: catchingUp })).toBe(true);
  });

  it('the self-tests close every socket they open: passed, failed, or timed out', async () => {
    const before = socketsHeld();
    const check = async (what: string, run: Promise<boolean>, verdict: boolean): Promise<void> => {
      expect(await run, what).toBe(verdict);
      expect(socketsHeld(), `sockets held after: ${what}`).toBe(before);
    };
    await check('direct writes, passed', directWritesSelfTest(), true);
    const corrupting: typeof writevDirect = (handle, chunks, owner) =>
      writevDirect(handle, [chunks[0]!.subarray(1), ...chunks.slice(1)], owner);
    await check(
      'direct writes, wrong bytes',
      directWritesSelfTest({ directHandle, writeDirect, writevDirect: corrupting }),
      false,
    );
    // No FIN after the pending write: the client waits for an end that never comes, until the limit.
    const noEnd: typeof directHandle = (socket) => directHandle(Object.assign(socket, { end: () => socket }));
    await check(
      'direct writes, timed out',
      directWritesSelfTest({ directHandle: noEnd, writeDirect, writevDirect }, 300),
      false,
    );
    await check('shared reads, passed', sharedReadsSelfTest(), true);
    // A switch that claims success but reads nothing: the round trip never ends, until the limit.
    await check(
      'shared reads, timed out',
      sharedReadsSelfTest(() => true, 300),
      false,
    );
  });

  it('a process whose self-test fails (forced: Node asked to warn about pending deprecations) keeps socket.write, every message intact', async () => {
    // A fresh copy of the adapter's modules, so that its verdict is its own; the flag is only read by it.
    vi.resetModules();
    const previous = process.env.NODE_PENDING_DEPRECATION;
    process.env.NODE_PENDING_DEPRECATION = '1';
    try {
      const fresh = await import('../src/index.ts');
      const freshWrites = await import('../src/direct-writes.ts');
      const server = fresh.createServer({}, (ws) => ws.on('message', (data) => ws.send(data)));
      const { port } = await server.listen(0, HOST);
      expect(freshWrites.directWritesVerified()).toBe(false);
      expect(await freshWrites.directWritesWork()).toBe(false);
      const publicWrites = countPublicWrites(server.server as net.Server);
      try {
        const client = await wsClient(`ws://${HOST}:${port}`);
        const expected = Array.from({ length: 50 }, (_, i) => randomBytes(1 + i * 131));
        const got: Buffer[] = [];
        client.on('message', (data: Buffer) => got.push(data));
        for (const message of expected) client.send(message);
        await until(() => got.length === expected.length, 'echoes', 15_000);
        expect(got.every((data, i) => data.equals(expected[i]!))).toBe(true);
        expect(publicWrites.count).toBeGreaterThan(1); // the echoes took socket.write, not only the 101
        client.close();
      } finally {
        await within(server.close(), 15_000, 'server.close');
      }
    } finally {
      if (previous === undefined) delete process.env.NODE_PENDING_DEPRECATION;
      else process.env.NODE_PENDING_DEPRECATION = previous;
      vi.resetModules();
    }
    // This module's own verdict is untouched.
    expect(directWritesVerified()).toBe(true);
  });

  it('a server writes through the handle (no socket.write per message), every message intact and in order', async () => {
    await directWritesWork();
    const { server, url } = await ourServer({}, (ws) => ws.on('message', (data) => ws.send(data)));
    const publicWrites = countPublicWrites(server.server as net.Server);
    try {
      const client = await wsClient(url);
      const N = 500;
      // Bursts of small echoes (gathered into one write) and large ones (vectored).
      const expected = Array.from({ length: N }, (_, i) =>
        randomBytes(i % 50 === 0 ? 70_000 + i : 1 + ((i * 37) % 3000)),
      );
      const got: Buffer[] = [];
      client.on('message', (data: Buffer) => got.push(data));
      for (const message of expected) client.send(message);
      await until(() => got.length === N, 'echoes', 15_000);
      expect(got.every((data, i) => data.equals(expected[i]!))).toBe(true);
      // The handshake's 101 (written before the upgrade is done) may take socket.write; the echoes do not.
      expect(publicWrites.count).toBeLessThanOrEqual(1);
      client.close();
    } finally {
      await within(server.close(), 15_000, 'server.close');
    }
  });

  it('directWrites: false keeps socket.write, every message intact', async () => {
    await directWritesWork();
    const { server, url } = await ourServer({ directWrites: false }, (ws) => ws.on('message', (data) => ws.send(data)));
    const publicWrites = countPublicWrites(server.server as net.Server);
    try {
      const client = await wsClient(url);
      const expected = Array.from({ length: 50 }, (_, i) => randomBytes(1 + i * 11));
      const got: Buffer[] = [];
      client.on('message', (data: Buffer) => got.push(data));
      for (const message of expected) client.send(message);
      await until(() => got.length === expected.length, 'echoes', 15_000);
      expect(got.every((data, i) => data.equals(expected[i]!))).toBe(true);
      expect(publicWrites.count).toBeGreaterThan(0); // bursts of echoes share a write
      client.close();
    } finally {
      await within(server.close(), 15_000, 'server.close');
    }
    expect(() => createServer({ directWrites: 1 as never })).toThrow(TypeError);
  });

  it('a write the kernel takes in part: bufferedAmount counts it, later writes queue behind it, drain follows, end() sends FIN after the last byte', async () => {
    expect(await directWritesWork()).toBe(true);
    const { accepted, client, close } = await socketPair();
    try {
      const transport = new NodeTransport(accepted, { directWrites: true });
      const handlers = recordingHandlers();
      transport.attach(handlers);
      const publicWrites = countSocketWrites(accepted);
      // The client reads nothing yet: blocks go through the handle until one stays pending.
      const sent: Buffer[] = [];
      for (let i = 0; i < 1024 && transport.bufferedAmount === 0; i++) {
        const block = randomBytes(64 * 1024);
        sent.push(block);
        transport.write([block]);
      }
      expect(transport.bufferedAmount).toBeGreaterThan(0);
      expect(publicWrites.count).toBe(0);
      // Behind it: small writes (gathered) and a large one (corked), on the public path.
      expect(publicWrites.count).toBe(0);
      for (let i = 0; i < 10; i++) {
        const parts = [randomBytes(2), randomBytes(100 + i)];
        sent.push(...parts);
        transport.write(parts);
      }
      const large = [randomBytes(4), randomBytes(100_000)];
      sent.push(...large);
      transport.write(large);
      expect(publicWrites.count).toBeGreaterThan(0);
      transport.end();
      const received: Buffer[] = [];
      client.on('data', (chunk: Buffer) => received.push(chunk));
      const ended = new Promise<void>((resolve) => client.once('end', resolve));
      await within(ended, 15_000, "the client's end");
      expect(Buffer.concat(received).equals(Buffer.concat(sent))).toBe(true);
      expect(handlers.drains).toBeGreaterThan(0);
      expect(transport.bufferedAmount).toBe(0);
      expect(handlers.closed).toEqual([]);
    } finally {
      close();
    }
  });

  it('a write to a reset connection destroys the socket with the error socket.write reports', async () => {
    expect(await directWritesWork()).toBe(true);
    const errors: Array<{ code?: string; syscall?: string }> = [];
    for (const directWrites of [true, false]) {
      const { accepted, client, close } = await socketPair();
      try {
        const transport = new NodeTransport(accepted, { directWrites });
        const handlers = recordingHandlers();
        // Not attached: the accepted socket reads nothing, so only the write can meet the reset.
        client.resetAndDestroy();
        await sleep(50);
        for (let i = 0; i < 100 && !accepted.destroyed; i++) {
          transport.write([randomBytes(100)]);
          await sleep(5);
        }
        expect(accepted.destroyed).toBe(true);
        const error = accepted.errored as { code?: string; syscall?: string } | null;
        errors.push({ code: error?.code, syscall: error?.syscall });
        expect(handlers.closed).toEqual([]);
      } finally {
        close();
      }
    }
    // Through the handle and through socket.write: the same kind of error.
    for (const error of errors) {
      expect(['ECONNRESET', 'EPIPE']).toContain(error.code);
      expect(error.syscall).toBe('write');
    }
  });
});

/** Sockets this process holds (Linux: /proc/self/fd); throws where that cannot be read. */
function socketsHeld(): number {
  let sockets = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) sockets++;
    } catch {
      // closed between the listing and the read (the listing's own descriptor)
    }
  }
  return sockets;
}

/** Calls of `socket.write` on one socket from now on (added to `counter`). */
function countSocketWrites(socket: net.Socket, counter = { count: 0 }): { count: number } {
  const write = socket.write;
  socket.write = function (this: net.Socket, ...args: Parameters<net.Socket['write']>) {
    counter.count++;
    return write.apply(this, args);
  } as net.Socket['write'];
  return counter;
}

describe('computeAcceptKey', () => {
  it('equals base64(SHA-1(key + GUID)) from node:crypto for keys of every length up to 3 blocks', () => {
    const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
    for (let length = 0; length < 200; length++) {
      const key = randomBytes(length).toString('latin1');
      expect(computeAcceptKey(key)).toBe(
        createHash('sha1')
          .update(Buffer.from(key + GUID, 'latin1'))
          .digest('base64'),
      );
    }
  });
});
