// TypeScript, ESM: compiled with moduleResolution node16 and bundler (strict, declarations of
// the packages checked: skipLibCheck off), then run with Node.
import { createServer, connect, permessageDeflate, type CloseInfo, type WebSocketConnection } from '@ws/node';
import { Connection, type Event } from '@ws/codec';
import { serverConnection } from '@ws/codec/server';
import { pakoBackend } from '@ws/codec/pako';
import type { ServerSessionOptions } from '@ws/codec/session';
import { zlibBackend } from '@ws/zlib';

const options: ServerSessionOptions = { extensions: [permessageDeflate()] };
const codec: Connection = serverConnection({ extensions: [permessageDeflate({ backend: pakoBackend })] });
const first: Event | null = codec.nextEvent();
if (first !== null || zlibBackend === null) throw new Error('unexpected codec state');

const server = createServer(options, (ws: WebSocketConnection) => {
  ws.on('message', (data: string | Uint8Array) => ws.send(typeof data === 'string' ? `echo: ${data}` : data));
});
const { port } = await server.listen(0, '127.0.0.1');
const ws = await connect(`ws://127.0.0.1:${port}/`, { extensions: [permessageDeflate()] });
const reply = new Promise<string | Uint8Array>((resolve) => ws.on('message', (data) => resolve(data)));
ws.send('typed hello');
if ((await reply) !== 'echo: typed hello') throw new Error('wrong reply');
ws.close(1000, 'done');
const info: CloseInfo = await ws.closed;
if (info.code !== 1000 || !info.wasClean) throw new Error(`close ${JSON.stringify(info)}`);
await server.close();
console.log(`TypeScript ESM (${process.argv[2]}): ok (port ${port}, closed ${info.code} cleanly)`);
