// The Deno adapter seen from Node (so the vitest run covers it too): the `echo:deno` and
// `autobahn-client:deno` contracts, run as child processes through bin/run.mjs (the root scripts'
// launcher), talking to the `ws` npm package. The contracts are shared with @ws/node's bin test:
// see test/adapters/bin-scripts.ts.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { autobahnClientContract, echoContract, type Bins } from '../../../test/adapters/bin-scripts.ts';
import { startTinyproxy } from '../../../test/shared/tinyproxy.ts';

const RUN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/run.mjs');
const START_TIME = 60_000; // Deno compiles the codec on a cold start
const bins: Bins = { argv: (script) => [RUN, script], startTime: START_TIME };

describe('@ws/deno bin scripts, from Node', () => {
  it(
    'echo.ts prints listening, echoes with types (deflate accepted), exits on SIGTERM',
    { timeout: START_TIME + 30_000 },
    () => echoContract(bins, 'echo.ts'),
  );

  it('autobahn-client.ts runs the getCaseCount / runCase / updateReports loop', {
    timeout: START_TIME + 30_000,
  }, async () => {
    // The contract throws on the first check that fails.
    await expect(autobahnClientContract(bins, 'autobahn-client.ts')).resolves.toBeUndefined();
  });

  it('autobahn-client.ts --proxy runs every case through an HTTP CONNECT proxy (tinyproxy)', {
    timeout: START_TIME + 30_000,
  }, async () => {
    const proxy = await startTinyproxy();
    try {
      await expect(autobahnClientContract(bins, 'autobahn-client.ts', proxy)).resolves.toBeUndefined();
    } finally {
      await proxy.stop();
    }
  });
});
