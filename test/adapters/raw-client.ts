// A raw WebSocket client over node:net that can send anything, well-formed or not: the request
// bytes, frames with any header bits, mask or none. It reads the server's frames itself, so the
// suite sees exactly what each runtime's server put on the wire. Also the small helpers the
// adapter suites share (opcodes, a deadline, "expect this Close, then TCP close").
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { expect } from 'vitest';
import { within } from '../shared/wait.ts';

export const HOST = '127.0.0.1';
export const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/** RFC 6455 §5.2 opcodes. */
export const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** `promise`, or a rejection naming `what` after `ms`. */
export { within } from '../shared/wait.ts';

/** Expect a Close frame with `code` and then the server closing TCP. */
export async function expectClose(client: RawClient, code: number): Promise<void> {
  const frame = await within(client.readFrame(), 10_000, 'close frame');
  expect(frame.opcode, `expected a Close frame, got opcode ${frame.opcode}`).toBe(OP.close);
  expect(parseClose(frame.payload).code).toBe(code);
  await within(client.waitEnd(), 10_000, 'TCP close after the Close frame');
  client.end(); // our FIN: the server need not wait for its close timeout
}

export interface Head {
  status: number;
  statusLine: string;
  headers: Map<string, string>;
}

export interface Frame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
  /** Header bytes: 2, 4 or 10 for an unmasked frame. */
  headerLength: number;
}

export interface FrameOptions {
  fin?: boolean;
  /** RSV1–3 as bits 0x4, 0x2, 0x1 (RSV1 = 4). */
  rsv?: number;
  opcode: number;
  payload?: Uint8Array | string;
  /** Mask the payload (a client must); false sends it unmasked. Default true. */
  mask?: boolean;
}

export function acceptFor(key: string): string {
  return createHash('sha1')
    .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC11D65')
    .digest('base64');
}

export function encodeFrame({
  fin = true,
  rsv = 0,
  opcode,
  payload = Buffer.alloc(0),
  mask = true,
}: FrameOptions): Buffer {
  const data =
    typeof payload === 'string'
      ? Buffer.from(payload)
      : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const n = data.length;
  const lengthBytes = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes + (mask ? 4 : 0));
  header[0] = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f);
  header[1] = (mask ? 0x80 : 0) | (n < 126 ? n : n < 65536 ? 126 : 127);
  if (lengthBytes === 2) header.writeUInt16BE(n, 2);
  if (lengthBytes === 8) header.writeBigUInt64BE(BigInt(n), 2);
  if (!mask) return Buffer.concat([header, data]);
  const key = randomBytes(4);
  key.copy(header, 2 + lengthBytes);
  const masked = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) masked[i] = data[i]! ^ key[i & 3]!;
  return Buffer.concat([header, masked]);
}

export function closePayload(code?: number, reason: string | Uint8Array = ''): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code);
  return Buffer.concat([head, typeof reason === 'string' ? Buffer.from(reason) : Buffer.from(reason)]);
}

export function parseClose(payload: Buffer): { code: number | null; reason: string } {
  return payload.length < 2
    ? { code: null, reason: '' }
    : { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString('utf8') };
}

export class RawClient {
  readonly socket: net.Socket;
  /** The peer sent FIN (or the socket closed). */
  ended = false;
  /** The socket is fully closed. */
  readonly closed: Promise<void>;
  /** The socket's error, if it failed (e.g. ECONNRESET when the server reset it). */
  error: NodeJS.ErrnoException | null = null;
  #chunks: Buffer[] = [];
  #length = 0;
  #wake: (() => void) | null = null;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
      this.#notify();
    });
    socket.on('end', () => {
      this.ended = true;
      this.#notify();
    });
    socket.on('error', (error) => (this.error ??= error)); // resets after a refusal are expected; `closed` reports the end
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.ended = true;
        this.#notify();
        resolve();
      }),
    );
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: HOST, port, allowHalfOpen: true, noDelay: true });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Connect and complete a plain handshake (no subprotocol, no extension); checks the 101. */
  static async open(port: number, path = '/'): Promise<RawClient> {
    const client = await RawClient.connect(port);
    const head = await client.handshake(path);
    if (head.status !== 101) throw new Error(`expected 101, got ${head.statusLine}`);
    return client;
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #wait(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve));
  }

  write(data: Uint8Array | string): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(data);
  }

  send(options: FrameOptions): void {
    this.write(encodeFrame(options));
  }

  /** Send FIN (we are done writing). */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Abort with a TCP reset (RST) instead of a FIN. */
  reset(): void {
    if (!this.socket.destroyed) this.socket.resetAndDestroy();
  }

  /**
   * Write, then wait until the socket takes more (TCP backpressure) or is gone. False once the
   * socket can no longer be written to.
   */
  async push(data: Uint8Array): Promise<boolean> {
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return false;
    if (!socket.write(data)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.on('drain', done);
        socket.on('close', done);
      });
    }
    return !socket.destroyed && socket.writable;
  }

  /** Buffered bytes not read yet. */
  get pending(): number {
    return this.#length;
  }

  /** Exactly `n` bytes; rejects if the peer closes first. */
  async read(n: number): Promise<Buffer> {
    while (this.#length < n) {
      if (this.ended) throw new Error(`the server closed the connection (wanted ${n} bytes, have ${this.#length})`);
      await this.#wait();
    }
    return this.#take(n);
  }

  #take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.#chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let at = 0;
      while (at < n) {
        const chunk = this.#chunks[0]!;
        const take = Math.min(chunk.length, n - at);
        chunk.copy(out, at, 0, take);
        at += take;
        if (take === chunk.length) this.#chunks.shift();
        else this.#chunks[0] = chunk.subarray(take);
      }
    }
    this.#length -= n;
    return out;
  }

  /** An HTTP response head (status line and headers), up to and including the blank line. */
  async readHead(): Promise<Head> {
    for (;;) {
      const all = Buffer.concat(this.#chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end !== -1) {
        this.#chunks = [all];
        this.#length = all.length;
        const text = this.#take(end + 4).toString('latin1');
        const [statusLine = '', ...lines] = text.slice(0, -4).split('\r\n');
        const headers = new Map<string, string>();
        for (const line of lines) {
          const colon = line.indexOf(':');
          if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
        }
        return { status: Number(statusLine.split(' ')[1]), statusLine, headers };
      }
      if (this.ended)
        throw new Error(
          `the server closed the connection before a full response head: ${JSON.stringify(all.toString('latin1').slice(0, 200))}`,
        );
      await this.#wait();
    }
  }

  /** The upgrade request `handshake()` sends: the default fields with `headers` replacing or removing them (`null` removes). */
  upgradeRequest(path = '/', headers: Record<string, string | null> = {}): string {
    const fields: Record<string, string | null> = {
      Host: `${HOST}:${this.socket.remotePort}`,
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Key': KEY,
      'Sec-WebSocket-Version': '13',
      ...headers,
    };
    let request = `GET ${path} HTTP/1.1\r\n`;
    for (const [name, value] of Object.entries(fields)) if (value !== null) request += `${name}: ${value}\r\n`;
    return request + '\r\n';
  }

  /** Send an upgrade request (see `upgradeRequest`) and read the response head. */
  handshake(path = '/', headers: Record<string, string | null> = {}): Promise<Head> {
    this.write(this.upgradeRequest(path, headers));
    return this.readHead();
  }

  /** The next frame from the server. */
  async readFrame(): Promise<Frame> {
    const head = await this.read(2);
    const fin = (head[0]! & 0x80) !== 0;
    const rsv = (head[0]! >> 4) & 7;
    const opcode = head[0]! & 0x0f;
    const masked = (head[1]! & 0x80) !== 0;
    let length = head[1]! & 0x7f;
    let headerLength = 2;
    if (length === 126) {
      length = (await this.read(2)).readUInt16BE(0);
      headerLength += 2;
    } else if (length === 127) {
      length = Number((await this.read(8)).readBigUInt64BE(0));
      headerLength += 8;
    }
    let key: Buffer | null = null;
    if (masked) {
      key = await this.read(4);
      headerLength += 4;
    }
    const payload = Buffer.from(await this.read(length));
    if (key !== null) for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i & 3]!;
    return { fin, rsv, opcode, masked, payload, headerLength };
  }

  /** The next data message (fragments assembled), skipping nothing: control frames are returned as they come. */
  async readMessage(): Promise<{ opcode: number; payload: Buffer; frames: number }> {
    const parts: Buffer[] = [];
    let opcode = -1;
    let frames = 0;
    for (;;) {
      const frame = await this.readFrame();
      if (frame.opcode >= 8)
        throw new Error(`expected a data frame, got opcode ${frame.opcode}: ${frame.payload.toString('latin1')}`);
      if (opcode === -1) opcode = frame.opcode;
      parts.push(frame.payload);
      frames++;
      if (frame.fin) return { opcode, payload: Buffer.concat(parts), frames };
    }
  }

  /** Resolves once the server has closed its side (FIN or reset). */
  async waitEnd(): Promise<void> {
    while (!this.ended) await this.#wait();
  }
}
