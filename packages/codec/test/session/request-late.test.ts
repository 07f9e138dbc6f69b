// The upgrade request a server connection keeps is stored compactly (headers in one flat array,
// names and common values shared between requests, the handshake-only state let go of once
// open). Reading it late, after messages flowed and after other connections came and went, must
// give exactly what the client sent.
import { describe, expect, it } from 'vitest';
import { pair, settle } from './memory-transport.ts';

/** Connections opened after the first: more than the parser's shared-string cache holds. */
const OTHERS = 700;
/** The waits for in-memory traffic to finish (two in the first test). */
const SETTLE_MS = 200;
/**
 * The first test's time is CPU, one handshake pair in memory after another: about 3 ms each
 * (2.0 s for the test on the 2-core machine at a load of 11; 5-6 s on a busier one, past
 * vitest's 5 s default). 20 ms a pair, plus the settles and 5 s for the rest, leaves room for a
 * machine several times slower without letting a hang go unnoticed.
 */
const MANY = { timeout: OTHERS * 20 + 2 * SETTLE_MS + 5_000 };

describe('session: the request read late', () => {
  it('request, headers and peer are intact after traffic and after many other handshakes', MANY, async () => {
    const first = pair(
      {},
      { headers: { 'X-Trace': 'abc-0123456789-xyz', 'User-Agent': 'test agent/1.0 (long enough to be a slice)' } },
      'ws://example.test/chat?room=1',
      {
        remoteAddress: '198.51.100.7',
        remotePort: 50123,
        secure: false,
      },
    );
    await first.client.opened;
    const server = await first.server;
    const echoed: string[] = [];
    server.on('message', (data) => {
      echoed.push(data as string);
      server.send(data);
    });
    for (let i = 0; i < 50; i++) first.client.send(`message ${i}`);
    await settle(SETTLE_MS);
    expect(echoed.length).toBe(50);

    // More than the parser's shared-string cache holds, each with values of its own.
    const others = [];
    for (let i = 0; i < OTHERS; i++) {
      const p = pair(
        {},
        {
          headers: {
            'X-Trace': `other-${i}-0123456789`,
            'User-Agent': `agent ${i % 3}/1.0 (long enough to be a slice)`,
          },
        },
        `ws://other${i % 5}.test/p${i}?q=${i}`,
      );
      others.push(p);
    }
    for (const p of others) await p.client.opened;
    for (const [i, p] of others.entries()) {
      const s = await p.server;
      expect(s.request!.headers.get('x-trace')).toBe(`other-${i}-0123456789`);
      expect(s.request!.host).toBe(`other${i % 5}.test`);
      expect(s.request!.url).toBe(`/p${i}?q=${i}`);
    }

    const request = server.request!;
    expect(server.request).toBe(request); // one object, kept
    expect(request).toMatchObject({
      method: 'GET',
      url: '/chat?room=1',
      path: '/chat',
      query: 'room=1',
      host: 'example.test',
      origin: null,
      protocols: [],
      remoteAddress: '198.51.100.7',
      remotePort: 50123,
      secure: false,
    });
    const headers = request.headers;
    expect(headers.get('X-TRACE')).toBe('abc-0123456789-xyz');
    expect(headers.get('user-agent')).toBe('test agent/1.0 (long enough to be a slice)');
    expect(headers.get('upgrade')).toBe('websocket');
    expect(headers.get('sec-websocket-version')).toBe('13');
    expect(headers.get('sec-websocket-key')).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(headers.has('host')).toBe(true);
    expect(headers.getAll('x-trace')).toEqual(['abc-0123456789-xyz']);
    const names = headers.entries().map(([name]) => name.toLowerCase());
    expect(names).toEqual(
      expect.arrayContaining([
        'host',
        'upgrade',
        'connection',
        'sec-websocket-key',
        'sec-websocket-version',
        'x-trace',
        'user-agent',
      ]),
    );
    expect(headers.size).toBe(names.length);
    expect(headers.toObject()['x-trace']).toBe('abc-0123456789-xyz');
    expect(server.readyState).toBe('open');
    first.client.close();
    for (const p of others) p.client.close();
    await settle(SETTLE_MS);
  });

  it('opened, asked for only after the handshake, still settles (the handshake state is gone by then)', async () => {
    const p = pair();
    await p.client.opened;
    const server = await p.server;
    p.client.send('x');
    await settle();
    expect(await server.opened).toBe(server);
    expect(await p.client.opened).toBe(p.client);
  });

  it('a refused request: the client learns the status and body, the server connection never opens', async () => {
    const p = pair({ verifyClient: () => ({ status: 418, body: 'teapot' }) });
    await expect(p.client.opened).rejects.toMatchObject({ name: 'HandshakeError', status: 418 });
    const info = await p.client.closed;
    expect(info.error).not.toBeNull();
    await expect(p.client.opened).rejects.toMatchObject({ status: 418 }); // asked again, late
  });
});
