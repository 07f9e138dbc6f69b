// RedisBroker against a real redis-server (started here on a free port, killed and restarted
// mid-test): two brokers, as two processes would have, each under an @ws/node server. A process
// listens on a channel only while it has a local subscriber; a publish reaches both servers once
// (the publisher's own echo is ignored); binary and the compress wish cross; when Redis dies the
// status goes `down` once (one log line, however many publishes), local delivery goes on and
// remote publishes are counted as dropped; when it is back the channels are subscribed again and
// fan-out resumes. (The same across three processes of three runtimes: examples/cluster-chat.)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, createServer, type WebSocketConnection, type WebSocketServer } from '../../node/src/index.ts';
import { redisMissing, startRedis, type TestRedis } from '../../../test/shared/redis-server.ts';
import { sleep, until, within } from '../../../test/shared/wait.ts';
import { RedisBroker, type RedisBrokerStatus } from '../src/index.ts';

describe.skipIf(redisMissing !== null)(
  `RedisBroker${redisMissing === null ? '' : ` (skipped: ${redisMissing})`}`,
  () => {
    let redis: TestRedis;
    let admin: Redis;
    beforeAll(async () => {
      redis = await startRedis();
      admin = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
      admin.on('error', () => {});
    });
    afterAll(async () => {
      admin?.disconnect();
      await redis?.close();
    });

    it('README: the snippet, run as written (sources imported, port 0, the test Redis)', async () => {
      const here = path.dirname(fileURLToPath(import.meta.url));
      const readme = readFileSync(path.join(here, '../README.md'), 'utf8');
      const snippet = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
      const dir = mkdtempSync(path.join(tmpdir(), 'redis-readme-'));
      const file = path.join(dir, 'snippet.ts');
      writeFileSync(
        file,
        snippet
          .replace("from '@ws/node'", `from ${JSON.stringify(path.join(here, '../../node/src/index.ts'))}`)
          .replace("from '@ws/redis'", `from ${JSON.stringify(path.join(here, '../src/index.ts'))}`)
          .replace('redis://127.0.0.1:6379', redis.url)
          .replace('listen(8080,', 'listen(0,') + '\nexport { server, broker };\n',
      );
      const { server, broker } = (await import(file)) as { server: WebSocketServer; broker: RedisBroker };
      try {
        const url = `ws://127.0.0.1:${server.address()!.port}/room`;
        const [one, two] = await Promise.all([connect(url), connect(url)]);
        const got: string[] = [];
        two!.on('message', (data) => got.push(String(data)));
        await until(() => server.subscriberCount('/room') === 2, 'subscribed');
        one!.send('hi');
        await until(() => got.length === 1, 'delivered');
        expect(got).toEqual(['hi']);
        expect(broker.status).toBe('ready');
        one!.close();
        two!.close();
      } finally {
        await server.close();
        await broker.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    const numsub = async (channel: string): Promise<number> =>
      Number(((await admin.pubsub('NUMSUB', channel)) as [string, number])[1]);

    it('fan-out between two brokers, subscription only while subscribed here, failure and recovery', async () => {
      const logs: string[][] = [[], []];
      const statuses: RedisBrokerStatus[][] = [[], []];
      const brokers = [0, 1].map((i) => {
        const broker = new RedisBroker({
          url: redis.url,
          prefix: 't:',
          maxReconnectDelay: 200,
          log: (line) => logs[i]!.push(line),
        });
        broker.on('status', (status) => statuses[i]!.push(status));
        return broker;
      });
      const servers: WebSocketServer[] = [];
      const clients: WebSocketConnection[] = [];
      try {
        await within(Promise.all(brokers.map((b) => b.ready())), 10_000, 'brokers ready');
        expect(brokers.map((b) => b.status)).toEqual(['ready', 'ready']);
        for (const broker of brokers) {
          const server = createServer({ broker }, (ws, request) => ws.subscribe(request.path.slice(1)));
          await server.listen(0, '127.0.0.1');
          servers.push(server);
        }
        const url = (i: number, topic: string): string => `ws://127.0.0.1:${servers[i]!.address()!.port}/${topic}`;
        expect(await numsub('t:news')).toBe(0);
        const [a1, a2, b1] = await Promise.all([
          connect(url(0, 'news')),
          connect(url(0, 'news')),
          connect(url(1, 'news')),
        ]);
        clients.push(a1!, a2!, b1!);
        const got = [a1!, a2!, b1!].map((ws) => {
          const messages: Array<string | Uint8Array> = [];
          ws.on('message', (data) => messages.push(data));
          return messages;
        });
        await until(
          () => servers[0]!.subscriberCount('news') === 2 && servers[1]!.subscriberCount('news') === 1,
          'subscribed',
        );
        for (let i = 0; i < 200 && (await numsub('t:news')) !== 2; i++) await sleep(10);
        expect(await numsub('t:news'), 'one Redis subscription per broker, however many local subscribers').toBe(2);
        expect(brokers[0]!.channels).toEqual(['news']);

        // A publish on server 0: its two subscribers once each (not again through Redis), server 1's once.
        servers[0]!.publish('news', 'hello');
        servers[1]!.publish('news', new Uint8Array([1, 2, 3]), { compress: false });
        await until(() => got.every((g) => g.length === 2), 'delivered everywhere');
        await sleep(100);
        // Each once; order holds per publisher only (a local publish is delivered before a remote one arrives).
        for (const g of got)
          expect(new Set(g.map((m) => (typeof m === 'string' ? m : `bytes ${[...m].join(',')}`)))).toEqual(
            new Set(['hello', 'bytes 1,2,3']),
          );

        // The last local subscriber leaves: the broker leaves the channel.
        b1!.close();
        await within(b1!.closed, 10_000, 'b1 closed');
        for (let i = 0; i < 200 && (await numsub('t:news')) !== 1; i++) await sleep(10);
        expect(await numsub('t:news'), 'server 1 no longer listens').toBe(1);
        expect(brokers[1]!.channels).toEqual([]);
        const b2 = await connect(url(1, 'news'));
        clients.push(b2);
        const gotB2: Array<string | Uint8Array> = [];
        b2.on('message', (data) => gotB2.push(data));
        for (let i = 0; i < 200 && (await numsub('t:news')) !== 2; i++) await sleep(10);

        // Redis dies: status down once, one log line, local delivery goes on, remote publishes dropped.
        await redis.stop();
        await until(() => brokers.every((b) => b.status === 'down'), 'both down', 10_000);
        for (let i = 0; i < 50; i++) servers[0]!.publish('news', `local ${i}`);
        await until(() => got[0]!.length === 52 && got[1]!.length === 52, 'local subscribers still served');
        expect(brokers[0]!.dropped).toBeGreaterThanOrEqual(50);
        expect(gotB2).toEqual([]);
        await sleep(600); // several reconnection attempts (maxReconnectDelay 200)
        expect(statuses[0]).toEqual(['ready', 'down']);
        expect(logs[0]!.length, `one line for the outage: ${logs[0]!.join(' | ')}`).toBe(1);
        expect(logs[0]![0]).toMatch(/lost Redis/);

        // Back: subscribed again, fan-out resumes by itself.
        await redis.start();
        await within(Promise.all(brokers.map((b) => b.ready())), 15_000, 'ready again');
        for (let i = 0; i < 400 && (await numsub('t:news').catch(() => 0)) !== 2; i++) await sleep(10);
        expect(await numsub('t:news'), 'channels subscribed again').toBe(2);
        expect(statuses[0]).toEqual(['ready', 'down', 'ready']);
        expect(logs[0]!.at(-1)).toMatch(/is back/);
        servers[0]!.publish('news', 'resumed');
        await until(() => gotB2.includes('resumed'), 'fan-out resumed', 10_000);
      } finally {
        for (const ws of clients) ws.close();
        await Promise.all(servers.map((s) => s.close()));
        await Promise.all(brokers.map((b) => b.close()));
      }
      expect(brokers.map((b) => b.status)).toEqual(['closed', 'closed']);
    }, 60_000);
  },
);
