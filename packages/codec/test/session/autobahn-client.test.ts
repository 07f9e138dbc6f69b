// runAutobahnClient: the options every runtime's autobahn-client script connects with, and its
// answer when the fuzzing server gives no case count. (The whole loop against a stand-in server is
// tested per runtime, through each bin script.)
import { describe, expect, it } from 'vitest';
import type { ClientSessionOptions } from '../../src/session/index.ts';
import { runAutobahnClient } from '../../src/session/tooling/index.ts';
import type { ExtensionFactory } from '../../src/index.ts';

describe('runAutobahnClient', () => {
  it('connects with limits that admit the 16 MiB messages of cases 9.x, and offers the given extensions', async () => {
    const seen: Array<{ url: string; options: ClientSessionOptions }> = [];
    const offer = { name: 'x-test' } as unknown as ExtensionFactory;
    const count = await runAutobahnClient({
      createConnection: (url, options) => {
        seen.push({ url, options });
        throw new Error('no server here');
      },
      extensions: [offer],
      url: 'ws://127.0.0.1:9001/',
      agent: 'a b',
      caseTimeout: 1000,
    });
    expect(count).toBe(0); // no case count: nothing else is tried
    expect(seen.map((s) => s.url)).toEqual(['ws://127.0.0.1:9001/getCaseCount']);
    const { options } = seen[0]!;
    expect(options.limits!.maxMessageSize).toBeGreaterThanOrEqual(16 * 1024 * 1024);
    expect(options.limits!.maxFrameSize).toBeGreaterThanOrEqual(16 * 1024 * 1024);
    expect(options.maxBufferedAmount).toBeGreaterThanOrEqual(16 * 1024 * 1024);
    expect(options.extensions).toEqual([offer]);
  });

  it('offers no extension unless told to', async () => {
    let offered: unknown = null;
    await runAutobahnClient({
      createConnection: (_url, options) => {
        offered = options.extensions;
        throw new Error('no server here');
      },
      url: 'ws://127.0.0.1:9001',
      agent: 'a',
      caseTimeout: 1000,
    });
    expect(offered).toEqual([]);
  });
});
