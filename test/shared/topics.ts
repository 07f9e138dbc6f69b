// Topics over real sockets, once for every runtime (vitest, deno test, bun test pass their own
// server and client): the API with Bun's meaning, one frame written to every subscriber (the
// same buffer object, seen by a spy on each server connection's transport), compression once
// per publish without context takeover, and a slow subscriber bounded by backpressureLimit
// while the others get everything. Failures are thrown.
import type { DeflateBackend, ExtensionFactory } from '../../packages/codec/src/index.ts';
import { pakoBackend, permessageDeflate } from '../../packages/codec/src/pako.ts';
import { WebSocketUsageError } from '../../packages/codec/src/errors.ts';
import {
  InProcessBroker,
  type Broker,
  type SessionCloseInfo,
  type WebSocketConnection,
} from '../../packages/codec/src/session/index.ts';
// The session layer's internal access to a connection's transport (not exported by the package).
import { sessionInput } from '../../packages/codec/src/session/connection-wiring.ts';
import { assert, assertEquals } from './assert.ts';
import { sleep, until, within } from './wait.ts';

export interface TopicServerOptions {
  backpressureLimit?: number;
  closeOnBackpressureLimit?: boolean;
  broker?: Broker;
  extensions?: readonly ExtensionFactory[];
  highWaterMark?: number;
  maxBufferedAmount?: number;
}

/** What the scenarios use of a runtime's server. */
export interface PublishingServer {
  publish(topic: string, data: string | Uint8Array, options?: { compress?: boolean } | boolean): number;
  subscriberCount(topic: string): number;
  close(): Promise<unknown>;
}

/** A runtime's `ourServer` helper: its server on a free port of 127.0.0.1. */
export type OurTopicServer = (
  options: TopicServerOptions,
  onConnection: (ws: WebSocketConnection) => void,
) => Promise<{ server: PublishingServer; url: string; port: number }>;

/** A runtime's `connect`. */
export type Connect = (
  url: string,
  options?: { extensions?: readonly ExtensionFactory[] },
) => Promise<WebSocketConnection>;

/** Every message a client receives, from now on (listener attached after the await, as users do). */
function collect(ws: WebSocketConnection): Array<string | Uint8Array> {
  const got: Array<string | Uint8Array> = [];
  ws.on('message', (data) => got.push(data));
  return got;
}

const isUsageError = (f: () => unknown): boolean => {
  try {
    f();
  } catch (error) {
    return error instanceof WebSocketUsageError || error instanceof TypeError;
  }
  return false;
};

/**
 * subscribe / unsubscribe / isSubscribed / topics, `server.publish` to every subscriber,
 * `ws.publish` to every subscriber but the sender, nothing to non-subscribers, unsubscribe on
 * close, binary and text, a client connection refusing topics.
 */
export async function topicBasics(ourServer: OurTopicServer, connect: Connect): Promise<void> {
  const serverSide: WebSocketConnection[] = [];
  const { server, url } = await ourServer({}, (ws) => {
    // The room is the path: /a, /b; /none subscribes to nothing.
    const room = ws.request!.path.slice(1);
    if (room !== 'none') ws.subscribe(room);
    // A client asks its server connection to publish what it sends, to its room.
    ws.on('message', (data) => {
      if (typeof data === 'string' && data.startsWith('pub:')) ws.publish(room, data.slice(4));
      else if (data instanceof Uint8Array) ws.publish(room, data);
    });
    serverSide.push(ws);
  });
  try {
    const a1 = await within(connect(`${url}/a`), 10_000, 'connect a1');
    const a2 = await within(connect(`${url}/a`), 10_000, 'connect a2');
    const a3 = await within(connect(`${url}/a`), 10_000, 'connect a3');
    const b1 = await within(connect(`${url}/b`), 10_000, 'connect b1');
    const none = await within(connect(`${url}/none`), 10_000, 'connect none');
    const [ga1, ga2, ga3, gb1, gnone] = [a1, a2, a3, b1, none].map(collect) as [
      string[],
      string[],
      string[],
      string[],
      string[],
    ];
    await until(() => serverSide.length === 5, 'five server connections');
    const [s1] = serverSide as [WebSocketConnection];
    assertEquals(server.subscriberCount('a'), 3, 'three subscribe to a');
    assertEquals(server.subscriberCount('b'), 1, 'one subscribes to b');
    assertEquals(s1.isSubscribed('a'), true, 'isSubscribed');
    assertEquals(s1.isSubscribed('b'), false, 'isSubscribed (other topic)');
    assertEquals(s1.topics, ['a'], 'topics');
    assertEquals(s1.subscriptions, ['a'], 'subscriptions (Bun name)');
    s1.subscribe('a'); // twice: still once
    assertEquals(server.subscriberCount('a'), 3, 'subscribing twice counts once');

    // server.publish: every subscriber of the topic, and only them.
    assertEquals(server.publish('a', 'to a'), 3, 'written to three');
    assertEquals(server.publish('b', new Uint8Array([1, 2, 3])), 1, 'written to one');
    assertEquals(server.publish('nobody', 'x'), 0, 'a topic without subscribers');
    await until(
      () => ga1.length === 1 && ga2.length === 1 && ga3.length === 1 && gb1.length === 1,
      'server.publish delivered',
    );
    assertEquals([ga1[0], ga2[0], ga3[0]], ['to a', 'to a', 'to a'], 'text to every subscriber');
    assertEquals(gb1[0], new Uint8Array([1, 2, 3]), 'binary to b');

    // ws.publish: every subscriber but the sender (a1 asks its server connection to publish).
    a1.send('pub:from a1');
    a2.send(new Uint8Array([9, 9]));
    await until(() => ga2.length === 2 && ga3.length === 3 && ga1.length === 2, 'ws.publish delivered');
    assertEquals(ga1, ['to a', new Uint8Array([9, 9])], 'a1 does not get its own');
    assertEquals(ga2, ['to a', 'from a1'], 'a2 does not get its own');
    assertEquals(ga3, ['to a', 'from a1', new Uint8Array([9, 9])], 'a3 gets both, in order');

    // Unsubscribe: no more messages; a marker on b shows b's traffic went through meanwhile.
    const s3 = serverSide[2]!;
    s3.unsubscribe('a');
    assertEquals([s3.isSubscribed('a'), s3.topics], [false, []], 'unsubscribed');
    assertEquals(server.publish('a', 'after unsubscribe'), 2, 'two left');
    // Closing leaves every topic.
    a2.close();
    await within(a2.closed, 10_000, 'a2 closed');
    await until(() => server.subscriberCount('a') === 1, 'a2 left a on close');
    assertEquals(serverSide[1]!.topics, [], 'a closed connection has no topics');
    serverSide[1]!.subscribe('late'); // closed: nothing
    assertEquals(server.subscriberCount('late'), 0, 'a closed connection cannot subscribe');
    server.publish('b', 'marker');
    await until(() => gb1.length === 2 && ga1.length === 3, 'marker and the last publish');
    await sleep(50);
    assertEquals(ga3.length, 3, 'an unsubscribed connection gets nothing more');
    assertEquals(gnone.length, 0, 'a connection with no topic gets nothing');

    // Misuse throws a typed error; a client connection has no topics.
    assert(
      isUsageError(() => s1.subscribe(42 as unknown as string)),
      'a topic must be a string',
    );
    assert(
      isUsageError(() => a1.subscribe('a')),
      'a client connection has no topics',
    );
    assert(
      isUsageError(() => server.publish('a', 'x', 'yes' as unknown as boolean)),
      'bad publish options',
    );
    for (const ws of [a1, a3, b1, none]) ws.close();
    await within(Promise.all([a1.closed, a3.closed, b1.closed, none.closed]), 10_000, 'clients closed');
    await until(() => server.subscriberCount('a') === 0 && server.subscriberCount('b') === 0, 'every topic empty');
  } finally {
    await within(server.close(), 15_000, 'server.close');
  }
}

/** Record every write a server connection's transport is asked for: the chunks of each call. */
function spyWrites(ws: WebSocketConnection): Uint8Array[][] {
  const transport = sessionInput.transport(ws);
  const calls: Uint8Array[][] = [];
  const write = transport.write.bind(transport);
  transport.write = (list: Uint8Array[]) => {
    calls.push([...list]);
    write(list);
  };
  return calls;
}

/** A deflate backend that counts its compressions. */
export interface CountingDeflate {
  /** Server and client extension factories sharing one backend. */
  server: ExtensionFactory;
  client: ExtensionFactory;
  compressions(): number;
}

/** permessage-deflate on a pako backend that counts the server's compressions. */
export function countingDeflate(serverNoContextTakeover: boolean): CountingDeflate {
  let count = 0;
  const backend: DeflateBackend = {
    name: `counting-pako-${serverNoContextTakeover}`,
    createInflater: (windowBits) => pakoBackend.createInflater(windowBits),
    createDeflater: (options) => {
      const deflater = pakoBackend.createDeflater(options);
      return {
        compress: (input) => {
          count++;
          return deflater.compress(input);
        },
        reset: () => deflater.reset(),
        dispose: () => deflater.dispose(),
      };
    },
  };
  return {
    server: permessageDeflate({ serverNoContextTakeover, backend }),
    client: permessageDeflate({ backend: pakoBackend }),
    compressions: () => count,
  };
}

/**
 * Frame once, write many: with N subscribers, one publish hands the same frame object to every
 * subscriber's transport. With permessage-deflate and server_no_context_takeover one
 * compression serves all; with context takeover each subscriber compresses its own (documented),
 * and every client still reads the message.
 */
export async function frameOnce(ourServer: OurTopicServer, connect: Connect): Promise<void> {
  const N = 5;
  const deflate = { noTakeover: countingDeflate(true), takeover: countingDeflate(false) };
  for (const mode of ['plain', 'noTakeover', 'takeover'] as const) {
    const d = mode === 'plain' ? null : deflate[mode];
    const serverSide: WebSocketConnection[] = [];
    const { server, url } = await ourServer(d === null ? {} : { extensions: [d.server] }, (ws) => {
      ws.subscribe('t');
      serverSide.push(ws);
    });
    try {
      const clients: WebSocketConnection[] = [];
      for (let i = 0; i < N; i++)
        clients.push(await within(connect(url, d === null ? {} : { extensions: [d.client] }), 10_000, 'connect'));
      const got = clients.map(collect);
      await until(() => serverSide.length === N, 'subscribers');
      const spies = serverSide.map(spyWrites);
      const message = 'hello topic '.repeat(200); // 2.4 KB: over the deflate threshold
      const before = d?.compressions() ?? 0;
      assertEquals(
        server.publish('t', message, { compress: d === null ? undefined : true }),
        N,
        `${mode}: written to all`,
      );
      const compressions = (d?.compressions() ?? 0) - before;
      // Written at the end of the task, with whatever else it publishes.
      await until(() => spies.every((calls) => calls.length > 0), `${mode}: written to every transport`);
      const firsts = spies.map((calls) => calls[0]?.[0]);
      assert(
        firsts.every((c) => c instanceof Uint8Array),
        `${mode}: every transport got bytes`,
      );
      if (mode === 'takeover') {
        assertEquals(compressions, N, 'context takeover: one compression per subscriber');
        assertEquals(new Set(firsts).size, N, 'context takeover: each its own frame');
      } else {
        assertEquals(new Set(firsts).size, 1, `${mode}: one frame object for every subscriber`);
        assertEquals(
          spies.map((calls) => calls.flat().length),
          Array(N).fill(1),
          `${mode}: one chunk each`,
        );
        if (d !== null) assertEquals(compressions, 1, 'no context takeover: one compression for all');
      }
      // RSV1 on the compressed frames.
      assertEquals(((firsts[0]![0]! >> 6) & 1) === 1, d !== null, `${mode}: RSV1 ${d !== null ? 'set' : 'clear'}`);
      await until(() => got.every((g) => g.length === 1), `${mode}: delivered`);
      assert(
        got.every((g) => g[0] === message),
        `${mode}: every client reads the message`,
      );
      // A second publish after a direct send: context takeover streams stay in step.
      serverSide[0]!.send('direct '.repeat(300));
      server.publish('t', message + '!', { compress: d === null ? undefined : true });
      await until(() => got.every((g, i) => g.length === (i === 0 ? 3 : 2)), `${mode}: second publish delivered`);
      assert(
        got.every((g) => g.at(-1) === message + '!'),
        `${mode}: second publish read by all`,
      );
      if (mode === 'plain') {
        // Three publishes in one task: one write per subscriber, of one buffer holding the three
        // frames, the same buffer object for every subscriber (gathered once).
        for (const calls of spies) calls.length = 0;
        for (const text of ['one', 'two', 'three']) server.publish('t', text);
        await until(() => spies.every((calls) => calls.length > 0), 'three publishes written');
        await sleep(20);
        assertEquals(
          spies.map((calls) => calls.length),
          Array(N).fill(1),
          'one transport write per subscriber for the task',
        );
        assertEquals(
          spies.map((calls) => calls[0]!.length),
          Array(N).fill(1),
          'of one buffer',
        );
        const batch = spies[0]![0]![0]!;
        assertEquals(batch.length, 3 * 2 + 'onetwothree'.length, 'three frames in it');
        assert(
          spies.every((calls) => calls[0]![0] === batch),
          'the same buffer object for every subscriber',
        );
        await until(() => got.every((g, i) => g.length === (i === 0 ? 6 : 5)), 'three publishes delivered');
        assert(
          got.every((g) => g.slice(-3).join() === 'one,two,three'),
          'every client reads them in order',
        );
        // A subscriber that sends meanwhile gets what was published before its message, after it what came after.
        for (const calls of spies) calls.length = 0;
        server.publish('t', 'before');
        serverSide[1]!.send('own');
        server.publish('t', 'after');
        await until(() => got[1]!.length === 8, 'published around a send');
        assertEquals(got[1]!.slice(-3), ['before', 'own', 'after'], 'in the order written');
        await until(() => got.every((g, i) => g.length === (i === 0 ? 8 : i === 1 ? 8 : 7)), 'all delivered');
        assert(
          spies.every((calls, i) => i === 1 || (calls.length === 1 && calls[0]!.length === 1)),
          'the others: still one write of one buffer',
        );
      }
      for (const ws of clients) ws.close();
      await within(Promise.all(clients.map((ws) => ws.closed)), 10_000, 'clients closed');
    } finally {
      await within(server.close(), 15_000, 'server.close');
    }
  }
}

/**
 * A slow subscriber never holds back the others: one client stops reading; its server-side
 * backlog stays within backpressureLimit (messages are skipped for it) while a reading
 * subscriber gets every message in order. With closeOnBackpressureLimit the slow one is
 * terminated (BACKPRESSURE_LIMIT) instead.
 */
export async function slowSubscriber(ourServer: OurTopicServer, connect: Connect): Promise<void> {
  const LIMIT = 2 * 1024 * 1024;
  const SIZE = 256 * 1024;
  const COUNT = 128; // 32 MiB: more than the kernel's loopback buffers absorb (a few MiB)
  for (const closeOnBackpressureLimit of [false, true]) {
    const serverSide: WebSocketConnection[] = [];
    const { server, url } = await ourServer(
      { backpressureLimit: LIMIT, closeOnBackpressureLimit, maxBufferedAmount: 64 * 1024 * 1024 },
      (ws) => {
        ws.subscribe('feed');
        serverSide.push(ws);
      },
    );
    try {
      const fast = await within(connect(url), 10_000, 'connect fast');
      const slow = await within(connect(url), 10_000, 'connect slow');
      slow.pause();
      const fastGot: number[] = [];
      fast.on('message', (data) =>
        fastGot.push(data instanceof Uint8Array ? new DataView(data.buffer, data.byteOffset).getUint32(0) : -1),
      );
      let slowCount = 0;
      slow.on('message', () => slowCount++);
      await until(() => serverSide.length === 2, 'two subscribers');
      const [, slowServer] = serverSide as [WebSocketConnection, WebSocketConnection];
      const slowClosed: Promise<SessionCloseInfo> = slowServer.closed;
      let written = 0;
      let maxSlowBuffered = 0;
      for (let i = 0; i < COUNT; i++) {
        const message = new Uint8Array(SIZE);
        new DataView(message.buffer).setUint32(0, i);
        written += server.publish('feed', message);
        if (slowServer.readyState === 'open') maxSlowBuffered = Math.max(maxSlowBuffered, slowServer.bufferedAmount);
        // Let the fast one read as it goes (its own backlog stays small).
        await until(() => fastGot.length >= i, 'the fast subscriber keeps up', 20_000);
      }
      await until(() => fastGot.length === COUNT, 'the fast subscriber got everything', 20_000);
      assertEquals(
        fastGot,
        Array.from({ length: COUNT }, (_, i) => i),
        'every message to the fast one, in order',
      );
      assert(
        maxSlowBuffered <= LIMIT,
        `the slow one's backlog stayed within backpressureLimit (max ${maxSlowBuffered})`,
      );
      assert(written < 2 * COUNT, `messages were skipped for the slow one (${written} writes for ${COUNT} publishes)`);
      if (closeOnBackpressureLimit) {
        const info = await within(slowClosed, 10_000, 'the slow one terminated');
        assertEquals(info.error, 'BACKPRESSURE_LIMIT', 'closed for its backlog');
        assertEquals(server.subscriberCount('feed'), 1, 'and out of the topic');
        slow.resume(); // to see the connection go
      } else {
        assertEquals(slowServer.readyState, 'open', 'skipping keeps the slow one open');
        slow.resume();
        await until(() => slowCount === written - COUNT, 'the slow one reads what it was sent', 20_000);
      }
      fast.close();
      slow.close();
      await within(Promise.all([fast.closed, slow.closed]), 10_000, 'clients closed');
    } finally {
      await within(server.close(), 15_000, 'server.close');
    }
  }
}

/**
 * Two servers of one process sharing an `InProcessBroker`: a publish on either reaches the
 * subscribers of both, once; a server without subscribers to a topic is not asked for it; a
 * closed server leaves the broker.
 */
export async function inProcessBroker(ourServer: OurTopicServer, connect: Connect): Promise<void> {
  const broker = new InProcessBroker();
  const subscribe = (ws: WebSocketConnection): void => {
    const topic = ws.request!.path.slice(1);
    ws.subscribe(topic);
    ws.on('message', (data) => ws.publish(topic, data));
  };
  const one = await ourServer({ broker }, subscribe);
  const two = await ourServer({ broker }, subscribe);
  try {
    const a = await within(connect(`${one.url}/room`), 10_000, 'connect a');
    const b = await within(connect(`${two.url}/room`), 10_000, 'connect b');
    const c = await within(connect(`${two.url}/room`), 10_000, 'connect c');
    const other = await within(connect(`${two.url}/other`), 10_000, 'connect other');
    const [ga, gb, gc, gother] = [a, b, c, other].map(collect) as [string[], string[], string[], string[]];
    await until(
      () => one.server.subscriberCount('room') === 1 && two.server.subscriberCount('room') === 2,
      'subscribed',
    );
    assertEquals(one.server.publish('room', 'from one'), 1, 'one local subscriber on one');
    a.send('from a'); // ws.publish on server one: b and c on server two, not a
    c.send('from c'); // on server two: b locally, a through the broker
    await until(() => ga.length === 2 && gb.length === 3 && gc.length === 2, 'delivered across servers');
    await sleep(50);
    assertEquals(ga, ['from one', 'from c'], 'a: never its own');
    assertEquals(gb, ['from one', 'from a', 'from c'], 'b: everything once, in order');
    assertEquals(gc, ['from one', 'from a'], 'c: never its own');
    assertEquals(gother, [], 'another topic gets nothing');
    for (const ws of [a, b, c, other]) ws.close();
    await within(Promise.all([a.closed, b.closed, c.closed, other.closed]), 10_000, 'clients closed');
  } finally {
    await within(Promise.all([one.server.close(), two.server.close()]), 15_000, 'servers closed');
  }
}
