import { describe, expect, it } from 'vitest';
import { parseFlags, serverFlagOptions } from '../src/session/tooling/index.ts';
import { ServerSession } from '../src/session/index.ts';

describe('parseFlags', () => {
  it('reads --name value and --name=value over the defaults, skipping bare words', () => {
    expect(parseFlags(['run', '--port', '9002', '--host=::1', '--x=a=b'], { port: '9001', host: '127.0.0.1' })).toEqual(
      { port: '9002', host: '::1', x: 'a=b' },
    );
  });

  it('throws for a flag without a value', () => {
    expect(() => parseFlags(['--port'], { port: '1' })).toThrow('--port needs a value');
  });
});

describe('serverFlagOptions', () => {
  it('no server flags: no keys at all, so every default stays', () => {
    expect(serverFlagOptions({ port: '0', host: '127.0.0.1' })).toEqual({});
  });

  it('maps each flag to its option and group', () => {
    const flags = parseFlags(
      [
        '--handshake-timeout',
        '400',
        '--idle-timeout',
        '300',
        '--close-timeout=200',
        '--keepalive-interval',
        '0',
        '--max-head-bytes',
        '4096',
        '--max-headers',
        '20',
        '--max-frame-size',
        '1000',
        '--max-message-size',
        '2000',
        '--max-fragments',
        '64',
        '--high-water-mark',
        '65536',
        '--max-buffered-amount',
        '1048576',
      ],
      {},
    );
    expect(serverFlagOptions(flags)).toEqual({
      timeouts: { handshakeTimeout: 400, idleTimeout: 300, closeTimeout: 200, keepaliveInterval: 0 },
      limits: { maxHeadBytes: 4096, maxHeaders: 20, maxFrameSize: 1000, maxMessageSize: 2000, maxFragments: 64 },
      highWaterMark: 65536,
      maxBufferedAmount: 1048576,
    });
  });

  it('refuses what is not a whole number', () => {
    for (const bad of ['-1', '1.5', '1e3', '', 'ten']) {
      expect(() => serverFlagOptions({ 'idle-timeout': bad })).toThrow(/--idle-timeout needs a whole number/);
    }
  });

  it('what it makes is accepted by a server as it is', () => {
    const options = serverFlagOptions({
      'handshake-timeout': '400',
      'max-frame-size': '1000',
      'high-water-mark': '65536',
      'max-buffered-amount': '1048576',
    });
    expect(() => ServerSession.handshakes(options, () => undefined)).not.toThrow();
  });
});

describe('the bins tooling is not published', () => {
  it('is no export of @ws/codec/session or @ws/codec/testing, and no entry of the package', async () => {
    const session: Record<string, unknown> = await import('../src/session/index.ts');
    const testing: Record<string, unknown> = await import('../src/testing/index.ts');
    for (const name of [
      'runAutobahnClient',
      'parseFlags',
      'serverFlagOptions',
      'echoFetch',
      'testFetch',
      'ECHO_PAGE',
    ]) {
      expect(name in session || name in testing, name).toBe(false);
    }
    const pkg = (await import('../package.json', { with: { type: 'json' } })).default as {
      exports: Record<string, unknown>;
      publishConfig: { exports: Record<string, unknown> };
    };
    expect(Object.keys(pkg.exports).filter((key) => key.includes('tooling'))).toEqual([]);
    expect(Object.keys(pkg.publishConfig.exports).filter((key) => key.includes('tooling'))).toEqual([]);
  });
});
