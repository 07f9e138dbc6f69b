// Headless Chromium (Debian's, driven by playwright-core) as a client of our server. Skipped when
// /usr/bin/chromium is not installed (`apt-get install -y chromium`).
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { permessageDeflate } from '@ws/codec/pako';
import type { CloseInfo, SessionRequest, WebSocketServer } from '../src/index.ts';
import { ourServer, within } from './helpers.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../../../test/shared/chromium.ts';

const ARGS = [...CHROMIUM_ARGS];

describe.skipIf(!existsSync(CHROMIUM))('Chromium', () => {
  let browser: Browser;
  let page: Page;
  let server: WebSocketServer;
  let url: string;
  const requests: SessionRequest[] = [];
  const closed: Promise<CloseInfo>[] = [];

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 30_000 });
    page = await browser.newPage();
    ({ server, url } = await ourServer({ protocols: ['chat'], extensions: [permessageDeflate()] }, (ws, request) => {
      requests.push(request);
      closed.push(ws.closed);
      if (request.path === '/bye') {
        ws.close(4004, 'server says bye');
        return;
      }
      ws.on('message', (data) => ws.send(data));
    }));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await within(server.close(), 15_000);
  });

  it('echoes text, binary and a large message, negotiates a subprotocol, closes with a code', async () => {
    const result = await within(
      page.evaluate(async (target) => {
        const ws = new WebSocket(target, ['chat']);
        ws.binaryType = 'arraybuffer';
        const messages: unknown[] = [];
        const big = 'x'.repeat(200_000);
        await new Promise((resolve, reject) => {
          ws.onopen = resolve;
          ws.onerror = () => reject(new Error('error before open'));
        });
        const replies = new Promise<void>((resolve) => {
          ws.onmessage = (e) => {
            messages.push(
              typeof e.data === 'string' ? (e.data === big ? 'big ok' : e.data) : Array.from(new Uint8Array(e.data)),
            );
            if (messages.length === 4) resolve();
          };
        });
        ws.send('hello from chromium');
        ws.send(new Uint8Array([0, 1, 254, 255]));
        ws.send(big);
        ws.send('');
        await replies;
        const close = await new Promise<{ code: number; reason: string; wasClean: boolean }>((resolve) => {
          ws.onclose = (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean });
          ws.close(4000, 'browser bye');
        });
        return { protocol: ws.protocol, extensions: ws.extensions, messages, close };
      }, `${url}/echo`),
      20_000,
      'chromium exchange',
    );
    expect(result).toEqual({
      protocol: 'chat',
      extensions: 'permessage-deflate',
      messages: ['hello from chromium', [0, 1, 254, 255], 'big ok', ''],
      close: { code: 4000, reason: '', wasClean: true },
    });
    expect(requests.at(-1)!.headers.get('user-agent')).toMatch(/Chrome/);
    expect(await within(closed.at(-1)!)).toMatchObject({
      code: 4000,
      reason: 'browser bye',
      wasClean: true,
      initiator: 'remote',
    });
  });

  it('sees the server close with a code and reason', async () => {
    const close = await within(
      page.evaluate(
        (target) =>
          new Promise<{ code: number; reason: string; wasClean: boolean }>((resolve) => {
            const ws = new WebSocket(target);
            ws.onclose = (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean });
          }),
        `${url}/bye`,
      ),
      20_000,
    );
    expect(close).toEqual({ code: 4004, reason: 'server says bye', wasClean: true });
  });
});
