// Shorthands for writing cases.
import { toBytes } from '../bytes.ts';
import { Close } from '../frame.ts';
import type { ExpectedClose } from '../case.ts';
import type { Observed } from '../outcome.ts';

export const text = (payload: string | Uint8Array): Observed => ({
  type: 'message',
  binary: false,
  payload: toBytes(payload),
});
export const binary = (payload: string | Uint8Array): Observed => ({
  type: 'message',
  binary: true,
  payload: toBytes(payload),
});
export const ping = (payload: string | Uint8Array = ''): Observed => ({ type: 'ping', payload: toBytes(payload) });
export const pong = (payload: string | Uint8Array = ''): Observed => ({ type: 'pong', payload: toBytes(payload) });
export const timeout = (tag: string): Observed => ({ type: 'timeout', tag });

/** The fuzzer closes, the peer answers with 1000 (or an empty close), cleanly. */
export const NORMAL_CLOSE: ExpectedClose = { closedByMe: true, codes: [Close.normal], requireClean: true };

/** The peer must fail the connection (close frame with one of `codes`, or drop TCP). */
export const peerFails = (...codes: number[]): ExpectedClose => ({ closedByMe: false, codes, requireClean: false });

/** The peer must fail the connection and not leave it to us; invalid UTF-8 cases. */
export const peerFailsFatal = (...codes: number[]): ExpectedClose => ({
  ...peerFails(...codes),
  wrongEndpointIsFatal: true,
});

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** A size for humans: 64K, 4M. */
export const sizeLabel = (n: number): string =>
  n >= MiB && n % MiB === 0 ? `${n / MiB}M` : n >= KiB && n % KiB === 0 ? `${n / KiB}K` : `${n}`;
