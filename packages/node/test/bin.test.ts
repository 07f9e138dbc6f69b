// The root scripts' contracts: `echo:node --port P` and `autobahn-client:node --url … --agent …`,
// run as child processes (they build the packages first when dist is missing or stale). The
// contracts are shared with @ws/deno's bin test: see test/adapters/bin-scripts.ts.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { autobahnClientContract, echoContract, type Bins } from '../../../test/adapters/bin-scripts.ts';
import { startTinyproxy } from '../../../test/shared/tinyproxy.ts';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin');
const BUILD_TIME = 120_000; // a cold build of both packages (declarations included) takes a while
const bins: Bins = { argv: (script) => [path.join(BIN, script)], startTime: BUILD_TIME };

describe('bin scripts', () => {
  it(
    'echo.mjs prints listening, echoes text and binary with their types, exits on SIGTERM',
    { timeout: BUILD_TIME + 30_000 },
    () => echoContract(bins, 'echo.mjs'),
  );

  it('autobahn-client.mjs runs the getCaseCount / runCase / updateReports loop', {
    timeout: BUILD_TIME + 30_000,
  }, async () => {
    // The contract throws on the first check that fails.
    await expect(autobahnClientContract(bins, 'autobahn-client.mjs')).resolves.toBeUndefined();
  });

  it('autobahn-client.mjs --proxy runs every case through an HTTP CONNECT proxy (tinyproxy)', {
    timeout: BUILD_TIME + 30_000,
  }, async () => {
    const proxy = await startTinyproxy();
    try {
      await expect(autobahnClientContract(bins, 'autobahn-client.mjs', proxy)).resolves.toBeUndefined();
    } finally {
      await proxy.stop();
    }
  });
});
