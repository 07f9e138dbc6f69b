// A small, strict WebSocket echo peer — server and Autobahn client loop — with switchable flaws.
// It exists to prove the suite can fail: without flaws it passes every case; each flaw breaks one
// rule of RFC 6455, and the tests check that exactly the cases covering that rule fail.
//
// It parses frames as a stream (payload bytes are checked as they arrive, so invalid UTF-8 fails
// fast even inside one frame), echoes whole messages, answers pings, and closes as the RFC says:
// a close answered with a close, TCP closed by the server. Listens on 127.0.0.1 only.
import { connect, createServer, type Socket } from 'node:net';
import { Buffer } from 'node:buffer';
import { concat } from '../bytes.ts';
import {
  Close,
  Op,
  applyMask,
  closePayload,
  encodeFrame,
  isControlOpcode,
  isKnownOpcode,
  isValidWireCloseCode,
  newMaskKey,
} from '../frame.ts';
import {
  HeadReader,
  buildClientRequest,
  buildErrorResponse,
  buildServerResponse,
  checkClientRequest,
  checkServerResponse,
  newClientKey,
  parseHead,
  parseWsUrl,
} from '../handshake.ts';
import { Utf8Validator, isValidUtf8 } from '../utf8.ts';
import { parseExtensions } from '../deflate.ts';
import zlib from 'node:zlib';

/**
 * - `echo-invalid-utf8`: no UTF-8 check on text messages (they are echoed as they came);
 * - `ignore-rsv`: RSV bits are not checked;
 * - `never-echo-close`: a close frame from the other side is never answered;
 * - `ignore-mask`: the mask bit is not checked (a server accepts unmasked frames, a client masked ones);
 * - `deflate-uncompressed`: (server) negotiates permessage-deflate, then sends messages with RSV1
 *   set but the payload not compressed.
 *
 * The server accepts a permessage-deflate offer (no context takeover both ways: one zlib call per
 * message); the client offers none.
 */
export type Flaw = 'echo-invalid-utf8' | 'ignore-rsv' | 'never-echo-close' | 'ignore-mask' | 'deflate-uncompressed';
export const FLAWS: readonly Flaw[] = [
  'echo-invalid-utf8',
  'ignore-rsv',
  'never-echo-close',
  'ignore-mask',
  'deflate-uncompressed',
];

const MAX_PAYLOAD = 64 * 1024 * 1024;

interface EndpointOptions {
  role: 'server' | 'client';
  flaws: ReadonlySet<Flaw>;
  /** permessage-deflate negotiated: the window bits we compress with. */
  deflate?: { windowBits: number };
  /** Handle a message instead of echoing it. */
  onMessage?: (binary: boolean, payload: Uint8Array) => void;
}

/** One connection after the handshake. */
class Endpoint {
  readonly #socket: Socket;
  readonly #o: EndpointOptions;
  #buffer: Buffer = Buffer.alloc(0);
  // current frame
  #header: {
    fin: boolean;
    opcode: number;
    key: Uint8Array | null;
    length: number;
    done: number;
    discard: boolean;
  } | null = null;
  #control: Uint8Array[] = [];
  // current message
  #message: {
    binary: boolean;
    compressed: boolean;
    parts: Uint8Array[];
    size: number;
    utf8: Utf8Validator | null;
  } | null = null;
  #sentClose = false;
  #gotClose = false;

  constructor(socket: Socket, options: EndpointOptions) {
    this.#socket = socket;
    this.#o = options;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.feed(chunk));
  }

  feed(chunk: Uint8Array): void {
    if (this.#gotClose || this.#socket.destroyed) return;
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : Buffer.from(chunk);
    while (!this.#gotClose && !this.#socket.destroyed) {
      if (!this.#header) {
        if (!this.#readHeader()) return;
      } else if (!this.#readPayload()) return;
    }
  }

  #readHeader(): boolean {
    const b = this.#buffer;
    if (b.length < 2) return false;
    const masked = (b[1]! & 0x80) !== 0;
    let length = b[1]! & 0x7f;
    let at = 2;
    if (length === 126) {
      if (b.length < 4) return false;
      length = b.readUInt16BE(2);
      at = 4;
    } else if (length === 127) {
      if (b.length < 10) return false;
      const big = b.readBigUInt64BE(2);
      if (big > BigInt(MAX_PAYLOAD)) {
        this.#socket.destroy();
        return false;
      }
      length = Number(big);
      at = 10;
    }
    if (b.length < at + (masked ? 4 : 0)) return false;
    const fin = (b[0]! & 0x80) !== 0;
    const rsv = (b[0]! >> 4) & 7;
    const opcode = b[0]! & 0x0f;
    const key = masked ? Buffer.from(b.subarray(at, at + 4)) : null;
    this.#buffer = b.subarray(at + (masked ? 4 : 0));
    const h = { fin, opcode, key, length, done: 0, discard: false };
    this.#header = h;
    this.#control = [];
    // After our close frame only the answering close matters.
    if (this.#sentClose) {
      h.discard = opcode !== Op.close;
      return true;
    }
    const flaws = this.#o.flaws;
    let violation: number | null = null;
    const compressed = this.#o.deflate !== undefined && rsv === 4 && (opcode === Op.text || opcode === Op.binary);
    if (rsv !== 0 && !compressed && !flaws.has('ignore-rsv')) violation = Close.protocolError;
    else if (!isKnownOpcode(opcode)) violation = Close.protocolError;
    else if (!flaws.has('ignore-mask') && masked !== (this.#o.role === 'server')) violation = Close.protocolError;
    else if (isControlOpcode(opcode)) {
      if (!fin || length > 125) violation = Close.protocolError;
    } else if (opcode === Op.continuation) {
      if (!this.#message) violation = Close.protocolError;
    } else if (this.#message) {
      violation = Close.protocolError;
    } else {
      const check = opcode === Op.text && !compressed && !flaws.has('echo-invalid-utf8');
      this.#message = {
        binary: opcode === Op.binary,
        compressed,
        parts: [],
        size: 0,
        utf8: check ? new Utf8Validator() : null,
      };
    }
    if (violation === null && !isControlOpcode(opcode) && this.#message!.size + length > MAX_PAYLOAD)
      violation = Close.messageTooBig;
    // A bad close frame ends the closing handshake too: nothing more will come.
    if (violation !== null) this.#fail(violation, opcode === Op.close);
    return true;
  }

  #readPayload(): boolean {
    const h = this.#header!;
    const take = Math.min(h.length - h.done, this.#buffer.length);
    if (take === 0 && h.length > 0) return false;
    const chunk = Buffer.from(this.#buffer.subarray(0, take));
    this.#buffer = this.#buffer.subarray(take);
    if (h.key) applyMask(chunk, h.key, h.done);
    h.done += take;
    if (h.discard) {
      // skipped: a frame after a violation, or after our close
    } else if (isControlOpcode(h.opcode)) {
      this.#control.push(chunk);
    } else {
      const m = this.#message!;
      m.parts.push(chunk);
      m.size += chunk.length;
      // Fail fast: check each piece as it arrives, not at the end of the frame or message.
      // Mid-frame the rest of the frame may never come, so an answering close could not be found:
      // close TCP right after our close frame.
      if (m.utf8 && !m.utf8.push(chunk)) this.#fail(Close.invalidPayload, h.done < h.length);
    }
    if (h.done < h.length) return false;
    this.#header = null;
    if (h.discard) return true;
    if (isControlOpcode(h.opcode)) this.#onControl(h.opcode, concat(this.#control));
    else if (h.fin) {
      const m = this.#message!;
      this.#message = null;
      if (m.utf8 && !m.utf8.complete) {
        this.#fail(Close.invalidPayload);
        return true;
      }
      let payload = concat(m.parts);
      if (m.compressed) {
        try {
          payload = zlib.inflateRawSync(Buffer.concat([payload, DEFLATE_TAIL]), {
            finishFlush: zlib.constants.Z_SYNC_FLUSH,
          });
        } catch {
          this.#fail(Close.invalidPayload);
          return true;
        }
        if (!m.binary && !isValidUtf8(payload) && !this.#o.flaws.has('echo-invalid-utf8')) {
          this.#fail(Close.invalidPayload);
          return true;
        }
      }
      if (this.#o.onMessage) this.#o.onMessage(m.binary, payload);
      else this.#send(m.binary ? Op.binary : Op.text, payload);
    }
    return true;
  }

  #onControl(opcode: number, payload: Uint8Array): void {
    if (opcode === Op.ping) {
      if (!this.#sentClose) this.#send(Op.pong, payload);
      return;
    }
    if (opcode !== Op.close) return;
    // A bad close frame: answer with our close and end; the closing handshake is over.
    if (payload.length === 1) return this.#fail(Close.protocolError, true);
    let code: number | undefined;
    if (payload.length >= 2) {
      code = (payload[0]! << 8) | payload[1]!;
      if (!isValidWireCloseCode(code)) return this.#fail(Close.protocolError, true);
      if (!isValidUtf8(payload.subarray(2))) return this.#fail(Close.invalidPayload, true);
    }
    if (!this.#sentClose && this.#o.flaws.has('never-echo-close')) return;
    this.#gotClose = true;
    if (!this.#sentClose) {
      this.#sentClose = true;
      this.#send(Op.close, closePayload(code));
    }
    this.#finish();
  }

  /** Both close frames are out: the server closes TCP, a client waits for it (then gives up). */
  #finish(): void {
    if (this.#o.role === 'server') this.#socket.end();
    setTimeout(() => this.#socket.destroy(), 1000).unref();
  }

  /**
   * Fail the connection: send a close frame, then wait (bounded) for the answering close — or,
   * with `closeNow` (the other side's close frame is in, or cannot be found), close TCP at once.
   */
  #fail(code: number, closeNow = false): void {
    if (this.#header) this.#header.discard = true;
    this.#message = null;
    if (this.#sentClose) {
      this.#socket.destroy();
      return;
    }
    this.#sentClose = true;
    this.#send(Op.close, closePayload(code));
    if (closeNow) {
      this.#gotClose = true;
      this.#finish();
    } else {
      setTimeout(() => this.#socket.destroy(), 1000).unref();
    }
  }

  #send(opcode: number, payload: Uint8Array): void {
    if (this.#socket.destroyed || !this.#socket.writable) return;
    let rsv = 0;
    if (this.#o.deflate && (opcode === Op.text || opcode === Op.binary)) {
      rsv = 4;
      if (!this.#o.flaws.has('deflate-uncompressed')) {
        const out = zlib.deflateRawSync(payload, {
          windowBits: this.#o.deflate.windowBits,
          finishFlush: zlib.constants.Z_SYNC_FLUSH,
        });
        payload = out.subarray(0, out.length - 4); // without 00 00 ff ff
      }
    }
    this.#socket.write(encodeFrame({ opcode, payload, rsv }, this.#o.role === 'client' ? newMaskKey() : null));
  }
}

const DEFLATE_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** The first permessage-deflate offer, accepted with no context takeover both ways (and the server window asked for). */
function acceptOffer(value: string | undefined): { header: string; windowBits: number } | null {
  const exts = value === undefined ? [] : parseExtensions(value);
  if (typeof exts === 'string') return null;
  const offer = exts.find((e) => e.name === 'permessage-deflate');
  if (!offer) return null;
  const smwb = offer.params.get('server_max_window_bits');
  const windowBits = typeof smwb === 'string' && Number(smwb) >= 9 && Number(smwb) <= 15 ? Number(smwb) : 15;
  const header = `permessage-deflate; server_no_context_takeover; client_no_context_takeover${windowBits < 15 || smwb ? `; server_max_window_bits=${windowBits}` : ''}`;
  return { header, windowBits };
}

export interface MiniServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** An echo server with the given flaws on 127.0.0.1 (port 0: any free port). */
export function startMiniServer(flaws: readonly Flaw[] = [], port = 0): Promise<MiniServer> {
  const flawSet = new Set(flaws);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const reader = new HeadReader();
    const onData = (chunk: Buffer): void => {
      const got = reader.push(chunk);
      if (got === 'more') return;
      socket.off('data', onData);
      const request = got === 'too-large' ? 'too large' : checkClientRequest(parseHead(got.head));
      if (typeof request === 'string' || got === 'too-large') {
        socket.end(buildErrorResponse(400, 'Bad Request'));
        return;
      }
      const deflate = acceptOffer(request.extensions);
      socket.write(buildServerResponse(request.key, deflate?.header));
      const endpoint = new Endpoint(socket, { role: 'server', flaws: flawSet, ...(deflate ? { deflate } : {}) });
      if (got.rest.length) endpoint.feed(got.rest);
    };
    socket.on('data', onData);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      resolve({
        url: `ws://127.0.0.1:${bound}`,
        port: bound,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** One client session against `url`; resolves when the connection is gone (bounded). */
function clientSession(
  url: string,
  flaws: ReadonlySet<Flaw>,
  onMessage?: (binary: boolean, payload: Uint8Array) => void,
): Promise<void> {
  const target = parseWsUrl(url);
  return new Promise((resolve) => {
    const key = newClientKey();
    const reader = new HeadReader();
    const socket = connect({ host: target.host, port: target.port });
    const timer = setTimeout(() => socket.destroy(), 120_000);
    socket.on('error', () => {});
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('connect', () => socket.write(buildClientRequest(target, key)));
    const onData = (chunk: Buffer): void => {
      const got = reader.push(chunk);
      if (got === 'more') return;
      socket.off('data', onData);
      if (got === 'too-large' || checkServerResponse(parseHead(got.head), key) !== null) {
        socket.destroy();
        return;
      }
      const endpoint = new Endpoint(socket, { role: 'client', flaws, ...(onMessage ? { onMessage } : {}) });
      if (got.rest.length) endpoint.feed(got.rest);
    };
    socket.on('data', onData);
  });
}

/** The Autobahn client loop with the given flaws: every case of the fuzzing server at `url`. */
export async function runMiniClient(url: string, agent: string, flaws: readonly Flaw[] = []): Promise<number> {
  const base = url.replace(/\/+$/, '');
  const flawSet = new Set(flaws);
  let count = 0;
  await clientSession(
    `${base}/getCaseCount`,
    flawSet,
    (_binary, payload) => (count = Number(Buffer.from(payload).toString())),
  );
  const a = encodeURIComponent(agent);
  for (let i = 1; i <= count; i++) await clientSession(`${base}/runCase?case=${i}&agent=${a}`, flawSet);
  await clientSession(`${base}/updateReports?agent=${a}`, flawSet, () => {});
  return count;
}
