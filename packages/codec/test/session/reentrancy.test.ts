// Listeners that call back into the connection while the driver is dispatching.
import { describe, expect, it } from 'vitest';
import { concat } from 'uint8arrays/concat';
import { ServerSession, type Transport } from '../../src/session/index.ts';
import { REQUEST, ascii, clientFrame } from '../helpers/frames.ts';
import { pair, settle } from './memory-transport.ts';

describe('session: re-entrancy', () => {
  it('send() inside a message listener is written after the dispatch, in order, in few writes', async () => {
    const p = pair();
    const client = await p.client.opened;
    const server = await p.server;
    server.on('message', (data) => {
      expect(server.send(`echo ${data}`)).toBe('sent');
      expect(server.bufferedAmount).toBeGreaterThan(0); // counted before it reaches the transport
      server.send(`again ${data}`);
    });
    const got: unknown[] = [];
    client.on('message', (d) => got.push(d));
    const writesBefore = p.serverTransport.writeCalls;
    // Three messages in one chunk: one onData, three dispatches.
    p.clientTransport.reading = true;
    client.send('a');
    client.send('b');
    client.send('c');
    await settle();
    expect(got).toEqual(['echo a', 'again a', 'echo b', 'again b', 'echo c', 'again c']);
    expect(p.serverTransport.writeCalls - writesBefore).toBeLessThanOrEqual(3);
    client.close();
    await server.closed;
  });

  it('close() inside a listener: later messages in the same chunk are still delivered, sends are dropped', async () => {
    const p = pair();
    const client = await p.client.opened;
    const server = await p.server;
    const got: unknown[] = [];
    const sends: string[] = [];
    server.on('message', (data) => {
      got.push(data);
      if (data === 'stop') server.close(4000, 'enough');
      sends.push(server.send('reply'));
    });
    client.send('one');
    client.send('stop');
    client.send('late');
    await settle();
    expect(got).toEqual(['one', 'stop', 'late']);
    expect(sends).toEqual(['sent', 'dropped', 'dropped']);
    expect(await server.closed).toMatchObject({ sentCode: 4000, initiator: 'local', wasClean: true });
    expect(await client.closed).toMatchObject({ code: 4000, reason: 'enough' });
  });

  it('terminate() inside a listener stops further message events', async () => {
    const p = pair();
    const client = await p.client.opened;
    const server = await p.server;
    const got: unknown[] = [];
    server.on('message', (data) => {
      got.push(data);
      server.terminate();
    });
    client.send('first');
    client.send('second');
    await settle();
    expect(got).toEqual(['first']);
    expect(await server.closed).toMatchObject({ code: 1006, error: null });
    await client.closed;
  });

  it('terminate() inside a listener: the other messages of the same read are not delivered', () => {
    const writes: Uint8Array[] = [];
    const transport: Transport = {
      bufferedAmount: 0,
      write: (chunks) => void writes.push(...chunks),
      end: () => {},
      destroy: () => {},
    };
    const got: unknown[] = [];
    const session = new ServerSession(transport, {}, (connection) => {
      connection.on('message', (data) => {
        got.push(data);
        connection.terminate();
      });
    });
    session.onData(ascii(REQUEST));
    session.onData(
      concat([clientFrame(0x81, 'first'), clientFrame(0x82, Uint8Array.of(2)), clientFrame(0x81, 'third')]),
    );
    session.onClose();
    expect(got).toEqual(['first']);
    expect(session.connection.readyState).toBe('closed');
  });

  it('a throwing listener does not break the connection or the other listeners', async () => {
    const p = pair();
    const client = await p.client.opened;
    const server = await p.server;
    const reported: unknown[] = [];
    const original = globalThis.queueMicrotask;
    const got: unknown[] = [];
    server.on('message', () => {
      throw new Error('listener bug');
    });
    server.on('message', (d) => got.push(d));
    // Catch the re-thrown error instead of letting it reach the test runner.
    const onError = (error: unknown): void => void reported.push(error);
    process.prependListener('uncaughtException', onError);
    try {
      client.send('x');
      client.send('y');
      await settle();
      await new Promise((r) => setTimeout(r, 10));
    } finally {
      process.off('uncaughtException', onError);
    }
    expect(globalThis.queueMicrotask).toBe(original);
    expect(got).toEqual(['x', 'y']);
    expect(reported.length).toBe(2);
    expect(server.readyState).toBe('open');
    client.close();
    await server.closed;
  });

  it('the open listener can send at once, and onConnection runs before the first message', async () => {
    const order: string[] = [];
    const p = pair({}, {});
    p.client.on('open', () => {
      order.push('client open');
      p.client.send('hello from open');
    });
    const server = await p.server;
    server.on('message', (d) => order.push(`server got ${d}`));
    await settle();
    expect(order).toEqual(['client open', 'server got hello from open']);
    p.client.close();
    await server.closed;
  });
});

describe('session: a throwing onConnection', () => {
  it('is reported and does not stop the connection', async () => {
    const { ServerSession, connectSession, transportHandlers } = await import('../../src/session/index.ts');
    const { transportPair } = await import('./memory-transport.ts');
    const [s, c] = transportPair();
    let server: import('../../src/session/index.ts').WebSocketConnection | null = null;
    s.handlers = new ServerSession(s, {}, (ws) => {
      server = ws;
      ws.on('message', (d) => ws.send(d));
      throw new Error('handler bug');
    });
    const client = connectSession(c, 'ws://h/', {});
    c.handlers = transportHandlers(client);
    const reported: unknown[] = [];
    const onError = (error: unknown): void => void reported.push(error);
    process.prependListener('uncaughtException', onError);
    try {
      await client.opened;
      await new Promise((r) => setTimeout(r, 5));
    } finally {
      process.off('uncaughtException', onError);
    }
    expect((reported[0] as Error).message).toBe('handler bug');
    const reply = new Promise((resolve) => client.once('message', resolve));
    client.send('still works');
    expect(await reply).toBe('still works');
    client.close();
    await server!.closed;
  });
});
