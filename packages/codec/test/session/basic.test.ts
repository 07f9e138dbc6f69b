// The session over an in-memory socket pair: open, messages, close, request details, misuse.
import { describe, expect, it } from 'vitest';
import { WebSocketUsageError } from '../../src/errors.ts';
import {
  HandshakeError,
  WebSocketError,
  connectSession,
  transportHandlers,
  type WebSocketConnection,
} from '../../src/session/index.ts';
import { pair, settle, transportPair } from './memory-transport.ts';

describe('session: open, messages, close', () => {
  it('opens, exchanges text and binary, and closes cleanly', async () => {
    const p = pair({ protocols: ['b', 'a'] }, { protocols: ['a', 'b'], headers: { 'x-token': 't1' } });
    expect(p.client.readyState).toBe('connecting');
    const client = await p.client.opened;
    const server = await p.server;
    expect(await server.opened).toBe(server);
    expect(client.readyState).toBe('open');
    expect(server.readyState).toBe('open');
    expect([client.protocol, server.protocol]).toEqual(['b', 'b']);
    expect([client.extensions, server.extensions]).toEqual(['', '']);
    expect(server.request).toMatchObject({
      method: 'GET',
      path: '/chat',
      query: 'room=1',
      url: '/chat?room=1',
      host: 'example.test',
      origin: null,
      protocols: ['a', 'b'],
      remoteAddress: '192.0.2.1',
      remotePort: 40000,
      secure: false,
    });
    expect(server.request!.headers.get('x-token')).toBe('t1');
    expect(client.request).toBeNull();
    expect(client.url).toBe('ws://example.test/chat?room=1');
    expect(server.url).toBeNull();
    expect(client.response!.status).toBe(101);
    expect(server.response).toBeNull();
    expect(client.closeInfo).toBeNull();

    const got: Array<[string | Uint8Array, boolean]> = [];
    client.on('message', (data, isBinary) => got.push([data, isBinary]));
    server.on('message', (data) => server.send(data));
    expect(client.send('héllo')).toBe('sent');
    expect(client.send(new Uint8Array([1, 2, 3]))).toBe('sent');
    expect(client.send(new Uint16Array([0x0201]).buffer)).toBe('sent');
    expect(client.send(new DataView(new Uint8Array([9, 8, 7]).buffer, 1, 2))).toBe('sent');
    expect(client.send('', { compress: false })).toBe('sent');
    await settle();
    expect(got).toEqual([
      ['héllo', false],
      [new Uint8Array([1, 2, 3]), true],
      [new Uint8Array([1, 2]), true],
      [new Uint8Array([8, 7]), true],
      ['', false],
    ]);

    const closes: unknown[] = [];
    server.on('close', (info) => closes.push(info));
    client.close(4001, 'bye');
    expect(client.readyState).toBe('closing');
    const [ci, si] = await Promise.all([client.closed, server.closed]);
    expect(ci).toMatchObject({
      code: 4001,
      reason: '',
      wasClean: true,
      initiator: 'local',
      sentCode: 4001,
      error: null,
    });
    expect(si).toMatchObject({ code: 4001, reason: 'bye', wasClean: true, initiator: 'remote', error: null });
    expect(closes).toEqual([si]);
    expect([client.readyState, server.readyState]).toEqual(['closed', 'closed']);
    expect(client.closeInfo).toBe(ci);
    expect(p.clientTransport.closed && p.serverTransport.closed).toBe(true);
    // Closing again is a no-op, but bad arguments still throw.
    client.close(1000);
    expect(() => client.close(999)).toThrow(WebSocketUsageError);
    client.terminate();
  });

  it('sends pings, pongs and fragments; the peer answers pings itself', async () => {
    const p = pair();
    const client = await p.client.opened;
    const server = await p.server;
    const events: string[] = [];
    server.on('ping', (d) => events.push(`server ping ${new TextDecoder().decode(d)}`));
    server.on('pong', (d) => events.push(`server pong ${new TextDecoder().decode(d)}`));
    client.on('pong', (d) => events.push(`client pong ${new TextDecoder().decode(d)}`));
    server.on('message', (d, isBinary) => events.push(`message ${isBinary ? [...(d as Uint8Array)].join(',') : d}`));
    expect(client.ping('p1')).toBe('sent');
    expect(client.pong(new Uint8Array([0x41]))).toBe('sent');
    expect(client.ping()).toBe('sent');
    expect(client.sendFragment('ab', false)).toBe('sent');
    expect(client.sendFragment('c', true)).toBe('sent');
    expect(client.sendFragment(new Uint8Array([1]), false)).toBe('sent');
    expect(client.sendFragment(new Uint8Array([2]), true)).toBe('sent');
    await settle();
    expect(events).toEqual([
      'server ping p1',
      'server pong A',
      'server ping ',
      'message abc',
      'message 1,2',
      'client pong p1',
      'client pong ',
    ]);
    expect(() => client.ping(new Uint8Array(126))).toThrow(
      expect.objectContaining({ code: 'CONTROL_PAYLOAD_TOO_LONG' }),
    );
    expect(() => client.send(42 as unknown as string)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    server.close();
    await client.closed;
    // After close: sends are dropped without throwing, bad arguments still throw.
    expect(client.send('late')).toBe('dropped');
    expect(client.sendFragment('late', true)).toBe('dropped');
    expect(client.ping('late')).toBe('dropped');
    expect(client.pong()).toBe('dropped');
    expect(() => client.ping('x'.repeat(126))).toThrow(expect.objectContaining({ code: 'CONTROL_PAYLOAD_TOO_LONG' }));
    expect(() => client.send({} as unknown as string)).toThrow(WebSocketUsageError);
    await expect(client.drain()).resolves.toBeUndefined();
  });

  it('delivers fragments in streaming mode', async () => {
    const p = pair({ assembleMessages: false });
    const client = await p.client.opened;
    const server = await p.server;
    const fragments: Array<[number[], object]> = [];
    server.on('fragment', (data, info) => fragments.push([[...data], info]));
    client.sendFragment(new Uint8Array([1, 2]), false);
    client.sendFragment(new Uint8Array([3]), true);
    await settle();
    expect(fragments).toEqual([
      [[1, 2], { kind: 'binary', first: true, fin: false }],
      [[3], { kind: 'binary', first: false, fin: true }],
    ]);
    expect(() => server[Symbol.asyncIterator]()).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    client.close();
    await server.closed;
  });

  it('refuses to send before the handshake completes', () => {
    const p = pair();
    expect(() => p.client.send('early')).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    expect(() => p.client.ping()).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
  });

  it('aborts the handshake on close() or terminate() before open', async () => {
    const p = pair();
    p.client.close();
    const error = await p.client.opened.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error).toMatchObject({ code: 'ABORTED', status: null });
    expect(await p.client.closed).toMatchObject({ error: 'ABORTED', code: 1006, wasClean: false });

    const q = pair();
    q.client.terminate();
    expect(await q.client.opened.catch((e: unknown) => e)).toMatchObject({ code: 'ABORTED' });
  });

  it('reports a transport failure as TRANSPORT_ERROR, during and after the handshake', async () => {
    const [a, b] = transportPair();
    b.reading = false;
    const client = connectSession(a, 'ws://h/', {});
    a.handlers = transportHandlers(client);
    const errors: string[] = [];
    client.on('error', (e) => errors.push(e.code));
    a.fail(new Error('ECONNRESET'));
    const error = (await client.opened.catch((e: unknown) => e)) as HandshakeError;
    expect(error).toMatchObject({ code: 'TRANSPORT_ERROR' });
    expect((error.cause as Error).message).toBe('ECONNRESET');
    expect(await client.closed).toMatchObject({ error: 'TRANSPORT_ERROR', code: 1006 });
    expect(errors).toEqual(['TRANSPORT_ERROR']);

    const p = pair();
    const open = await p.client.opened;
    const server = await p.server;
    p.clientTransport.fail(new Error('reset'));
    const [ci, si] = await Promise.all([open.closed, server.closed]);
    expect(ci.error).toBe('TRANSPORT_ERROR');
    expect((ci.cause as Error).message).toBe('reset');
    expect(si).toMatchObject({ error: 'TRANSPORT_ERROR', code: 1006, wasClean: false });
  });

  it("a server's handshake that fails on the transport rejects `opened` with the transport error's words, whether or not anyone listens for 'error'", async () => {
    // The words are found only when asked for (no listener): the same words either way.
    const reset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    for (const listening of [false, true]) {
      let verify!: () => void;
      const p = pair({ verifyClient: () => new Promise<boolean>((resolve) => (verify = () => resolve(true))) });
      const server = p.serverSession.connection;
      const errors: WebSocketError[] = [];
      if (listening) server.on('error', (e) => errors.push(e as WebSocketError));
      await settle();
      expect(server.readyState).toBe('connecting');
      p.serverTransport.fail(reset());
      const error = (await server.opened.catch((e: unknown) => e)) as HandshakeError;
      expect(error).toBeInstanceOf(HandshakeError);
      expect(error).toMatchObject({ code: 'TRANSPORT_ERROR', message: 'connection reset by peer (ECONNRESET)' });
      expect((error.cause as Error).message).toBe('read ECONNRESET');
      expect(await server.closed).toMatchObject({ error: 'TRANSPORT_ERROR', code: 1006 });
      expect(errors.map((e) => e.message)).toEqual(
        listening ? ['the connection failed: connection reset by peer (ECONNRESET)'] : [],
      );
      verify(); // too late: nothing is answered
      await settle();
    }
  });

  it('describes each transport failure by its own error, however many come (the words of known codes are shared)', async () => {
    const seen: WebSocketError[] = [];
    for (const cause of [
      Object.assign(new Error('x'), { code: 'ECONNRESET' }),
      Object.assign(new Error('y'), { code: 'EPIPE' }),
      Object.assign(new Error('x'), { code: 'ECONNRESET' }),
      new Error('something odd'),
    ]) {
      const p = pair();
      const open = await p.client.opened;
      open.on('error', (e) => seen.push(e as WebSocketError));
      p.clientTransport.fail(cause);
      await open.closed;
    }
    expect(seen.map((e) => [e.message, e.stack, (e.cause as Error).message])).toEqual([
      [
        'the connection failed: connection reset by peer (ECONNRESET)',
        'WebSocketError: the connection failed: connection reset by peer (ECONNRESET)',
        'x',
      ],
      [
        'the connection failed: broken pipe (the peer closed the connection) (EPIPE)',
        'WebSocketError: the connection failed: broken pipe (the peer closed the connection) (EPIPE)',
        'y',
      ],
      [
        'the connection failed: connection reset by peer (ECONNRESET)',
        'WebSocketError: the connection failed: connection reset by peer (ECONNRESET)',
        'x',
      ],
      ['the connection failed: something odd', 'WebSocketError: the connection failed: something odd', 'something odd'],
    ]);
  });

  it("gives an 'error' listener a WebSocketError for a transport failure, the runtime's error as its cause, its stack without frames", async () => {
    const p = pair();
    const open = await p.client.opened;
    const seen: unknown[] = [];
    open.on('error', (e) => seen.push(e));
    const limit = Error.stackTraceLimit;
    const reset = new Error('ECONNRESET');
    p.clientTransport.fail(reset);
    expect((await open.closed).error).toBe('TRANSPORT_ERROR');
    expect(seen).toHaveLength(1);
    const error = seen[0] as WebSocketError;
    expect(error).toBeInstanceOf(WebSocketError);
    expect(error).toMatchObject({ name: 'WebSocketError', code: 'TRANSPORT_ERROR', closeCode: null });
    expect(error.message).toBe('the connection failed: ECONNRESET');
    expect(error.cause).toBe(reset);
    // Made in an I/O callback: a stack would name only the session's frames (the cause keeps its own).
    expect(error.stack).toBe('WebSocketError: the connection failed: ECONNRESET');
    expect(Error.stackTraceLimit).toBe(limit); // put back
    // Errors made elsewhere keep their stacks.
    expect(new Error('x').stack).toMatch(/\n\s+at /);
  });

  it('closes abnormally when the peer vanishes without a Close', async () => {
    const p = pair();
    const client = await p.client.opened;
    const server = await p.server;
    server.terminate();
    server.terminate(); // twice is fine
    const [ci, si] = await Promise.all([client.closed, server.closed]);
    expect(si).toMatchObject({ code: 1006, wasClean: false, error: null });
    expect(ci).toMatchObject({ code: 1006, wasClean: false, error: null });
  });

  it('emits error for a peer violation, then close', async () => {
    const [a, b] = transportPair();
    const client = connectSession(a, 'ws://h/', {});
    a.handlers = transportHandlers(client);
    // A hand-written server: 101, then an unmasked frame with a reserved opcode.
    const key = await new Promise<string>((resolve) => {
      b.handlers = {
        onData: (chunk) => {
          const match = /sec-websocket-key: (\S+)/i.exec(new TextDecoder().decode(chunk));
          if (match) resolve(match[1]!);
        },
        onDrain: () => {},
        onEnd: () => {},
        onClose: () => {},
      };
    });
    const { computeAcceptKey } = await import('../../src/handshake/accept-key.ts');
    b.write([
      new TextEncoder().encode(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${computeAcceptKey(key)}\r\n\r\n`,
      ),
    ]);
    await client.opened;
    const seen: string[] = [];
    client.on('error', (e) => seen.push(`${e.code}/${e.closeCode}`));
    client.on('close', (i) => seen.push(`close ${i.error}`));
    b.write([new Uint8Array([0x83, 0x00])]);
    b.end();
    await client.closed;
    expect(seen).toEqual(['RESERVED_OPCODE/1002', 'close RESERVED_OPCODE']);
  });

  it('rejects with status, headers and body when the server refuses', async () => {
    const p = pair({
      verifyClient: () => ({ status: 403, statusText: 'Nope', headers: { 'x-why': 'because' }, body: 'go away' }),
    });
    const error = (await p.client.opened.catch((e: unknown) => e)) as HandshakeError;
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error).toMatchObject({
      code: 'BAD_STATUS',
      status: 403,
      message: 'the server refused the upgrade: 403 Nope',
    });
    expect(error.headers!.get('x-why')).toBe('because');
    expect(new TextDecoder().decode(error.body!)).toBe('go away');
    expect((await p.client.closed).error).toBe('BAD_STATUS');
  });
});

describe('session: server decisions', () => {
  async function refusal(options: Parameters<typeof pair>[0]): Promise<number | null> {
    const p = pair(options);
    const error = await p.client.opened.then(
      () => null,
      (e: HandshakeError) => e,
    );
    return error?.status ?? 101;
  }

  it('answers verifyClient: false with 401, a throw or rejection with 500, a promise when it settles', async () => {
    expect(await refusal({ verifyClient: () => false })).toBe(401);
    expect(await refusal({ verifyClient: () => 'yes' as unknown as boolean })).toBe(401);
    expect(
      await refusal({
        verifyClient: () => {
          throw new Error('boom');
        },
      }),
    ).toBe(500);
    expect(await refusal({ verifyClient: () => Promise.reject(new Error('boom')) })).toBe(500);
    expect(await refusal({ verifyClient: () => Promise.resolve({ status: 418 }) })).toBe(418);
    expect(await refusal({ verifyClient: () => Promise.resolve(true) })).toBe(101);
    expect(await refusal({ verifyClient: () => ({ status: 99 }) })).toBe(500); // an impossible status is our bug
  });

  it('chooses protocols with a function, and answers 500 when it picks one not offered', async () => {
    const seen: unknown[] = [];
    const p = pair(
      { protocols: (offered, request) => (seen.push([offered, request.path]), offered.at(-1)!) },
      { protocols: ['x', 'y'] },
    );
    expect((await p.client.opened).protocol).toBe('y');
    expect(seen).toEqual([[['x', 'y'], '/chat']]);
    expect(await refusal({ protocols: () => 'z' })).toBe(101); // client offered none: no choice made
    const q = pair({ protocols: () => 'z' }, { protocols: ['x'] });
    expect(await q.client.opened.catch((e: HandshakeError) => e.status)).toBe(500);
    const r = pair({ protocols: ['q'] }, { protocols: ['x'] });
    expect((await r.client.opened).protocol).toBe('');
  });

  it('adds response headers, fixed or per request', async () => {
    const p = pair({ headers: { 'x-server': 'ours' } });
    expect((await p.client.opened).response!.headers.get('x-server')).toBe('ours');
    const q = pair({ headers: (request) => ({ 'x-path': request.path }) });
    expect((await q.client.opened).response!.headers.get('x-path')).toBe('/chat');
  });

  it('drops an async verdict that arrives after the socket went away', async () => {
    let resolve!: (v: boolean) => void;
    const p = pair({ verifyClient: () => new Promise<boolean>((r) => (resolve = r)) });
    await settle();
    p.client.terminate();
    await p.client.closed;
    const serverSide = p.serverSession.connection;
    await serverSide.closed;
    resolve(true);
    await settle();
    expect(serverSide.readyState).toBe('closed');
  });

  it('accepts a request head parsed elsewhere (receiveRequestHead)', async () => {
    const { ServerSession } = await import('../../src/session/index.ts');
    const { HttpHeaders } = await import('../../src/http/headers.ts');
    const [server, client] = transportPair();
    let opened: WebSocketConnection | null = null;
    const session = new ServerSession(server, {}, (ws) => (opened = ws));
    server.handlers = session;
    let answer = '';
    client.handlers = {
      onData: (chunk) => (answer += new TextDecoder().decode(chunk)),
      onDrain: () => {},
      onEnd: () => {},
      onClose: () => {},
    };
    session.receiveRequestHead({
      method: 'GET',
      target: '/up?x=1',
      httpVersion: '1.1',
      headers: new HttpHeaders({
        host: 'h',
        upgrade: 'websocket',
        connection: 'Upgrade',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      }),
    });
    expect(opened).not.toBeNull();
    expect(opened!.request).toMatchObject({
      path: '/up',
      query: 'x=1',
      remoteAddress: null,
      remotePort: null,
      secure: false,
    });
    await settle();
    expect(answer).toMatch(/^HTTP\/1\.1 101 /);
    opened!.terminate();
    await opened!.closed;
  });

  it('validates its own options', () => {
    const [a] = transportPair();
    expect(() => connectSession(a, 'ws://h/', { highWaterMark: -1 })).toThrow(WebSocketUsageError);
    expect(() => connectSession(a, 'ws://h/', { highWaterMark: 10, lowWaterMark: 20 })).toThrow(WebSocketUsageError);
    expect(() => connectSession(a, 'ws://h/', { maxQueuedMessages: 0 })).toThrow(WebSocketUsageError);
    expect(() => connectSession(a, 'ws://h/', null as unknown as object)).toThrow(WebSocketUsageError);
    expect(() => connectSession(a, 'ftp://h/', {})).toThrow(expect.objectContaining({ code: 'INVALID_URL' }));
  });
});
