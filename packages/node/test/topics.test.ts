// Topics on @ws/node: the shared scenarios (test/shared/topics.ts) with Node's server and client.
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { connect, createUpgradeHandler } from '../src/index.ts';
import { frameOnce, inProcessBroker, slowSubscriber, topicBasics } from '../../../test/shared/topics.ts';
import { ourServer, until, wsClient } from './helpers.ts';

describe('topics', () => {
  it(
    'subscribe, unsubscribe, server.publish to all, ws.publish to all but the sender, unsubscribe on close',
    () => topicBasics(ourServer, connect),
    30_000,
  );
  it(
    'a publish frames once and writes the same bytes to every subscriber (deflate: once per setting)',
    () => frameOnce(ourServer, connect),
    30_000,
  );
  it(
    'a slow subscriber is bounded by backpressureLimit and never holds back the others',
    () => slowSubscriber(ourServer, connect),
    60_000,
  );
  it(
    'servers of one process sharing an InProcessBroker publish to each other, once',
    () => inProcessBroker(ourServer, connect),
    30_000,
  );
});

describe('topics on an upgrade handler (an existing http server)', () => {
  it('handler.publish reaches every subscriber, ws.publish all but the sender', async () => {
    const handler = createUpgradeHandler({}, (ws) => {
      ws.subscribe('room');
      ws.on('message', (data) => ws.publish('room', data));
    });
    const http = createHttpServer();
    http.on('upgrade', (req, socket, head) => handler.handleUpgrade(req, socket, head));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    try {
      const [a, b] = await Promise.all([wsClient(`ws://127.0.0.1:${port}/`), wsClient(`ws://127.0.0.1:${port}/`)]);
      const got: string[][] = [[], []];
      a.on('message', (data) => got[0]!.push(String(data)));
      b.on('message', (data) => got[1]!.push(String(data)));
      await until(() => handler.subscriberCount('room') === 2, 'two subscribers');
      expect(handler.publish('room', 'all')).toBe(2);
      a.send('from a');
      await until(() => got[0]!.length === 1 && got[1]!.length === 2, 'delivered');
      expect(got).toEqual([['all'], ['all', 'from a']]);
      a.close();
      b.close();
      await until(() => handler.subscriberCount('room') === 0, 'left on close');
    } finally {
      await handler.close();
      await new Promise((resolve) => http.close(resolve));
    }
  });
});
