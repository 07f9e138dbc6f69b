/**
 * Reads of accepted plain TCP sockets into one buffer shared by every connection, copied out
 * per read, with no `Readable` push and 'data' event: what Node's `onread` option does
 * (documented for `net.connect`). Node offers that option only at construction, so for a socket a
 * `net.Server` accepted it is switched on through the fields the option sets (`kBuffer`,
 * `kBufferCb`, `kBufferGen`, found by description on a probe socket) and the handle's
 * `useUserBuffer`: Node internals, unchanged from Node 12 to 24.
 *
 * What it buys (bench:e2e --quick, 3 interleaved rounds, one run, Node 20, 2026-12-07, on a
 * loaded machine): 221 k against 182 k echoes per server CPU-second with one connection and 32 in
 * flight (1.21×), 38.7 k against 32.1 k with 100 connections (1.21×); idle memory the same. So it
 * stays, guarded: a server uses it only once {@link sharedReadsWork} has sent known bytes through
 * a loopback socket read this way and got them back intact (once per process, at the first
 * `listen`); anything missing or wrong keeps every socket on the public 'data' path, and a server
 * can turn it off (`sharedReadBuffer: false`). Never used for TLS.
 */
import net from 'node:net';
import { Slab } from '@ws/codec';
import { knownBytes, loopbackRoundTrip, selfTestVerdict } from './self-test.ts';

/** How Node's `net.Socket` stores its `onread` option, if this Node stores it as expected. */
interface OnreadFields {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}

interface Handle {
  useUserBuffer?: (buffer: Uint8Array) => void;
}

/** Node calls it with the socket as `this` after each read: `length` bytes at the start of `buffer`. */
export type SharedReadCallback<S extends net.Socket = net.Socket> = (
  this: S,
  length: number,
  buffer: Uint8Array,
) => void;

let onreadFields: OnreadFields | null | undefined;

/**
 * Find the fields behind `net.Socket`'s `onread` option by building one (without a handle, so
 * nothing is opened) and looking for exactly the values passed. Null if anything differs.
 */
function findOnreadFields(): OnreadFields | null {
  if (onreadFields !== undefined) return onreadFields;
  onreadFields = null;
  try {
    const buffer = new Uint8Array(1);
    const callback = (): boolean => true;
    // `onread` is typed for net.connect only; the constructor takes it too.
    const probe = new net.Socket({ onread: { buffer, callback } } as net.SocketConstructorOpts);
    const symbols = Object.getOwnPropertySymbols(probe);
    const named = (description: string): symbol | undefined => symbols.find((s) => s.description === description);
    const kBuffer = named('kBuffer');
    const kBufferCb = named('kBufferCb');
    const kBufferGen = named('kBufferGen');
    const p = probe as unknown as Record<symbol, unknown>;
    if (kBuffer !== undefined && kBufferCb !== undefined && kBufferGen !== undefined) {
      if (p[kBuffer] === buffer && p[kBufferCb] === callback && p[kBufferGen] === null) {
        onreadFields = { buffer: kBuffer, callback: kBufferCb, generator: kBufferGen };
      }
    }
    probe.destroy();
  } catch {
    onreadFields = null;
  }
  return onreadFields;
}

/** What a read lands in: one buffer for every connection, copied out before the next read. */
const READ_SIZE = 64 * 1024;
let readBuffer: Uint8Array | null = null;

/** Copies of reads are cut from slabs, so a small read costs one view, not a buffer of its own. */
const slab = new Slab(64 * 1024);

/** The first `length` bytes of a shared read, in memory of their own (the next read overwrites the buffer). */
export function copyOut(source: Uint8Array, length: number): Uint8Array {
  if (length > slab.size / 4) return source.slice(0, length);
  return slab.copy(length === source.length ? source : source.subarray(0, length));
}

/**
 * Switch a plain TCP socket a `net.Server` has just accepted (nothing read yet, no 'data'
 * listener) to reads into the shared buffer, each reported to `onRead`. False, with the socket
 * left as it was, if it cannot be.
 */
export function readShared<S extends net.Socket>(socket: S, onRead: SharedReadCallback<S>): boolean {
  const fields = findOnreadFields();
  if (fields === null) return false;
  const own = socket as unknown as Record<symbol, unknown>;
  const handle = (socket as unknown as { _handle?: Handle | null })._handle;
  if (
    (socket as net.Socket).constructor !== net.Socket ||
    handle === null ||
    handle === undefined ||
    typeof handle.useUserBuffer !== 'function' ||
    socket.destroyed ||
    socket.connecting ||
    socket.readableLength !== 0 ||
    socket.listenerCount('data') !== 0 ||
    own[fields.buffer] !== null ||
    own[fields.callback] !== null ||
    own[fields.generator] !== null
  ) {
    return false;
  }
  readBuffer ??= new Uint8Array(READ_SIZE);
  own[fields.buffer] = readBuffer;
  own[fields.callback] = onRead;
  handle.useUserBuffer(readBuffer);
  return true;
}

/** How long the self-test may take before it counts as failed (a loopback round trip takes ≈ 1 ms). */
const SELF_TEST_MS = 2000;

/**
 * @internal The round trip: a loopback `net.Server` on 127.0.0.1, its accepted socket switched with
 * `switchOn` (normally {@link readShared}), a client that writes known bytes in two writes and
 * ends; true when exactly those bytes came through the callback, in order, and the socket then
 * ended as usual. Bounded by `limitMs`; closes everything it opened.
 */
export function sharedReadsSelfTest(
  switchOn: typeof readShared = readShared,
  limitMs = SELF_TEST_MS,
): Promise<boolean> {
  const expected = knownBytes(3000);
  const parts: Uint8Array[] = [];
  return loopbackRoundTrip(
    limitMs,
    { allowHalfOpen: true },
    {
      client(socket) {
        socket.once('connect', () => {
          socket.write(expected.subarray(0, 1000));
          socket.end(expected.subarray(1000));
        });
      },
      accepted(socket, finish) {
        if (!switchOn(socket, (length, buffer) => void parts.push(copyOut(buffer, length)))) return finish(false);
        socket.on('end', () => {
          let at = 0;
          let same = true;
          for (const part of parts) {
            same &&=
              at + part.length <= expected.length &&
              Buffer.compare(part, expected.subarray(at, at + part.length)) === 0;
            at += part.length;
          }
          finish(same && at === expected.length);
        });
      },
    },
  );
}

const verdict = selfTestVerdict(() => sharedReadsSelfTest());

/** Run the self-test once per process (later calls share it); resolves with its verdict. */
export const sharedReadsWork: () => Promise<boolean> = verdict.work;

/** The self-test has passed in this process (false until it has run). */
export const sharedReadsVerified: () => boolean = verdict.verified;
