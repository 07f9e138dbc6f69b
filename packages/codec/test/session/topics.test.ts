// Topics in the session layer over in-memory transports: a registry handed to single sessions
// (as `handleUpgrade(..., { topics })` does), options checked with typed errors, a subscriber in
// the middle of its own fragmented message skipped, and a session without topics refusing them.
import { describe, expect, it } from 'vitest';
import { WebSocketUsageError } from '../../src/errors.ts';
import {
  InProcessBroker,
  ServerSession,
  Topics,
  createTopics,
  type WebSocketConnection,
} from '../../src/session/index.ts';
import { pair, settle } from './memory-transport.ts';

async function subscribers(
  topics: Topics,
  n: number,
): Promise<Array<{ server: WebSocketConnection; client: WebSocketConnection; got: unknown[] }>> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const p = pair({ topics });
    const server = await p.server;
    await p.client.opened;
    server.subscribe('t');
    const got: unknown[] = [];
    p.client.on('message', (data) => got.push(data));
    out.push({ server, client: p.client, got });
  }
  return out;
}

describe('Topics (session layer)', () => {
  it('checks its options with typed errors', () => {
    expect(() => new Topics({ backpressureLimit: -1 })).toThrow(WebSocketUsageError);
    expect(() => new Topics({ backpressureLimit: Infinity })).toThrow(/backpressureLimit/);
    expect(() => new Topics({ closeOnBackpressureLimit: 'yes' as unknown as boolean })).toThrow(
      /closeOnBackpressureLimit/,
    );
    expect(() => new Topics({ broker: {} as unknown as InProcessBroker })).toThrow(/broker/);
    expect(() => new Topics(null as unknown as object)).toThrow(WebSocketUsageError);
    const topics = createTopics();
    expect(topics.backpressureLimit).toBe(16 * 1024 * 1024);
    expect(topics.closeOnBackpressureLimit).toBe(false);
    expect(() => topics.publish(1 as unknown as string, 'x')).toThrow(/topic must be a string/);
    expect(() => topics.publish('t', 'x', 3 as unknown as boolean)).toThrow(/publish options/);
    expect(() => topics.publish('t', 42 as unknown as string)).toThrow(WebSocketUsageError);
    expect(() => ServerSession.handshakes({ topics: {} as unknown as Topics }, () => {})).toThrow(TypeError);
  });

  it('a registry shared by single sessions; names; a subscriber mid-fragment is skipped for that message', async () => {
    const topics = createTopics();
    const subs = await subscribers(topics, 3);
    expect(topics.names).toEqual(['t']);
    expect(topics.subscriberCount('t')).toBe(3);
    subs[1]!.server.sendFragment('part', false);
    expect(topics.publish('t', 'news')).toBe(2);
    subs[1]!.server.sendFragment(' end', true);
    expect(topics.publish('t', new Uint8Array([1]))).toBe(3);
    await settle(50);
    expect(subs.map((s) => s.got)).toEqual([
      ['news', new Uint8Array([1])],
      ['part end', new Uint8Array([1])],
      ['news', new Uint8Array([1])],
    ]);
    for (const s of subs) s.client.close();
    await Promise.all(subs.map((s) => s.server.closed));
    expect(topics.names).toEqual([]);
  });

  it('a session without topics refuses them, saying how to get them; so does a client', async () => {
    const p = pair();
    const server = await p.server;
    await p.client.opened;
    expect(() => server.subscribe('t')).toThrow(/createTopics/);
    expect(() => server.publish('t', 'x')).toThrow(WebSocketUsageError);
    expect(() => p.client.unsubscribe('t')).toThrow(WebSocketUsageError);
    expect(server.isSubscribed('t')).toBe(false);
    expect(server.topics).toEqual([]);
    p.client.close();
    await server.closed;
  });
});
