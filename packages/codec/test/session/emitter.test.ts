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

  it('one listener or several, once or not: the compact storage behaves as a list', () => {
    const t = new Thing();
    const calls: string[] = [];
    const a = (n: number): void => void calls.push(`a${n}`);
    const b = (n: number): void => void calls.push(`b${n}`);
    expect(t.listenerCount('a')).toBe(0);
    t.off('a', a); // nothing registered yet
    t.once('a', a);
    expect(t.listenerCount('a')).toBe(1);
    t.off('a', b); // not registered: no change
    expect(t.listenerCount('a')).toBe(1);
    expect(t.fire('a', 1)).toBe(true);
    expect(t.fire('a', 2)).toBe(false); // the lone once listener went
    t.once('a', a);
    t.off('a', a);
    expect(t.fire('a', 3)).toBe(false);
    t.on('a', a).on('a', b).on('a', a);
    t.off('a', a); // the first registration
    expect(t.listenerCount('a')).toBe(2);
    t.fire('a', 4);
    t.off('a', b).off('a', b);
    expect(t.listenerCount('a')).toBe(1);
    t.fire('a', 5);
    t.once('a', b);
    t.off('a', a); // leaves the once listener alone in the slot
    t.fire('a', 6);
    t.fire('a', 7);
    t.on('a', a).once('a', b).once('a', b);
    t.fire('a', 8); // both once listeners run and go
    t.fire('a', 9);
    expect(calls).toEqual(['a1', 'b4', 'a4', 'a5', 'b6', 'a8', 'b8', 'b8', 'a9']);
  });

  it('calls listeners with the emitter as this', () => {
    const t = new Thing();
    const seen: unknown[] = [];
    function listener(this: unknown): void {
      seen.push(this);
    }
    t.on('b', listener);
    t.fire('b');
    t.on('b', listener);
    t.fire('b');
    expect(seen).toEqual([t, t, t]);
  });

  it('a once listener removed by an earlier listener of the same emit still runs (snapshot)', () => {
    const t = new Thing();
    const calls: string[] = [];
    const second = (): void => void calls.push('second');
    t.on('b', () => {
      calls.push('first');
      t.off('b', second);
    });
    t.once('b', second);
    t.fire('b');
    t.fire('b');
    expect(calls).toEqual(['first', 'second', 'first']);
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
