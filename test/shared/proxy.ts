// Clients through a real HTTP CONNECT proxy (tinyproxy), once for every runtime: ws:// and wss://
// (TLS to the server inside the tunnel, its certificate checked against the origin's name), Basic
// credentials, refusals (403, 407) as clear errors, the environment (`proxy: 'env'`, NO_PROXY),
// the WHATWG class, and malformed options. The proxy's own log says which CONNECTs it was asked
// for, so "went through the proxy" is checked, not assumed. Each runtime's test file passes what
// differs (its connect, TLS option names, environment); failures are thrown.
import { assert, assertEquals } from './assert.ts';
import { startTinyproxy, type Tinyproxy } from './tinyproxy.ts';
import { within } from './wait.ts';

export const HOST = '127.0.0.1';

interface Client {
  send(data: string): unknown;
  once(event: 'message', listener: (data: string | Uint8Array) => void): unknown;
  close(code?: number): void;
  readonly closed: Promise<{ wasClean: boolean }>;
}

interface WhatwgLike {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(): void;
}

export interface ProxyRuntime {
  connect(url: string, options: Record<string, unknown>): Promise<Client>;
  WebSocket: new (url: string, options: Record<string, unknown>) => WhatwgLike;
  /** Client options that trust the test certificate; with `name`, verify that name instead of the URL's host. */
  trust(name?: string): Record<string, unknown>;
  /** Set (or with undefined, remove) an environment variable. */
  setEnv(name: string, value: string | undefined): void;
  getEnv(name: string): string | undefined;
  HandshakeError: abstract new (...args: never[]) => Error;
  ProxyError: abstract new (...args: never[]) => Error & { status: number | null };
  /** Echo servers on 127.0.0.1: plain, and TLS with a certificate for `localhost`. */
  plainPort: number;
  securePort: number;
}

/** `setEnv`/`getEnv` over `process.env` (Node and Bun; Deno passes its own over `Deno.env`). */
export const processEnv: Pick<ProxyRuntime, 'setEnv' | 'getEnv'> = {
  setEnv: (name, value) => {
    const env = (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process.env;
    if (value === undefined) delete env[name];
    else env[name] = value;
  },
  getEnv: (name) =>
    (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process.env[name],
};

/** An echo server of the runtime under test on 127.0.0.1, plain or TLS (certificate for `localhost`). */
export type EchoServer = (tls: boolean) => Promise<{ port: number; close(): Promise<unknown> }>;

/** What every runtime's proxy test runs against: its echo servers and three tinyproxies. */
export interface ProxyFixture {
  plainPort: number;
  securePort: number;
  /** Any CONNECT allowed. */
  open: Tinyproxy;
  /** Basic credentials alice / secret42 required. */
  guarded: Tinyproxy;
  /** CONNECT to port 443 only (403 for ours). */
  onlyTls: Tinyproxy;
  /** Stops what was started. */
  stop(): Promise<void>;
}

/** Starts the fixture; whatever started is stopped again if a later start fails. */
export async function proxyFixture(echoServer: EchoServer): Promise<ProxyFixture> {
  const started: Array<{ close?(): Promise<unknown>; stop?(): Promise<void> }> = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((s) => (s.stop ? s.stop() : s.close?.())));
  };
  const keep = <T extends { close?(): Promise<unknown>; stop?(): Promise<void> }>(thing: T): T => {
    started.push(thing);
    return thing;
  };
  try {
    const plain = keep(await echoServer(false));
    const secure = keep(await echoServer(true));
    const open = keep(await startTinyproxy());
    const guarded = keep(await startTinyproxy({ auth: { username: 'alice', password: 'secret42' } }));
    const onlyTls = keep(await startTinyproxy({ connectPorts: [443] }));
    return { plainPort: plain.port, securePort: secure.port, open, guarded, onlyTls, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function roundTrip(rt: ProxyRuntime, url: string, options: Record<string, unknown>): Promise<void> {
  const ws = await within(rt.connect(url, options), 10_000, `connect ${url}`);
  const reply = new Promise<string | Uint8Array>((resolve) => ws.once('message', resolve));
  ws.send('through the tunnel');
  assertEquals(await within(reply, 5000, 'echo'), 'through the tunnel', 'echo through the tunnel');
  ws.close(1000);
  assertEquals((await within(ws.closed, 5000, 'close')).wasClean, true, 'clean close');
}

async function failure(rt: ProxyRuntime, url: string, options: Record<string, unknown>): Promise<Error> {
  const error = await within(
    rt.connect(url, options).then(
      () => null,
      (e: unknown) => e,
    ),
    10_000,
    'refusal',
  );
  assert(error instanceof rt.HandshakeError, `a HandshakeError, got ${String(error)}`);
  return error;
}

/** ws:// through the proxy: the proxy is asked for CONNECT to the server, messages flow. */
export async function plainThroughProxy(rt: ProxyRuntime, proxy: Tinyproxy): Promise<void> {
  await roundTrip(rt, `ws://${HOST}:${rt.plainPort}/`, { proxy: proxy.url });
  assert(
    proxy.connects().includes(`${HOST}:${rt.plainPort}`),
    `the proxy saw CONNECT ${HOST}:${rt.plainPort}: ${proxy.connects()}`,
  );
}

/** wss:// through the proxy: TLS inside the tunnel; a name the certificate lacks fails on the certificate. */
export async function secureThroughProxy(rt: ProxyRuntime, proxy: Tinyproxy): Promise<void> {
  await roundTrip(rt, `wss://localhost:${rt.securePort}/`, { proxy: proxy.url, ...rt.trust() });
  assert(proxy.connects().includes(`localhost:${rt.securePort}`), `the proxy saw CONNECT localhost:${rt.securePort}`);
  const wrong = await failure(rt, `wss://localhost:${rt.securePort}/`, {
    proxy: proxy.url,
    ...rt.trust('example.com'),
  });
  const cause = (wrong as Error & { cause?: unknown }).cause;
  const why = `${wrong.message} ${String(cause)}`;
  assert(
    /certificate|cert|altname|example\.com|name/i.test(why),
    `the certificate is checked against the origin name: ${why}`,
  );
}

/** Credentials from the URL (percent-decoded) are sent; without them the 407 is a clear error. */
export async function credentialsThroughProxy(
  rt: ProxyRuntime,
  guarded: Tinyproxy,
  user: string,
  encodedPassword: string,
): Promise<void> {
  await roundTrip(rt, `ws://${HOST}:${rt.plainPort}/`, {
    proxy: guarded.url.replace('http://', `http://${user}:${encodedPassword}@`),
  });
  const refused = await failure(rt, `ws://${HOST}:${rt.plainPort}/`, { proxy: guarded.url });
  assert(
    /proxy refused the tunnel: 407 .*give credentials/.test(refused.message),
    `the 407 says what to do: ${refused.message}`,
  );
  const cause = (refused as Error & { cause?: unknown }).cause;
  assert(
    cause instanceof rt.ProxyError && cause.status === 407,
    `cause is a ProxyError with status 407, got ${String(cause)}`,
  );
  const wrong = await failure(rt, `ws://${HOST}:${rt.plainPort}/`, {
    proxy: guarded.url.replace('http://', `http://${user}:wrong@`),
  });
  // tinyproxy answers wrong credentials with 401.
  assert(/40[17] .*credentials were refused/.test(wrong.message), `wrong credentials are named: ${wrong.message}`);
}

/** A proxy that refuses the port (403) gives an error naming the proxy's status. */
export async function refusedByProxy(rt: ProxyRuntime, onlyTls: Tinyproxy): Promise<void> {
  const refused = await failure(rt, `ws://${HOST}:${rt.plainPort}/`, { proxy: onlyTls.url });
  assert(/proxy refused the tunnel: 403/.test(refused.message), `the 403 is named: ${refused.message}`);
  const cause = (refused as Error & { cause?: unknown }).cause;
  assert(cause instanceof rt.ProxyError && cause.status === 403, 'cause is a ProxyError with status 403');
}

/** `proxy: 'env'`: HTTP_PROXY for ws://, HTTPS_PROXY for wss://, NO_PROXY exempts; without 'env' nothing is read. */
export async function proxyFromEnvironment(rt: ProxyRuntime, proxy: Tinyproxy): Promise<void> {
  const names = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];
  const saved = new Map(names.map((n) => [n, rt.getEnv(n)]));
  try {
    for (const n of names) rt.setEnv(n, undefined);
    rt.setEnv('HTTP_PROXY', proxy.url);
    rt.setEnv('HTTPS_PROXY', proxy.url);
    const before = proxy.connects().length;
    await roundTrip(rt, `ws://${HOST}:${rt.plainPort}/env`, { proxy: 'env' });
    await roundTrip(rt, `wss://localhost:${rt.securePort}/env`, { proxy: 'env', ...rt.trust() });
    assertEquals(
      proxy.connects().slice(before),
      [`${HOST}:${rt.plainPort}`, `localhost:${rt.securePort}`],
      'both went through the proxy',
    );
    rt.setEnv('NO_PROXY', `localhost, ${HOST}`);
    const direct = proxy.connects().length;
    await roundTrip(rt, `ws://${HOST}:${rt.plainPort}/env`, { proxy: 'env' });
    await roundTrip(rt, `wss://localhost:${rt.securePort}/env`, { proxy: 'env', ...rt.trust() });
    assertEquals(proxy.connects().length, direct, 'NO_PROXY: both went direct');
    rt.setEnv('NO_PROXY', undefined);
    await roundTrip(rt, `ws://${HOST}:${rt.plainPort}/env`, {});
    assertEquals(proxy.connects().length, direct, "without proxy: 'env' the environment is not read");
  } finally {
    for (const [n, v] of saved) rt.setEnv(n, v);
  }
}

/** The WHATWG class takes the same option. */
export async function whatwgThroughProxy(rt: ProxyRuntime, proxy: Tinyproxy): Promise<void> {
  const ws = new rt.WebSocket(`ws://${HOST}:${rt.plainPort}/whatwg`, { proxy: proxy.url });
  const reply = await within(
    new Promise<unknown>((resolve, reject) => {
      ws.onopen = () => ws.send('whatwg');
      ws.onmessage = (event) => resolve(event.data);
      ws.onerror = () => reject(new Error('error event'));
    }),
    10_000,
    'whatwg echo',
  );
  assertEquals(reply, 'whatwg', 'WHATWG echo through the proxy');
  ws.close();
  assert(proxy.connects().includes(`${HOST}:${rt.plainPort}`), 'the proxy saw the WHATWG connection');
}

/** A malformed proxy option: connect() rejects with a TypeError that says what is expected. */
export async function malformedProxy(rt: ProxyRuntime): Promise<void> {
  const tls = await rt.connect(`ws://${HOST}:1/`, { proxy: 'https://proxy.example:8443' }).catch((e: unknown) => e);
  assert(
    tls instanceof TypeError && /TLS to the proxy is not supported/.test(tls.message),
    `https proxy refused clearly, got ${String(tls)}`,
  );
  const bare = await rt.connect(`ws://${HOST}:1/`, { proxy: 'proxy.example:8080' }).catch((e: unknown) => e);
  assert(bare instanceof TypeError, `a TypeError for a proxy without a scheme, got ${String(bare)}`);
}
