// Streams over a connection on Node: the WHATWG WebSocketStream (the scenarios shared by every
// runtime, test/shared/web-socket-stream.ts) and createWebSocketStream's Duplex (ws's API), with
// backpressure both ways.
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  echoThroughStreams,
  fromServerConnection,
  refusedAndAborted,
  slowReaderPausesPeer,
  writerAwaits,
  type StreamClass,
} from '../../../test/shared/web-socket-stream.ts';
import { connect, createWebSocketStream, WebSocketStream, type WebSocketConnection } from '../src/index.ts';
import { ourServer, sleep, until, within } from './helpers.ts';

const Stream = WebSocketStream as unknown as StreamClass;

describe('WebSocketStream', () => {
  it('opened gives the streams; what is written comes back; close({ closeCode, reason })', () =>
    echoThroughStreams(ourServer, Stream));
  it('a reader that does not read pauses the peer; then every message in order', () =>
    slowReaderPausesPeer(ourServer, Stream));
  it('a writer awaits a peer that does not read', () => writerAwaits(ourServer, Stream));
  it("WebSocketStream.from(a server's connection): its readable piped to its writable echoes", () =>
    fromServerConnection(ourServer, Stream, (url) => connect(url)));
  it('a refused handshake and an abort reject opened and closed', () => refusedAndAborted(ourServer, Stream));
});

/** Four-byte big-endian index at the start of a message of `size` bytes. */
function indexed(i: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt32BE(i, 0);
  return b;
}

describe('createWebSocketStream (a Duplex, as ws)', () => {
  it('pipes both ways: bytes in, messages out; a text message arrives as its UTF-8 bytes (or a string in object mode)', async () => {
    const { server, url } = await ourServer({}, (ws) => {
      const duplex = createWebSocketStream(ws);
      void pipeline(duplex, duplex).catch(() => {}); // echo: each chunk read is written back as one message
    });
    try {
      const client = await connect(url);
      const echoes: Array<string | Uint8Array> = [];
      client.on('message', (data) => echoes.push(data));
      client.send('héllo');
      client.send(new Uint8Array([1, 2, 3]));
      await until(() => echoes.length === 2, 'echoes');
      // The Duplex is byte-oriented: the text came back as binary, its UTF-8 bytes.
      expect(echoes).toEqual([new Uint8Array(Buffer.from('héllo')), new Uint8Array([1, 2, 3])]);

      const objects = createWebSocketStream(client, { readableObjectMode: true, writableObjectMode: true });
      const got: unknown[] = [];
      objects.on('data', (chunk) => got.push(chunk));
      objects.write('text');
      objects.write(Buffer.from([9]));
      await until(() => got.length === 2, 'object-mode echoes');
      expect(got[0]).toEqual(Buffer.from('text')); // sent as text, echoed as the server's bytes
      expect(Buffer.isBuffer(got[1])).toBe(true);
      objects.end();
      await within(client.closed, 10_000, 'end() closes the connection');
      expect(client.closeInfo?.code).toBe(1000);
    } finally {
      await within(server.close(), 15_000, 'server.close');
    }
  });

  it('writable side: write() returns false at highWaterMark and callbacks wait for the socket while the peer does not read', async () => {
    const N = 64;
    const SIZE = 256 * 1024;
    let peer: WebSocketConnection | undefined;
    const got: number[] = [];
    const { server, url } = await ourServer({}, (ws) => {
      peer = ws;
      ws.pause();
      ws.on('message', (data) => got.push(Buffer.from(data as Uint8Array).readUInt32BE(0)));
    });
    try {
      const client = await connect(url, { highWaterMark: 512 * 1024 });
      await until(() => peer !== undefined, 'server connection');
      const duplex = createWebSocketStream(client, { writableHighWaterMark: 1 });
      let callbacks = 0;
      let sawBuffered = 0;
      for (let i = 0; i < N; i++) if (!duplex.write(indexed(i, SIZE), () => void callbacks++)) sawBuffered++;
      expect(sawBuffered).toBeGreaterThan(0);
      await sleep(300);
      expect(callbacks).toBeLessThan(N); // the writes wait for the socket
      expect(client.bufferedAmount).toBeGreaterThan(0);
      expect(got.length).toBe(0);
      peer!.resume();
      await until(() => callbacks === N, 'every write completed', 20_000);
      await until(() => got.length === N, 'every message received', 20_000);
      expect(got).toEqual(Array.from({ length: N }, (_, i) => i));
      duplex.end();
      await within(once(duplex, 'finish'), 10_000, 'finish');
    } finally {
      await within(server.close(), 15_000, 'server.close');
    }
  });

  it('readable side: a consumer that does not read pauses the connection, so the peer meets backpressure; then all in order', async () => {
    const N = 64;
    const SIZE = 256 * 1024;
    const stats = { sawBuffered: 0, sent: 0 };
    let sending: Promise<void> | undefined;
    const { server, url } = await ourServer({ highWaterMark: 512 * 1024 }, (ws) => {
      sending = (async () => {
        for (let i = 0; i < N; i++) {
          if (ws.send(indexed(i, SIZE)) === 'buffered') {
            stats.sawBuffered++;
            await ws.drain();
          }
          stats.sent++;
        }
      })();
    });
    try {
      const client = await connect(url);
      const duplex = createWebSocketStream(client, { readableHighWaterMark: SIZE });
      await until(() => sending !== undefined, 'server connection');
      await until(() => stats.sawBuffered > 0, 'the peer met backpressure', 20_000);
      await sleep(200);
      expect(stats.sent).toBeLessThan(N);
      const got: number[] = [];
      await within(
        pipeline(
          duplex,
          new Writable({
            write(chunk: Buffer, _encoding, callback) {
              got.push(chunk.readUInt32BE(0));
              if (got.length === N) client.close(1000);
              callback();
            },
          }),
        ),
        30_000,
        'read everything',
      );
      expect(got).toEqual(Array.from({ length: N }, (_, i) => i));
      await within(sending!, 10_000, 'sending');
    } finally {
      await within(server.close(), 15_000, 'server.close');
    }
  });

  it('over a connection that has already closed: the messages received before the close, then the end', async () => {
    const { server, url } = await ourServer({}, (ws) => {
      ws.send('a');
      ws.send(Uint8Array.of(2));
      ws.close(1000);
    });
    try {
      const client = await connect(url);
      await within(client.closed, 10_000, 'closed');
      const duplex = createWebSocketStream(client, { readableObjectMode: true });
      const got: unknown[] = [];
      for await (const chunk of duplex) got.push(chunk);
      expect(got).toEqual(['a', Buffer.from([2])]);
    } finally {
      await within(server.close(), 15_000, 'server.close');
    }
  });

  it('destroy() terminates the connection; a failed connection destroys the stream', async () => {
    const { server, url } = await ourServer({}, () => {});
    try {
      const client = await connect(url);
      const duplex = createWebSocketStream(client);
      duplex.destroy();
      const info = await within(client.closed, 10_000, 'closed');
      expect(info.wasClean).toBe(false);
      // A write to a closed connection fails the stream.
      const late = createWebSocketStream(client);
      const error = await new Promise((resolve) => {
        late.on('error', resolve);
        late.write(Buffer.from('x'));
      });
      expect(error).toBeInstanceOf(Error);
    } finally {
      await within(server.close(), 15_000, 'server.close');
    }
  });
});
