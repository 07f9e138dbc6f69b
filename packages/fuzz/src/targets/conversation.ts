/**
 * The `conversation` target: a connection (either role, optional permessage-deflate, optional
 * streaming mode, small or default limits, timeouts on or off) talking to a well-behaved peer
 * codec, with raw and mutated frames, bad commands, ticks and EOF mixed in. Oracles: the
 * victim's event and output streams stay well-formed; the peer never sees a protocol error (the
 * victim only ever writes valid frames); every message the victim sent reaches the peer; and
 * when nothing was tampered with, every message the peer sent reaches the victim, in order.
 */
import { clientConnection } from '../../../codec/src/client.ts';
import { serverConnection } from '../../../codec/src/server.ts';
import type { Command } from '../../../codec/src/events.ts';
import { pakoPermessageDeflate as permessageDeflate } from '../../../codec/src/extensions/pako-backend.ts';
import type { Timeouts } from '../../../codec/src/limits.ts';
import { seededRandom } from '../../../codec/src/testing/seeded-random.ts';
import { encodeUtf8 } from '../../../codec/src/utf8.ts';
import { concatBytes, encodeFrame, frameRun, frameSpec, mutate, split } from '../generators.ts';
import type { Rng } from '../rng.ts';
import type { Sink } from './case.ts';
import { isPrefix, type Message } from './message.ts';
import { check } from './oracle.ts';
import { Peer, peerCommands } from './peer.ts';
import type { Stats } from './stats.ts';
import { Victim } from './victim.ts';
import { deflateOptions, victimOptions } from './victim-options.ts';

const QUIET: Partial<Timeouts> = { handshakeTimeout: 0, closeTimeout: 0, keepaliveInterval: 0, idleTimeout: 0 };

/** Commands that must be refused with a WebSocketUsageError whatever the state. */
function badCommand(rng: Rng): Command {
  const bad: unknown[] = [
    { type: 'close', code: rng.pick([999, 1004, 1005, 1006, 1015, 2000, 5000, 1.5]) },
    { type: 'close', code: 1000, reason: 'r'.repeat(124) },
    { type: 'close', reason: 'no code' },
    { type: 'ping', data: new Uint8Array(126) },
    { type: 'pong', data: new Uint8Array(200) },
    { type: 'text', data: 42 },
    { type: 'binary', data: 'not bytes' },
    { type: 'fragment', kind: 'json', data: new Uint8Array(1), fin: true },
    { type: 'nope' },
  ];
  return rng.pick(bad) as Command;
}

/** Errors a victim may report on untampered traffic: limits and timeouts. */
const LEGIT_ON_CLEAN = new Set([
  'FRAME_TOO_LARGE',
  'MESSAGE_TOO_LARGE',
  'TOO_MANY_FRAGMENTS',
  'PONG_TIMEOUT',
  'IDLE_TIMEOUT',
  'CLOSE_TIMEOUT',
  'HANDSHAKE_TIMEOUT',
]);

export function conversationCase(rng: Rng, sink: Sink, stats: Stats): void {
  const role = rng.chance(0.5) ? 'server' : 'client';
  const deflate = rng.chance(0.35);
  const options = victimOptions(rng, role, deflate);
  // The peer handshakes normally, so the limits must let a normal handshake through.
  if (options.limits) {
    options.limits.maxHeadBytes = 16 * 1024;
    options.limits.maxHeaders = 100;
  }
  options.origins = null;
  const victim = new Victim(options, sink !== null);
  sink?.({ target: 'connection', options, steps: victim.steps! });
  const peerDeflate = deflate && rng.chance(0.9) ? [permessageDeflate(deflateOptions(rng))] : [];
  const peerConn =
    role === 'server'
      ? clientConnection('ws://example.test/chat', {
          random: seededRandom(rng.u32() || 1),
          extensions: peerDeflate,
          timeouts: QUIET,
          protocols: rng.chance(0.3) ? ['chat'] : [],
        })
      : serverConnection({ extensions: peerDeflate, timeouts: QUIET });
  const peer = new Peer(peerConn);
  let clean = true;
  let victimSending: 'text' | 'binary' | null = null;
  const victimSent: Message[] = [];
  let victimParts: Uint8Array[] = [];

  /** Move bytes both ways until quiet; `tamper` bends what the peer sends this time. */
  const exchange = (tamper: ((bytes: Uint8Array) => Uint8Array) | null): void => {
    for (let round = 0; round < 50; round++) {
      peer.drain();
      let moved = false;
      let toVictim: Uint8Array = new Uint8Array(0);
      let peerEnded = false;
      for (const output of peerConn.takeOutput()) {
        if (output.type === 'write') toVictim = concatBytes([toVictim, output.data]);
        else peerEnded = true;
      }
      if (toVictim.length > 0) {
        moved = true;
        if (tamper !== null) {
          toVictim = tamper(toVictim);
          tamper = null;
        }
        for (const chunk of split(rng, toVictim)) victim.data(chunk);
        if (victim.conn.state === 'awaiting-accept') {
          check(
            victim.send({ type: 'accept', protocol: victim.conn.request?.protocols[0] ?? null }) === null,
            'a valid accept was refused',
          );
        }
      }
      if (peerEnded && !victim.eof) {
        moved = true;
        victim.receiveEof();
      }
      const toPeer = victim.takeWritten();
      if (toPeer.length > 0 && !peer.eof) {
        moved = true;
        for (const chunk of split(rng, toPeer)) peerConn.receiveData(chunk);
      }
      if ((victim.shutdown || victim.destroyed) && !peer.eof) {
        moved = true;
        peer.eof = true;
        peerConn.receiveEof();
      }
      peer.drain();
      if (!moved) return;
    }
  };

  // The handshake: the client side writes first.
  exchange(null);
  const ops = rng.chance(0.1) ? rng.range(10, 30) : rng.range(1, 6);
  for (let i = 0; i < ops; i++) {
    const op = rng.int(100);
    if (op < 38) {
      peer.send(peerCommands(rng));
      exchange(null);
    } else if (op < 46) {
      clean = false;
      const specs = rng.chance(0.5) ? [frameSpec(rng, role === 'server')] : frameRun(rng, role === 'server');
      for (const chunk of split(rng, concatBytes(specs.map((s) => encodeFrame(s, rng))))) victim.data(chunk);
      exchange(null);
    } else if (op < 51) {
      clean = false;
      peer.send(peerCommands(rng));
      exchange((bytes) => mutate(rng, bytes, 2));
    } else if (op < 73) {
      // The victim sends: only what is legal in its state must be accepted.
      if (!victim.conn.canSend) {
        const refused = victim.send(rng.chance(0.5) ? { type: 'text', data: 'late' } : { type: 'ping' });
        check(refused !== null, () => `a send in state ${victim.conn.state} was accepted`);
        if (rng.chance(0.5))
          check(
            victim.send({ type: 'close', code: 1000 }) === null,
            () => `close refused in state ${victim.conn.state}`,
          );
        exchange(null);
        continue;
      }
      const commands = peerCommands(rng);
      for (const command of commands) {
        if (!victim.conn.canSend) break;
        if (victimSending !== null && (command.type === 'text' || command.type === 'binary')) continue;
        if (victimSending !== null && command.type === 'fragment' && command.kind !== victimSending) continue;
        const refused = victim.send(command);
        check(
          refused === null,
          () => `legal ${command.type} refused in state ${victim.conn.state}: ${refused?.message}`,
        );
        if (command.type === 'text') victimSent.push({ kind: 'text', data: encodeUtf8(command.data) });
        else if (command.type === 'binary') victimSent.push({ kind: 'binary', data: command.data.slice() });
        else if (command.type === 'fragment') {
          victimSending = command.fin ? null : command.kind;
          victimParts.push(command.data.slice());
          if (command.fin) {
            victimSent.push({ kind: command.kind, data: concatBytes(victimParts) });
            victimParts = [];
          }
        }
      }
      exchange(null);
    } else if (op < 85) {
      victim.tick(victim.now + rng.pick([1, 100, 499, 500, 1000, 3000, 5000, 20_000, 60_000, 1e7]));
      exchange(null);
    } else if (op < 90) {
      const refused = victim.send(badCommand(rng));
      check(refused !== null, 'a bad command was accepted');
      exchange(null);
    } else if (op < 94) {
      clean = false;
      victim.data(rng.bytes(rng.range(1, 64)));
      exchange(null);
    } else {
      victim.receiveEof();
      exchange(null);
      break;
    }
  }
  exchange(null);
  victim.finish();
  exchange(null);

  // Oracles across the two sides.
  check(peer.error === null, () => `the peer saw a protocol error from the victim's output: ${peer.error}`);
  check(isPrefix(peer.received, victimSent), 'the peer received something other than what the victim sent');
  if (peer.received.length < victimSent.length) {
    // Only an abrupt end may lose messages: EOF before they were written, a destroy, or a failure.
    check(
      victim.destroyed || victim.errorCode !== null || victim.eof,
      'messages the victim sent were lost on a clean close',
    );
  }
  if (clean) {
    check(
      victim.errorCode === null || LEGIT_ON_CLEAN.has(victim.errorCode),
      () => `untampered traffic failed the victim with ${victim.errorCode}`,
    );
    check(isPrefix(victim.messages, peer.sent), 'the victim received something other than what the peer sent');
    if (victim.errorCode === null && !victim.destroyed) {
      check(
        victim.messages.length === peer.sent.length,
        () => `the victim got ${victim.messages.length} of ${peer.sent.length} messages`,
      );
    }
  }
  stats.add(
    `conversation.${role}${deflate ? '.deflate' : ''}${options.assembleMessages === false ? '.streaming' : ''}.${victim.errorCode ?? (victim.conn.closeInfo?.wasClean ? 'clean' : 'abnormal')}`,
  );
}
