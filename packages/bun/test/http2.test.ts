// WebSockets over HTTP/2 (RFC 8441) on Bun's own `node:http2`: the scenarios of
// test/shared/http2.ts. Our upgrade handler attached to an h2c and a TLS `node:http2` server,
// Bun's `http2` client doing the extended CONNECT by hand, and our `connect(url, { http2: true })`.
// Each scenario throws on the first check that fails.
import { describe, expect, it } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as adapter from '../src/index.ts';
import * as scenario from '../../../test/shared/http2.ts';

// The test-only certificate is for localhost and 127.0.0.1 (an IP SAN: node:tls checks the URL's host).
const fixtures = path.join(import.meta.dir, 'fixtures');
const cert = readFileSync(path.join(fixtures, 'test-only-cert.pem'), 'utf8');
const key = readFileSync(path.join(fixtures, 'test-only-key.pem'), 'utf8');

const rt = scenario.http2Runtime(adapter, { cert, key });

/** Runs a scenario; a failed check throws, and the test counts one assertion for the whole. */
async function passes(run: () => Promise<void>): Promise<void> {
  await run();
  expect(true).toBe(true);
}

describe('RFC 8441 on Bun node:http2', () => {
  it('Bun http2 client by hand against our handler on an h2c node:http2 server', () =>
    passes(() => scenario.byHand(rt)));
  it('TLS, the compatibility API and HTTP/1.1 upgrades on one port', () =>
    passes(() => scenario.tlsAndHttp1OnOnePort(rt)));
  it(
    'connect(url, { http2: true }) × 100 on one session',
    () => passes(() => scenario.manyOnOneSession(rt, 100)),
    30_000,
  );
  it('permessage-deflate over HTTP/2 on TLS', () => passes(() => scenario.deflateOverTls(rt)));
  it("backpressure is the stream's flow control", () => passes(() => scenario.flowControl(rt)));
  it('the fall back to HTTP/1.1', () => passes(() => scenario.fallback(rt)));
  it('a refusal, createConnection and proxy with http2', () => passes(() => scenario.refusalAndMisuse(rt)));
});

it('RFC 8441: the README example runs as written', async () => {
  const readme = readFileSync(path.join(import.meta.dir, '../README.md'), 'utf8');
  const source = path.join(import.meta.dir, '../src/index.ts');
  const code = scenario.readmeExample(readme, '## HTTP/2 (RFC 8441)').replaceAll("'@ws/bun'", JSON.stringify(source));
  const dir = mkdtempSync(path.join(tmpdir(), 'ws-bun-readme-h2-'));
  try {
    const file = path.join(dir, 'example.ts');
    writeFileSync(file, code);
    expect(await scenario.printed(() => import(file))).toEqual(['2', 'hello']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
