/**
 * Writes straight to an accepted plain TCP socket's handle, past Node's `Writable`: what
 * `socket.write` does underneath (`internal/stream_base_commons`: a `WriteWrap` request, the
 * handle's `writeBuffer` or `writev`, the outcome in `streamBaseState`), without the stream's state machine,
 * its request per write and the bookkeeping around it. Node internals (the handle's
 * `writeBuffer`; `WriteWrap` and `streamBaseState` from `process.binding('stream_wrap')`, the
 * deprecated but still offered door to them), the same from Node 12 to 24.
 *
 * The transport uses it only while the socket has nothing queued (its `Writable` empty, no
 * write of ours pending). A write the kernel takes at once is then finished when `writeBuffer`
 * returns and Node leaves the request object untouched, so one request serves every such write.
 * A write the kernel takes only in part stays with libuv, which finishes it before any later
 * write on the socket (its queue keeps order, and `socket.end()`'s shutdown waits for it), then
 * calls the request's `oncomplete`; that request is then the write's own, the next gets a fresh one.
 *
 * What it buys (100 connections × 32 B echo, paired rounds, Node 20, 2026-12-07, a loaded 2-core
 * machine): see packages/bench/README.md, "Issue 24". So it stays, guarded: a server uses it only
 * once {@link directWritesWork} has sent known bytes through a loopback socket this way (writes
 * taken at once, one left pending, a public write queued behind it) and got them back intact, in
 * order, with the pending one completed; anything missing or wrong keeps every socket on
 * `socket.write`, and a server can turn it off (`directWrites: false`). Never used for TLS, and
 * not under `--pending-deprecation` (where `process.binding` would print a warning).
 *
 * A Node without `process.binding('stream_wrap')`, or one that refuses it (the permission model
 * throws `ERR_ACCESS_DENIED`), leaves {@link findBinding} empty-handed: every socket keeps
 * `socket.write` (packages/node/test/bin.test.ts runs the echo server so). A Node that made
 * `process.binding` a runtime deprecation would print its warning at the first `listen`: this
 * module would then have to stop asking on that version. No public door reaches the same
 * methods: the `WriteWrap` class can be had from a public write (the handle's `writeBuffer` is
 * handed one), but whether a write stayed with libuv is only in `streamBaseState`, and the
 * handle's `writeQueueSize` is no substitute (libuv may finish the rest of a partial write
 * before `writeBuffer` returns, leaving the queue empty with a completion still to come).
 */
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { type Finish, knownBytes, loopbackRoundTrip, selfTestVerdict } from './self-test.ts';

/** What a TCP handle offers for writing (Node's `TCPWrap`, a `StreamBase`). */
export interface WriteHandle {
  /** 0 when written or queued; a negative errno when the write failed. */
  writeBuffer(req: WriteRequest, data: Uint8Array): number;
  /** The same for several buffers in one vectored write (`allBuffers` true: the array holds only buffers). */
  writev(req: WriteRequest, chunks: Uint8Array[], allBuffers: boolean): number;
}

/** A socket as far as its handle goes (`_handle`: null once destroyed). */
export interface HandleSocket {
  _handle?: WriteHandle | null;
}

/** A `WriteWrap`, with the fields this module gives it. */
interface WriteRequest {
  /** Node calls it on a pending request once libuv is done, with `this` the request: 0 or a negative errno. */
  oncomplete: (this: WriteRequest, status: number) => void;
  /** What the pending write sends, kept alive until it completes. */
  buffer: Uint8Array | Uint8Array[] | null;
  /** Whose pending write it is. */
  owner: DirectWriteOwner | null;
}

/** Told when a write that stayed with libuv has completed: status 0, or a negative errno. */
export interface DirectWriteOwner {
  directWriteDone(status: number): void;
}

interface StreamWrapBinding {
  WriteWrap: new () => WriteRequest;
  streamBaseState: Int32Array;
  kBytesWritten: number;
  kLastWriteWasAsync: number;
}

/** The user asked Node to warn about pending deprecations, `process.binding` among them. */
function pendingDeprecation(): boolean {
  const flag = '--pending-deprecation';
  return (
    process.execArgv.includes(flag) ||
    (process.env.NODE_OPTIONS ?? '').includes(flag) ||
    process.env.NODE_PENDING_DEPRECATION === '1'
  );
}

/** `process.binding('stream_wrap')` if it holds what this module needs; else null. */
function findBinding(): StreamWrapBinding | null {
  try {
    const get = (process as unknown as { binding?: (name: string) => unknown }).binding;
    if (typeof get !== 'function' || pendingDeprecation()) return null;
    const b = get.call(process, 'stream_wrap') as Partial<StreamWrapBinding> | null | undefined;
    if (
      b !== null &&
      typeof b === 'object' &&
      typeof b.WriteWrap === 'function' &&
      b.streamBaseState instanceof Int32Array &&
      typeof b.kBytesWritten === 'number' &&
      typeof b.kLastWriteWasAsync === 'number' &&
      b.kBytesWritten >= 0 &&
      b.kBytesWritten < b.streamBaseState.length &&
      b.kLastWriteWasAsync >= 0 &&
      b.kLastWriteWasAsync < b.streamBaseState.length
    ) {
      return b as StreamWrapBinding;
    }
  } catch {
    // not offered here (a Node without process.binding, another runtime's node:net)
  }
  return null;
}

let binding: StreamWrapBinding | null | undefined;

function onComplete(this: WriteRequest, status: number): void {
  const owner = this.owner;
  this.owner = null;
  this.buffer = null;
  owner?.directWriteDone(status);
}

/** The request shared by writes the kernel takes at once (they leave it untouched). */
let idle: WriteRequest | null = null;

function freshRequest(b: StreamWrapBinding): WriteRequest {
  const req = new b.WriteWrap();
  req.oncomplete = onComplete;
  req.buffer = null;
  req.owner = null;
  return req;
}

/** The socket's handle if it can be written directly: a plain `net.Socket`'s, with `writeBuffer`. */
export function directHandle(socket: net.Socket): WriteHandle | null {
  binding ??= findBinding();
  if (binding === null || socket.constructor !== net.Socket || socket.destroyed || socket.connecting) return null;
  const handle = (socket as HandleSocket)._handle;
  return handle !== null &&
    handle !== undefined &&
    typeof handle.writeBuffer === 'function' &&
    typeof handle.writev === 'function'
    ? handle
    : null;
}

/**
 * Write `data` through `handle` (one {@link directHandle} returned). Returns 0 when the kernel
 * took all of it; a positive byte count when the rest stays with libuv (`owner.directWriteDone`
 * follows, once; `data` must not change until then); a negative errno when the write failed.
 */
export function writeDirect(handle: WriteHandle, data: Uint8Array, owner: DirectWriteOwner): number {
  const b = binding;
  if (b === null || b === undefined) return -1; // never: directHandle() found the binding
  const req = (idle ??= freshRequest(b));
  return outcome(b, req, handle.writeBuffer(req, data), data, owner);
}

/**
 * {@link writeDirect} for several buffers at once, in one vectored write (`chunks`: buffers only,
 * the array only lent for the call: a pending write keeps a copy of it).
 */
export function writevDirect(handle: WriteHandle, chunks: Uint8Array[], owner: DirectWriteOwner): number {
  const b = binding;
  if (b === null || b === undefined) return -1; // never: directHandle() found the binding
  const req = (idle ??= freshRequest(b));
  return outcome(b, req, handle.writev(req, chunks, true), chunks, owner);
}

/** What a write through the handle came to (see {@link writeDirect}); a pending one keeps `data` alive. */
function outcome(
  b: StreamWrapBinding,
  req: WriteRequest,
  error: number,
  data: Uint8Array | Uint8Array[],
  owner: DirectWriteOwner,
): number {
  if (error !== 0) {
    idle = null; // a failed write may have started to use it
    return error < 0 ? error : -1;
  }
  const state = b.streamBaseState;
  if (state[b.kLastWriteWasAsync] === 0) return 0;
  idle = null; // libuv's until the write completes
  req.buffer = Array.isArray(data) ? data.slice() : data;
  req.owner = owner;
  return state[b.kBytesWritten] || 1;
}

/** An error like the one `socket.write` reports for a failed write (`write EPIPE`, with `code`, `errno`, `syscall`). */
export function writeError(errno: number): Error {
  let code: string;
  try {
    code = getSystemErrorName(errno);
  } catch {
    code = `E${-errno}`;
  }
  return Object.assign(new Error(`write ${code}`), { errno, code, syscall: 'write' });
}

// ───────────────────────────── the self-test ─────────────────────────────

/** How long the self-test may take before it counts as failed (it takes a few ms: a few MiB over loopback). */
const SELF_TEST_MS = 3000;
/** The self-test writes blocks of this size until one stays with libuv (the reader is not reading yet), at most MAX_BLOCKS. */
const BLOCK = 64 * 1024;
const MAX_BLOCKS = 1024;
/** The first block is small: a write the kernel takes at once. */
const FIRST = 1000;

/**
 * Make `block` (a copy of the known bytes) block `index`: the index in its first 4 bytes
 * (big-endian), so that a repeated or reordered block would not match either; the first is small.
 */
function stamp(block: Uint8Array, index: number): Uint8Array {
  new DataView(block.buffer, block.byteOffset, 4).setUint32(0, index);
  return block.subarray(0, index === 0 ? FIRST : BLOCK);
}

/** The functions the self-test exercises (replaced by tests to show that it catches faults). */
export interface DirectWriteFunctions {
  directHandle: typeof directHandle;
  writeDirect: typeof writeDirect;
  writevDirect: typeof writevDirect;
}

/**
 * @internal The round trip: a loopback `net.Server` on 127.0.0.1 whose accepted socket is written
 * through its handle: a small write the kernel takes at once, then blocks (single and vectored
 * writes in turn) while the client does not read until one stays with libuv, then a
 * `socket.write` behind it, then `end()`. True when the
 * client then reads exactly those bytes, in order, to the end, and the pending write completed
 * once with status 0. Bounded by `limitMs`; closes everything it opened.
 */
export function directWritesSelfTest(
  functions: DirectWriteFunctions = { directHandle, writeDirect, writevDirect },
  limitMs = SELF_TEST_MS,
): Promise<boolean> {
  let completions = 0;
  let status = 0;
  let sent = 0;
  let reader: net.Socket | null = null;
  let finishRead: Finish | null = null;
  /** What the client has read and checked: `received` bytes in all, up to `readOffset` in block `readIndex`. */
  let received = 0;
  let readIndex = 0;
  let readOffset = 0;
  const owner: DirectWriteOwner = {
    directWriteDone(result) {
      completions++;
      status = result;
    },
  };
  /** Known bytes (see {@link knownBytes}); each block is a copy, stamped. */
  const pattern = knownBytes(BLOCK);
  /** The block the client is reading, as the writer stamped it (in a copy of its own). */
  const expectedBuffer = pattern.slice();
  let expected = stamp(expectedBuffer, 0);
  /**
   * Blocks 0, 1, … through the handle until one stays with libuv, the next with `socket.end`; false
   * if that fails. One buffer, stamped afresh for each block: a write reported as taken at once
   * must have been copied by the kernel (a later stamp would otherwise show in what is read).
   */
  const write = (socket: net.Socket): boolean => {
    const handle = functions.directHandle(socket);
    if (handle === null) return false;
    const buffer = pattern.slice();
    const first = stamp(buffer, 0);
    if (functions.writeDirect(handle, first, owner) !== 0) return false; // taken at once
    sent = first.length;
    for (let index = 1; index <= MAX_BLOCKS; index++) {
      const block = stamp(buffer, index);
      // Every other block as a vectored write of three pieces.
      const result =
        index % 2 === 0
          ? functions.writeDirect(handle, block, owner)
          : functions.writevDirect(
              handle,
              [block.subarray(0, 2), block.subarray(2, 1000), block.subarray(1000)],
              owner,
            );
      if (result < 0) return false;
      sent += block.length;
      if (result === 0) continue;
      // Pending: a public write queues behind it, then the end.
      const last = stamp(pattern.slice(), index + 1);
      sent += last.length;
      socket.end(last);
      return true;
    }
    return false;
  };
  return loopbackRoundTrip(
    limitMs,
    {},
    {
      // The client reads into one buffer through `onread` (public for `net.connect`), checking each
      // read where it landed: reading the few MiB as 'data' events (a Buffer each) took 3–4× as long.
      connectOptions: {
        onread: {
          buffer: new Uint8Array(BLOCK),
          callback(length, buffer) {
            // Compared block by block, wherever the reads cut them.
            for (let i = 0; i < length; ) {
              if (readOffset === expected.length) {
                expected = stamp(expectedBuffer, ++readIndex);
                readOffset = 0;
              }
              const n = Math.min(length - i, expected.length - readOffset);
              if (Buffer.compare(buffer.subarray(i, i + n), expected.subarray(readOffset, readOffset + n)) !== 0) {
                finishRead?.(false);
                return false;
              }
              i += n;
              readOffset += n;
            }
            received += length;
            return true;
          },
        },
      },
      client(socket, finish) {
        reader = socket;
        finishRead = finish;
        socket.pause(); // reads nothing until the blocks have filled the kernel's buffers
        socket.on('end', () => finish(sent > 0 && received === sent && completions === 1 && status === 0));
      },
      accepted(socket, finish) {
        if (write(socket)) reader?.resume();
        else finish(false);
      },
    },
  );
}

const verdict = selfTestVerdict(() => directWritesSelfTest());

/** Run the self-test once per process (later calls share it); resolves with its verdict. */
export const directWritesWork: () => Promise<boolean> = verdict.work;

/** The self-test has passed in this process (false until it has run). */
export const directWritesVerified: () => boolean = verdict.verified;
