import { afterEach, describe, expect, it, vi } from 'vitest';
import { Emitter } from '../../src/session/emitter.ts';

class Thing extends Emitter<{ [k: string]: unknown[]; a: [n: number]; b: [] }> {
  fire<K extends 'a' | 'b'>(type: K, ...args: K extends 'a' ? [number] : []): boolean {
    return this.emit(type, ...(args as never));
  }
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

describe('Emitter', () => {
  it('on, once, off, listenerCount; removal during emit does not skip others', () => {
    const t = new Thing();
    const calls: string[] = [];
    const one = (n: number): void => void calls.push(`one ${n}`);
    const two = (n: number): void => {
      calls.push(`two ${n}`);
      t.off('a', three);
    };
    const three = (n: number): void => void calls.push(`three ${n}`);
    expect(t.fire('a', 0)).toBe(false);
    t.on('a', one).once('a', two).on('a', three);
    expect(t.listenerCount('a')).toBe(3);
    expect(t.fire('a', 1)).toBe(true);
    expect(t.fire('a', 2)).toBe(true);
    expect(calls).toEqual(['one 1', 'two 1', 'three 1', 'one 2']);
    t.off('a', one);
    t.off('a', one);
    t.off('b', one as never);
    expect(t.listenerCount('a')).toBe(0);
    expect(t.fire('a', 3)).toBe(false);
    expect(() => t.on('b', 'nope' as never)).toThrow(TypeError);
  });

  it('reports a throwing listener on a microtask, without a host queueMicrotask too', async () => {
    vi.stubGlobal('queueMicrotask', undefined);
    vi.resetModules();
    const { Emitter: Bare, microtask } = await import('../../src/session/emitter.ts');
    const ran: string[] = [];
    microtask(() => ran.push('later'));
    expect(ran).toEqual([]);
    await Promise.resolve();
    expect(ran).toEqual(['later']);
    class T extends Bare<{ [k: string]: unknown[]; x: [] }> {
      go(): void {
        this.emit('x');
      }
    }
    const t = new T();
    t.on('x', () => {
      throw new Error('reported');
    });
    t.on('x', () => ran.push('second'));
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => void rejections.push(reason);
    process.prependListener('unhandledRejection', onRejection);
    try {
      t.go();
      await new Promise((r) => setTimeout(r, 10));
    } finally {
      process.off('unhandledRejection', onRejection);
    }
    expect(ran).toEqual(['later', 'second']);
    expect((rejections[0] as Error).message).toBe('reported');
  });
});
