// What a connection makes only on first use (an idle server holds thousands of connections):
// `opened` and `closed` asked for late settle as if asked early; drain waiters; the handlers.
import { describe, expect, it } from 'vitest';
import { connectSession, transportHandlers } from '../../src/session/index.ts';
import { pair, settle, transportPair } from './memory-transport.ts';

describe('session: state made on first use', () => {
  it('opened and closed asked for only after the fact', async () => {
    const p = pair();
    const client = await p.client.opened;
    const server = await p.server; // the server's `opened` was never asked for
    expect(await server.opened).toBe(server);
    expect(server.opened).toBe(server.opened); // one promise, kept
    client.close(1000, 'bye');
    await settle();
    await settle();
    expect(server.readyState).toBe('closed');
    const info = await server.closed; // first asked for once closed
    expect(info).toMatchObject({ code: 1000, reason: 'bye', wasClean: true });
    expect(server.closed).toBe(server.closed);
    expect(await client.closed).toMatchObject({ code: 1000 });
  });

  it('a failed handshake rejects an opened asked for afterwards, without an unhandled rejection', async () => {
    const [a, b] = transportPair();
    b.reading = false;
    const client = connectSession(a, 'ws://h/', {});
    a.handlers = transportHandlers(client);
    expect(transportHandlers(client)).toBe(a.handlers);
    client.terminate();
    const info = await client.closed;
    expect(info.error).toBe('ABORTED');
    await expect(client.opened).rejects.toMatchObject({ name: 'HandshakeError', code: 'ABORTED' });
  });

  it('drain() waiters are resolved once the buffer drains, then forgotten', async () => {
    const p = pair({ highWaterMark: 1024, lowWaterMark: 0 });
    await p.client.opened;
    const server = await p.server;
    p.clientTransport.reading = false;
    server.send(new Uint8Array(4096));
    let drained = 0;
    const waits = [server.drain().then(() => drained++), server.drain().then(() => drained++)];
    await settle();
    expect(drained).toBe(0);
    p.clientTransport.read();
    await Promise.all(waits);
    expect(drained).toBe(2);
    await server.drain();
  });
});
