// The cluster-chat contract, end to end: three processes, one per runtime
// (`pnpm run cluster-chat:<runtime> --port 0 --redis URL`, the root scripts as written), sharing
// one real Redis; `ws` clients in rooms on each. Every text message reaches every other client
// of its room on every process once, in each sender's order, never the sender, never another
// room; a process listens on a room's channel only while it has a client there. Then Redis is
// killed: each process keeps serving its local clients, says so once, and fan-out resumes by
// itself once Redis is back. Without --redis a process runs alone on the in-process broker.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { redisMissing, startRedis, type TestRedis } from '../../../test/shared/redis-server.ts';
import { sleep, until, within } from '../../../test/shared/wait.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SCRIPTS = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
const RUNTIMES = ['node', 'deno', 'bun'] as const;
type RuntimeName = (typeof RUNTIMES)[number];

interface Chat {
  runtime: RuntimeName;
  port: number;
  output(): string;
  stop(): Promise<void>;
}

const groups = new Set<number>();
process.once('exit', () => {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

/** `pnpm run cluster-chat:<runtime> …` as pnpm runs it: the script through sh, node_modules/.bin on PATH. */
async function startChat(runtime: RuntimeName, args: string[]): Promise<Chat> {
  const script = SCRIPTS[`cluster-chat:${runtime}`];
  expect(script, `the root script cluster-chat:${runtime}`).toBeTypeOf('string');
  const child: ChildProcess = spawn('sh', ['-c', `${script} ${args.join(' ')}`], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      NO_COLOR: '1',
      PATH: `${path.join(ROOT, 'node_modules/.bin')}${path.delimiter}${process.env.PATH}`,
    },
    detached: true,
  });
  const pid = child.pid!;
  groups.add(pid);
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(-pid, 'SIGTERM');
      const timer = setTimeout(() => process.kill(-pid, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    try {
      process.kill(-pid, 'SIGKILL'); // anything left in its group
    } catch {
      // gone
    }
    groups.delete(pid);
  };
  const deadline = Date.now() + 180_000; // Node may build the packages first
  for (;;) {
    const match = /listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(out);
    if (match) return { runtime, port: Number(match[1]), output: () => out, stop };
    if (child.exitCode !== null) throw new Error(`cluster-chat:${runtime} exited (${child.exitCode}):\n${out}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`cluster-chat:${runtime} printed no 'listening' line:\n${out}`);
    }
    await sleep(50);
  }
}

interface Client {
  name: string;
  ws: WebSocket;
  got: string[];
}

async function client(chat: Chat, room: string, name: string): Promise<Client> {
  const ws = new WebSocket(`ws://127.0.0.1:${chat.port}/rooms/${room}`);
  const got: string[] = [];
  ws.on('message', (data, isBinary) => {
    if (!isBinary) got.push(String(data));
  });
  await within(once(ws, 'open'), 10_000, `${name} open`);
  return { name, ws, got };
}

/** Messages from `sender` in `got`, in order. */
const from = (got: string[], sender: string): string[] => got.filter((m) => m.startsWith(`${sender}:`));

/** Every client of `room` sends `count` messages tagged `tag`; each must get every other's, once, in order, and none of its own. */
async function exchange(clients: Client[], tag: string, count: number): Promise<void> {
  const before = new Map(clients.map((c) => [c, c.got.length]));
  for (let i = 0; i < count; i++) for (const c of clients) c.ws.send(`${c.name}:${tag}:${i}`);
  const expected = count * (clients.length - 1);
  await until(
    () => clients.every((c) => c.got.length - before.get(c)! >= expected),
    `${tag}: every message delivered`,
    20_000,
  );
  await sleep(100); // a duplicate would arrive by now
  for (const c of clients) {
    const fresh = c.got.slice(before.get(c)!);
    expect(fresh.length, `${c.name} got each message once`).toBe(expected);
    expect(from(fresh, c.name), `${c.name} never gets its own`).toEqual([]);
    for (const other of clients) {
      if (other === c) continue;
      expect(from(fresh, other.name), `${c.name} gets ${other.name}'s in order`).toEqual(
        Array.from({ length: count }, (_, i) => `${other.name}:${tag}:${i}`),
      );
    }
  }
}

describe.skipIf(redisMissing !== null)(
  `cluster-chat across node, deno and bun through Redis${redisMissing === null ? '' : ` (skipped: ${redisMissing})`}`,
  () => {
    let redis: TestRedis;
    let admin: Redis;
    const chats: Chat[] = [];
    const numsub = async (room: string): Promise<number> => {
      const reply = (await admin.pubsub('NUMSUB', `cluster-chat:${room}`)) as [string, number];
      return Number(reply[1]);
    };

    beforeAll(async () => {
      redis = await startRedis();
      admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
      admin.on('error', () => {});
      await admin.connect();
      chats.push(...(await Promise.all(RUNTIMES.map((rt) => startChat(rt, ['--port', '0', '--redis', redis.url])))));
    }, 200_000);

    afterAll(async () => {
      await Promise.all(chats.map((c) => c.stop()));
      admin?.disconnect();
      await redis?.close();
    }, 30_000);

    it('rooms across processes: every other client once, in order; never the sender, never another room; Redis failure and recovery', async () => {
      const room = await Promise.all(
        chats.flatMap((chat) => [client(chat, 'r1', `${chat.runtime}A`), client(chat, 'r1', `${chat.runtime}B`)]),
      );
      const other = await Promise.all(chats.map((chat) => client(chat, 'r2', `${chat.runtime}O`)));
      // Each process listens on a room's channel once it has a client there (one subscriber per process).
      for (let i = 0; i < 400 && !((await numsub('r1')) === 3 && (await numsub('r2')) === 3); i++) await sleep(25);
      expect([await numsub('r1'), await numsub('r2')], 'one Redis subscriber per process and room').toEqual([3, 3]);
      await exchange(room, 'one', 20);
      expect(
        other.every((c) => c.got.length === 0),
        'room r2 got nothing of r1',
      ).toBe(true);
      await exchange(other, 'two', 5);

      // A process stops listening on a channel when its last client of the room leaves.
      const bunOther = other[2]!;
      bunOther.ws.close();
      await until(() => bunOther.ws.readyState === WebSocket.CLOSED, 'bun r2 client closed');
      for (let i = 0; i < 400 && (await numsub('r2')) !== 2; i++) await sleep(25);
      expect(await numsub('r2'), 'bun unsubscribed r2').toBe(2);
      await exchange(other.slice(0, 2), 'three', 3);

      // Redis goes away: local traffic goes on, each process says so (once).
      await redis.stop();
      for (const chat of chats)
        await until(() => /redis down/.test(chat.output()), `${chat.runtime} reports Redis down`, 15_000);
      for (const chat of chats) {
        const [a, b] = room.filter((c) => c.name.startsWith(chat.runtime));
        a!.ws.send(`${a!.name}:local:0`);
        await until(
          () => b!.got.includes(`${a!.name}:local:0`),
          `${chat.runtime}: local delivery while Redis is down`,
          10_000,
        );
      }
      await sleep(300);
      for (const c of room)
        expect(
          c.got.filter((m) => m.includes(':local:')).length,
          `${c.name}: only its own process's local message`,
        ).toBeLessThanOrEqual(1);
      for (const chat of chats)
        expect(chat.output().match(/lost Redis/g)?.length ?? 0, `${chat.runtime} logs the outage once`).toBe(1);

      // Redis is back: every process resubscribes and fan-out resumes by itself.
      await redis.start();
      await admin.ping().catch(() => undefined);
      for (const chat of chats)
        await until(() => /is back/.test(chat.output()), `${chat.runtime} reports Redis back`, 20_000);
      for (let i = 0; i < 400 && (await numsub('r1').catch(() => 0)) !== 3; i++) await sleep(25);
      expect(await numsub('r1'), 'r1 subscribed again by all three').toBe(3);
      await exchange(room, 'after', 10);
      for (const c of [...room, ...other.slice(0, 2)]) c.ws.close();
    }, 120_000);
  },
);

describe('cluster-chat without --redis: one process on the in-process broker', () => {
  it('bun: the room works on its own', async () => {
    const chat = await startChat('bun', ['--port', '0']);
    try {
      expect(chat.output()).toMatch(/in-process broker/);
      const clients = await Promise.all([
        client(chat, 'solo', 'x'),
        client(chat, 'solo', 'y'),
        client(chat, 'solo', 'z'),
      ]);
      await exchange(clients, 'solo', 5);
      const refused = new WebSocket(`ws://127.0.0.1:${chat.port}/elsewhere`);
      const [, response] = (await within(once(refused, 'unexpected-response'), 10_000, 'refused')) as [
        unknown,
        { statusCode: number },
      ];
      expect(response.statusCode).toBe(404);
      for (const c of clients) c.ws.close();
    } finally {
      await chat.stop();
    }
  }, 60_000);
});
