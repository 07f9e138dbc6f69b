// A server's options are checked when the server is made: a bad one must not wait for the first
// socket, where an adapter would throw inside its accept path.
import { describe, expect, it } from 'vitest';
import { ServerSession, type ServerSessionOptions } from '../../src/session/index.ts';

describe('ServerSession.handshakes checks the options at once', () => {
  const bad: [string, ServerSessionOptions][] = [
    ['maxBufferedAmount under the default highWaterMark', { maxBufferedAmount: 1000 }],
    ['lowWaterMark over highWaterMark', { highWaterMark: 10, lowWaterMark: 20 }],
    ['a negative frame limit (the codec checks it)', { limits: { maxFrameSize: -1 } }],
    [
      'a timeout that is not a number (the codec checks it)',
      { timeouts: { handshakeTimeout: 'soon' as unknown as number } },
    ],
  ];
  for (const [what, options] of bad) {
    it(`throws a WebSocketUsageError for ${what}`, () => {
      expect(() => ServerSession.handshakes(options, () => undefined)).toThrow(
        expect.objectContaining({ name: 'WebSocketUsageError' }),
      );
    });
  }

  it('accepts good options and defaults', () => {
    expect(() => ServerSession.handshakes({}, () => undefined)).not.toThrow();
    expect(() =>
      ServerSession.handshakes(
        { highWaterMark: 1024, maxBufferedAmount: 4096, limits: { maxFrameSize: 10 } },
        () => undefined,
      ),
    ).not.toThrow();
  });
});
