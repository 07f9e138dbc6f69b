// The fuzzer's side of one WebSocket connection, after the opening handshake: it sends whatever a
// case asks for (legal or not, whole or chopped, with pauses) and judges everything the peer sends
// the way Autobahn's fuzzer does, keeping the facts a verdict needs: who started the closing
// handshake, who failed or dropped the connection, whether the close was clean, the close codes.
//
// Behaviour mirrors the Autobahn|Testsuite fuzzer run with `failByDrop: false`:
//   - a protocol violation by the peer fails the connection: a close frame (1002, or 1007 for
//     invalid UTF-8) when open, dropping TCP when already closing;
//   - we wait `closeHandshakeTimeout` (1 s) for the peer's close after ours, then drop TCP;
//   - as a client, after the closing handshake we wait `serverDropTimeout` (1 s) for the server to
//     close TCP (its duty, RFC 6455 §7.1.1); as a server we close it ourselves;
//   - "clean" means both close frames were exchanged and TCP closed by the right side in time.
// One deliberate difference: the peer's close code is recorded even when it is not a valid code,
// so a peer that echoes an invalid code gets "wrong code" instead of passing unnoticed.
import type { Socket } from 'node:net';
import { Buffer } from 'node:buffer';
import { concat } from './bytes.ts';
import {
  Close,
  Op,
  closePayload,
  encodeFrame,
  isControlOpcode,
  isKnownOpcode,
  isValidWireCloseCode,
  newMaskKey,
  type FrameSpec,
} from './frame.ts';
import { FrameReader, type ReadFrame } from './frame-reader.ts';
import type { Observed } from './outcome.ts';
import { Utf8Validator, isValidUtf8 } from './utf8.ts';
import { DeflateCodec, type DeflateAgreed } from './deflate.ts';

/** Which side the fuzzer plays: `client` tests a server, `server` tests a client. */
export type FuzzRole = 'client' | 'server';

export interface Timing {
  /** Multiplies every delay and timeout (cases' waits included). Default 1, as in Autobahn. */
  scale: number;
  /** Seconds to wait for the peer's close frame after ours (Autobahn: 1). */
  closeHandshakeTimeout: number;
  /** Seconds a client waits for the server to close TCP after the closing handshake (Autobahn: 1). */
  serverDropTimeout: number;
}

export const DEFAULT_TIMING: Timing = { scale: 1, closeHandshakeTimeout: 1, serverDropTimeout: 1 };

export interface SendOptions {
  /** Write in pieces of this many bytes, yielding to the event loop between pieces. */
  chop?: number;
  /** Yield to the event loop after writing (Autobahn's `sync`): frames go out as separate writes. */
  sync?: boolean;
}

export interface FrameSendSpec extends FrameSpec, SendOptions {
  /** `flip` masks a frame our role must not mask, or leaves unmasked one it must. */
  mask?: 'auto' | 'flip';
}

/** Largest message or frame we accept from a peer (the suite sends up to 16 MiB). */
const MAX_PAYLOAD = 64 * 1024 * 1024;

type State = 'open' | 'closing' | 'closed';

export class FuzzConnection {
  state: State = 'open';
  closedByMe = false;
  failedByMe = false;
  droppedByMe = false;
  wasClean = false;
  wasNotCleanReason: string | null = null;
  wasCloseHandshakeTimeout = false;
  wasServerConnectionDropTimeout = false;
  localCloseCode: number | null = null;
  localCloseReason: string | null = null;
  remoteCloseCode: number | null = null;
  remoteCloseReason: string | null = null;
  /** Protocol violations we saw from the peer, in order. */
  readonly violations: string[] = [];
  /** Frames we sent, by opcode. */
  readonly txFrames = new Map<number, number>();
  /** What the peer did: messages, pings, pongs. */
  onEvent: (event: Observed) => void = () => {};
  /** Resolves once the TCP connection is gone. */
  readonly lost: Promise<void>;
  /** permessage-deflate as negotiated in the opening handshake (sections 12, 13), else null. */
  readonly deflate: DeflateCodec | null;

  readonly #socket: Socket;
  readonly #role: FuzzRole;
  readonly #timing: Timing;
  readonly #reader = new FrameReader(MAX_PAYLOAD);
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #queue = new SendQueue();
  #pumping = false;
  #peerClosed = false; // the peer's close frame has arrived: ignore what follows
  #message: {
    binary: boolean;
    compressed: boolean;
    parts: Uint8Array[];
    size: number;
    utf8: Utf8Validator | null;
  } | null = null;

  constructor(socket: Socket, role: FuzzRole, timing: Timing = DEFAULT_TIMING, deflate: DeflateAgreed | null = null) {
    this.#socket = socket;
    this.deflate = deflate ? new DeflateCodec(deflate, role) : null;
    this.#role = role;
    this.#timing = timing;
    socket.setNoDelay(true);
    socket.on('error', () => {}); // resets and broken pipes end up as 'close'
    this.lost = new Promise((resolve) => {
      socket.once('close', () => {
        this.#onLost();
        this.deflate?.close();
        resolve();
      });
    });
    socket.on('data', (chunk: Buffer) => this.feed(chunk));
  }

  get role(): FuzzRole {
    return this.#role;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  // ---- sending ------------------------------------------------------------------------------

  /** One frame as specified; masked as our role requires unless `mask: 'flip'`. */
  sendFrame(spec: FrameSendSpec): void {
    this.sendRaw(this.encode(spec), spec);
    this.txFrames.set(spec.opcode, (this.txFrames.get(spec.opcode) ?? 0) + 1);
  }

  /** The bytes of one frame, masked as our role requires (for sending a frame in timed pieces). */
  encode(spec: FrameSpec & { mask?: 'auto' | 'flip' }): Uint8Array {
    const masked = (this.#role === 'client') !== (spec.mask === 'flip');
    return encodeFrame(spec, masked ? newMaskKey() : null);
  }

  /** Bytes as they are. */
  sendRaw(bytes: Uint8Array, options: SendOptions = {}): void {
    if (this.state === 'closed') return;
    this.#queue.push({ bytes, chop: options.chop ?? 0, sync: options.sync ?? false });
    void this.#pump();
  }

  /**
   * A message, in frames of at most `fragmentSize` payload bytes when given. With permessage-deflate
   * negotiated it is compressed first (RSV1 on the first frame) and the compressed bytes fragmented.
   */
  sendMessage(binary: boolean, payload: Uint8Array, fragmentSize = 0, options: SendOptions = {}): void {
    const opcode = binary ? Op.binary : Op.text;
    const rsv = this.deflate ? 4 : 0;
    if (this.deflate && this.state !== 'closed') payload = this.deflate.compress(payload);
    if (!fragmentSize || payload.length <= fragmentSize) {
      this.sendFrame({ opcode, payload, rsv, ...options });
      return;
    }
    for (let at = 0; at < payload.length; at += fragmentSize) {
      const end = Math.min(at + fragmentSize, payload.length);
      this.sendFrame({
        opcode: at === 0 ? opcode : Op.continuation,
        fin: end === payload.length,
        rsv: at === 0 ? rsv : 0,
        payload: payload.subarray(at, end),
        ...options,
      });
    }
  }

  /**
   * Start (or answer) the closing handshake with a close frame carrying `code` and `reason` as
   * given (not validated: cases send bad ones on purpose). Only while open; returns whether sent.
   */
  sendClose(code?: number, reason?: string | Uint8Array, isReply = false): boolean {
    if (this.state !== 'open') return false;
    this.sendFrame({ opcode: Op.close, payload: closePayload(code, reason) });
    this.state = 'closing';
    this.closedByMe = !isReply;
    this.localCloseCode = code ?? null;
    this.localCloseReason =
      reason === undefined ? null : typeof reason === 'string' ? reason : Buffer.from(reason).toString('hex');
    if (this.closedByMe) {
      this.after(this.#timing.closeHandshakeTimeout, () => {
        this.wasCloseHandshakeTimeout = true;
        this.#unclean('peer did not respond (in time) in closing handshake');
        this.drop();
      });
    }
    return true;
  }

  /** Fail the connection as Autobahn does with `failByDrop: false`. */
  fail(code: number, why: string): void {
    if (this.state === 'closed') return;
    this.failedByMe = true;
    this.#unclean(`I failed the WebSocket connection: ${why}`);
    if (this.state === 'open') {
      this.#queue.clear(); // what we had not written yet no longer matters
      this.sendClose(code, why.slice(0, 123));
      // The peer already sent its close frame: no reply will come.
      if (this.#peerClosed) this.drop();
    } else {
      this.drop();
    }
  }

  /** Close TCP: gracefully (FIN after pending writes) or at once. */
  drop(graceful = false): void {
    if (this.state === 'closed' || this.#socket.destroyed) return;
    this.droppedByMe = true;
    if (graceful) {
      this.#socket.end();
      this.after(1, () => this.#socket.destroy());
    } else {
      this.#queue.clear();
      this.#socket.destroy();
    }
  }

  // ---- timers -------------------------------------------------------------------------------

  /** Run `fn` after `seconds` (scaled) unless the connection is gone by then. */
  after(seconds: number, fn: () => void): void {
    const timer = setTimeout(
      () => {
        this.#timers.delete(timer);
        if (this.state !== 'closed') fn();
      },
      seconds * 1000 * this.#timing.scale,
    );
    this.#timers.add(timer);
  }

  // ---- receiving ----------------------------------------------------------------------------

  /** Bytes from the peer (the socket's data, and whatever followed the handshake head). */
  feed(chunk: Uint8Array): void {
    if (this.#ignoring()) return;
    this.#reader.push(chunk);
    for (;;) {
      if (this.#ignoring()) return; // a frame may have ended the connection
      const next = this.#reader.next();
      if (next === null) return;
      if (next.type === 'too-large') {
        this.#violation(`frame of ${next.length} bytes exceeds the suite's limit`, Close.messageTooBig);
        return;
      }
      this.#onFrame(next.frame);
    }
  }

  /** Nothing the peer sends matters any more. */
  #ignoring(): boolean {
    return this.state === 'closed' || this.#peerClosed;
  }

  #violation(why: string, code: number = Close.protocolError): void {
    this.violations.push(why);
    this.fail(code, why);
  }

  #onFrame(frame: ReadFrame): void {
    const compressedStart =
      this.deflate !== null && frame.rsv === 4 && (frame.opcode === Op.text || frame.opcode === Op.binary);
    if (frame.rsv !== 0 && !compressedStart) {
      return this.#violation(
        this.deflate
          ? `RSV bits ${frame.rsv} on a ${isControlOpcode(frame.opcode) ? 'control' : 'continuation'} frame`
          : `RSV bits ${frame.rsv} set without a negotiated extension`,
      );
    }
    if (!isKnownOpcode(frame.opcode)) return this.#violation(`reserved opcode ${frame.opcode}`);
    if (this.#role === 'client' && frame.masked) return this.#violation('masked frame from server');
    if (this.#role === 'server' && !frame.masked) return this.#violation('unmasked frame from client');
    if (isControlOpcode(frame.opcode)) {
      if (!frame.fin) return this.#violation('fragmented control frame');
      if (frame.payload.length > 125) return this.#violation(`control frame with ${frame.payload.length}-byte payload`);
    }
    switch (frame.opcode) {
      case Op.close:
        return this.#onClose(frame.payload);
      case Op.ping:
        this.onEvent({ type: 'ping', payload: frame.payload });
        if (this.state === 'open') this.sendFrame({ opcode: Op.pong, payload: frame.payload });
        return;
      case Op.pong:
        return this.onEvent({ type: 'pong', payload: frame.payload });
      case Op.text:
      case Op.binary:
        if (this.#message) return this.#violation('new data frame while a fragmented message is in progress');
        this.#message = {
          binary: frame.opcode === Op.binary,
          compressed: compressedStart,
          parts: [],
          size: 0,
          utf8: frame.opcode === Op.text && !compressedStart ? new Utf8Validator() : null,
        };
        return this.#onData(frame);
      default: // continuation
        if (!this.#message) return this.#violation('continuation frame with no message to continue');
        return this.#onData(frame);
    }
  }

  #onData(frame: ReadFrame): void {
    const message = this.#message!;
    message.parts.push(frame.payload);
    message.size += frame.payload.length;
    if (message.size > MAX_PAYLOAD) return this.#violation(`message over ${MAX_PAYLOAD} bytes`, Close.messageTooBig);
    if (message.utf8 && !message.utf8.push(frame.payload))
      return this.#violation('invalid UTF-8 in text message', Close.invalidPayload);
    if (!frame.fin) return;
    this.#message = null;
    if (message.utf8 && !message.utf8.complete)
      return this.#violation('text message ends inside a UTF-8 sequence', Close.invalidPayload);
    let payload = message.parts.length === 1 ? message.parts[0]! : concat(message.parts);
    if (message.compressed) {
      try {
        payload = this.deflate!.decompress(payload);
      } catch (error) {
        return this.#violation(`invalid compressed message: ${(error as Error).message}`, Close.invalidPayload);
      }
      if (payload.length > MAX_PAYLOAD)
        return this.#violation(`message over ${MAX_PAYLOAD} bytes`, Close.messageTooBig);
      if (!message.binary && !isValidUtf8(payload))
        return this.#violation('invalid UTF-8 in (compressed) text message', Close.invalidPayload);
    }
    this.onEvent({ type: 'message', binary: message.binary, payload });
  }

  #onClose(payload: Uint8Array): void {
    this.#peerClosed = true;
    let code: number | null = null;
    if (payload.length === 1) return this.#violation('close frame with a 1-byte payload');
    if (payload.length >= 2) {
      code = (payload[0]! << 8) | payload[1]!;
      this.remoteCloseCode = code;
      const reason = payload.subarray(2);
      if (!isValidWireCloseCode(code)) return this.#violation(`invalid close code ${code}`);
      if (!isValidUtf8(reason)) return this.#violation('close reason is not valid UTF-8', Close.invalidPayload);
      this.remoteCloseReason = Buffer.from(reason).toString('utf8');
    }
    if (this.state === 'closing') {
      // The answer to our close (or the peer's own close crossing ours).
      this.wasClean = true;
      this.wasNotCleanReason = null;
      this.#clearTimers();
    } else {
      // The peer started the closing handshake: answer it, ahead of anything still queued (the
      // peer ignores data after its close; a frame already being written is finished first).
      this.wasClean = true;
      this.#queue.clear();
      this.sendClose(code === null ? undefined : Close.normal, undefined, true);
    }
    if (this.#role === 'server') {
      this.drop(true);
    } else {
      this.after(this.#timing.serverDropTimeout, () => {
        this.wasServerConnectionDropTimeout = true;
        this.#unclean('server did not drop TCP connection (in time)');
        this.drop();
      });
    }
  }

  #unclean(why: string): void {
    this.wasClean = false;
    this.wasNotCleanReason ??= why;
  }

  #onLost(): void {
    const wasClosing = this.state;
    this.state = 'closed';
    this.#queue.clear();
    this.#clearTimers();
    if (!this.wasClean && this.wasNotCleanReason === null) {
      this.wasNotCleanReason =
        wasClosing === 'open'
          ? 'peer dropped the TCP connection without previous WebSocket closing handshake'
          : 'peer dropped the TCP connection during the closing handshake';
    }
  }

  #clearTimers(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.size > 0 && !this.#socket.destroyed) {
        const item = this.#queue.shift()!;
        if (item.chop > 0) {
          for (let at = 0; at < item.bytes.length && !this.#socket.destroyed; at += item.chop) {
            await this.#write(item.bytes.subarray(at, at + item.chop));
            await yieldToLoop();
          }
        } else if (item.sync) {
          await this.#write(item.bytes);
          await yieldToLoop();
        } else {
          // Plain frames queued back to back go out together, as they would from a socket buffer
          // (thousands of tiny frames, e.g. 9.3.1, would otherwise cost one segment each).
          const batch = [item.bytes];
          let size = item.bytes.length;
          while (
            size < 256 * 1024 &&
            this.#queue.size > 0 &&
            this.#queue.peek()!.chop === 0 &&
            !this.#queue.peek()!.sync
          ) {
            const more = this.#queue.shift()!.bytes;
            batch.push(more);
            size += more.length;
          }
          await this.#write(batch.length === 1 ? item.bytes : concat(batch));
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  #write(bytes: Uint8Array): Promise<void> {
    if (this.#socket.destroyed || !this.#socket.writable) return Promise.resolve();
    if (this.#socket.write(bytes)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.#socket.off('drain', done);
        this.#socket.off('close', done);
        resolve();
      };
      this.#socket.once('drain', done);
      this.#socket.once('close', done);
    });
  }
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface QueueItem {
  bytes: Uint8Array;
  chop: number;
  sync: boolean;
}

/** FIFO with O(1) shift (an array's shift is O(n); 9.3.1 queues 65536 frames). */
class SendQueue {
  #items: QueueItem[] = [];
  #head = 0;
  get size(): number {
    return this.#items.length - this.#head;
  }
  push(item: QueueItem): void {
    this.#items.push(item);
  }
  peek(): QueueItem | undefined {
    return this.#items[this.#head];
  }
  shift(): QueueItem | undefined {
    const item = this.#items[this.#head];
    if (item === undefined) return undefined;
    this.#items[this.#head++] = undefined as unknown as QueueItem;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}
