// Builds raw frames byte by byte, legal or not, for feeding straight into a connection.
import { concat } from 'uint8arrays/concat';
import { Connection, type ServerConnectionOptions, type ClientConnectionOptions } from '../../src/index.ts';
import { clientConnection } from '../../src/client.ts';
import { serverConnection } from '../../src/server.ts';
import { hex } from '../../src/testing/index.ts';
import { encodeUtf8 } from '../../src/utf8.ts';

export const KEY = hex('37 fa 21 3d');

function lengthBytes(n: number, maskBit: number): Uint8Array {
  if (n < 126) return Uint8Array.of(maskBit | n);
  if (n < 65536) return Uint8Array.of(maskBit | 126, n >> 8, n & 0xff);
  const out = new Uint8Array(9);
  out[0] = maskBit | 127;
  new DataView(out.buffer).setBigUint64(1, BigInt(n));
  return out;
}

/** A frame as a client sends it (masked). `b0` is FIN|RSV|opcode, e.g. 0x81 for a final text frame. */
export function clientFrame(
  b0: number,
  payload: Uint8Array | string = new Uint8Array(0),
  key: Uint8Array = KEY,
): Uint8Array {
  const data = typeof payload === 'string' ? encodeUtf8(payload) : payload;
  const masked = data.map((byte: number, i: number) => byte ^ key[i % 4]!);
  return concat([Uint8Array.of(b0), lengthBytes(data.length, 0x80), key, masked]);
}

/** A frame as a server sends it (unmasked). */
export function serverFrame(b0: number, payload: Uint8Array | string = new Uint8Array(0)): Uint8Array {
  const data = typeof payload === 'string' ? encodeUtf8(payload) : payload;
  return concat([Uint8Array.of(b0), lengthBytes(data.length, 0), data]);
}

export const REQUEST =
  'GET /chat?room=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n' +
  'Sec-WebSocket-Version: 13\r\n\r\n';

export function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** A server connection that has accepted REQUEST; its handshake events and output are drained. */
export function openServer(options: ServerConnectionOptions = {}): Connection {
  const server = serverConnection(options);
  server.receiveData(ascii(REQUEST));
  server.takeEvents();
  server.send({ type: 'accept' });
  server.takeEvents();
  server.takeOutput();
  return server;
}

/** A client connection that received a valid 101; its handshake events and output are drained. */
export function openClient(options: ClientConnectionOptions = {}): Connection {
  const client = clientConnection('ws://example.test/', { random: () => undefined, ...options });
  // With a random source that leaves bytes zero, the key is 16 zero bytes.
  client.takeOutput();
  client.receiveData(
    ascii(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ICX+Yqv66kxgM0FcWaLWlFLwTAI=\r\n\r\n',
    ),
  );
  const events = client.takeEvents();
  if (events[0]?.type !== 'open') throw new Error(`client did not open: ${JSON.stringify(events)}`);
  return client;
}

/** Concatenated bytes of every write output. */
export function written(conn: Connection): Uint8Array {
  return concat(conn.takeOutput().flatMap((o) => (o.type === 'write' ? [o.data] : [])));
}

/** Output types in order, writes shown as 'write'. */
export function outputKinds(conn: Connection): string[] {
  return conn.takeOutput().map((o) => o.type);
}
