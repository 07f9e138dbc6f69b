// docs/http.md's snippets, run as written on every runtime (packages/node/test/http-doc.test.ts,
// packages/deno/test/http-doc.test.ts, packages/bun/test/http-doc.test.ts): each runtime loads a
// snippet with its own adapter and port 0; these checks use the global fetch and that adapter's
// `connect`. Runner-agnostic: plain Errors from ./assert.ts.
import { assert, assertEquals } from './assert.ts';
import { within } from './wait.ts';

/** The ```ts blocks of the page, in order. */
export function snippets(doc: string): string[] {
  return [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** A snippet made loadable: the adapter at `adapterPath`, port 0, and `server` exported. */
export function runnable(snippet: string, adapterPath: string): string {
  return (
    snippet
      .replace(/from '@ws\/node';.*\n/, `from ${JSON.stringify(adapterPath)};\n`)
      .replace('listen(8080,', 'listen(0,') + '\nexport { server };\n'
  );
}

interface Client {
  on(event: 'message', listener: (data: string | Uint8Array) => void): unknown;
  send(data: string): unknown;
  close(): void;
  readonly response: { headers: { get(name: string): string | null } } | null;
}

export type Connect = (url: string) => Promise<Client>;

function nextMessage(ws: Client): Promise<string> {
  return within(
    new Promise<string>((resolve) => ws.on('message', (data) => resolve(String(data)))),
    10_000,
    'a message',
  );
}

/** The first snippet: /health, the page, a 404, and an echoing WebSocket on the same port. */
export async function checkServing(port: number, connect: Connect): Promise<void> {
  const base = `http://127.0.0.1:${port}`;
  assertEquals(await (await fetch(`${base}/health`)).text(), 'ok');
  const page = await fetch(`${base}/`);
  assertEquals(page.headers.get('content-type'), 'text/html');
  assert((await page.text()).includes('new WebSocket('), 'the page opens a WebSocket');
  const missing = await fetch(`${base}/missing`);
  assertEquals(missing.status, 404);
  await missing.text();
  const ws = await connect(`ws://127.0.0.1:${port}/any`);
  const echoed = nextMessage(ws);
  ws.send('hi');
  assertEquals(await echoed, 'hi');
  ws.close();
}

/** The second snippet: plain requests greeted, upgrades accepted with data (used in every answer) and a header, or 401. */
export async function checkUpgradesInFetch(port: number, connect: Connect): Promise<void> {
  const base = `127.0.0.1:${port}`;
  assertEquals(await (await fetch(`http://${base}/?user=al`)).text(), 'hello al');
  const ws = await connect(`ws://${base}/?user=bo`);
  assertEquals(ws.response?.headers.get('x-user'), 'bo');
  const answer = nextMessage(ws);
  ws.send('hi');
  assertEquals(await answer, 'bo: hi');
  ws.close();
  let status: unknown = null;
  try {
    await connect(`ws://${base}/`);
  } catch (error) {
    status = (error as { status?: unknown }).status;
  }
  assertEquals(status, 401);
}
