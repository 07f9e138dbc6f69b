// Clients through a real HTTP CONNECT proxy (tinyproxy): the scenarios of test/shared/proxy.ts,
// which every runtime runs, on @ws/deno's client (Deno.connect to the proxy, Deno.startTls inside
// the tunnel for wss).
import { HandshakeError, ProxyError, WebSocket, connect, createServer } from '../src/index.ts';
import * as scenario from '../../../test/shared/proxy.ts';
import { TINYPROXY } from '../../../test/shared/tinyproxy.ts';
import { HOST } from './helpers.ts';

const FIXTURES = new URL('./fixtures/', import.meta.url);
const cert = await Deno.readTextFile(new URL('localhost-cert.pem', FIXTURES));
const key = await Deno.readTextFile(new URL('localhost-key.pem', FIXTURES));

// Without tinyproxy this is ignored (npm test installs it as root); in CI an ignored test fails the run.
const HAVE_PROXY = await Deno.stat(TINYPROXY).then(
  () => true,
  () => false,
);

Deno.test(
  {
    name: 'clients through an HTTP CONNECT proxy (tinyproxy): ws, wss, credentials, 403/407, env, WHATWG, malformed options',
    ignore: !HAVE_PROXY,
  },
  async (t) => {
    const fixture = await scenario.proxyFixture(async (tls) => {
      const server = createServer(tls ? { tls: { cert, key } } : {}, (ws) => ws.on('message', (data) => ws.send(data)));
      const { port } = await server.listen(0, HOST);
      return { port, close: () => server.close() };
    });
    const { open, guarded, onlyTls } = fixture;
    const rt: scenario.ProxyRuntime = {
      connect: (url, options) => connect(url, options),
      WebSocket: WebSocket as unknown as scenario.ProxyRuntime['WebSocket'],
      trust: (name) => ({ ca: cert, ...(name === undefined ? {} : { servername: name }) }),
      setEnv: (name, value) => (value === undefined ? Deno.env.delete(name) : Deno.env.set(name, value)),
      getEnv: (name) => Deno.env.get(name),
      HandshakeError,
      ProxyError,
      plainPort: fixture.plainPort,
      securePort: fixture.securePort,
    };
    try {
      await t.step('ws:// through the proxy', () => scenario.plainThroughProxy(rt, open));
      await t.step('wss:// through the proxy, certificate checked', () => scenario.secureThroughProxy(rt, open));
      await t.step('Basic credentials, 407', () =>
        scenario.credentialsThroughProxy(rt, guarded, 'alice', 'secr%65t42'),
      );
      await t.step('403 from the proxy', () => scenario.refusedByProxy(rt, onlyTls));
      await t.step("proxy: 'env' and NO_PROXY", () => scenario.proxyFromEnvironment(rt, open));
      await t.step('the WHATWG class', () => scenario.whatwgThroughProxy(rt, open));
      await t.step('malformed options', () => scenario.malformedProxy(rt));
    } finally {
      await fixture.stop();
    }
  },
);
