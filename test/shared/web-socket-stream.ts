// The WHATWG WebSocketStream over real sockets, once for every runtime: echo through its two
// streams, a slow reader pausing the peer, a writer that awaits a peer that does not read, a
// server's connection as streams (`from`, piped to itself), a refused handshake and an abort.
// Each runtime's test file passes its server and its WebSocketStream class. Failures are thrown.
import type { ServerSessionOptions, WebSocketConnection } from '../../packages/codec/src/session/index.ts';
import { HandshakeError } from '../../packages/codec/src/session/index.ts';
import { assert, assertEquals } from './assert.ts';
import { bytes, sameBytes } from './bytes.ts';
import { sleep, until, within } from './wait.ts';

type Chunk = string | Uint8Array;

/** The parts of the host's streams the scenarios use. */
interface Reader {
  read(): Promise<{ done: boolean; value?: Chunk }>;
  releaseLock(): void;
}
interface Writer {
  write(chunk: Chunk): Promise<void>;
  readonly desiredSize: number | null;
  close(): Promise<void>;
  releaseLock(): void;
}
interface Streams {
  readable: { getReader(): Reader; pipeTo(destination: unknown): Promise<void> };
  writable: { getWriter(): Writer };
  protocol: string;
  extensions: string;
}
interface StreamInstance {
  readonly url: string;
  readonly opened: Promise<Streams>;
  readonly closed: Promise<{ closeCode: number; reason: string }>;
  close(info?: { closeCode?: number; reason?: string }): void;
}
/** A runtime's `WebSocketStream` class. */
export interface StreamClass {
  new (url: string, options?: { protocols?: string[]; signal?: AbortSignal }): StreamInstance;
  from(connection: WebSocketConnection): StreamInstance;
}

/** A runtime's `ourServer` helper: its server on a free port of 127.0.0.1. */
export type OurServer = (
  options: ServerSessionOptions,
  onConnection: (ws: WebSocketConnection) => void,
) => Promise<{ server: { close(): Promise<unknown> }; url: string }>;

/** opened gives the streams and the subprotocol; what is written comes back; close({ closeCode, reason }). */
export async function echoThroughStreams(ourServer: OurServer, WebSocketStream: StreamClass): Promise<void> {
  const { server, url } = await ourServer({ protocols: ['chat'] }, (ws) => ws.on('message', (data) => ws.send(data)));
  try {
    const stream = new WebSocketStream(`${url}/room`, { protocols: ['chat', 'other'] });
    assertEquals(stream.url, `${url}/room`, 'url');
    const { readable, writable, protocol, extensions } = await within(stream.opened, 10_000, 'opened');
    assertEquals([protocol, extensions], ['chat', ''], 'protocol and extensions');
    const reader = readable.getReader();
    const writer = writable.getWriter();
    const big = bytes(70_000);
    await writer.write('hello ✓');
    await writer.write(big);
    assertEquals((await reader.read()).value, 'hello ✓', 'text comes back as a string');
    const echoed = (await reader.read()).value;
    assert(echoed instanceof Uint8Array && sameBytes(echoed, big), 'binary comes back as bytes');
    stream.close({ closeCode: 4000, reason: 'done' });
    const closed = await within(stream.closed, 10_000, 'closed');
    assertEquals(closed.closeCode, 4000, 'the close code');
    assertEquals((await reader.read()).done, true, 'the readable ends');
  } finally {
    await within(server.close(), 15_000, 'server.close');
  }
}

/** A reader that does not read: the socket is not read, and the sending peer meets backpressure; then every message, in order. */
export async function slowReaderPausesPeer(ourServer: OurServer, WebSocketStream: StreamClass): Promise<void> {
  const N = 64;
  const SIZE = 256 * 1024; // 16 MiB in all: more than the queue and the kernel's buffers hold
  const stats = { sawBuffered: 0, sent: 0 };
  let sending: Promise<void> | undefined;
  const { server, url } = await ourServer({ highWaterMark: 512 * 1024 }, (ws) => {
    sending = (async () => {
      for (let i = 0; i < N; i++) {
        const message = new Uint8Array(SIZE);
        new DataView(message.buffer).setUint32(0, i);
        if (ws.send(message) === 'buffered') {
          stats.sawBuffered++;
          await ws.drain();
        }
        stats.sent++;
      }
    })();
  });
  try {
    const stream = new WebSocketStream(url);
    const { readable } = await within(stream.opened, 10_000, 'opened');
    await until(() => sending !== undefined, 'server connection');
    await until(() => stats.sawBuffered > 0, 'the peer met backpressure', 20_000);
    await sleep(200);
    assert(stats.sent < N, `the peer waits while nothing is read (sent ${stats.sent} of ${N})`);
    const reader = readable.getReader();
    for (let i = 0; i < N; i++) {
      const { value } = await within(reader.read(), 20_000, `message ${i}`);
      assert(value instanceof Uint8Array && value.length === SIZE, `message ${i} whole`);
      assertEquals(new DataView(value.buffer, value.byteOffset).getUint32(0), i, 'in order');
    }
    await within(sending!, 10_000, 'sending');
    stream.close();
    await within(stream.closed, 10_000, 'closed');
  } finally {
    await within(server.close(), 15_000, 'server.close');
  }
}

/** A peer that does not read: writes stop completing (the writer awaits), then all arrive once it reads. */
export async function writerAwaits(ourServer: OurServer, WebSocketStream: StreamClass): Promise<void> {
  const N = 64;
  const SIZE = 256 * 1024;
  const got: number[] = [];
  let peer: WebSocketConnection | undefined;
  const { server, url } = await ourServer({}, (ws) => {
    peer = ws;
    ws.pause(); // read nothing for a while
    ws.on('message', (data) =>
      got.push(new DataView((data as Uint8Array).buffer, (data as Uint8Array).byteOffset).getUint32(0)),
    );
  });
  try {
    const stream = new WebSocketStream(url);
    const { writable } = await within(stream.opened, 10_000, 'opened');
    await until(() => peer !== undefined, 'server connection');
    const writer = writable.getWriter();
    let done = 0;
    const writes: Array<Promise<void>> = [];
    for (let i = 0; i < N; i++) {
      const message = new Uint8Array(SIZE);
      new DataView(message.buffer).setUint32(0, i);
      writes.push(writer.write(message).then(() => void done++));
    }
    assert(writer.desiredSize !== null && writer.desiredSize <= 0, 'the writable reports backpressure');
    await sleep(300);
    assert(done < N, `writes wait while the peer does not read (${done} of ${N} done)`);
    assertEquals(got.length, 0, 'nothing read yet');
    peer!.resume();
    await within(Promise.all(writes), 20_000, 'every write');
    await until(() => got.length === N, 'every message received', 20_000);
    assertEquals(
      got,
      Array.from({ length: N }, (_, i) => i),
      'in order',
    );
    await within(writer.close(), 10_000, 'writer.close closes the connection');
    assertEquals((await within(stream.closed, 10_000, 'closed')).closeCode, 1005, 'closed without a code');
  } finally {
    await within(server.close(), 15_000, 'server.close');
  }
}

/** A server's connection as streams: its readable piped into its writable echoes. */
export async function fromServerConnection(
  ourServer: OurServer,
  WebSocketStream: StreamClass,
  connect: (url: string) => Promise<WebSocketConnection>,
): Promise<void> {
  let piped: Promise<void> | undefined;
  const { server, url } = await ourServer({}, (ws) => {
    const stream = WebSocketStream.from(ws);
    piped = stream.opened.then(({ readable, writable }) => readable.pipeTo(writable));
  });
  try {
    const client = await within(connect(url), 10_000, 'connect');
    const received: Chunk[] = [];
    client.on('message', (data) => received.push(data));
    client.send('a');
    client.send(new Uint8Array([1, 2, 3]));
    client.send('b');
    await until(() => received.length === 3, 'echoes');
    assertEquals(received, ['a', new Uint8Array([1, 2, 3]), 'b'], 'echoed in order, with their types');
    client.close(1000);
    await within(client.closed, 10_000, 'client closed');
    await within(piped!, 10_000, 'the pipe ends with the connection');
  } finally {
    await within(server.close(), 15_000, 'server.close');
  }
}

/** A refused handshake rejects opened (and closed) with the HandshakeError; an abort rejects them with the signal's reason. */
export async function refusedAndAborted(ourServer: OurServer, WebSocketStream: StreamClass): Promise<void> {
  const { server, url } = await ourServer(
    {
      verifyClient: (request) =>
        request.path === '/refuse' ? { status: 403 } : request.path === '/slow' ? new Promise<boolean>(() => {}) : true,
    },
    () => {},
  );
  try {
    const refused = new WebSocketStream(`${url}/refuse`);
    const error = await refused.opened.then(
      () => null,
      (e: unknown) => e,
    );
    assert(
      error instanceof HandshakeError && error.status === 403,
      `opened rejects with the HandshakeError (${String(error)})`,
    );
    assert(
      await refused.closed.then(
        () => false,
        () => true,
      ),
      'closed rejects too',
    );

    const controller = new AbortController();
    const aborted = new WebSocketStream(`${url}/slow`, { signal: controller.signal });
    const reason = new Error('changed my mind');
    controller.abort(reason);
    assertEquals(
      await aborted.opened.then(
        () => null,
        (e: unknown) => e,
      ),
      reason,
      'opened rejects with the reason',
    );
    assertEquals(
      await aborted.closed.then(
        () => null,
        (e: unknown) => e,
      ),
      reason,
      'closed rejects with the reason',
    );
  } finally {
    await within(server.close(), 15_000, 'server.close');
  }
}
