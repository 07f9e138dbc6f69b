// The session's timeout defaults per role (docs/hardening.md, "Defaults beside ws, Bun and Deno"):
// a server pings after 30 s of silence and drops a peer that does not answer within 20 s more;
// a client never pings unless asked; 0 turns a server's keepalive off. On a FakeClock.
import { describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_SESSION_TIMEOUTS, DEFAULT_TIMEOUTS } from '../../src/index.ts';
import { fakeTime } from './fake-time.ts';
import { pair } from './memory-transport.ts';

const INTERVAL = DEFAULT_SERVER_SESSION_TIMEOUTS.keepaliveInterval;
const TIMEOUT = DEFAULT_SERVER_SESSION_TIMEOUTS.keepaliveTimeout;

describe('session defaults per role', () => {
  it('are what the docs table says', () => {
    expect(DEFAULT_SERVER_SESSION_TIMEOUTS).toEqual({ ...DEFAULT_TIMEOUTS, keepaliveInterval: 30_000 });
    expect(DEFAULT_TIMEOUTS).toMatchObject({ keepaliveInterval: 0, keepaliveTimeout: 20_000, idleTimeout: 0 });
  });

  it('a server with default options pings a silent client after 30 s; an answering client stays open', async () => {
    const t = fakeTime();
    const p = pair(t.options, t.options);
    const client = await p.client.opened;
    const server = await p.server;
    let pings = 0;
    let pongs = 0;
    client.on('ping', () => pings++);
    server.on('pong', () => pongs++);
    await t.advance(INTERVAL - 1);
    expect(pings).toBe(0);
    await t.advance(1);
    expect([pings, pongs]).toEqual([1, 1]);
    // Ten minutes of silence from the application: a ping every 30 s, each answered.
    await t.advance(10 * 60_000);
    expect(pings).toBe(1 + (10 * 60_000) / INTERVAL);
    expect(pongs).toBe(pings);
    expect([server.readyState, client.readyState]).toEqual(['open', 'open']);
  });

  it('a server with default options drops a peer that stopped answering, 30 s + 20 s after it went silent', async () => {
    const t = fakeTime();
    const p = pair(t.options, t.options);
    await p.client.opened;
    const server = await p.server;
    const errors: string[] = [];
    server.on('error', (e) => errors.push(e.code));
    p.clientTransport.reading = false; // gone: nothing it is sent is read, nothing answered
    await t.advance(INTERVAL + TIMEOUT - 1);
    expect(errors).toEqual([]);
    expect(server.readyState).toBe('open');
    await t.advance(2);
    expect(errors).toEqual(['PONG_TIMEOUT']);
    expect(server.readyState).not.toBe('open');
  });

  it('a client with default options never pings; keepaliveInterval: 0 turns a server’s off', async () => {
    const t = fakeTime();
    const p = pair({ ...t.options, timeouts: { keepaliveInterval: 0 } }, t.options);
    const client = await p.client.opened;
    const server = await p.server;
    let pings = 0;
    client.on('ping', () => pings++);
    server.on('ping', () => pings++);
    await t.advance(60 * 60_000);
    expect(pings).toBe(0);
    expect([server.readyState, client.readyState]).toEqual(['open', 'open']);
  });
});
