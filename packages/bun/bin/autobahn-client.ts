#!/usr/bin/env bun
// Autobahn|Testsuite client loop: `pnpm run autobahn-client:bun --url ws://127.0.0.1:9001 --agent NAME`.
// GET /getCaseCount, then /runCase?case=N&agent=NAME for every case, echoing every message back
// unchanged (offering permessage-deflate), then /updateReports?agent=NAME. Each case is bounded in time.
import { createConnection, permessageDeflate } from '../src/index.ts';
// The repository's tooling (not part of @ws/codec's published API), from source.
import { parseFlags, runAutobahnClient } from '../../codec/src/session/tooling/index.ts';

const args = parseFlags(process.argv.slice(2), {
  url: 'ws://127.0.0.1:9001',
  agent: '@ws/bun',
  'case-timeout': '60000',
  proxy: '',
});
const count = await runAutobahnClient({
  createConnection,
  extensions: [permessageDeflate()],
  url: args.url,
  agent: args.agent,
  caseTimeout: Number(args['case-timeout']),
  proxy: args.proxy,
  log: (line) => console.log(line),
});
if (count === 0) {
  console.error(`could not get the case count from ${args.url}/getCaseCount`);
  process.exit(1);
}
