// Type tests (checked by `npm run typecheck`, never run): the public API's types catch the
// mistakes a new user makes. Each `@ts-expect-error` line must fail to compile; if one compiles,
// the typecheck fails ("unused @ts-expect-error"). `expectTypeOf` pins what does compile.
import { expectTypeOf } from 'vitest';
import {
  WebSocket,
  connect,
  createServer,
  handleUpgrade,
  type CloseInfo,
  type WebSocketConnection,
  type WebSocketError,
} from '../../packages/node/src/index.ts';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

declare const ws: WebSocketConnection;

// ── a closed event map ──
ws.on('message', (data, isBinary) => {
  // `isBinary` narrows `data`.
  if (isBinary) expectTypeOf(data).toEqualTypeOf<Uint8Array>();
  else expectTypeOf(data).toEqualTypeOf<string>();
});
ws.on('message', (data) => expectTypeOf(data).toEqualTypeOf<string | Uint8Array>());
ws.on('message', (data) => ws.send(data)); // a listener may return a value
ws.on('close', (info) => expectTypeOf(info).toEqualTypeOf<CloseInfo>());
ws.once('error', (error) => expectTypeOf(error).toEqualTypeOf<WebSocketError>());
ws.on('open', () => {});
ws.off('message', (data: string | Uint8Array, isBinary: boolean) => [data, isBinary]);
// @ts-expect-error a misspelt event
ws.on('mesage', () => {});
// @ts-expect-error an event of another library
ws.on('upgrade', () => {});
// @ts-expect-error a wrong listener signature
ws.on('message', (data: number) => data);
// @ts-expect-error a binary message is never a string
ws.on('message', (data, isBinary) => isBinary && data.toUpperCase());
// @ts-expect-error close has no second argument
ws.on('close', (_info, reason: string) => reason);

// ── server events and ws.data ──
const server = createServer({ verifyClient: () => ({ data: { user: 'ada', id: 1 } }) });
server.on('connection', (connection) => expectTypeOf(connection.data).toEqualTypeOf<{ user: string; id: number }>());
for (const connection of server.connections) expectTypeOf(connection.data.user).toBeString();
// @ts-expect-error a misspelt server event
server.on('conection', () => {});

interface Session {
  room: string;
}
const typed = createServer<Session>(
  { verifyClient: async (request) => ({ data: { room: request.path } }) },
  (connection) => {
    expectTypeOf(connection.data).toEqualTypeOf<Session>();
  },
);
// @ts-expect-error data must be a Session
createServer<Session>({ verifyClient: () => ({ data: { rooms: 1 } }) });
// Refusals and plain verdicts still type-check.
createServer<Session>({ verifyClient: (request) => (request.origin === null ? { status: 403 } : false) });
void typed;

declare const req: IncomingMessage;
declare const socket: Duplex;
const upgraded = handleUpgrade(req, socket, new Uint8Array(0), { verifyClient: () => ({ data: 7 }) }, (connection) =>
  expectTypeOf(connection.data).toBeNumber(),
);
expectTypeOf(upgraded.data).toBeNumber();

// ── options: a string or a list of protocols; ws's names do not compile ──
createServer({ protocols: 'chat' });
createServer({ protocols: ['chat', 'superchat'] });
createServer({ protocols: (offered) => offered[0] ?? null });
void connect('ws://h/', { protocols: 'chat' });
// @ts-expect-error ws's option name
createServer({ perMessageDeflate: true });
// @ts-expect-error ws's option name
createServer({ port: 8080 });
// @ts-expect-error ws's option name
void connect('ws://h/', { maxPayload: 1 });

// ── the WHATWG class, typed as the DOM's ──
const w = new WebSocket('ws://h/', 'chat');
w.onmessage = (event) => expectTypeOf(event.data).toBeAny();
w.onclose = (event) => expectTypeOf(event.code).toBeNumber();
w.onerror = (event) => {
  expectTypeOf(event.error).toEqualTypeOf<Error>();
  expectTypeOf(event.message).toBeString();
};
w.addEventListener('message', (event) => expectTypeOf(event.data).toBeAny());
w.addEventListener('close', (event) => expectTypeOf(event.wasClean).toBeBoolean());
w.addEventListener('error', (event) => expectTypeOf(event.error).toEqualTypeOf<Error>());
w.addEventListener('open', { handleEvent: (event) => expectTypeOf(event.type).toBeString() });
// A handler written with the DOM's own event types is accepted, as in a browser.
w.onmessage = (event: MessageEvent) => event.data;
w.binaryType = 'arraybuffer';
expectTypeOf(w.readyState).toEqualTypeOf<0 | 1 | 2 | 3>();
expectTypeOf(w.onmessage).toEqualTypeOf<typeof w.onmessage>();
// @ts-expect-error close events have no data
w.addEventListener('close', (event) => event.data);
// @ts-expect-error onmessage takes a function or null
w.onmessage = 'not a function';
