// Each runtime's chat example (examples/node-chat, deno-chat, bun-chat), started with its own
// command as a child process, used from headless Chromium (Debian's /usr/bin/chromium through
// playwright-core): two pages join through the page's form, one sends, both see it; the
// server's shutdown reaches both pages as close 1001 with its reason. Chromium's WebSocket
// offers permessage-deflate, so this is also the browser interop of every adapter's server.
// Also each runtime's echo server (`createServer({ fetch })`, packages/*/bin/echo.*): Chromium
// loads its page over plain HTTP and the page opens a WebSocket on the same port.
// Skipped with a note when Chromium or a runtime's binary is missing (npm test installs Chromium).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ROOT, RUNTIMES, startEcho } from './runtimes.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../shared/chromium.ts';

const ARGS = [...CHROMIUM_ARGS];

function denoBinary(): string {
  try {
    const dir = path.dirname(createRequire(path.join(ROOT, 'package.json')).resolve('deno/package.json'));
    return path.join(dir, 'deno');
  } catch {
    return path.join(ROOT, 'node_modules/.bin/deno');
  }
}

interface Chat {
  name: string;
  command: string;
  args: string[];
  cwd: string;
}

const CHATS: Chat[] = [
  { name: 'node', command: process.execPath, args: ['examples/node-chat/main.mjs'], cwd: ROOT },
  {
    name: 'deno',
    command: denoBinary(),
    args: ['run', '--allow-net', '--allow-read=../node-chat', 'main.ts'],
    cwd: path.join(ROOT, 'examples/deno-chat'),
  },
  {
    name: 'bun',
    command: path.join(ROOT, 'node_modules/.bin/bun'),
    args: ['--conditions', 'source', 'examples/bun-chat/main.ts'],
    cwd: ROOT,
  },
];

const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM)
  console.warn(
    `test/adapters: chat pages in Chromium skipped: ${CHROMIUM} is not installed (apt-get install -y chromium)`,
  );

/** Start a chat example on a free port; resolves with its URL once it prints `chat on http://…`. */
function startChat(chat: Chat): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const child = spawn(chat.command, [...chat.args, '--port', '0', '--host', '127.0.0.1'], {
    cwd: chat.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${chat.name} chat did not start in 90 s:\n${out}`)), 90_000);
    const onData = (chunk: Buffer): void => {
      out += chunk;
      const match = /chat on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1]!, child, output: () => out });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk) => (out += chunk));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${chat.name} chat exited with ${code}:\n${out}`));
    });
  });
}

describe.skipIf(!HAVE_CHROMIUM)('chat examples in headless Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 60_000 });
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
  });

  for (const chat of CHATS) {
    const missing = existsSync(chat.command) ? null : `${path.relative(ROOT, chat.command)} is not installed`;
    it.skipIf(missing !== null)(
      `${chat.name}: two pages chat, and the shutdown reaches both as 1001${missing ? ` — skipped: ${missing}` : ''}`,
      { timeout: 180_000 },
      async () => {
        const server = await startChat(chat);
        const pages: Page[] = [];
        try {
          const join = async (name: string): Promise<Page> => {
            const page = await (await browser.newContext()).newPage();
            pages.push(page);
            await page.goto(server.url, { timeout: 30_000 });
            await page.fill('#name', name);
            await page.click('#join');
            await page.waitForFunction(
              (want) => document.getElementById('status')!.textContent === want,
              `connected as ${name}`,
              { timeout: 30_000 },
            );
            return page;
          };
          const logHas = (page: Page, line: string): Promise<unknown> =>
            page.waitForFunction(
              (want) => [...document.querySelectorAll('#log li')].some((li) => li.textContent === want),
              line,
              { timeout: 30_000 },
            );

          const alice = await join('alice');
          const bob = await join('bob');
          await logHas(alice, 'bob joined');
          await alice.fill('#text', `héllo from ${chat.name} ✓`);
          await alice.press('#text', 'Enter');
          for (const page of [alice, bob]) await logHas(page, `alice:héllo from ${chat.name} ✓`);

          // The browser negotiated compression with our server (Chromium always offers it).
          const extensions = await alice.evaluate(
            () => (globalThis as unknown as { chatSocket?: WebSocket }).chatSocket?.extensions ?? null,
          );
          expect(extensions).toContain('permessage-deflate');

          server.child.kill('SIGTERM');
          for (const page of [alice, bob]) {
            await page.waitForFunction(
              () => /^closed 1001\b/.test(document.getElementById('status')!.textContent ?? ''),
              undefined,
              { timeout: 30_000 },
            );
          }
          expect(await bob.locator('#status').textContent()).toMatch(/^closed 1001 server shutting down/);
        } finally {
          for (const page of pages) await page.context().close();
          if (server.child.exitCode === null) server.child.kill('SIGKILL');
        }
      },
    );
  }

  for (const rt of RUNTIMES) {
    it.skipIf(rt.missing !== null)(
      `${rt.name} echo server: the page over plain HTTP opens a WebSocket on the same port${rt.missing ? ` — skipped: ${rt.missing}` : ''}`,
      { timeout: 180_000 },
      async () => {
        const server = await startEcho(rt);
        const context = await browser.newContext();
        try {
          const page = await context.newPage();
          const response = await page.goto(`http://127.0.0.1:${server.port}/`, { timeout: 30_000 });
          expect(response?.status()).toBe(200);
          expect(response?.headers()['content-type']).toMatch(/^text\/html/);
          await page.waitForFunction(
            () => document.getElementById('status')!.textContent === 'echoed: hello',
            undefined,
            { timeout: 30_000 },
          );
          // The same browser's plain requests: a health check, and a 404.
          expect(await page.evaluate(async () => (await fetch('/health')).text())).toBe('ok');
          expect(await page.evaluate(async () => (await fetch('/missing')).status)).toBe(404);
        } finally {
          await context.close();
          await server.stop();
        }
      },
    );
  }
});
