// What a new user runs into in their first hour, on Node: `protocols` as a string, options
// copied from `ws` or misspelt (a TypeError naming the key and our equivalent), errors whose
// message says what happened (refused, TLS, the HTTP status), the WHATWG `error` event's shape,
// and `ws.data` set by `verifyClient`.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  HandshakeError,
  WebSocket,
  connect,
  createConnection,
  createServer,
  handleUpgrade,
  type WebSocketConnection,
} from '../src/index.ts';
import { HOST, hasOpenssl, ourServer, selfSigned, within, wsClient } from './helpers.ts';

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, HOST);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The `error` then `close` events of a WHATWG WebSocket, in order. */
function failure(
  ws: InstanceType<typeof WebSocket>,
): Promise<{ log: string[]; error: { type: string; error: unknown; message: unknown }; code: number }> {
  const log: string[] = [];
  let error!: { type: string; error: unknown; message: unknown };
  ws.addEventListener('open', () => log.push('open'));
  ws.addEventListener('error', (e) => {
    log.push('error');
    error = { type: e.type, error: e.error, message: e.message };
  });
  return new Promise((resolve) =>
    ws.addEventListener('close', (e) => resolve({ log: [...log, 'close'], error, code: e.code })),
  );
}

describe('protocols: a string or a list, on both sides', () => {
  it('a server with protocols: "chat" negotiates chat with ws, our client and the WHATWG class', async () => {
    const { server, url } = await ourServer({ protocols: 'chat' }, (ws) => ws.send(`protocol ${ws.protocol}`));
    try {
      const viaWs = await within(wsClient(url, 'chat'));
      expect(viaWs.protocol).toBe('chat');
      viaWs.close();
      const ours = await within(connect(url, { protocols: 'chat' }));
      expect(ours.protocol).toBe('chat');
      ours.close();
      const listed = await within(connect(url, { protocols: ['other', 'chat'] }));
      expect(listed.protocol).toBe('chat');
      listed.close();
      const w = new WebSocket(url, 'chat');
      await within(new Promise((resolve) => (w.onopen = resolve)));
      expect(w.protocol).toBe('chat');
      w.close();
      await within(Promise.all([ours.closed, listed.closed]));
    } finally {
      await within(server.close());
    }
  });

  it('a string or list that is not a token throws on both sides', async () => {
    expect(() => createServer({ protocols: 'two words' })).toThrow(/HTTP token/);
    expect(() => createServer({ protocols: ['ok', 7 as unknown as string] })).toThrow(/HTTP token/);
    const { server, url } = await ourServer();
    try {
      expect(() => createConnection(url, { protocols: 'two words' })).toThrow(/token/);
      await expect(connect(url, { protocols: ['a', 'a'] })).rejects.toThrow(/twice/);
    } finally {
      await within(server.close());
    }
  });
});

describe('unknown option keys throw a TypeError naming the key', () => {
  it('createServer: a misspelt key, and the options of ws with our equivalent', () => {
    expect(() => createServer({ verifyclient: () => true } as never)).toThrow(
      new TypeError('server options: unknown option "verifyclient"'),
    );
    const cases: Array<[string, RegExp]> = [
      ['perMessageDeflate', /extensions: \[permessageDeflate\(\)\]/],
      ['port', /server\.listen\(port/],
      ['noServer', /handleUpgrade/],
      ['clientTracking', /server\.connections/],
      ['maxPayload', /limits: \{ maxMessageSize \}/],
      ['handleProtocols', /protocols: \(offered, request\)/],
    ];
    for (const [key, equivalent] of cases) {
      const call = (): unknown => createServer({ [key]: true } as never);
      expect(call).toThrow(TypeError);
      expect(call).toThrow(new RegExp(`unknown option "${key}".*${equivalent.source}`));
    }
    expect(() => createServer({ limits: { maxPayload: 1 } } as never)).toThrow(
      /unknown option limits\.maxPayload; limits takes .*maxMessageSize/,
    );
    expect(() => createServer({ timeouts: { pingInterval: 1 } } as never)).toThrow(
      /unknown option timeouts\.pingInterval/,
    );
    // ws's verifyClient(info, callback) would never answer: refused at once.
    expect(() => createServer({ verifyClient: ((_info: unknown, _cb: unknown) => true) as never })).toThrow(
      /\(info, callback\) form is not supported/,
    );
    // Our adapter's own key is fine.
    expect(() => createServer({ tls: undefined })).not.toThrow();
  });

  it('connect, createConnection and the WHATWG class: same check, adapter keys (TLS) allowed', async () => {
    const { server, url } = await ourServer();
    try {
      await expect(connect(url, { perMessageDeflate: true } as never)).rejects.toThrow(
        /unknown option "perMessageDeflate".*extensions/,
      );
      await expect(connect(url, { perMessageDeflate: true } as never)).rejects.toBeInstanceOf(TypeError);
      expect(() => createConnection(url, { handshakeTimeout: 5 } as never)).toThrow(
        /unknown option "handshakeTimeout".*timeouts: \{ handshakeTimeout \}/,
      );
      expect(() => new WebSocket(url, { protocol: 'chat' } as never)).toThrow(/unknown option "protocol".*protocols/);
      expect(() => new WebSocket(url, { protocols: 'chat', maxPayload: 1 } as never)).toThrow(TypeError);
      // TLS keys of this adapter pass (unused on ws:), and the connection works.
      const ok = await within(
        connect(url, { rejectUnauthorized: true, servername: 'localhost', timeouts: { handshakeTimeout: 5000 } }),
      );
      ok.close();
      await within(ok.closed);
    } finally {
      await within(server.close());
    }
  });

  it('handleUpgrade checks its options too', async () => {
    const httpServer = http.createServer();
    const errors: unknown[] = [];
    httpServer.on('upgrade', (req, socket, head) => {
      try {
        handleUpgrade(req, socket, head, { noServer: true } as never, () => {});
      } catch (error) {
        errors.push(error);
        socket.destroy();
      }
    });
    httpServer.listen(0, HOST);
    await once(httpServer, 'listening');
    try {
      const { port } = httpServer.address() as AddressInfo;
      await connect(`ws://${HOST}:${port}/`).catch(() => {});
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(TypeError);
      expect(String(errors[0])).toMatch(/unknown option "noServer".*handleUpgrade/);
    } finally {
      httpServer.close();
    }
  });
});

describe('errors say what happened', () => {
  it('a closed port: "could not connect … connection refused (ECONNREFUSED)", the runtime error as cause', async () => {
    const port = await closedPort();
    const error = await within(connect(`ws://${HOST}:${port}/`).catch((e: unknown) => e));
    expect(error).toBeInstanceOf(HandshakeError);
    expect((error as HandshakeError).message).toBe(
      `could not connect to ${HOST}:${port}: connection refused (ECONNREFUSED)`,
    );
    expect((error as HandshakeError).code).toBe('TRANSPORT_ERROR');
    expect((error as { cause: { code: string } }).cause.code).toBe('ECONNREFUSED');
  });

  it.skipIf(!hasOpenssl())('an untrusted (self-signed) certificate: the message names TLS', async () => {
    const { key, cert } = selfSigned();
    const server = createServer({ tls: { key, cert } });
    const { port } = await server.listen(0, HOST);
    try {
      const error = (await within(connect(`wss://localhost:${port}/`).catch((e: unknown) => e))) as HandshakeError;
      expect(error).toBeInstanceOf(HandshakeError);
      expect(error.message).toMatch(
        new RegExp(
          `^TLS handshake with localhost:${port} failed: TLS failure: .*certificate.*\\(DEPTH_ZERO_SELF_SIGNED_CERT\\)$`,
        ),
      );
      expect(error.cause).toBeInstanceOf(Error);
    } finally {
      await within(server.close());
    }
  });

  it('a 403 names the status', async () => {
    const { server, url } = await ourServer({ verifyClient: () => ({ status: 403 }) });
    try {
      const error = (await within(connect(url).catch((e: unknown) => e))) as HandshakeError;
      expect(error).toBeInstanceOf(HandshakeError);
      expect(error.status).toBe(403);
      expect(error.message).toMatch(/403 Forbidden/);
    } finally {
      await within(server.close());
    }
  });

  it('the WHATWG error event: an ErrorEvent-like event whose error is an Error, and its message, on every path', async () => {
    // Refused socket.
    const port = await closedPort();
    const refused = await within(failure(new WebSocket(`ws://${HOST}:${port}/`)));
    expect(refused.log).toEqual(['error', 'close']);
    expect(refused.code).toBe(1006);
    expect(refused.error.type).toBe('error');
    expect(refused.error.error).toBeInstanceOf(HandshakeError);
    expect(refused.error.message).toBe(`could not connect to ${HOST}:${port}: connection refused (ECONNREFUSED)`);

    // Refused upgrade (403), then a protocol violation once open, then no subprotocol chosen.
    const { server, url } = await ourServer(
      { verifyClient: (request) => (request.path === '/no' ? { status: 403 } : true) },
      (ws: WebSocketConnection) => {
        if (ws.request?.path === '/bad') ws.sendFragment(new Uint8Array([0xff]), true, { kind: 'text' });
      },
    );
    try {
      const forbidden = await within(failure(new WebSocket(`${url}/no`)));
      expect(forbidden.log).toEqual(['error', 'close']);
      expect(forbidden.error.error).toBeInstanceOf(HandshakeError);
      expect(forbidden.error.message).toMatch(/403 Forbidden/);

      const bad = await within(failure(new WebSocket(`${url}/bad`)));
      expect(bad.log).toEqual(['open', 'error', 'close']);
      expect(bad.error.error).toBeInstanceOf(Error);
      expect(bad.error.error).toMatchObject({ code: 'INVALID_UTF8' });
      expect(bad.error.message).toBe((bad.error.error as Error).message);

      const none = await within(failure(new WebSocket(url, 'chat')));
      expect(none.log).toEqual(['error', 'close']);
      expect(none.error.error).toBeInstanceOf(Error);
      expect(none.error.message).toMatch(/subprotocol/);

      const aborted = new WebSocket(url);
      const early = failure(aborted);
      aborted.close();
      const abortedEvents = await within(early);
      expect(abortedEvents.log).toEqual(['error', 'close']);
      expect(abortedEvents.error.error).toBeInstanceOf(Error);
      expect(typeof abortedEvents.error.message).toBe('string');
    } finally {
      await within(server.close());
    }
  });
});

describe('ws.data, typed per connection', () => {
  it('verifyClient answers { data }: the connection handler reads it as ws.data, typed', async () => {
    // The snippet of packages/node/README.md ("Per-connection data").
    const server = createServer(
      {
        verifyClient: (request) =>
          request.query === '' ? false : { data: { user: new URLSearchParams(request.query).get('user') ?? '' } },
      },
      (ws) => ws.send(`hello ${ws.data.user}`),
    );
    const { port } = await server.listen(0, HOST);
    try {
      // Listening before the handshake completes: the greeting may come with the 101.
      const client = createConnection(`ws://${HOST}:${port}/?user=ada`);
      const greeting = new Promise((resolve) => client.once('message', resolve));
      await within(client.opened);
      expect(await within(greeting)).toBe('hello ada');
      expect([...server.connections].map((ws) => ws.data.user)).toEqual(['ada']);
      client.close();
      await within(client.closed);
      await expect(connect(`ws://${HOST}:${port}/`)).rejects.toMatchObject({ status: 401 });
    } finally {
      await within(server.close());
    }
  });

  it('an async verifyClient resolves to { data }; without one, data is undefined and settable', async () => {
    const { server, url } = await ourServer({ verifyClient: async () => ({ data: 42 }) }, (ws) =>
      ws.send(String(ws.data)),
    );
    const plain = await ourServer({}, (ws) => {
      const before = ws.data;
      ws.data = 'set';
      ws.send(`${String(before)} ${String(ws.data)}`);
    });
    try {
      for (const [target, expected] of [
        [url, '42'],
        [plain.url, 'undefined set'],
      ] as const) {
        const client = createConnection(target);
        const message = new Promise((resolve) => client.once('message', resolve));
        expect(await within(message)).toBe(expected);
        client.close();
        await within(client.closed);
      }
    } finally {
      await within(Promise.all([server.close(), plain.server.close()]));
    }
  });
});
