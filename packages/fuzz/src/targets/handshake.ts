/**
 * The `handshake` target: a connection fed a generated (often mutated) upgrade request or
 * response, answered by the application (sometimes wrongly), then followed by frames, commands,
 * ticks and EOF.
 */
import {
  concatBytes,
  encodeFrame,
  frameRun,
  frameSpec,
  latin1,
  mutate,
  split,
  upgradeRequest,
  upgradeResponse,
} from '../generators.ts';
import type { Rng } from '../rng.ts';
import type { Sink, VictimOptions } from './case.ts';
import { check } from './oracle.ts';
import type { Stats } from './stats.ts';
import { makeConnection, Victim } from './victim.ts';
import { victimOptions } from './victim-options.ts';

export interface HandshakeBase {
  role: 'client' | 'server';
  options: VictimOptions;
  bytes: Uint8Array;
}

export function handshakeBase(rng: Rng): HandshakeBase {
  const role = rng.chance(0.55) ? 'server' : 'client';
  const options = victimOptions(rng, role, rng.chance(0.4));
  if (role === 'client' && rng.chance(0.2))
    options.url = rng.pick(['wss://example.test:8443/a?b=c', 'ws://[::1]:9/', 'ws://127.0.0.1/']);
  let bytes: Uint8Array;
  if (role === 'server') {
    bytes = latin1(upgradeRequest(rng).text);
  } else {
    // The client's key comes from its seeded random source: make one to learn it.
    const probe = makeConnection(options);
    const request = new TextDecoder('latin1').decode(
      concatBytes(probe.takeOutput().flatMap((o) => (o.type === 'write' ? [o.data] : []))),
    );
    const key = /Sec-WebSocket-Key: ([^\r]*)/.exec(request)?.[1] ?? '';
    bytes = latin1(upgradeResponse(rng, key, options.protocols ?? [], !!options.deflate));
  }
  if (rng.chance(0.3)) {
    const specs = rng.chance(0.5) ? [frameSpec(rng, role === 'server')] : frameRun(rng, role === 'server');
    bytes = concatBytes([bytes, ...specs.map((s) => encodeFrame(s, rng))]);
  }
  return { role, options, bytes };
}

export function handshakeCase(base: HandshakeBase, rng: Rng, sink: Sink, stats: Stats): void {
  const { role, options } = base;
  const victim = new Victim(options, sink !== null);
  sink?.({ target: 'connection', options, steps: victim.steps! });
  victim.takeWritten();
  let bytes = base.bytes;
  if (rng.chance(0.6)) bytes = mutate(rng, bytes, 3);
  for (const chunk of split(rng, bytes)) {
    victim.data(chunk);
    if (rng.chance(0.05)) victim.tick(victim.now + rng.pick([100, 1000, 10_000]));
  }
  // The application's answer to a request, sometimes a wrong one.
  if (victim.conn.state === 'awaiting-accept') {
    const offered = victim.conn.request?.protocols ?? [];
    const choice = rng.int(10);
    if (choice < 6) {
      const protocol = offered.length > 0 && rng.chance(0.7) ? rng.pick(offered) : null;
      check(
        victim.send({ type: 'accept', protocol, extensions: rng.chance(0.9) }) === null,
        'a valid accept was refused',
      );
    } else if (choice < 7) {
      check(
        victim.send({ type: 'accept', protocol: 'never-offered-' + rng.int(9) }) !== null ||
          offered.some((p) => p.startsWith('never-offered-')),
        'accept with a protocol never offered was allowed',
      );
    } else if (choice < 9) {
      const status = rng.pick([400, 401, 403, 404, 500, 503]);
      check(
        victim.send({ type: 'reject', status, body: rng.chance(0.5) ? 'no' : rng.bytes(rng.int(30)) }) === null,
        'a valid reject was refused',
      );
    } else {
      check(
        victim.send({ type: 'reject', status: rng.pick([101, 99, 600, 200.5]) }) !== null,
        'a reject with an impossible status was allowed',
      );
    }
  }
  const more = rng.int(4);
  for (let i = 0; i < more; i++) {
    if (rng.chance(0.5))
      for (const chunk of split(rng, encodeFrame(frameSpec(rng, role === 'server'), rng))) victim.data(chunk);
    else if (rng.chance(0.5)) victim.tick(victim.now + rng.pick([1, 1000, 10_000, 1e9]));
    else if (victim.conn.canSend) check(victim.send({ type: 'text', data: 'hi' }) === null, 'text refused while open');
  }
  victim.finish();
  const first = victim.events.find((e) => e.type === 'protocol-error' || e.type === 'open' || e.type === 'rejected');
  stats.add(
    `handshake.${role}.${first === undefined ? 'none' : first.type === 'protocol-error' ? first.code : first.type}`,
  );
}
