// Clients through a real HTTP CONNECT proxy (tinyproxy): the scenarios of test/shared/proxy.ts,
// which every runtime runs, on @ws/bun's client (Bun.connect to the proxy, upgradeTLS inside the
// tunnel for wss). Each scenario throws on the first check that fails.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { HandshakeError, ProxyError, WebSocket, connect, createServer, type WebSocketServer } from '../src/index.ts';
import * as scenario from '../../../test/shared/proxy.ts';
import { TINYPROXY, startTinyproxy, type Tinyproxy } from '../../../test/shared/tinyproxy.ts';
import { HOST } from './helpers.ts';

const fixtures = path.join(import.meta.dir, 'fixtures');
const cert = readFileSync(path.join(fixtures, 'test-only-cert.pem'), 'utf8');
const key = readFileSync(path.join(fixtures, 'test-only-key.pem'), 'utf8');

let servers: WebSocketServer[] = [];
let proxies: { open: Tinyproxy; guarded: Tinyproxy; onlyTls: Tinyproxy };
let rt: scenario.ProxyRuntime;

// Without tinyproxy these skip (npm test installs it as root); in CI a skip fails the run.
const HAVE_PROXY = existsSync(TINYPROXY);

beforeAll(async () => {
  if (!HAVE_PROXY) return;
  const echo = (ws: { on(e: 'message', l: (d: string | Uint8Array) => void): unknown; send(d: string | Uint8Array): unknown }): void => {
    ws.on('message', (data) => ws.send(data));
  };
  servers = [createServer({}, echo), createServer({ tls: { cert, key } }, echo)];
  const [plain, secure] = await Promise.all(servers.map((s) => s.listen(0, HOST)));
  const [open, guarded, onlyTls] = await Promise.all([
    startTinyproxy(),
    startTinyproxy({ auth: { username: 'alice', password: 'secret42' } }),
    startTinyproxy({ connectPorts: [443] }),
  ]);
  proxies = { open, guarded, onlyTls };
  rt = {
    connect: (url, options) => connect(url, options),
    WebSocket: WebSocket as unknown as scenario.ProxyRuntime['WebSocket'],
    trust: (name) => ({ ca: cert, ...(name === undefined ? {} : { servername: name }) }),
    setEnv: (name, value) => {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    },
    getEnv: (name) => process.env[name],
    HandshakeError,
    ProxyError,
    plainPort: plain!.port,
    securePort: secure!.port,
  };
});

afterAll(async () => {
  await Promise.all(Object.values(proxies ?? {}).map((p) => p.stop()));
  await Promise.all(servers.map((s) => s.close()));
});

describe.skipIf(!HAVE_PROXY)(`clients through an HTTP CONNECT proxy (tinyproxy)${HAVE_PROXY ? '' : ` — skipped: ${TINYPROXY} is not installed`}`, () => {
  it('ws:// through the proxy: CONNECT to the server, messages flow', async () => {
    await expect(scenario.plainThroughProxy(rt, proxies.open)).resolves.toBeUndefined();
  });
  it('wss:// through the proxy: TLS inside the tunnel, the certificate checked against the origin name', async () => {
    await expect(scenario.secureThroughProxy(rt, proxies.open)).resolves.toBeUndefined();
  });
  it('Basic credentials from the URL (percent-encoded); without them or wrong, a clear error', async () => {
    await expect(scenario.credentialsThroughProxy(rt, proxies.guarded, 'alice', 'secr%65t42')).resolves.toBeUndefined();
  });
  it('a proxy that refuses the port (403): the error names the status', async () => {
    await expect(scenario.refusedByProxy(rt, proxies.onlyTls)).resolves.toBeUndefined();
  });
  it("proxy: 'env' reads HTTP_PROXY / HTTPS_PROXY and honours NO_PROXY", async () => {
    await expect(scenario.proxyFromEnvironment(rt, proxies.open)).resolves.toBeUndefined();
  });
  it('the WHATWG class takes the proxy option', async () => {
    await expect(scenario.whatwgThroughProxy(rt, proxies.open)).resolves.toBeUndefined();
  });
  it('a malformed proxy option: connect() rejects with a TypeError saying what is expected', async () => {
    await expect(scenario.malformedProxy(rt)).resolves.toBeUndefined();
  });
});
