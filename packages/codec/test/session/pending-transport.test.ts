// PendingTransport: a transport usable before its socket is ready (a proxy tunnel being set up).
import { describe, expect, it } from 'vitest';
import { PendingTransport } from '../../src/session/index.ts';
import type { AttachableTransport } from '../../src/session/index.ts';
import type { TransportHandlers } from '../../src/session/transport.ts';

class Recorder implements AttachableTransport {
  calls: string[] = [];
  written: number[] = [];
  handlers: TransportHandlers | null = null;
  bufferedAmount = 0;
  attach(handlers: TransportHandlers): void {
    this.handlers = handlers;
    this.calls.push('attach');
  }
  write(chunks: Uint8Array[]): void {
    this.calls.push(`write ${chunks.length}`);
    for (const c of chunks) this.written.push(...c);
  }
  end(): void {
    this.calls.push('end');
  }
  destroy(): void {
    this.calls.push('destroy');
  }
  pause(): void {
    this.calls.push('pause');
  }
  resume(): void {
    this.calls.push('resume');
  }
}

function handlers(log: string[]): TransportHandlers {
  return {
    onData: () => log.push('data'),
    onDrain: () => log.push('drain'),
    onEnd: () => log.push('end'),
    onClose: (error) => log.push(`close ${error === undefined ? '' : String((error as Error).message)}`.trim()),
  };
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('PendingTransport', () => {
  it('queues writes (counted in bufferedAmount), pause and end, then hands them over in order', async () => {
    const ready = deferred<AttachableTransport>();
    const t = new PendingTransport(ready.promise);
    const log: string[] = [];
    t.attach(handlers(log));
    t.write([Uint8Array.of(1, 2)]);
    t.write([Uint8Array.of(3), Uint8Array.of(4, 5)]);
    t.pause();
    t.end();
    expect(t.bufferedAmount).toBe(5);
    const real = new Recorder();
    ready.resolve(real);
    await ready.promise;
    await Promise.resolve();
    expect(real.calls).toEqual(['attach', 'pause', 'write 3', 'end']);
    expect(real.written).toEqual([1, 2, 3, 4, 5]);
    expect(log).toEqual(['drain']);
    t.resume();
    t.write([Uint8Array.of(6)]);
    expect(real.calls.slice(-2)).toEqual(['resume', 'write 1']);
  });

  it('a failed setup closes the transport with its error; destroy before it is ready cancels it', async () => {
    const failing = deferred<AttachableTransport>();
    const log: string[] = [];
    const a = new PendingTransport(failing.promise);
    a.attach(handlers(log));
    a.write([Uint8Array.of(1)]);
    failing.reject(new Error('proxy said no'));
    await failing.promise.catch(() => {});
    await Promise.resolve();
    expect(log).toEqual(['close proxy said no']);
    expect(a.bufferedAmount).toBe(0);

    const late = deferred<AttachableTransport>();
    let cancelled = 0;
    const b = new PendingTransport(late.promise, () => cancelled++);
    const log2: string[] = [];
    b.attach(handlers(log2));
    b.destroy();
    b.destroy();
    expect(cancelled).toBe(1);
    await Promise.resolve();
    expect(log2).toEqual(['close']);
    const real = new Recorder();
    late.resolve(real);
    await late.promise;
    await Promise.resolve();
    expect(real.calls).toEqual(['destroy']); // the socket that came up anyway is torn down, never attached
    expect(log2).toEqual(['close']);
  });
});
