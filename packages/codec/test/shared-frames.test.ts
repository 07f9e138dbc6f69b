// The codec's path for pre-framed bytes (a publish frames a message once for many connections):
// which connections may share a frame (`sharedFrameKey`), building it without touching the
// connection (`frameShared`), and sending it only while a data message may start (`sendFramed`).
import { describe, expect, it } from 'vitest';
import { WebSocketUsageError, type Connection } from '../src/index.ts';
import { permessageDeflate } from '../src/pako.ts';
import { ConnectionPair } from '../src/testing/index.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const opened = (options: ConstructorParameters<typeof ConnectionPair>[0] = {}): ConnectionPair => {
  const pair = new ConnectionPair(options);
  pair.pump();
  expect(pair.server.state).toBe('open');
  return pair;
};
const received = (pair: ConnectionPair): unknown[] =>
  pair
    .pump()
    .client.filter((e) => e.type === 'text' || e.type === 'binary')
    .map((e) => ('data' in e ? e.data : null));
const deflate = (serverNoContextTakeover: boolean) => ({
  server: { extensions: [permessageDeflate({ serverNoContextTakeover })] },
  client: { extensions: [permessageDeflate()] },
});

describe('shared frames', () => {
  it('one frame built on one server connection is read by the clients of others', () => {
    const pairs = [opened(), opened(), opened()];
    expect(pairs.map((p) => p.server.sharedFrameKey(5))).toEqual(['', '', '']);
    const frames = pairs[0]!.server.frameShared('text', text('hello'));
    expect(pairs[0]!.server.pendingOutputBytes).toBe(0); // building sends nothing
    for (const pair of pairs) pair.server.sendFramed(frames);
    expect(pairs.map(received)).toEqual([['hello'], ['hello'], ['hello']]);
    const big = new Uint8Array(70_000).fill(7); // ≥ 64 KiB: header and payload as two chunks
    const bigFrames = pairs[1]!.server.frameShared('binary', big);
    expect(bigFrames.length).toBe(2);
    pairs[2]!.server.sendFramed(bigFrames);
    expect((received(pairs[2]!)[0] as Uint8Array).length).toBe(70_000);
  });

  it('a client never shares (it masks); context takeover shares only what it does not compress', () => {
    const pair = opened();
    expect(pair.client.sharedFrameKey(5)).toBeNull();
    expect(() => pair.client.frameShared('text', text('x'))).toThrow(WebSocketUsageError);
    const takeover = opened(deflate(false));
    expect(takeover.server.sharedFrameKey(10)).toBe(''); // under the threshold: sent as is
    expect(takeover.server.sharedFrameKey(10, true)).toBeNull();
    expect(takeover.server.sharedFrameKey(5000)).toBeNull();
    const none = [opened(deflate(true)), opened(deflate(true))];
    const key = none[0]!.server.sharedFrameKey(5000);
    expect(key).toMatch(/^permessage-deflate:/);
    expect(none[1]!.server.sharedFrameKey(5000)).toBe(key);
    const message = 'compress me '.repeat(500);
    const frames = none[0]!.server.frameShared('text', text(message));
    expect(frames[0]![0]! & 0x40).toBe(0x40); // RSV1: compressed
    expect(frames[0]!.length).toBeLessThan(message.length / 4);
    for (const pair of none) pair.server.sendFramed(frames);
    expect(none.map(received)).toEqual([[message], [message]]);
    // The connection's own stream is untouched: a normal send still works afterwards.
    none[0]!.server.sendText(message);
    expect(received(none[0]!)).toEqual([message]);
  });

  it('sendFramed only while a data message may start: not mid-fragment, not after close', () => {
    const pair = opened();
    const frames = pair.server.frameShared('text', text('x'));
    pair.server.send({ type: 'fragment', kind: 'binary', data: new Uint8Array([1]), fin: false });
    expect(pair.server.canSendFramed).toBe(false);
    expect(() => pair.server.sendFramed(frames)).toThrow(/fragmented binary message/);
    pair.server.send({ type: 'fragment', kind: 'binary', data: new Uint8Array([2]), fin: true });
    pair.server.sendFramed(frames);
    expect(received(pair)).toEqual([new Uint8Array([1, 2]), 'x']);
    pair.server.send({ type: 'close', code: 1000 });
    const closed: Connection = pair.server;
    expect(closed.canSendFramed).toBe(false);
    expect(() => closed.sendFramed(frames)).toThrow(WebSocketUsageError);
  });
});
