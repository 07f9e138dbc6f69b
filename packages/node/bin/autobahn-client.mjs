#!/usr/bin/env node
// Autobahn|Testsuite client loop: `pnpm run autobahn-client:node --url ws://127.0.0.1:9001 --agent NAME`.
// GET /getCaseCount, then /runCase?case=N&agent=NAME for every case, echoing every message back
// unchanged, then /updateReports?agent=NAME (the loop is runAutobahnClient in packages/codec/src/session/tooling,
// shared with the Deno and Bun scripts). Each case is bounded in time. permessage-deflate is
// offered (cases 12.x and 13.x need it) unless `--deflate false`. `--proxy http://HOST:PORT` runs
// every case through that HTTP CONNECT proxy. `--http2` opens every case with
// `connect(url, { http2: true })`: an extended CONNECT (RFC 8441) on one shared HTTP/2 session.
import { ensureBuilt } from './ensure-built.mjs';

await ensureBuilt();
// The repository's tooling (not part of @ws/codec's published API): its build, by path.
const { parseFlags, runAutobahnClient } = await import('../../codec/dist/tooling.js');
const args = parseFlags(process.argv.slice(2), {
  url: 'ws://127.0.0.1:9001',
  agent: '@ws/node',
  'case-timeout': '60000',
  deflate: 'true',
  proxy: '',
  http2: 'false',
});
const { connect, createConnection, permessageDeflate } = await import('@ws/node');

const count = await runAutobahnClient({
  createConnection,
  extensions: args.deflate === 'false' ? [] : [permessageDeflate()],
  url: args.url,
  agent: args.agent,
  caseTimeout: Number(args['case-timeout']),
  proxy: args.proxy,
  connect: args.http2 === 'false' ? undefined : (url, options) => connect(url, { ...options, http2: true }),
  log: (line) => console.log(line),
});
if (count === 0) {
  console.error(`could not get the case count from ${args.url}/getCaseCount`);
  process.exit(1);
}
