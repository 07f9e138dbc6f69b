/**
 * What the transport must do, in order: bytes to write (frames, handshake heads), an HTTP/2
 * header list that goes before them, then a shutdown of our side or a destroy. Frames are
 * serialized here (masked for a client); pongs may be held apart from the writes while the
 * transport is backed up (`holdPongs`), the latest replacing the one before (§5.5.3).
 * `takeOutput()` and `takeWrites()` empty it.
 */
import type { Output } from './events.ts';
import type { HeaderList } from './handshake/extended-connect.ts';
import { COPY_THRESHOLD, firstByte, serializeFrame, unmaskedFrame } from './frame-serializer.ts';
import { Opcode } from './opcode.ts';
import { ON_DESTROY, ON_SHUTDOWN } from './transitions.ts';
import { type ConnectionCore, FRESH_ARRAYS, HOLD_PONGS, NO_WRITES, moveTransport } from './connection-core.ts';

/** Bits of `core.ends`: the transport actions that follow the pending writes, in this order. */
const END_SHUTDOWN = 1;
const END_DESTROY = 2;
/** An HTTP/2 header list (`core.outHead`) goes before the writes. */
const END_HEAD = 4;

/** Where `serializeFrame` puts a frame's buffers, emptied at once: one for all connections. */
const FRAMES: Uint8Array[] = [];
/** Where `takeOutput` gathers the writes, emptied at once. */
const TAKEN: Uint8Array[] = [];

export function write(core: ConnectionCore, data: Uint8Array): void {
  if (core.firstWrite === null) core.firstWrite = data;
  else if (core.moreWrites === NO_WRITES) core.moreWrites = [data];
  else core.moreWrites.push(data);
  core.outBytes += data.length;
}

/** HTTP/2: a header list to send before the writes. */
export function writeHead(core: ConnectionCore, head: HeaderList): void {
  core.outHead = head;
  core.ends |= END_HEAD;
}

/** An HTTP/2 head is waiting to be taken (a client's request head, until `takeOutput()`). */
export function headPending(core: ConnectionCore): boolean {
  return core.outHead !== null;
}

export function writeFrame(core: ConnectionCore, fin: boolean, rsv: number, opcode: number, payload: Uint8Array): void {
  if (opcode === Opcode.Pong) return writePong(core, payload);
  const keys = core.maskKeys;
  if (keys === null && payload.length < COPY_THRESHOLD) {
    // A server's frame in one buffer: the common case, without serializeFrame's argument checks.
    write(core, unmaskedFrame(firstByte(fin, rsv, opcode), payload, (core.flags & FRESH_ARRAYS) !== 0));
    return;
  }
  const frames = FRAMES;
  serializeFrame(
    frames,
    fin,
    rsv,
    opcode,
    payload,
    keys === null ? null : keys.next(),
    (core.flags & FRESH_ARRAYS) !== 0,
  );
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i];
    if (frame !== undefined) write(core, frame);
  }
  // Emptied with pop(): `length = 0` is a runtime call in V8, pop() of one or two is inline.
  while (frames.length > 0) frames.pop();
}

/** A pong (≤ 125 bytes: one buffer): written, or while pongs are held, kept in place of the one held before. */
function writePong(core: ConnectionCore, payload: Uint8Array): void {
  const frames = FRAMES;
  const keys = core.maskKeys;
  serializeFrame(
    frames,
    true,
    0,
    Opcode.Pong,
    payload,
    keys === null ? null : keys.next(),
    (core.flags & FRESH_ARRAYS) !== 0,
  );
  const frame = frames.pop();
  if (frame === undefined) return;
  if ((core.flags & HOLD_PONGS) === 0) return write(core, frame);
  if (core.pong !== null) core.outBytes -= core.pong.length;
  core.pong = frame;
  core.outBytes += frame.length;
}

/** See `Connection.holdPongs`. */
export function holdPongs(core: ConnectionCore, on: boolean): void {
  if (on) {
    core.flags |= HOLD_PONGS;
    return;
  }
  core.flags &= ~HOLD_PONGS;
  releasePong(core);
}

/**
 * A held pong joins the writes, first (it answers a ping older than what was queued since;
 * control frames may go between any two frames, §5.4): so before a Close, a shutdown or a destroy.
 */
export function releasePong(core: ConnectionCore): void {
  const pong = core.pong;
  if (pong === null) return;
  core.pong = null;
  const first = core.firstWrite;
  core.firstWrite = pong;
  if (first !== null) {
    if (core.moreWrites === NO_WRITES) core.moreWrites = [first];
    else core.moreWrites.unshift(first);
  }
}

/** Outputs wait to be taken (a held pong is not one). */
export function hasOutput(core: ConnectionCore): boolean {
  return core.firstWrite !== null || core.ends !== 0;
}

/** See `Connection.takeWrites`. */
export function takeWrites(core: ConnectionCore, into: Uint8Array[]): void {
  // An HTTP/2 head goes first: `takeOutput()` gives it, then these writes.
  const first = core.firstWrite;
  if (first === null || (core.ends & END_HEAD) !== 0) return;
  into.push(first);
  core.firstWrite = null;
  const more = core.moreWrites;
  if (more !== NO_WRITES) {
    for (let i = 0; i < more.length; i++) {
      const data = more[i];
      if (data !== undefined) into.push(data);
    }
    core.moreWrites = NO_WRITES;
  }
  core.outBytes = core.pong === null ? 0 : core.pong.length;
}

/** See `Connection.takeOutput`. */
export function takeOutput(core: ConnectionCore): Output[] {
  const head = core.outHead;
  core.outHead = null;
  core.ends &= ~END_HEAD;
  const out: Output[] = [];
  if (head !== null) out.push({ type: 'head', headers: head });
  // The writes through the shared list (emptied at once): no list of their own, no closure.
  const writes = TAKEN;
  takeWrites(core, writes);
  for (let i = 0; i < writes.length; i++) out.push({ type: 'write', data: writes[i] as Uint8Array });
  while (writes.length > 0) writes.pop();
  if ((core.ends & END_SHUTDOWN) !== 0) out.push({ type: 'shutdown' });
  if ((core.ends & END_DESTROY) !== 0) out.push({ type: 'destroy' });
  core.ends = 0;
  return out;
}

/** Close our side of the transport (TCP's FIN) after the pending writes. */
export function shutdownWrite(core: ConnectionCore): void {
  if (!moveTransport(core, ON_SHUTDOWN)) return; // already shut, or dropped
  releasePong(core);
  core.ends |= END_SHUTDOWN;
}

/**
 * Drop the transport after the pending writes; nothing more comes from this connection. On
 * ON_TIMEOUT: closed's wait for the transport to finish ran out (see transitions.ts).
 */
export function destroy(core: ConnectionCore, input = ON_DESTROY): void {
  if (!moveTransport(core, input)) return; // already dropped, or finished: nothing to drop
  releasePong(core);
  // A head not yet sent has nothing left to open or answer.
  core.outHead = null;
  core.ends &= ~END_HEAD;
  core.ends |= END_DESTROY;
}
