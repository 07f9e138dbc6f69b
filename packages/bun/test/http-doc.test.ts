// docs/http.md's snippets, run as written on Bun (import pointed at this package's source, port 0),
// checked by the shared scenarios (test/shared/http-doc.ts) with Bun's fetch and @ws/bun's connect.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, it } from 'bun:test';
import { connect, type WebSocketServer } from '../src/index.ts';
import { checkServing, checkUpgradesInFetch, runnable, snippets } from '../../../test/shared/http-doc.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'http-doc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const [serving, upgrades] = snippets(await Bun.file(path.join(import.meta.dir, '../../../docs/http.md')).text());

async function withSnippet(snippet: string, name: string, check: (port: number) => Promise<void>): Promise<void> {
  const file = path.join(dir, name);
  writeFileSync(file, runnable(snippet, path.join(import.meta.dir, '../src/index.ts')));
  const { server } = (await import(file)) as { server: WebSocketServer };
  try {
    await check(server.address()!.port);
  } finally {
    await server.close();
  }
}

it('docs/http.md: fetch serves /health, the page and 404s beside an echoing WebSocket', () =>
  withSnippet(serving!, 'serving.ts', (port) => checkServing(port, connect)));
it('docs/http.md: fetchUpgrades accepts with data and headers, or refuses with a Response', () =>
  withSnippet(upgrades!, 'upgrades.ts', (port) => checkUpgradesInFetch(port, connect)));
