// A suite that cannot fail is worthless. The mini-peer (src/testing/mini-peer.ts) is a small
// strict echo server and Autobahn client: without flaws it passes every case; with one flaw it
// must fail exactly the cases that cover the broken rule — no more, no fewer.
import { afterAll, describe, it, type ExpectStatic } from 'vitest';
import {
  FuzzingServer,
  UTF8_GROUPS,
  allCases,
  runAgainstServer,
  runMiniClient,
  selectCases,
  startMiniServer,
  type CaseDef,
  type CaseResult,
  type Flaw,
  type MiniServer,
} from '../src/index.ts';
import { INFORMATIONAL_CASES, explain } from './helpers/peers.ts';

const QUICK = allCases({ quick: true });

/** Every case's outcome: FAILED for `failing`, INFORMATIONAL where the spec leaves it open, else OK. */
function expectExactly(expect: ExpectStatic, results: readonly CaseResult[], failing: ReadonlySet<string>): void {
  const got = Object.fromEntries(results.map((r) => [r.id, r.outcome]));
  const want = Object.fromEntries(
    results.map((r) => [
      r.id,
      failing.has(r.id) ? 'FAILED' : INFORMATIONAL_CASES.includes(r.id) ? 'INFORMATIONAL' : 'OK',
    ]),
  );
  expect(got, explain(results)).toEqual(want);
}

/** The text cases whose payload is invalid UTF-8. */
const INVALID_UTF8 = new Set([
  '6.3.1',
  '6.3.2',
  '6.4.1',
  '6.4.2',
  '6.4.3',
  '6.4.4',
  ...UTF8_GROUPS.flatMap((g, i) => g.vectors.map((v, j) => (v.valid ? '' : `6.${5 + i}.${j + 1}`)).filter(Boolean)),
]);

async function againstServer(flaws: Flaw[], defs: readonly CaseDef[], concurrency = 4): Promise<CaseResult[]> {
  const server: MiniServer = await startMiniServer(flaws);
  try {
    return await runAgainstServer({ url: server.url, cases: defs, concurrency });
  } finally {
    await server.close();
  }
}

// The runs are independent (each has its own server) and mostly wait on timers: run them at once.
describe.concurrent('fuzzing client against the mini-peer server', () => {
  it('passes every case without flaws', async ({ expect }) => {
    expectExactly(expect, await againstServer([], QUICK), new Set());
  });

  it('echo-invalid-utf8: fails every invalid UTF-8 case (6.3, 6.4 and the invalid 6.5–6.23 vectors), nothing else', async ({
    expect,
  }) => {
    expect(INVALID_UTF8.size).toBe(6 + 69);
    expectExactly(
      expect,
      await againstServer(['echo-invalid-utf8'], selectCases(QUICK, [], ['9', '12', '13'])),
      INVALID_UTF8,
    );
  });

  it('ignore-rsv: fails 3.1–3.6 (3.7, a close frame with RSV bits, is answered by a normal close, which Autobahn accepts)', async ({
    expect,
  }) => {
    expectExactly(
      expect,
      await againstServer(['ignore-rsv'], selectCases(QUICK, [], ['9', '12', '13'])),
      new Set(['3.1', '3.2', '3.3', '3.4', '3.5', '3.6']),
    );
  });

  it('ignore-mask: a server that accepts unmasked client frames fails section 14, nothing else', async ({ expect }) => {
    expectExactly(
      expect,
      await againstServer(['ignore-mask'], selectCases(QUICK, [], ['9', '12', '13'])),
      new Set(['14.1.1', '14.1.2', '14.1.3']),
    );
  });

  it('deflate-uncompressed: RSV1 set on uncompressed data fails every compression case (all of 12, 13.1, 13.7), nothing else', async ({
    expect,
  }) => {
    const defs = selectCases(QUICK, ['1.1', '12', '13.1', '13.7']);
    const failing = new Set(defs.filter((d) => d.id.startsWith('12.') || d.id.startsWith('13.')).map((d) => d.id));
    expect(failing.size).toBe(90 + 36);
    const results = await againstServer(['deflate-uncompressed'], defs, 8);
    expectExactly(expect, results, failing);
    expect(results.find((r) => r.id === '12.1.1')!.reason).toMatch(/invalid compressed message/);
  });

  it('never-echo-close: fails every case where we close and the spec requires a clean close', async ({ expect }) => {
    const defs = selectCases(QUICK, ['1', '2', '5', '7', '10']);
    const failing = new Set(
      defs
        .filter((d) => d.close.closedByMe && d.close.requireClean && !INFORMATIONAL_CASES.includes(d.id))
        .map((d) => d.id),
    );
    expect(failing.size).toBeGreaterThan(40);
    expectExactly(expect, await againstServer(['never-echo-close'], defs, 12), failing);
  });
});

describe.concurrent('fuzzing server against the mini-peer Autobahn client', () => {
  const servers: FuzzingServer[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.close())));

  const run = async (expect: ExpectStatic, defs: readonly CaseDef[], flaws: Flaw[]): Promise<CaseResult[]> => {
    const server = await FuzzingServer.start({ cases: defs });
    servers.push(server);
    const agent = `mini ${flaws.join(' ')}`;
    expect(await runMiniClient(server.url, agent, flaws)).toBe(defs.length);
    expect(server.reported(agent)).toBe(true);
    return defs.map((d) => server.results(agent).get(d.id)!);
  };

  // The mini client offers no permessage-deflate: 12 and 13 would be UNIMPLEMENTED.
  it('passes every case without flaws', async ({ expect }) => {
    expectExactly(expect, await run(expect, selectCases(QUICK, [], ['12', '13']), []), new Set());
  });

  const flawed = selectCases(QUICK, ['6', '14'], ['6.4']); // 6.4 (timed) is covered above
  it('a client that accepts masked server frames fails section 14, nothing else', async ({ expect }) => {
    expectExactly(expect, await run(expect, flawed, ['ignore-mask']), new Set(['14.1.1', '14.1.2', '14.1.3']));
  });
  it('a client that echoes invalid UTF-8 fails those cases, nothing else', async ({ expect }) => {
    expectExactly(
      expect,
      await run(expect, flawed, ['echo-invalid-utf8']),
      new Set([...INVALID_UTF8].filter((id) => !id.startsWith('6.4.'))),
    );
  });
});
