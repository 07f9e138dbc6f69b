// The codec's deadlines with no clock of its own: time comes in only as tick(now) from a
// FakeClock. A wait that begins inside another call shows as nextDeadline() 0 until a tick
// starts its clock. Handshake, close, keepalive (ping after silence, pong timeout, activity
// that pushes the ping out, a ping held behind output) and idle timeouts, each to the ms.
import { describe, expect, it } from 'vitest';
import { serverConnection } from '../src/server.ts';
import { ConnectionPair, FakeClock } from '../src/testing/index.ts';
import { ascii, outputKinds, written } from './helpers/frames.ts';

const PING = 0x89;
const CLOSE = 0x88;

/** An open pair whose server has `timeouts`; every pending clock started at `clock`'s time. */
function openPair(clock: FakeClock, timeouts: Record<string, number>): ConnectionPair {
  const pair = new ConnectionPair({ clock, server: { timeouts } });
  pair.pump();
  return pair;
}

/** Move the clock to `time` and tick the server there; its new events. */
function tickAt(pair: ConnectionPair, time: number) {
  pair.clock.set(time);
  pair.server.tick(time);
  return pair.server.takeEvents();
}

describe('time as data', () => {
  it('takes no clock, and tick() needs the time', () => {
    expect(() => serverConnection({ clock: () => 0 } as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/tick\(now\)/) }),
    );
    const server = serverConnection();
    expect(() => server.tick(undefined as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => server.tick(Number.NaN)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('a wait that begins is due at 0 until a tick starts its clock; an early tick changes nothing', () => {
    const server = serverConnection({ timeouts: { handshakeTimeout: 500 } });
    expect(server.nextDeadline()).toBe(0);
    server.tick(1000);
    expect(server.nextDeadline()).toBe(1500);
    server.tick(1200);
    expect(server.nextDeadline()).toBe(1500);
    expect(server.takeEvents()).toEqual([]);
  });

  it('nothing is timed on an open connection without keepalive or idle', () => {
    const pair = openPair(new FakeClock(), {});
    expect(pair.server.nextDeadline()).toBeNull();
    expect(pair.client.nextDeadline()).toBeNull();
  });
});

describe('handshake timeout', () => {
  it('destroys a client that never finishes its request', () => {
    const server = serverConnection({ timeouts: { handshakeTimeout: 500 } });
    server.tick(1000);
    server.receiveData(ascii('GET / HTTP/1.1\r\n'));
    expect(server.nextDeadline()).toBe(1500);
    server.tick(1499);
    expect(server.takeEvents()).toEqual([]);
    server.tick(1500);
    expect(server.takeEvents()[0]).toMatchObject({ type: 'protocol-error', code: 'HANDSHAKE_TIMEOUT' });
    expect(outputKinds(server)).toEqual(['destroy']);
    expect(server.nextDeadline()).toBeNull();
  });
});

describe('close timeout', () => {
  it('gives up on a peer that never answers our Close', () => {
    const clock = new FakeClock(5000);
    const pair = new ConnectionPair({ clock, server: { timeouts: { closeTimeout: 1000 } } });
    pair.pump();
    pair.server.send({ type: 'close', code: 1000 });
    expect(pair.server.nextDeadline()).toBe(0); // the wait began: its clock starts at the next tick
    pair.server.tick(5000);
    expect(pair.server.nextDeadline()).toBe(6000);
    // Do not pump: the client never sees the Close.
    expect(tickAt(pair, 5999)).toEqual([]);
    const events = tickAt(pair, 6000);
    expect(events[0]).toMatchObject({ type: 'protocol-error', code: 'CLOSE_TIMEOUT' });
    expect(events[1]).toMatchObject({ type: 'closed', info: { code: 1006, wasClean: false, error: 'CLOSE_TIMEOUT' } });
    expect(pair.server.takeOutput().at(-1)?.type).toBe('destroy');
  });

  it('a client destroys TCP if the server never closes it after the close handshake', () => {
    const pair = new ConnectionPair({ client: { timeouts: { closeTimeout: 300 } } });
    pair.pump();
    pair.client.send({ type: 'close' });
    pair.server.receiveData(written(pair.client)); // the server answers and shuts down ...
    pair.server.takeEvents();
    pair.client.receiveData(written(pair.server)); // ... but its FIN never arrives
    pair.client.takeEvents();
    expect(pair.client.state).toBe('closed');
    expect(pair.client.nextDeadline()).toBe(0);
    pair.client.tick(0);
    expect(pair.client.nextDeadline()).toBe(300);
    pair.client.tick(299);
    expect(pair.client.finished).toBe(false);
    pair.client.tick(300);
    expect(outputKinds(pair.client)).toEqual(['destroy']);
    expect(pair.client.finished).toBe(true);
    expect(pair.client.nextDeadline()).toBeNull();
  });
});

describe('keepalive', () => {
  const timeouts = { keepaliveInterval: 100, keepaliveTimeout: 50 };

  it('with a pong timeout longer than the interval, an answer is seen after an interval', () => {
    const pair = openPair(new FakeClock(), { keepaliveInterval: 100, keepaliveTimeout: 1000 });
    tickAt(pair, 100);
    expect(pair.server.nextDeadline()).toBe(200);
    tickAt(pair, 200); // nothing yet: still waiting, up to the pong deadline
    expect(pair.server.awaitingPong).toBe(true);
    expect(pair.server.nextDeadline()).toBe(300);
    pair.pump(); // the pong arrives
    tickAt(pair, 300); // seen 200 ms after the ping: the next one goes at once
    expect(written(pair.server)[0]).toBe(PING);
    expect(pair.server.awaitingPong).toBe(true);
    expect(pair.server.nextDeadline()).toBe(400);
  });

  it('pings after an interval of silence and fails with 1011 when nothing comes back', () => {
    const pair = openPair(new FakeClock(), timeouts);
    expect(pair.server.nextDeadline()).toBe(100);
    expect(tickAt(pair, 99)).toEqual([]);
    expect(written(pair.server)).toHaveLength(0);
    tickAt(pair, 100);
    expect(written(pair.server)[0]).toBe(PING); // the client never sees it: the wire is cut
    expect(pair.server.awaitingPong).toBe(true);
    expect(pair.server.nextDeadline()).toBe(150);
    expect(tickAt(pair, 149)).toEqual([]);
    const events = tickAt(pair, 150);
    expect(events).toEqual([
      expect.objectContaining({ type: 'protocol-error', code: 'PONG_TIMEOUT', closeCode: 1011 }),
      expect.objectContaining({ type: 'closed' }),
    ]);
    const close = pair.server.takeOutput();
    const frame = close[0]?.type === 'write' ? close[0].data : new Uint8Array(0);
    expect([frame[0], (frame[2]! << 8) | frame[3]!]).toEqual([CLOSE, 1011]);
    expect(close.slice(1)).toEqual([{ type: 'shutdown' }]); // failed (§7.1.7): a Close, then TCP closes
    expect(pair.server.state).toBe('closed');
    expect(pair.server.closeInfo).toMatchObject({ sentCode: 1011, error: 'PONG_TIMEOUT', wasClean: false });
  });

  it('a pong answers it: while the peer only answers, a ping every interval', () => {
    const pair = openPair(new FakeClock(), timeouts);
    tickAt(pair, 100);
    pair.pump(); // the client's automatic pong comes back
    expect(pair.serverEvents.filter((e) => e.type === 'pong')).toHaveLength(1);
    expect(pair.server.nextDeadline()).toBe(150);
    tickAt(pair, 150);
    expect(pair.server.awaitingPong).toBe(false);
    expect(pair.server.state).toBe('open');
    expect(pair.server.nextDeadline()).toBe(200); // an interval after the last ping
    tickAt(pair, 200);
    expect(written(pair.server)[0]).toBe(PING);
  });

  it('anything from the peer pushes the ping out: it goes after 1× to 2× the interval of silence', () => {
    const pair = openPair(new FakeClock(), timeouts);
    pair.clock.set(60);
    pair.client.send({ type: 'text', data: 'still here' });
    pair.pump();
    expect(pair.server.nextDeadline()).toBe(100); // no deadline moved on the read
    tickAt(pair, 100);
    expect(written(pair.server)).toHaveLength(0); // activity since the check began: no ping
    expect(pair.server.nextDeadline()).toBe(200);
    tickAt(pair, 200);
    expect(written(pair.server)[0]).toBe(PING); // 140 ms after the peer's last bytes
  });

  it('our own messages are not an answer', () => {
    const pair = openPair(new FakeClock(), timeouts);
    pair.server.send({ type: 'text', data: 'talking to myself' });
    pair.server.takeOutput();
    tickAt(pair, 100);
    expect(written(pair.server)[0]).toBe(PING);
  });

  it('while the driver says the ping still waits behind moving output, the wait starts again', () => {
    const pair = openPair(new FakeClock(), timeouts);
    tickAt(pair, 100);
    pair.server.takeOutput();
    pair.server.noteOutputProgress(true);
    expect(tickAt(pair, 150)).toEqual([]);
    expect(pair.server.nextDeadline()).toBe(200);
    pair.server.noteOutputProgress(false); // the ping left: this progress is after it
    expect(tickAt(pair, 200)[0]).toMatchObject({ type: 'protocol-error', code: 'PONG_TIMEOUT' });
  });

  it('stands still while reading is paused and starts afresh on resume', () => {
    const pair = openPair(new FakeClock(), timeouts);
    tickAt(pair, 100);
    pair.server.takeOutput();
    pair.server.pauseLiveness(true);
    expect(pair.server.nextDeadline()).toBeNull();
    expect(tickAt(pair, 1000)).toEqual([]);
    pair.server.pauseLiveness(false);
    expect(pair.server.awaitingPong).toBe(false);
    expect(pair.server.nextDeadline()).toBe(0);
    tickAt(pair, 1000);
    expect(pair.server.nextDeadline()).toBe(1100);
    expect(written(pair.server)).toHaveLength(0);
  });

  it('a bare client codec keeps alive too', () => {
    const clock = new FakeClock();
    const pair = new ConnectionPair({ clock, client: { timeouts } });
    pair.pump();
    expect(pair.client.nextDeadline()).toBe(100);
    pair.advance(100);
    expect(pair.serverEvents.filter((e) => e.type === 'ping')).toHaveLength(1);
    expect(pair.clientEvents.filter((e) => e.type === 'pong')).toHaveLength(1);
  });
});

describe('idle timeout', () => {
  it('closes with 1001 once a check finds no activity either way since the last', () => {
    const pair = openPair(new FakeClock(), { idleTimeout: 1000 });
    expect(pair.server.nextDeadline()).toBe(1000);
    pair.clock.set(500);
    pair.server.send({ type: 'text', data: 'ours counts too' });
    pair.pump();
    tickAt(pair, 1000);
    expect(pair.server.state).toBe('open');
    pair.clock.set(1999);
    pair.client.send({ type: 'text', data: 'and theirs' });
    pair.pump();
    tickAt(pair, 2000);
    expect(pair.server.state).toBe('open');
    expect(pair.server.nextDeadline()).toBe(3000);
    tickAt(pair, 3000);
    expect(pair.server.state).toBe('closing');
    pair.pump();
    expect(pair.server.closeInfo).toMatchObject({
      sentCode: 1001,
      error: 'IDLE_TIMEOUT',
      initiator: 'local',
      wasClean: true,
    });
    expect(pair.clientEvents).toContainEqual(
      expect.objectContaining({ type: 'close', code: 1001, reason: 'idle timeout' }),
    );
  });

  it('output the driver reports moving is activity', () => {
    const pair = openPair(new FakeClock(), { idleTimeout: 1000 });
    pair.clock.set(900);
    pair.server.noteOutputProgress(false);
    tickAt(pair, 1000);
    expect(pair.server.state).toBe('open');
    tickAt(pair, 2000);
    expect(pair.server.state).toBe('closing');
  });
});

describe('a wait that begins inside tick(now) begins at now', () => {
  // The codec knows the time only in tick(now): a wait that begins in what a tick does has its
  // real deadline at once (no 0, "tick again", which would cost a driver a clock read and a
  // second tick, or a 0 ms timer). A wait that begins in any other call is still 0 (see above).
  it('the close an idle timeout sends: due closeTimeout after that tick', () => {
    const pair = openPair(new FakeClock(), { idleTimeout: 1000, closeTimeout: 500 });
    tickAt(pair, 1000); // nothing either way since the connection opened: idle
    expect(pair.server.state).toBe('closing');
    expect(pair.server.nextDeadline()).toBe(1500);
    expect(tickAt(pair, 1499)).toEqual([]);
    expect(tickAt(pair, 1500)[0]).toMatchObject({ type: 'protocol-error', code: 'CLOSE_TIMEOUT' });
  });

  it('the wait for the transport after a keepalive failure: due closeTimeout after that tick', () => {
    const pair = openPair(new FakeClock(), { keepaliveInterval: 100, keepaliveTimeout: 50, closeTimeout: 400 });
    tickAt(pair, 100); // the ping; the client never sees it
    expect(tickAt(pair, 150)[0]).toMatchObject({ type: 'protocol-error', code: 'PONG_TIMEOUT' });
    expect([pair.server.state, pair.server.finished]).toEqual(['closed', false]); // our FIN sent, not the peer's
    expect(pair.server.nextDeadline()).toBe(550);
    pair.server.takeOutput();
    tickAt(pair, 549);
    expect(pair.server.finished).toBe(false);
    tickAt(pair, 550);
    expect(outputKinds(pair.server)).toEqual(['destroy']);
  });
});
