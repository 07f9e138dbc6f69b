// A server's budget for unsent bytes across its connections (maxServerBufferedAmount): past it,
// every connection stops reading; after the grace period the largest backlogs are terminated
// (Close 1013, SERVER_BUFFER_OVERFLOW) until the sum fits; reading resumes at three quarters of
// it. Sessions made with one options object share a budget, as one server's connections do.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ServerSessionOptions, WebSocketConnection } from '../../src/session/index.ts';
import { pair, settle, type Pair } from './memory-transport.ts';

const KiB = 1024;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

async function openPairs(
  options: ServerSessionOptions,
  n: number,
): Promise<Array<Pair & { ws: WebSocketConnection; errors: string[] }>> {
  const pairs = [];
  for (let i = 0; i < n; i++) {
    const p = pair(options);
    await p.client.opened;
    const ws = await p.server;
    const errors: string[] = [];
    ws.on('error', (e) => errors.push(e.code));
    p.clientTransport.reading = false; // a slow reader: nothing the server sends is taken
    pairs.push({ ...p, ws, errors });
  }
  return pairs;
}

describe('server budget (maxServerBufferedAmount)', () => {
  it('over the budget: all stop reading; after the grace period the largest backlogs go (1013) until it fits', async () => {
    const options: ServerSessionOptions = {
      maxServerBufferedAmount: 64 * KiB,
      serverBufferGracePeriod: 1000,
      highWaterMark: 8 * KiB,
    };
    const pairs = await openPairs(options, 6);
    // Backlogs of 10, 20, 30, 40 and 50 KiB (150 KiB in all); the sixth connection sends nothing.
    for (let i = 0; i < 5; i++) pairs[i]!.ws.send(new Uint8Array((i + 1) * 10 * KiB));
    await settle();
    expect(pairs.map((p) => p.serverTransport.paused)).toEqual([true, true, true, true, true, true]);
    expect(pairs.every((p) => p.ws.readyState === 'open')).toBe(true);

    await vi.advanceTimersByTimeAsync(999);
    expect(pairs.every((p) => p.ws.readyState === 'open')).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    // 150 → 100 (the 50 KiB one) → 60 KiB (the 40 KiB one): within 64 KiB, so the rest stay.
    expect(pairs.map((p) => p.ws.readyState)).toEqual(['open', 'open', 'open', 'closed', 'closed', 'open']);
    for (const p of pairs.slice(3, 5)) {
      expect(p.errors).toEqual(['SERVER_BUFFER_OVERFLOW']);
      expect(p.ws.closeInfo).toMatchObject({ error: 'SERVER_BUFFER_OVERFLOW', sentCode: 1013, wasClean: false });
      expect(p.serverTransport.destroyed).toBe(true);
    }
    // Within the budget again: everyone reads again.
    expect(pairs.filter((p) => p.ws.readyState === 'open').map((p) => p.serverTransport.paused)).toEqual([
      false,
      false,
      false,
      false,
    ]);
    const echoed: unknown[] = [];
    pairs[5]!.ws.on('message', (d) => echoed.push(d));
    pairs[5]!.client.send('still served');
    await settle();
    expect(echoed).toEqual(['still served']);
  });

  it('backlogs that drain below three quarters of the budget within the grace period: reading resumes, nobody is terminated', async () => {
    const options: ServerSessionOptions = {
      maxServerBufferedAmount: 64 * KiB,
      serverBufferGracePeriod: 1000,
      highWaterMark: 8 * KiB,
    };
    const pairs = await openPairs(options, 3);
    for (const p of pairs) p.ws.send(new Uint8Array(30 * KiB));
    await settle();
    expect(pairs.map((p) => p.serverTransport.paused)).toEqual([true, true, true]);
    // One reader catches up: 60 KiB left, over 48 KiB (¾): still paused.
    pairs[0]!.clientTransport.read();
    await settle();
    expect(pairs.map((p) => p.serverTransport.paused)).toEqual([true, true, true]);
    // A second one: 30 KiB left: reading resumes.
    pairs[1]!.clientTransport.read();
    await settle();
    expect(pairs.map((p) => p.serverTransport.paused)).toEqual([false, false, false]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(pairs.map((p) => [p.ws.readyState, p.errors.length])).toEqual([
      ['open', 0],
      ['open', 0],
      ['open', 0],
    ]);
  });

  it('a connection that opens while the budget is exceeded starts paused; 0 turns the budget off', async () => {
    const options: ServerSessionOptions = { maxServerBufferedAmount: 16 * KiB, serverBufferGracePeriod: 1000 };
    const [first] = await openPairs(options, 1);
    first!.ws.send(new Uint8Array(20 * KiB));
    await settle();
    const [late] = await openPairs(options, 1);
    expect(late!.serverTransport.paused).toBe(true);

    const off: ServerSessionOptions = { maxServerBufferedAmount: 0 };
    const pairs = await openPairs(off, 2);
    for (const p of pairs) p.ws.send(new Uint8Array(200 * KiB));
    await settle();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(pairs.map((p) => [p.serverTransport.paused, p.ws.readyState])).toEqual([
      [false, 'open'],
      [false, 'open'],
    ]);
  });

  it('refuses a budget that is not a finite number ≥ 0', () => {
    for (const bad of [-1, Number.NaN, Infinity, '1']) {
      expect(() => pair({ maxServerBufferedAmount: bad as number })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });
});
