// Each piece of the codec is paid for only when imported (issue 23): bundling one entry point's
// export with esbuild (tree-shaken, as a user's bundler would) must leave out the modules of the
// others. .size-limit.js measures the bytes on the built dist/; this names the modules, so a
// change that makes the core reach a role's handshake again fails here with the module's name.
// Also what a user sees at the seams: the `http` option takes HttpServerPhase, and a connection
// made by either role's entry point is the core's Connection.
import { describe, expect, it } from 'vitest';
import * as esbuild from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Connection, WebSocketUsageError, type ServerConnectionOptions } from '../src/index.ts';
import { serverConnection } from '../src/server.ts';
import { clientConnection } from '../src/client.ts';
import { HttpServerPhase } from '../src/http.ts';
import { latin1 } from './helpers/heads.ts';

const SRC = path.dirname(fileURLToPath(new URL('../src/index.ts', import.meta.url)));

/** The codec modules (paths under src/) a bundle of `code` (imports relative to src/) contains. */
async function modulesOf(code: string): Promise<string[]> {
  const result = await esbuild.build({
    stdin: { contents: code, resolveDir: SRC, sourcefile: 'entry.ts', loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    minify: true,
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const output = Object.values(result.metafile.outputs)[0];
  if (output === undefined) throw new Error('esbuild wrote no output');
  // Only the modules that put bytes in the output: a module imported for types alone puts none.
  return Object.entries(output.inputs)
    .filter(([, input]) => input.bytesInOutput > 0)
    .map(([file]) => path.relative(SRC, path.resolve(file)).split(path.sep).join('/'));
}

const SERVER_HANDSHAKE = ['handshake/server.ts', 'handshake/server-connection.ts', 'http/request-host.ts'];
/** With the client's randomness (its key and masks): a server asks for none. */
const CLIENT_HANDSHAKE = ['handshake/client.ts', 'handshake/client-connection.ts', 'random.ts'];
const HTTP = ['http/server-exchange.ts', 'http/body-decoder.ts'];
/** Response heads: plain HTTP's, and the server handshake's reason phrases for `reject`. */
const RESPONSE = 'http/response.ts';
const PROXY = ['http/connect-tunnel.ts'];
const PAKO = ['extensions/pako-backend.ts'];
const HTTP2 = ['handshake/extended-connect.ts', 'handshake/http2-connection.ts'];

describe('entry points: each piece only in the bundles that import it', () => {
  it('the core (Connection) has no role handshake, no plain HTTP, no CONNECT tunnel, no pako', async () => {
    const modules = await modulesOf("export { Connection } from './index.ts';");
    expect(modules).toContain('connection.ts');
    expect(modules).toContain('frame-parser.ts');
    for (const module of [...SERVER_HANDSHAKE, ...CLIENT_HANDSHAKE, ...HTTP, RESPONSE, ...PROXY, ...PAKO, ...HTTP2]) {
      expect(modules, `the core bundles ${module}`).not.toContain(module);
    }
  });

  it('@ws/codec/server brings the server handshake and not the client one, nor HTTP', async () => {
    const modules = await modulesOf("export { serverConnection } from './server.ts';");
    for (const module of SERVER_HANDSHAKE) expect(modules).toContain(module);
    for (const module of [...CLIENT_HANDSHAKE, ...HTTP, ...PROXY, ...HTTP2]) expect(modules).not.toContain(module);
  });

  it('@ws/codec/client brings the client handshake and not the server one, nor the tunnel', async () => {
    const modules = await modulesOf("export { clientConnection } from './client.ts';");
    for (const module of CLIENT_HANDSHAKE) expect(modules).toContain(module);
    for (const module of [...SERVER_HANDSHAKE, ...HTTP, RESPONSE, ...PROXY, ...HTTP2])
      expect(modules).not.toContain(module);
  });

  it('@ws/codec/http and @ws/codec/proxy bring their own modules', async () => {
    const http = await modulesOf("export { HttpServerPhase } from './http.ts';");
    for (const module of [...HTTP, RESPONSE]) expect(http).toContain(module);
    const proxy = await modulesOf("export { ConnectTunnel } from './proxy.ts';");
    for (const module of PROXY) expect(proxy).toContain(module);
  });

  it('@ws/codec/http2 (RFC 8441) brings the extended CONNECT, and nothing else carries it', async () => {
    const http2 = await modulesOf("export { http2ServerConnection, http2ClientConnection } from './http2.ts';");
    for (const module of HTTP2) expect(http2).toContain(module);
    const session = await modulesOf("export * from './session/index.ts';");
    for (const module of HTTP2) expect(session, `the session bundles ${module}`).not.toContain(module);
  });
});

describe('entry points: what a user sees', () => {
  it('serverConnection() and clientConnection() make the core Connection of their role', () => {
    const server = serverConnection();
    const client = clientConnection('ws://example.test/', { random: (bytes) => bytes.fill(7) });
    expect(server).toBeInstanceOf(Connection);
    expect(client).toBeInstanceOf(Connection);
    expect([server.role, client.role]).toEqual(['server', 'client']);
  });

  it('a server with http: HttpServerPhase answers a plain request; without it, 426', () => {
    const request = latin1('GET /health HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    const serving = serverConnection({ http: HttpServerPhase });
    serving.receiveData(request.slice());
    const [event] = serving.takeEvents();
    expect(event?.type).toBe('http-request');

    const plain = serverConnection();
    plain.receiveData(request.slice());
    const written = plain
      .takeOutput()
      .flatMap((out) => (out.type === 'write' ? [new TextDecoder().decode(out.data)] : []));
    expect(written.join('')).toMatch(/^HTTP\/1\.1 426 /);
  });

  it('http: true, the option before the split, throws INVALID_ARGUMENT naming @ws/codec/http', () => {
    const options = { http: true } as unknown as ServerConnectionOptions;
    let caught: unknown = null;
    try {
      serverConnection(options);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(WebSocketUsageError);
    expect((caught as WebSocketUsageError).code).toBe('INVALID_ARGUMENT');
    expect((caught as WebSocketUsageError).message).toContain("HttpServerPhase from '@ws/codec/http'");
  });
});
