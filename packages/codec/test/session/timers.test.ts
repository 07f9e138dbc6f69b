// Deadlines through the session's one timer, with fake timers: keepalive, idle, close,
// handshake and drain timeouts, and a count of armed timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { connectSession, transportHandlers, type Timers } from '../../src/session/index.ts';
import { pair, settle, transportPair } from './memory-transport.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('session: timeouts', () => {
  it('keepalive: pings while the peer answers, fails with PONG_TIMEOUT once it stops', async () => {
    const p = pair({ timeouts: { keepaliveInterval: 1000, keepaliveTimeout: 500 } });
    const client = await p.client.opened;
    const server = await p.server;
    const pongs: number[] = [];
    server.on('pong', () => pongs.push(Date.now()));
    const errors: string[] = [];
    server.on('error', (e) => errors.push(e.code));
    await vi.advanceTimersByTimeAsync(5000);
    expect(pongs.length).toBeGreaterThanOrEqual(4);
    expect(server.readyState).toBe('open');
    p.clientTransport.reading = false; // the client stops answering
    await vi.advanceTimersByTimeAsync(1600);
    expect(errors).toEqual(['PONG_TIMEOUT']);
    p.clientTransport.reading = true;
    p.clientTransport.read();
    await vi.advanceTimersByTimeAsync(100);
    expect(await server.closed).toMatchObject({ error: 'PONG_TIMEOUT', sentCode: 1011 });
    expect((await client.closed).code).toBe(1011);
  });

  it('idle: closes with 1001 after idleTimeout without traffic', async () => {
    const p = pair({ timeouts: { idleTimeout: 2000 } });
    const client = await p.client.opened;
    const server = await p.server;
    await vi.advanceTimersByTimeAsync(1500);
    client.send('still here'); // activity: the check at 2000 finds it and looks again at 4000
    await vi.advanceTimersByTimeAsync(1999);
    expect(server.readyState).toBe('open'); // idleTimeout after the message: not idle yet
    // Checked at intervals: closed by 2 × idleTimeout after the last activity.
    await vi.advanceTimersByTimeAsync(2002);
    const [si, ci] = await Promise.all([server.closed, client.closed]);
    expect(si).toMatchObject({ error: 'IDLE_TIMEOUT', sentCode: 1001, initiator: 'local', wasClean: true });
    expect(ci).toMatchObject({ code: 1001, reason: 'idle timeout', initiator: 'remote' });
  });

  it('close: gives up with CLOSE_TIMEOUT when the peer never answers the Close', async () => {
    const p = pair({}, { timeouts: { closeTimeout: 1000 } });
    const client = await p.client.opened;
    await p.server;
    p.serverTransport.reading = false;
    client.close(1000);
    await vi.advanceTimersByTimeAsync(999);
    expect(client.readyState).toBe('closing');
    await vi.advanceTimersByTimeAsync(2);
    expect(await client.closed).toMatchObject({ error: 'CLOSE_TIMEOUT', wasClean: false });
    expect(p.clientTransport.destroyed).toBe(true);
  });

  it('handshake: rejects opened with HANDSHAKE_TIMEOUT when nobody answers', async () => {
    const [a, b] = transportPair();
    b.reading = false;
    const client = connectSession(a, 'ws://h/', { timeouts: { handshakeTimeout: 3000 } });
    a.handlers = transportHandlers(client);
    const opened = client.opened.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(3001);
    expect(await opened).toMatchObject({ name: 'HandshakeError', code: 'HANDSHAKE_TIMEOUT' });
    expect(await client.closed).toMatchObject({ error: 'HANDSHAKE_TIMEOUT', code: 1006 });
  });

  it('drain: terminates with DRAIN_TIMEOUT when bufferedAmount stays above highWaterMark', async () => {
    const p = pair({ drainTimeout: 1000, highWaterMark: 1024, lowWaterMark: 0 });
    const client = await p.client.opened;
    const server = await p.server;
    p.clientTransport.reading = false;
    expect(server.send(new Uint8Array(4096))).toBe('buffered');
    await vi.advanceTimersByTimeAsync(500);
    p.clientTransport.read(); // drains in time: the deadline is lifted
    await vi.advanceTimersByTimeAsync(1000);
    expect(server.readyState).toBe('open');
    expect(server.send(new Uint8Array(4096))).toBe('buffered');
    const errors: string[] = [];
    server.on('error', (e) => errors.push(e.code));
    await vi.advanceTimersByTimeAsync(1001);
    expect(errors).toEqual(['DRAIN_TIMEOUT']);
    expect(await server.closed).toMatchObject({ error: 'DRAIN_TIMEOUT' });
    await client.closed;
  });

  it('drain deadline passes harmlessly when the buffer went down without a drain notice', async () => {
    const p = pair({ drainTimeout: 1000, highWaterMark: 1024, lowWaterMark: 0 });
    await p.client.opened;
    const server = await p.server;
    p.clientTransport.reading = false;
    server.send(new Uint8Array(4096));
    // The peer reads, but the transport never says so (drain notices are only a hint).
    const notify = p.serverTransport.handlers!.onDrain;
    p.serverTransport.handlers!.onDrain = () => {};
    p.clientTransport.read();
    await vi.advanceTimersByTimeAsync(1500);
    expect(server.readyState).toBe('open');
    p.serverTransport.handlers!.onDrain = notify;
    server.terminate();
    await server.closed;
  });
});

describe('session: one timer', () => {
  it('never has more than one timer armed, and none once closed', async () => {
    let active = 0;
    let max = 0;
    let armed = 0;
    const handles = new Set<unknown>();
    const timers: Timers = {
      setTimeout: (fn, ms) => {
        armed++;
        const handle = setTimeout(() => {
          handles.delete(handle);
          active--;
          fn();
        }, ms);
        handles.add(handle);
        max = Math.max(max, ++active);
        return handle;
      },
      clearTimeout: (handle) => {
        if (handles.delete(handle)) active--;
        clearTimeout(handle as ReturnType<typeof setTimeout>);
      },
    };
    const p = pair({ timers, timeouts: { keepaliveInterval: 1000, idleTimeout: 5000 }, drainTimeout: 700 }, { timers });
    const client = await p.client.opened;
    const server = await p.server;
    server.on('message', (d) => server.send(d));
    for (let i = 0; i < 50; i++) {
      client.send(`m${i}`);
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(max).toBeLessThanOrEqual(2); // one per connection (client and server share `timers`)
    expect(armed).toBeLessThan(60); // not re-armed per message
    client.close();
    await vi.advanceTimersByTimeAsync(10);
    await Promise.all([client.closed, server.closed]);
    expect(active).toBe(0);
  });

  it('uses the host timers by default', async () => {
    const p = pair({ timeouts: { idleTimeout: 100 } });
    await p.client.opened;
    const server = await p.server;
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    await vi.advanceTimersByTimeAsync(201); // at most 2 × idleTimeout
    await settle();
    expect((await server.closed).error).toBe('IDLE_TIMEOUT');
  });
});
