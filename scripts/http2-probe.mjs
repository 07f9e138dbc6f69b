#!/usr/bin/env node
// Does this runtime's node:http2 carry an extended CONNECT (RFC 8441)? Run with node, bun or
// `deno run -A`; prints one JSON line whose `result` is "works" or why not. (issue 22)
import http2 from 'node:http2';
const out = {
  runtime:
    typeof Deno !== 'undefined'
      ? 'deno ' + Deno.version.deno
      : typeof Bun !== 'undefined'
        ? 'bun ' + Bun.version
        : 'node ' + process.version,
};
const timer = setTimeout(() => {
  console.log(JSON.stringify({ ...out, result: 'timeout' }));
  process.exit(0);
}, 8000);
try {
  const server = http2.createServer({ settings: { enableConnectProtocol: true } });
  server.on('stream', (stream, headers) => {
    out.serverSaw = { method: headers[':method'], protocol: headers[':protocol'] ?? null };
    stream.respond({ ':status': 200 });
    stream.on('data', (d) => stream.write(d));
  });
  server.on('error', (e) => {
    out.serverError = String(e);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const client = http2.connect(`http://127.0.0.1:${server.address().port}`);
  client.on('error', (e) => {
    out.clientError = String(e);
  });
  const settings = await new Promise((r) => client.once('remoteSettings', r));
  out.enableConnectProtocol = settings.enableConnectProtocol ?? null;
  const req = client.request(
    { ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'http', ':path': '/', ':authority': 'x' },
    { endStream: false },
  );
  req.on('error', (e) => {
    out.streamError = String(e);
  });
  const [h] = await new Promise((r) => req.once('response', (...a) => r(a)));
  out.status = h[':status'];
  req.write('ping');
  out.echo = await new Promise((r) => req.once('data', (d) => r(String(d))));
  out.result = out.echo === 'ping' && out.serverSaw?.protocol === 'websocket' ? 'works' : 'no';
  client.destroy();
  server.close();
} catch (e) {
  out.result = 'threw: ' + String(e);
}
clearTimeout(timer);
console.log(JSON.stringify(out));
process.exit(0);
