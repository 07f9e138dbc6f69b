#!/usr/bin/env node
// Reference peer: the Autobahn client loop on `ws` (npm).
//   node packages/conformance/peers/ws-autobahn-client.mjs --url ws://127.0.0.1:P --agent NAME
// GET /getCaseCount, then /runCase?case=N&agent=NAME for each case (echoing every message), then
// /updateReports?agent=NAME. Each connection is bounded in time.
import WebSocket from 'ws';

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const base = arg('url', 'ws://127.0.0.1:9001').replace(/\/+$/, '');
const agent = encodeURIComponent(arg('agent', 'ws'));

function session(path, onMessage) {
  return new Promise((resolve) => {
    // maxFragments 0: ws 8.23 limits a message to 16384 fragments by default; 9.3.1 sends 65536.
    const ws = new WebSocket(`${base}${path}`, {
      perMessageDeflate: true,
      maxPayload: 64 * 1024 * 1024,
      maxFragments: 0,
    });
    const timer = setTimeout(() => ws.terminate(), 120_000);
    ws.on('message', (data, isBinary) => onMessage?.(ws, data, isBinary));
    ws.on('error', () => {});
    ws.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

let count = 0;
await session('/getCaseCount', (_ws, data) => (count = Number(String(data))));
if (!Number.isInteger(count) || count <= 0) {
  console.error(`no case count from ${base}`);
  process.exit(1);
}
for (let i = 1; i <= count; i++) {
  await session(`/runCase?case=${i}&agent=${agent}`, (ws, data, isBinary) => ws.send(data, { binary: isBinary }));
}
await session(`/updateReports?agent=${agent}`);
console.log(`ran ${count} cases`);
