// The chat example in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core):
// two pages join through the page's own form, one sends, both see the message; close codes and
// reasons reach the page. Skipped, with a message saying why, when Chromium is not installed
// (CI installs it: see SYSTEM_PEERS in .ci/run).
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createChatServer, type ChatServer } from '../chat.mjs';
import { CHROMIUM, CHROMIUM_ARGS } from '../../../test/shared/chromium.ts';

const ARGS = [...CHROMIUM_ARGS];
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const SKIPPED = `skipped: ${CHROMIUM} is not installed (apt-get install -y chromium)`;
if (!HAVE_CHROMIUM) console.warn(`examples/node-chat: Chromium test ${SKIPPED}`);

describe.skipIf(!HAVE_CHROMIUM)(`node-chat in headless Chromium${HAVE_CHROMIUM ? '' : ` — ${SKIPPED}`}`, () => {
  let browser: Browser;
  let chat: ChatServer;
  let url: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 30_000 });
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
    await chat?.close();
  });

  async function start(): Promise<void> {
    chat = createChatServer();
    const { port } = await chat.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${port}/`;
  }

  /** A new browser profile on the chat page, joined as `name` through the page's form. */
  async function join(name: string, expectJoined = true): Promise<Page> {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(url, { timeout: 20_000 });
    await page.fill('#name', name);
    await page.click('#join');
    if (expectJoined) await statusIs(page, `connected as ${name}`);
    return page;
  }

  const statusIs = (page: Page, text: string): Promise<unknown> =>
    page.waitForFunction((want) => document.getElementById('status')!.textContent === want, text, { timeout: 20_000 });
  const logHas = (page: Page, line: string): Promise<unknown> =>
    page.waitForFunction(
      (want) => [...document.querySelectorAll('#log li')].some((li) => li.textContent === want),
      line,
      { timeout: 20_000 },
    );
  const log = (page: Page): Promise<string[]> => page.locator('#log li').allTextContents();

  it('two pages join, one sends, both see the message', { timeout: 90_000 }, async () => {
    await start();
    const alice = await join('alice');
    const bob = await join('bob');
    await logHas(alice, 'bob joined');
    await alice.fill('#text', 'hello from alice ✓ <b>not bold</b>');
    await alice.press('#text', 'Enter');
    for (const page of [alice, bob]) await logHas(page, 'alice:hello from alice ✓ <b>not bold</b>');
    await bob.fill('#text', 'hi alice');
    await bob.click('#send');
    for (const page of [alice, bob]) await logHas(page, 'bob:hi alice');
    expect(await log(bob)).toEqual([
      'in the room: alice, bob',
      'bob joined',
      'alice:hello from alice ✓ <b>not bold</b>',
      'bob:hi alice',
    ]);
    expect(await alice.locator('#log b').count()).toBe(2); // only the names are bold: text stays text
    expect(await alice.inputValue('#text')).toBe(''); // the form cleared
    expect([...chat.room.keys()].sort()).toEqual(['alice', 'bob']);
  });

  it('the close code and reason reach the page: 4009 for a taken name, 1001 when the server shuts down', {
    timeout: 90_000,
  }, async () => {
    await start();
    const alice = await join('alice');
    const bob = await join('bob');
    const impostor = await join('alice', false);
    await statusIs(impostor, 'closed 4009 name taken');
    await chat.close();
    for (const page of [alice, bob]) await statusIs(page, 'closed 1001 server shutting down');
    expect(await alice.isHidden('#say-form')).toBe(true);
  });
});
