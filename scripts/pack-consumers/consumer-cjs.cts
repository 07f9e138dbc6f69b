// TypeScript, CommonJS (node16): `import` compiles to require(), typed by the .d.cts files.
import { createServer, connect } from '@ws/node';
import { pakoBackend } from '@ws/codec/pako';

async function main(): Promise<void> {
  const server = createServer({}, (ws) => ws.on('message', (data) => ws.send(data)));
  const { port } = await server.listen(0, '127.0.0.1');
  const ws = await connect(`ws://127.0.0.1:${port}/`);
  const reply = new Promise<string | Uint8Array>((resolve) => ws.on('message', resolve));
  ws.send(pakoBackend.name);
  if ((await reply) !== 'pako') throw new Error('wrong reply');
  ws.close(1000);
  const info = await ws.closed;
  if (info.code !== 1000 || !info.wasClean) throw new Error(`close ${JSON.stringify(info)}`);
  await server.close();
  console.log(`TypeScript CJS (node16): ok (port ${port}, closed ${info.code} cleanly)`);
}
main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
