// Clients through a real HTTP CONNECT proxy (tinyproxy): the scenarios of test/shared/proxy.ts,
// which every runtime runs. Each throws on the first check that fails: the tests expect them to
// resolve.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, createServer, HandshakeError, ProxyError, WebSocket } from '../src/index.ts';
import * as scenario from '../../../test/shared/proxy.ts';
import { TINYPROXY, startTinyproxy } from '../../../test/shared/tinyproxy.ts';
import { HOST, selfSigned } from './helpers.ts';

// Without tinyproxy these skip (npm test installs it as root); in CI a skip fails the run.
const HAVE_PROXY = existsSync(TINYPROXY);
let fixture: scenario.ProxyFixture | undefined;
let rt: scenario.ProxyRuntime;

beforeAll(async () => {
  if (!HAVE_PROXY) return;
  const { key, cert } = selfSigned();
  fixture = await scenario.proxyFixture(async (tls) => {
    const server = createServer(tls ? { tls: { key, cert } } : {}, (ws) => ws.on('message', (data) => ws.send(data)));
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
    it('ws:// through the proxy: CONNECT to the server, messages flow', async () => {
      await expect(scenario.plainThroughProxy(rt, fixture!.open)).resolves.toBeUndefined();
    });
    it('wss:// through the proxy: TLS inside the tunnel, the certificate checked against the origin name', async () => {
      await expect(scenario.secureThroughProxy(rt, fixture!.open)).resolves.toBeUndefined();
    });
    it('Basic credentials from the URL (percent-encoded); without them or wrong, a clear error', async () => {
      await expect(
        scenario.credentialsThroughProxy(rt, fixture!.guarded, 'alice', 'secr%65t42'),
      ).resolves.toBeUndefined();
    });
    it('a proxy that refuses the port (403): the error names the status', async () => {
      await expect(scenario.refusedByProxy(rt, fixture!.onlyTls)).resolves.toBeUndefined();
    });
    it("proxy: 'env' reads HTTP_PROXY / HTTPS_PROXY and honours NO_PROXY", async () => {
      await expect(scenario.proxyFromEnvironment(rt, fixture!.open)).resolves.toBeUndefined();
    });
    it('the WHATWG class takes the proxy option', async () => {
      await expect(scenario.whatwgThroughProxy(rt, fixture!.open)).resolves.toBeUndefined();
    });
    it('a malformed proxy option: connect() rejects with a TypeError saying what is expected', async () => {
      await expect(scenario.malformedProxy(rt)).resolves.toBeUndefined();
    });
    it('a proxy that is not there: the connection fails with the refusal, nothing hangs', async () => {
      const gone = await startTinyproxy();
      await gone.stop();
      await expect(connect(`ws://${HOST}:${rt.plainPort}/`, { proxy: gone.url })).rejects.toBeInstanceOf(
        HandshakeError,
      );
    });
  },
);
