#!/usr/bin/env bun
// Autobahn|Testsuite client loop: `pnpm run autobahn-client:bun --url ws://127.0.0.1:9001 --agent NAME`.
// GET /getCaseCount, then /runCase?case=N&agent=NAME for every case, echoing every message back
// unchanged (offering permessage-deflate), then /updateReports?agent=NAME. Each case is bounded in time.
import { createConnection, permessageDeflate, type CloseInfo, type WebSocketConnection } from '../src/index.ts';
import { parseArgs } from './args.ts';

const args = parseArgs(process.argv.slice(2), { url: 'ws://127.0.0.1:9001', agent: '@ws/bun', 'case-timeout': '60000' });

const base = args.url.replace(/\/+$/, '');
const caseTimeout = Number(args['case-timeout']);
// Autobahn's 9.x cases send up to 16 MiB messages; be generous, as a conforming peer must.
const options = {
  limits: { maxMessageSize: 64 * 1024 * 1024, maxFrameSize: 64 * 1024 * 1024 },
  maxBufferedAmount: 256 * 1024 * 1024,
  extensions: [permessageDeflate()],
};

function run(path: string, onOpen: (ws: WebSocketConnection) => void): Promise<Partial<CloseInfo> & { failed?: unknown }> {
  return new Promise((resolve) => {
    let ws: WebSocketConnection;
    try {
      ws = createConnection(`${base}${path}`, options);
    } catch (error) {
      resolve({ failed: error });
      return;
    }
    const timer = setTimeout(() => ws.terminate(), caseTimeout);
    ws.on('error', () => {});
    onOpen(ws);
    void ws.closed.then((info) => {
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
