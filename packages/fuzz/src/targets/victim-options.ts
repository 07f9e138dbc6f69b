/**
 * Random options for a victim connection: role, permessage-deflate parameters, streaming mode,
 * small or default limits, timeouts on or off, subprotocols and origins.
 */
import type { PerMessageDeflateOptions } from '../../../codec/src/extensions/permessage-deflate.ts';
import type { Rng } from '../rng.ts';
import type { VictimOptions } from './case.ts';

export function deflateOptions(rng: Rng): PerMessageDeflateOptions {
  const o: PerMessageDeflateOptions = {};
  if (rng.chance(0.3)) o.serverNoContextTakeover = true;
  if (rng.chance(0.3)) o.clientNoContextTakeover = true;
  if (rng.chance(0.3)) o.serverMaxWindowBits = rng.range(8, 15);
  if (rng.chance(0.3)) o.clientMaxWindowBits = rng.range(8, 15);
  if (rng.chance(0.5)) o.threshold = rng.pick([0, 16, 1024]);
  if (rng.chance(0.3)) o.maxDecodeChunk = 1024;
  if (rng.chance(0.5)) o.memLevel = rng.range(1, 4);
  return o;
}

export function victimOptions(rng: Rng, role: 'client' | 'server', deflate: boolean): VictimOptions {
  const options: VictimOptions = { role, randomSeed: rng.u32() || 1 };
  if (deflate) options.deflate = deflateOptions(rng);
  if (rng.chance(0.3)) options.assembleMessages = false;
  if (rng.chance(0.1)) options.autoPong = false;
  if (rng.chance(0.3)) {
    options.limits = {
      maxFrameSize: rng.pick([0, 125, 1000, 70_000]),
      maxMessageSize: rng.pick([0, 100, 2000, 100_000]),
      maxFragments: rng.pick([1, 2, 20, 1000]),
      maxHeadBytes: rng.pick([64, 512, 16 * 1024]),
      maxHeaders: rng.pick([1, 5, 100]),
      maxRejectBodyBytes: rng.pick([0, 10, 64 * 1024]),
    };
  }
  if (rng.chance(0.5)) {
    options.timeouts = {
      handshakeTimeout: rng.pick([0, 1000, 10_000]),
      closeTimeout: rng.pick([0, 1000, 10_000]),
      keepaliveInterval: rng.pick([0, 0, 500, 5000]),
      keepaliveTimeout: rng.pick([100, 20_000]),
      idleTimeout: rng.pick([0, 0, 3000, 60_000]),
    };
  }
  if (role === 'client' && rng.chance(0.4)) options.protocols = ['chat', 'superchat'].slice(0, rng.range(1, 2));
  if (role === 'server' && rng.chance(0.1)) options.origins = ['http://example.test'];
  return options;
}
