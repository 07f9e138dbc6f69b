// The snippet of docs/topics.md, run as written (import pointed at this package's source, port 0).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { connect, type WebSocketServer } from '../src/index.ts';
import { until, within } from './helpers.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'topics-doc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('docs/topics.md: the snippet subscribes by path, ws.publish skips the sender, server.publish reaches all', async () => {
  const doc = readFileSync(path.join(here, '../../../docs/topics.md'), 'utf8');
  const snippet = /```ts\n([\s\S]*?)```/.exec(doc)![1]!;
  const file = path.join(dir, 'snippet.ts');
  writeFileSync(
    file,
    snippet
      .replace("from '@ws/node'", `from ${JSON.stringify(path.join(here, '../src/index.ts'))}`)
      .replace('listen(8080,', 'listen(0,') + '\nexport { server };\n',
  );
  const { server } = (await import(file)) as { server: WebSocketServer };
  try {
    const url = `ws://127.0.0.1:${server.address()!.port}`;
    const [one, two, other] = await Promise.all([
      connect(`${url}/lobby`),
      connect(`${url}/lobby`),
      connect(`${url}/else`),
    ]);
    const got: string[][] = [[], [], []];
    [one, two, other].forEach((ws, i) => ws.on('message', (data) => got[i]!.push(String(data))));
    await until(() => server.subscriberCount('lobby') === 2, 'two in the lobby');
    one.send('hi');
    await until(() => got[1]!.length === 1, 'two got it');
    expect(server.publish('lobby', 'all')).toBe(2);
    await until(() => got[0]!.length === 1 && got[1]!.length === 2, 'everyone in the lobby');
    expect(got).toEqual([['all'], ['hi', 'all'], []]);
    for (const ws of [one, two, other]) ws.close();
  } finally {
    await within(server.close(), 10_000, 'server.close');
  }
});
