// @ws/zlib drives node:zlib's native handle (an internal) only after a round trip on known data
// at load: where the handle is missing or gives wrong bytes, zlibBackend is null and
// permessageDeflate() says to pass pako, which then works (the fallback path).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pakoBackend } from '@ws/codec/pako';
import { ConnectionPair } from '@ws/codec/testing';

type Handle = { writeSync: (...args: unknown[]) => void };

/** @ws/zlib loaded over a node:zlib whose deflate handles are changed by `patch`. */
async function loadWith(patch: (handle: Handle) => void) {
  vi.resetModules();
  vi.doMock('node:zlib', async () => {
    const real = (await vi.importActual<{ default: typeof import('node:zlib') }>('node:zlib')).default;
    const createDeflateRaw = (options: import('node:zlib').ZlibOptions) => {
      const stream = real.createDeflateRaw(options);
      patch((stream as unknown as { _handle: Handle })._handle);
      return stream;
    };
    return { default: { ...real, createDeflateRaw } };
  });
  return import('../src/index.ts');
}

afterEach(() => {
  vi.doUnmock('node:zlib');
  vi.resetModules();
});

describe('zlib backend self-test at load', () => {
  it('passes with the real handle', async () => {
    const { zlibBackend } = await loadWith(() => {});
    expect(zlibBackend?.name).toBe('node:zlib');
  });

  for (const [what, patch] of [
    [
      'a handle that corrupts its output',
      (handle: Handle) => {
        const write = handle.writeSync.bind(handle);
        handle.writeSync = (...args: unknown[]) => {
          write(...args);
          const out = args[4] as Uint8Array;
          const at = args[5] as number;
          out[at] = (out[at] ?? 0) ^ 0x5a;
        };
      },
    ],
    [
      'a handle without writeSync',
      (handle: Handle) => {
        (handle as Partial<Handle>).writeSync = undefined;
      },
    ],
  ] as const) {
    it(`fails with ${what}: no backend, and pako is the way`, async () => {
      const { zlibBackend, permessageDeflate } = await loadWith(patch);
      expect(zlibBackend).toBeNull();
      expect(() => permessageDeflate()).toThrow(/pakoBackend/);
      // The fallback: the same extension on pako, working end to end.
      const extensions = [permessageDeflate({ backend: pakoBackend })];
      const pair = new ConnectionPair({ client: { extensions }, server: { extensions } });
      pair.pump();
      const text = 'compressible '.repeat(200);
      pair.client.send({ type: 'text', data: text });
      expect(pair.pump().server).toEqual([{ type: 'text', data: text }]);
      expect(pair.server.extensions.map((e) => e.name)).toEqual(['permessage-deflate']);
    });
  }
});
