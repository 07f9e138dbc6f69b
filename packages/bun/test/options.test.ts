// Options as on Node: Origin allow-list, limits, keepalive, idle timeout, permessage-deflate.
import { describe, expect, it } from 'bun:test';
import {
  HandshakeError,
  connect,
  createServer,
  permessageDeflate,
  type CloseInfo,
  type WebSocketConnection,
} from '../src/index.ts';
import { HOST, bytes, equalBytes, ourServer, text, until, within } from './helpers.ts';

describe('options', () => {
  it('createServer refuses options the session would refuse, before any socket', () => {
    // Checked at once: at the first accept they would drop every socket.
    expect(() => createServer({ maxBufferedAmount: 1000 })).toThrow(/highWaterMark|maxBufferedAmount/);
    expect(() => createServer({ limits: { maxFrameSize: -1 } })).toThrow(/maxFrameSize/);
  });

  it('refuses an Origin that is not allowed with 403', async () => {
    const { server, url } = await ourServer({ origins: ['https://good.example'] }, (ws) => ws.close());
    try {
      const error = await within(connect(url, { origin: 'https://evil.example' })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HandshakeError);
      expect(error).toMatchObject({ status: 403 });
      const ok = await within(connect(url, { origin: 'https://good.example' }));
      await within(ok.closed);
    } finally {
      await within(server.close());
    }
  });

  it('closes with 1009 when a message exceeds maxMessageSize', async () => {
    let serverSide!: Promise<CloseInfo>;
    const { server, url } = await ourServer({ limits: { maxMessageSize: 1000 } }, (ws) => {
      ws.on('error', () => {});
      serverSide = ws.closed;
    });
    try {
      const client = await within(connect(url));
      client.send(bytes(1001));
      expect(await within(client.closed)).toMatchObject({ code: 1009 });
      expect(await within(serverSide)).toMatchObject({ error: 'MESSAGE_TOO_LARGE' });
    } finally {
      await within(server.close());
    }
  });

  it('keepalive pings an idle peer; idleTimeout closes a silent one with 1001', async () => {
    const pings: number[] = [];
    const { server, url } = await ourServer({ timeouts: { keepaliveInterval: 50, keepaliveTimeout: 1000 } }, () => {});
    try {
      const client = await within(connect(url));
      client.on('ping', () => pings.push(Date.now()));
      await until(() => pings.length >= 2, 'two keepalive pings');
      expect(client.readyState).toBe('open'); // our client answered, so it stays open
      client.close();
      await within(client.closed);
    } finally {
      await within(server.close());
    }
    const idle = await ourServer({ timeouts: { idleTimeout: 100 } }, (ws) => ws.on('error', () => {}));
    try {
      const client = await within(connect(idle.url, { autoPong: true }));
      expect(await within(client.closed)).toMatchObject({ code: 1001, wasClean: true });
    } finally {
      await within(idle.server.close());
    }
  });

  it('negotiates permessage-deflate between our client and server, and with Bun.serve', async () => {
    let ours!: WebSocketConnection;
    const { server, url } = await ourServer({ extensions: [permessageDeflate()] }, (ws) => {
      ours = ws;
      ws.on('message', (data) => ws.send(data));
    });
    const bunServer = Bun.serve({
      hostname: HOST,
      port: 0,
      fetch: (request, srv) => (srv.upgrade(request) ? undefined : new Response('no', { status: 400 })),
      websocket: { perMessageDeflate: true, message: (ws, message) => void ws.send(message, true) },
    });
    try {
      for (const target of [url, `ws://${HOST}:${bunServer.port}`]) {
        const client = await within(connect(target, { extensions: [permessageDeflate()] }));
        expect(client.extensions).toContain('permessage-deflate');
        const big = text(200_000);
        const blob = bytes(100_000);
        const got: Array<string | Uint8Array> = [];
        client.on('message', (data) => got.push(data));
        client.send(big);
        client.send(blob);
        await until(() => got.length === 2, 'two echoes');
        expect(got[0] === big).toBe(true);
        expect(equalBytes(got[1] as Uint8Array, blob)).toBe(true);
        client.close();
        await within(client.closed);
      }
      expect(ours.extensions).toContain('permessage-deflate');
    } finally {
      bunServer.stop(true);
      await within(server.close());
    }
  });
});
