/**
 * The `head` target: the HTTP head parser, requests and responses, under random limits. The
 * result must not depend on how the bytes were split, and a parsed head must then pass through
 * `validateRequest` / `verifyResponse` without throwing.
 */
import { verifyResponse } from '../../../codec/src/handshake/client.ts';
import { validateRequest } from '../../../codec/src/handshake/server.ts';
import { HeadParser } from '../../../codec/src/http/head-parser.ts';
import { concatBytes, latin1, mutate, split, upgradeRequest, upgradeResponse } from '../generators.ts';
import type { Rng } from '../rng.ts';
import { toHex, type Sink } from './case.ts';
import { check } from './oracle.ts';
import type { Stats } from './stats.ts';

type HeadOutcome = string;

function parseHead(
  kind: 'request' | 'response',
  limits: { maxHeadBytes: number; maxHeaders: number },
  chunks: Uint8Array[],
): { outcome: HeadOutcome; head: unknown } {
  const parser = new HeadParser(kind, limits);
  let consumed = 0;
  for (const chunk of chunks) {
    const result = parser.push(chunk);
    if (result === null) {
      consumed += chunk.length;
      continue;
    }
    if (!result.ok) return { outcome: `error ${result.error.code} ${result.error.status}`, head: null };
    const used = consumed + chunk.length - result.rest.length;
    check(used <= limits.maxHeadBytes, () => `head of ${used} bytes accepted over maxHeadBytes ${limits.maxHeadBytes}`);
    const fields = [...result.head.headers];
    check(fields.length <= limits.maxHeaders, 'more headers accepted than maxHeaders');
    const { headers: _, ...start } = result.head;
    return { outcome: `ok ${used} ${JSON.stringify(start)} ${JSON.stringify(fields)}`, head: result.head };
  }
  const end = parser.eof();
  return { outcome: `error ${end.error.code} ${end.error.status}`, head: null };
}

export function runHead(
  kind: 'request' | 'response',
  limits: { maxHeadBytes: number; maxHeaders: number },
  chunks: Uint8Array[],
  key: string,
  protocols: string[],
  stats?: Stats,
): string {
  const whole = concatBytes(chunks);
  const a = parseHead(kind, limits, [whole]);
  const b = parseHead(kind, limits, chunks);
  check(
    a.outcome === b.outcome,
    () => `head parse depends on the split: ${a.outcome.slice(0, 200)} vs ${b.outcome.slice(0, 200)}`,
  );
  stats?.add(`head.${kind}.${a.outcome.startsWith('ok') ? 'ok' : a.outcome.split(' ')[1]}`);
  if (a.head === null) return a.outcome;
  if (kind === 'request') {
    const verdict = validateRequest(a.head as Parameters<typeof validateRequest>[0], {
      origins: protocols.length % 2 === 0 ? null : ['http://example.test'],
    });
    stats?.add(`handshake.server.${verdict.ok ? 'ok' : verdict.code}`);
  } else {
    const verdict = verifyResponse(a.head as Parameters<typeof verifyResponse>[0], {
      key,
      protocols,
      offeredExtensions: ['permessage-deflate'],
    });
    stats?.add(`handshake.client.${verdict.ok ? 'ok' : verdict.code}`);
  }
  return a.outcome;
}

export interface HeadBase {
  kind: 'request' | 'response';
  limits: { maxHeadBytes: number; maxHeaders: number };
  bytes: Uint8Array;
  key: string;
  protocols: string[];
}

export function headBase(rng: Rng): HeadBase {
  const kind = rng.chance(0.6) ? 'request' : 'response';
  const limits = rng.chance(0.5)
    ? { maxHeadBytes: 16 * 1024, maxHeaders: 100 }
    : {
        maxHeadBytes: rng.chance(0.2) ? rng.range(1, 64) : rng.range(64, 70_000),
        maxHeaders: rng.range(1, rng.chance(0.1) ? 5000 : 150),
      };
  let bytes: Uint8Array;
  let key = '';
  let protocols: string[] = [];
  if (rng.chance(0.05)) {
    bytes = rng.bytes(rng.int(400));
  } else if (kind === 'request') {
    const req = upgradeRequest(rng);
    protocols = req.protocols;
    bytes = latin1(req.text);
  } else {
    key = 'dGhlIHNhbXBsZSBub25jZQ==';
    protocols = rng.chance(0.5) ? ['chat', 'superchat'] : [];
    bytes = latin1(upgradeResponse(rng, key, protocols, true));
  }
  return { kind, limits, bytes, key, protocols };
}

export function headCase(base: HeadBase, rng: Rng, sink: Sink, stats: Stats): void {
  const { kind, limits, key, protocols } = base;
  let bytes = base.bytes;
  if (rng.chance(0.75)) bytes = mutate(rng, bytes, 4);
  if (rng.chance(0.05)) bytes = concatBytes([bytes, rng.bytes(rng.int(40))]);
  const chunks = split(rng, bytes);
  sink?.({ target: 'head', kind, limits, chunks: chunks.map(toHex), key, protocols });
  runHead(kind, limits, chunks, key, protocols, stats);
}
