// Node, CommonJS: require() of @ws/node and @ws/codec's CJS builds (which require ESM-only
// dependencies: Node ^20.19.0 || >= 22.12.0), one exchange over 127.0.0.1.
const assert = require('node:assert/strict');
const { createServer, connect, permessageDeflate } = require('@ws/node');
const { Connection } = require('@ws/codec');
const { serverConnection } = require('@ws/codec/server');
const { pakoBackend } = require('@ws/codec/pako');

assert.equal(require.resolve('@ws/node').endsWith('index.cjs'), true, 'the require condition gives the CJS build');
assert.equal(typeof Connection, 'function');
assert.ok(serverConnection() instanceof Connection, 'one Connection class across entry points');
assert.equal(pakoBackend.name, 'pako');

(async () => {
  const server = createServer({ extensions: [permessageDeflate()] }, (ws) =>
    ws.on('message', (data) => ws.send(`echo: ${data}`)),
  );
  const { port } = await server.listen(0, '127.0.0.1');
  const ws = await connect(`ws://127.0.0.1:${port}/`, { extensions: [permessageDeflate()] });
  const reply = new Promise((resolve) => ws.on('message', resolve));
  ws.send('hello from require');
  assert.equal(await reply, 'echo: hello from require');
  ws.close(1000, 'done');
  const info = await ws.closed;
  assert.equal(info.code, 1000);
  assert.equal(info.wasClean, true);
  await server.close();
  console.log(`node CJS (@ws/node): ok (port ${port}, closed ${info.code} cleanly)`);
})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
