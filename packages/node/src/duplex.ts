/**
 * A Node `Duplex` over a connection (as `ws`'s `createWebSocketStream`): every chunk written is
 * sent as one message, every message received is pushed as one chunk. Backpressure goes through
 * both ways: a write whose `send()` reached `highWaterMark` completes only once the connection
 * has drained (so the Duplex's `write()` returns false and 'drain' waits for the socket), and when the
 * readable side's buffer is full the connection is paused until the consumer reads again (TCP
 * then pushes back on the peer). Ending the writable side closes the connection; its end (or
 * failure) ends (or destroys) the stream.
 */
import { Duplex, type DuplexOptions } from 'node:stream';
import { WebSocketUsageError } from '@ws/codec';
import type { WebSocketConnection } from '@ws/codec/session';

const encoder = new TextEncoder();

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A `Duplex` over `connection` (open, or still connecting: writes wait for the handshake).
 * Default mode: bytes both ways (text messages arrive as their UTF-8 bytes; chunks are sent as
 * binary). `readableObjectMode: true`: text arrives as strings, binary as Buffers.
 * `writableObjectMode: true`: a string chunk is sent as a text message.
 */
export function createWebSocketStream(connection: WebSocketConnection, options: DuplexOptions = {}): Duplex {
  let ended = false;
  const duplex = new Duplex({
    allowHalfOpen: false,
    ...options,
    read() {
      connection.resume();
    },
    write(chunk: Buffer | string, _encoding, callback) {
      const send = (): void => {
        if (connection.readyState !== 'open') {
          callback(
            new WebSocketUsageError('INVALID_STATE', `cannot write: the connection is ${connection.readyState}`),
          );
          return;
        }
        const result = connection.send(chunk);
        if (result === 'sent') callback();
        else if (result === 'buffered') connection.drain().then(() => callback(), callback);
        else
          callback(
            new WebSocketUsageError('INVALID_STATE', 'the message was dropped: the connection closed while sending'),
          );
      };
      if (connection.readyState === 'connecting') connection.opened.then(send, callback);
      else send();
    },
    final(callback) {
      if (connection.readyState === 'connecting') connection.terminate();
      else if (connection.readyState === 'open') connection.close(1000);
      connection.closed.then(() => callback());
    },
    destroy(error, callback) {
      if (connection.readyState === 'closed') {
        callback(error);
        return;
      }
      connection.closed.then(() => callback(error));
      connection.terminate();
    },
  });
  const objectMode = duplex.readableObjectMode;
  connection.on('message', (data, isBinary) => {
    if (ended) return;
    const chunk = isBinary
      ? asBuffer(data as Uint8Array)
      : objectMode
        ? data
        : asBuffer(encoder.encode(data as string));
    if (!duplex.push(chunk)) connection.pause();
  });
  connection.on('error', (error) => {
    if (!duplex.destroyed) duplex.destroy(error);
  });
  connection.on('close', () => {
    ended = true;
    if (!duplex.destroyed) duplex.push(null);
  });
  if (connection.readyState === 'closed' && !ended) {
    // Messages that arrived before the close are still held for the 'message' listener above,
    // which gets them on a microtask queued before this one: they are pushed before the end.
    queueMicrotask(() => {
      if (ended) return;
      ended = true;
      duplex.push(null);
    });
  }
  return duplex;
}
