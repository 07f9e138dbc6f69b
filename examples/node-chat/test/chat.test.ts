// The chat example without a browser: the page, the upgrade at /ws, the room's rules, and the
// command. (The browser test is chromium.test.ts.)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket as WsClient } from 'ws';
import { createChatServer, type ChatServer } from '../chat.mjs';

const HOST = '127.0.0.1';
const HERE = path.dirname(fileURLToPath(import.meta.url));

function within<T>(promise: Promise<T>, ms = 10_000, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]);
}

async function until(condition: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let chat: ChatServer | null = null;
const clients: WsClient[] = [];
afterEach(async () => {
  for (const ws of clients.splice(0)) ws.terminate();
  await chat?.close();
  chat = null;
});

async function start(): Promise<string> {
  chat = createChatServer();
  const { port } = await chat.listen(0, HOST);
  return `${HOST}:${port}`;
}

/** A chat member: its messages (parsed) and its close. */
function member(host: string, name: string, origin = `http://${host}`) {
  const ws = new WsClient(`ws://${host}/ws?name=${encodeURIComponent(name)}`, { origin });
  clients.push(ws);
  const messages: Array<Record<string, unknown>> = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data))));
  ws.on('error', () => {});
  const closed = once(ws, 'close').then(([code, reason]) => ({ code: code as number, reason: String(reason) }));
  return { ws, messages, closed, opened: within(once(ws, 'open'), 10_000, `${name} open`) };
}

describe('node-chat', () => {
  it('serves the page at / and 404 elsewhere', async () => {
    const host = await start();
    const page = await fetch(`http://${host}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('new WebSocket(');
    expect((await fetch(`http://${host}/nope`)).status).toBe(404);
  });

  it('broadcasts a message to everyone in the room, with joins and leaves', async () => {
    const host = await start();
    const alice = member(host, 'alice');
    await alice.opened;
    await until(() => alice.messages.length >= 2); // welcome + own join
    const bob = member(host, 'bob');
    await bob.opened;
    await until(() => alice.messages.some((m) => m.type === 'join' && m.name === 'bob'));
    alice.ws.send(JSON.stringify({ type: 'say', text: '  hello ✓ ' }));
    await until(() => [alice, bob].every((m) => m.messages.some((x) => x.type === 'message')), 10_000, 'broadcast');
    for (const m of [alice, bob])
      expect(m.messages.find((x) => x.type === 'message')).toMatchObject({ from: 'alice', text: 'hello ✓' });
    expect(bob.messages[0]).toEqual({ type: 'welcome', name: 'bob', people: ['alice', 'bob'] });
    bob.ws.close(1000);
    await until(() => alice.messages.some((m) => m.type === 'leave' && m.name === 'bob'), 10_000, 'leave');
  });

  it('closes with a code and reason: 4009 name taken, 1008 bad message, 1003 binary, 1001 shutdown', async () => {
    const host = await start();
    const alice = member(host, 'alice');
    await alice.opened;
    expect(await within(member(host, 'alice').closed)).toEqual({ code: 4009, reason: 'name taken' });
    const bad = member(host, 'mallory');
    await bad.opened;
    bad.ws.send('{not json');
    expect(await within(bad.closed)).toEqual({ code: 1008, reason: 'not JSON' });
    const binary = member(host, 'bin');
    await binary.opened;
    binary.ws.send(new Uint8Array([1]));
    expect(await within(binary.closed)).toEqual({ code: 1003, reason: 'text only' });
    await within(chat!.close(), 15_000, 'chat close');
    chat = null;
    expect(await within(alice.closed)).toEqual({ code: 1001, reason: 'server shutting down' });
  });

  it('refuses another site’s page (403) and upgrades only at /ws (404)', async () => {
    const host = await start();
    const status = (url: string, origin: string): Promise<number> =>
      within(
        new Promise((resolve) => {
          const ws = new WsClient(url, { origin });
          ws.on('unexpected-response', (_req, res) => {
            resolve(res.statusCode ?? 0);
            ws.terminate();
          });
          ws.on('error', () => {});
          ws.on('open', () => resolve(101));
        }),
      );
    expect(await status(`ws://${host}/ws?name=eve`, 'http://evil.example')).toBe(403);
    expect(await status(`ws://${host}/elsewhere`, `http://${host}`)).toBe(404);
  });

  it('runs as a command (main.mjs) and exits on SIGTERM', { timeout: 180_000 }, async () => {
    const child = spawn(process.execPath, [path.join(HERE, '..', 'main.mjs'), '--', '--port', '0', '--host', HOST], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const exited = once(child, 'exit').then(([code]) => code as number | null);
    try {
      // The first run in a fresh clone builds @ws/codec and @ws/node.
      await until(() => /chat on http:\/\/\S+:\d+\//.test(output) || child.exitCode !== null, 150_000, 'chat start');
      const host = /chat on http:\/\/(\S+:\d+)\//.exec(output)?.[1];
      expect(host, output).toBeDefined();
      expect((await fetch(`http://${host}/`)).status).toBe(200);
      const alice = member(host!, 'alice');
      await alice.opened;
      child.kill('SIGTERM');
      expect(await within(exited, 10_000, 'exit')).toBe(0);
      expect(await within(alice.closed)).toEqual({ code: 1001, reason: 'server shutting down' });
      expect(output).toMatch(/alice joined/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  });
});
