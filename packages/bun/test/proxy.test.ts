// Clients through a real HTTP CONNECT proxy (tinyproxy): the scenarios of test/shared/proxy.ts,
// which every runtime runs, on @ws/bun's client (Bun.connect to the proxy, upgradeTLS inside the
// tunnel for wss). Each scenario throws on the first check that fails.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { HandshakeError, ProxyError, WebSocket, connect, createServer } from '../src/index.ts';
import * as scenario from '../../../test/shared/proxy.ts';
import { TINYPROXY } from '../../../test/shared/tinyproxy.ts';
import { HOST } from './helpers.ts';

const fixtures = path.join(import.meta.dir, 'fixtures');
const cert = readFileSync(path.join(fixtures, 'test-only-cert.pem'), 'utf8');
const key = readFileSync(path.join(fixtures, 'test-only-key.pem'), 'utf8');

// Without tinyproxy these skip (npm test installs it as root); in CI a skip fails the run.
const HAVE_PROXY = existsSync(TINYPROXY);
let fixture: scenario.ProxyFixture | undefined;
let rt: scenario.ProxyRuntime;

beforeAll(async () => {
  if (!HAVE_PROXY) return;
  fixture = await scenario.proxyFixture(async (tls) => {
    const server = createServer(tls ? { tls: { cert, key } } : {}, (ws) => ws.on('message', (data) => ws.send(data)));
    const { port } = await server.listen(0, HOST);
    return { port, close: () => server.close() };
  });
  rt = {
    connect: (url, options) => connect(url, options),
    WebSocket: WebSocket as unknown as scenario.ProxyRuntime['WebSocket'],
    trust: (name) => ({ ca: cert, ...(name === undefined ? {} : { servername: name }) }),
    ...scenario.processEnv,
    HandshakeError,
    ProxyError,
    plainPort: fixture.plainPort,
    securePort: fixture.securePort,
  };
});

afterAll(() => fixture?.stop());

describe.skipIf(!HAVE_PROXY)(
  `clients through an HTTP CONNECT proxy (tinyproxy)${HAVE_PROXY ? '' : ` — skipped: ${TINYPROXY} is not installed`}`,
  () => {
    it('ws://, wss:// (certificate checked), credentials and 407, 403, env and NO_PROXY, WHATWG, malformed options', async () => {
      const f = fixture!;
      await expect(scenario.plainThroughProxy(rt, f.open)).resolves.toBeUndefined();
      await expect(scenario.secureThroughProxy(rt, f.open)).resolves.toBeUndefined();
      await expect(scenario.credentialsThroughProxy(rt, f.guarded, 'alice', 'secr%65t42')).resolves.toBeUndefined();
      await expect(scenario.refusedByProxy(rt, f.onlyTls)).resolves.toBeUndefined();
      await expect(scenario.proxyFromEnvironment(rt, f.open)).resolves.toBeUndefined();
      await expect(scenario.whatwgThroughProxy(rt, f.open)).resolves.toBeUndefined();
      await expect(scenario.malformedProxy(rt)).resolves.toBeUndefined();
    });
  },
);
