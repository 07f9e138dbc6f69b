// Headless Chromium (Debian's, driven by playwright-core) loads a page from our HTTP/2 server
// and opens a same-origin WebSocket: Chromium sends it as an extended CONNECT (RFC 8441) on the
// page's own connection. Skipped (and reported by the skip list) when /usr/bin/chromium is missing.
import { existsSync } from 'node:fs';
import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createUpgradeHandler, permessageDeflate, type CloseInfo, type UpgradeHandler } from '../src/index.ts';
import { HOST, selfSigned, within } from './helpers.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../../../test/shared/chromium.ts';

const ARGS = [...CHROMIUM_ARGS, '--ignore-certificate-errors'];

describe.skipIf(!existsSync(CHROMIUM))('Chromium over HTTP/2 (RFC 8441)', () => {
  let browser: Browser;
  let page: Page;
  let server: http2.Http2SecureServer;
  let wss: UpgradeHandler;
  let origin: string;
  const seen = { sockets: 0, extendedConnects: [] as http2.IncomingHttpHeaders[], versions: [] as string[] };
  const closed: Promise<CloseInfo>[] = [];

  beforeAll(async () => {
    const { key, cert } = selfSigned();
    wss = createUpgradeHandler({ extensions: [permessageDeflate()] }, (ws, request) => {
      seen.versions.push(ws.httpVersion);
      closed.push(ws.closed);
      if (request.path === '/bye') {
        ws.close(4004, 'server says bye');
        return;
      }
      ws.on('message', (data) => ws.send(data));
    });
    server = http2.createSecureServer(
      { key, cert, allowHTTP1: true, settings: { enableConnectProtocol: true } },
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><title>h2</title><p>over HTTP/2</p>');
      },
    );
    server.on('connection', () => seen.sockets++);
    server.on('stream', (_stream, headers) => {
      if (headers[':method'] === 'CONNECT') seen.extendedConnects.push(headers);
    });
    wss.attach(server);
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    origin = `https://${HOST}:${(server.address() as { port: number }).port}`;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 30_000 });
    page = await browser.newPage({ ignoreHTTPSErrors: true });
    const response = await page.goto(`${origin}/`);
    expect(response?.status()).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await within(wss?.close() ?? Promise.resolve(), 15_000);
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('echoes text and binary with permessage-deflate, closes with code and reason, all on the page connection', async () => {
    const result = await within(
      page.evaluate(async () => {
        const ws = new WebSocket(`wss://${location.host}/echo`);
        ws.binaryType = 'arraybuffer';
        await new Promise((resolve, reject) => {
          ws.onopen = resolve;
          ws.onerror = () => reject(new Error('error before open'));
        });
        const messages: unknown[] = [];
        const big = 'compressible '.repeat(5000);
        const replies = new Promise<void>((resolve) => {
          ws.onmessage = (e) => {
            messages.push(typeof e.data === 'string' ? e.data : Array.from(new Uint8Array(e.data)));
            if (messages.length === 3) resolve();
          };
        });
        ws.send('hello over h2');
        ws.send(new Uint8Array([1, 2, 3, 250]));
        ws.send(big);
        await replies;
        const close = new Promise<{ code: number; reason: string; wasClean: boolean }>((resolve) => {
          ws.onclose = (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean });
        });
        ws.close(4000, 'browser bye');
        return {
          extensions: ws.extensions,
          messages: [messages[0], messages[1], messages[2] === big],
          close: await close,
        };
      }),
      20_000,
      'the browser round trip',
    );
    expect(result.extensions).toMatch(/^permessage-deflate/);
    expect(result.messages).toEqual(['hello over h2', [1, 2, 3, 250], true]);
    expect(result.close).toMatchObject({ code: 4000, wasClean: true });
    expect(await within(closed[0]!)).toMatchObject({ code: 4000, reason: 'browser bye' });
    // It went over HTTP/2: one TCP connection for the page and the socket, an extended CONNECT seen.
    expect(seen.sockets).toBe(1);
    expect(seen.versions[0]).toBe('2');
    expect(seen.extendedConnects[0]).toMatchObject({
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':path': '/echo',
      'sec-websocket-version': '13',
    });
    expect(String(seen.extendedConnects[0]!['sec-websocket-extensions'])).toMatch(/permessage-deflate/);
  });

  it("reports the server's close code and reason to the page", async () => {
    const close = await within(
      page.evaluate(async () => {
        const ws = new WebSocket(`wss://${location.host}/bye`);
        return new Promise<{ code: number; reason: string }>((resolve) => {
          ws.onclose = (e) => resolve({ code: e.code, reason: e.reason });
        });
      }),
      20_000,
    );
    expect(close).toEqual({ code: 4004, reason: 'server says bye' });
    expect(seen.sockets).toBe(1);
    expect(seen.versions).toEqual(['2', '2']);
  });
});
