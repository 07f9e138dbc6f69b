#!/usr/bin/env node
// Autobahn|Testsuite client loop: `pnpm run autobahn-client:node --url ws://127.0.0.1:9001 --agent NAME`.
// GET /getCaseCount, then /runCase?case=N&agent=NAME for every case, echoing every message back
// unchanged, then /updateReports?agent=NAME. Each case is bounded in time. permessage-deflate is
// offered (cases 12.x and 13.x need it) unless `--deflate false`.
import { ensureBuilt } from './ensure-built.mjs';
import { parseArgs } from './args.mjs';

const args = parseArgs(process.argv.slice(2), { url: 'ws://127.0.0.1:9001', agent: '@ws/node', 'case-timeout': '60000', deflate: 'true' });
await ensureBuilt();
const { createConnection } = await import('@ws/node');
const { permessageDeflate } = await import('@ws/codec');

const base = args.url.replace(/\/+$/, '');
const caseTimeout = Number(args['case-timeout']);
// Autobahn's 9.x cases send up to 16 MiB messages; be generous, as a conforming peer must.
const options = {
  limits: { maxMessageSize: 64 * 1024 * 1024, maxFrameSize: 64 * 1024 * 1024 },
  maxBufferedAmount: 256 * 1024 * 1024,
  extensions: args.deflate === 'false' ? [] : [permessageDeflate()],
};

function run(path, onOpen) {
  return new Promise((resolve) => {
    let ws;
    try {
      ws = createConnection(`${base}${path}`, options);
    } catch (error) {
      resolve({ error });
      return;
    }
    const timer = setTimeout(() => ws.terminate(), caseTimeout);
    ws.on('error', () => {});
    onOpen(ws);
    ws.closed.then((info) => {
      clearTimeout(timer);
      resolve(info);
    });
  });
}

let count = 0;
await run('/getCaseCount', (ws) => ws.once('message', (data) => (count = Number(data))));
if (!Number.isInteger(count) || count <= 0) {
  console.error(`could not get the case count from ${base}/getCaseCount`);
  process.exit(1);
}
console.log(`${count} cases`);
for (let i = 1; i <= count; i++) {
  const info = await run(`/runCase?case=${i}&agent=${encodeURIComponent(args.agent)}`, (ws) => {
    ws.on('message', (data) => ws.send(data));
  });
  console.log(`case ${i}/${count}: closed ${info.code ?? ''}${info.error ? ` (${info.error})` : ''}`);
}
await run(`/updateReports?agent=${encodeURIComponent(args.agent)}`, () => {});
console.log('reports updated');
