// The helpers every runtime adapter's client shares: startClient and openedOrRejected, over an in-memory socket pair.
import { describe, expect, it } from 'vitest';
import { WebSocketUsageError } from '../../src/errors.ts';
import {
  ServerSession,
  openedOrRejected,
  startClient,
  transportHandlers,
  type TransportHandlers,
  type WebSocketConnection,
} from '../../src/session/index.ts';
import { MemoryTransport, settle, transportPair } from './memory-transport.ts';

/** A memory transport with an adapter's `attach`, counting its calls. */
function attachable(
  transport: MemoryTransport,
): MemoryTransport & { attach(handlers: TransportHandlers): void; attached: number } {
  return Object.assign(transport, {
    attached: 0,
    attach(this: MemoryTransport & { attached: number }, handlers: TransportHandlers): void {
      this.handlers = handlers;
      this.attached++;
    },
  });
}

describe('startClient', () => {
  it('writes the request at once, attaches the connection and opens against a server', async () => {
    const [serverTransport, raw] = transportPair();
    const server = new Promise<WebSocketConnection>((resolve) => {
      serverTransport.handlers = new ServerSession(serverTransport, { protocols: ['chat'] }, resolve);
    });
    const transport = attachable(raw);
    const client = startClient(transport, 'ws://example.test/room', { protocols: ['chat'] });
    expect(client.readyState).toBe('connecting');
    expect(transport.writeCalls).toBe(1);
    expect(transport.attached).toBe(1);
    expect(transport.handlers).toBe(transportHandlers(client));
    expect(await client.opened).toBe(client);
    expect(client.protocol).toBe('chat');
    expect((await server).request!.path).toBe('/room');
    client.close(1000);
    await client.closed;
  });

  it('destroys the transport and rethrows for an invalid URL, without attaching', () => {
    const transport = attachable(transportPair()[0]);
    expect(() => startClient(transport, 'ftp://example.test/', {})).toThrow(
      expect.objectContaining({ code: 'INVALID_URL' }),
    );
    expect(transport.destroyed).toBe(true);
    expect(transport.attached).toBe(0);
    expect(transport.writeCalls).toBe(0);
  });

  it('destroys the transport and rethrows for an invalid option', () => {
    const transport = attachable(transportPair()[0]);
    expect(() => startClient(transport, 'ws://example.test/', { maxQueuedMessages: 0 })).toThrow(WebSocketUsageError);
    expect(transport.destroyed).toBe(true);
    expect(transport.attached).toBe(0);
  });
});

describe('openedOrRejected', () => {
  it('rejects, rather than throws, with what create threw', async () => {
    const error = new WebSocketUsageError('INVALID_ARGUMENT', 'bad');
    let result: Promise<WebSocketConnection> | undefined;
    expect(() => {
      result = openedOrRejected(() => {
        throw error;
      });
    }).not.toThrow();
    await expect(result).rejects.toBe(error);
  });

  it("is the connection's opened promise", async () => {
    const [serverTransport, raw] = transportPair();
    serverTransport.handlers = new ServerSession(serverTransport, {}, () => {});
    let client: WebSocketConnection | undefined;
    const opened = openedOrRejected(() => (client = startClient(attachable(raw), 'ws://example.test/', {})));
    expect(opened).toBe(client!.opened);
    expect(await opened).toBe(client);
    client!.terminate();
    await settle();
  });

  it('rejects with the handshake error when the server refuses', async () => {
    const [serverTransport, raw] = transportPair();
    serverTransport.handlers = new ServerSession(serverTransport, { verifyClient: () => false }, () => {});
    await expect(openedOrRejected(() => startClient(attachable(raw), 'ws://example.test/', {}))).rejects.toMatchObject({
      name: 'HandshakeError',
      status: 401,
    });
  });
});
