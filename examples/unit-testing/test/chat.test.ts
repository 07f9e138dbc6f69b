// The chat room's logic, tested without a socket: in-memory clients of a MemoryServer (the same
// handshakes, options and registry as createServer) and a fake clock that drives the heartbeat.
// examples/unit-testing/README.md quotes this file.
import { describe, expect, it } from 'vitest';
import { FakeClock, createMemoryServer, type MemoryServer } from '@ws/codec/testing';
import { HandshakeError, type ClientSessionOptions, type WebSocketConnection } from '@ws/codec/session';
import { createChat, type ChatEvent } from '../chat.ts';

const tokens = { 'alice-token': 'alice', 'bob-token': 'bob', 'carol-token': 'carol' };

/** A client of `server` for `token`, once open, and every chat event it receives (listening from the start: the welcome comes at once). */
async function join(
  server: MemoryServer,
  token: string,
  options: ClientSessionOptions = {},
): Promise<{ ws: WebSocketConnection; inbox: ChatEvent[] }> {
  const ws = server.createConnection(`ws://chat.test/?token=${token}`, options);
  const inbox: ChatEvent[] = [];
  ws.on('message', (data) => inbox.push(JSON.parse(data as string) as ChatEvent));
  await ws.opened;
  return { ws, inbox };
}

describe('chat room', () => {
  it('refuses an unknown token with 401', async () => {
    const chat = createChat({ tokens });
    const server = createMemoryServer(chat.options, chat.onConnection);
    const error = await server.connect('ws://chat.test/?token=nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandshakeError);
    expect((error as HandshakeError).status).toBe(401);
    expect(new TextDecoder().decode((error as HandshakeError).body!)).toBe('unknown token');
    expect(chat.members()).toEqual([]);
  });

  it('welcomes, announces, and relays what is said to everyone', async () => {
    const clock = new FakeClock();
    const chat = createChat({ tokens, timers: clock.timers, clock: clock.now });
    const server = createMemoryServer(chat.options, chat.onConnection);
    const time = { timers: clock.timers, clock: clock.now };

    const { inbox: aliceSees } = await join(server, 'alice-token', time);
    const { ws: bob, inbox: bobSees } = await join(server, 'bob-token', time);
    bob.send(JSON.stringify({ type: 'say', text: 'hi all' }));
    await clock.tick(0); // let the in-memory bytes cross

    expect(chat.members()).toEqual(['alice', 'bob']);
    expect(aliceSees).toEqual([
      { type: 'welcome', name: 'alice', members: [] },
      { type: 'joined', name: 'bob' },
      { type: 'said', from: 'bob', text: 'hi all' },
    ]);
    expect(bobSees).toEqual([
      { type: 'welcome', name: 'bob', members: ['alice'] },
      { type: 'said', from: 'bob', text: 'hi all' },
    ]);

    bob.close(1000, 'bye');
    await clock.tick(0);
    expect(aliceSees.at(-1)).toEqual({ type: 'left', name: 'bob', reason: 'bye' });
    expect(chat.members()).toEqual(['alice']);
  });

  it('closes a connection that sends something else with 1008', async () => {
    const chat = createChat({ tokens });
    const server = createMemoryServer(chat.options, chat.onConnection);
    const alice = await server.connect('ws://chat.test/?token=alice-token');
    alice.send('{"type":"shout"}');
    const info = await alice.closed;
    expect([info.code, info.wasClean]).toEqual([1008, true]);
    expect(chat.members()).toEqual([]);
  });

  it('heartbeat: a client that stops answering pings is dropped after interval + timeout; the others stay', async () => {
    const clock = new FakeClock();
    const chat = createChat({
      tokens,
      heartbeat: { interval: 30_000, timeout: 10_000 },
      timers: clock.timers,
      clock: clock.now,
    });
    const server = createMemoryServer(chat.options, chat.onConnection);
    const time = { timers: clock.timers, clock: clock.now };
    const { ws: alice, inbox: aliceSees } = await join(server, 'alice-token', time);
    // carol's client does not answer pings (as a peer that vanished without closing would not).
    const { ws: carol } = await join(server, 'carol-token', { ...time, autoPong: false });

    await clock.tick(30_000 + 9_999); // the first ping went out; carol still has 1 ms
    expect(chat.members()).toEqual(['alice', 'carol']);
    await clock.tick(1);
    expect(chat.members()).toEqual(['alice']);
    expect(aliceSees.at(-1)).toEqual({ type: 'left', name: 'carol', reason: 'timeout' });
    expect((await carol.closed).code).toBe(1011);

    await clock.tick(5 * 30_000); // alice answers every ping
    expect(alice.readyState).toBe('open');
    expect(chat.members()).toEqual(['alice']);
  });

  it('server.shutdown() closes every member with 1001 and the room empties', async () => {
    const clock = new FakeClock();
    const chat = createChat({ tokens, timers: clock.timers, clock: clock.now });
    const server = createMemoryServer(chat.options, chat.onConnection);
    const time = { timers: clock.timers, clock: clock.now };
    const clients = [
      await server.connect('ws://chat.test/?token=alice-token', time),
      await server.connect('ws://chat.test/?token=bob-token', time),
    ];
    await server.shutdown({ timeout: 1000 });
    expect((await Promise.all(clients.map((ws) => ws.closed))).map((info) => info.code)).toEqual([1001, 1001]);
    expect(server.connections.size).toBe(0);
    expect(chat.members()).toEqual([]);
  });
});
